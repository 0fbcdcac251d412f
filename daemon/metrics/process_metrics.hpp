// The standard process_* metrics of Prometheus client libraries (the Go and Python clients
// export the same names), read from /proc/self at each scrape: CPU time, resident and virtual
// memory, open and maximum file descriptors, start time.
#pragma once

#include <prometheus/metric_family.h>

#include <vector>

namespace factotum::metrics {

void collect_process_metrics(std::vector<prometheus::MetricFamily>& out);

}  // namespace factotum::metrics
