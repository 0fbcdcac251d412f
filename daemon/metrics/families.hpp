// Building prometheus-cpp's MetricFamily values by hand, for the collectors whose values are
// kept elsewhere (the job path's cells, /proc, the worker's state). The text format itself is
// prometheus-cpp's TextSerializer.
#pragma once

#include "metrics/histogram_cells.hpp"

#include <prometheus/metric_family.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace factotum::metrics {

using LabelList = std::vector<prometheus::ClientMetric::Label>;

prometheus::MetricFamily make_family(std::string name, std::string help,
                                     prometheus::MetricType type);
// A sample of a counter or gauge family.
void add_sample(prometheus::MetricFamily& family, LabelList labels, double value);

// The sum of histogram cells (of several processors), ready to be added to a family.
struct HistogramTotal {
  std::vector<std::uint64_t> counts;  // per bucket, not cumulative; the last is +Inf
  std::uint64_t sum_ns = 0;

  template <const auto& Bounds>
  void add(const HistogramCells<Bounds>& cells) {
    counts.resize(HistogramCells<Bounds>::kBuckets);
    for (std::size_t i = 0; i < counts.size(); ++i) counts[i] += cells.count(i);
    sum_ns += cells.sum_ns();
  }
};

void add_histogram(prometheus::MetricFamily& family, LabelList labels,
                   std::span<const double> bounds, const HistogramTotal& total);

}  // namespace factotum::metrics
