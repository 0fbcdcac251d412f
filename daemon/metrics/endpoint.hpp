// The metrics endpoint (metrics.listen): GET /metrics in the Prometheus text exposition format
// 0.0.4, GET /healthz (200 "ok" while the worker runs and its control loop is alive; 503 with
// a one-line reason otherwise), 404 for anything else. Served by an HttpServer thread of its
// own: a scrape never runs plugin code, never blocks a processor, and a wedged control thread
// is reported instead of wedging the endpoint too.
#pragma once

#include "metrics/http_server.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace prometheus {
struct MetricFamily;
}

namespace factotum::metrics {

struct Health {
  bool ok = true;
  std::string reason;  // one line: "ok", "stopping", "control loop unresponsive for 12 s"
};

struct EndpointSources {
  // Adds metric families (called on the server's thread at each scrape; must be thread-safe).
  std::vector<std::function<void(std::vector<prometheus::MetricFamily>&)>> collectors;
  std::function<Health()> health;
};

class Endpoint {
 public:
  // Listens at once; throws std::runtime_error naming the address if it cannot.
  Endpoint(const HttpServerOptions& options, EndpointSources sources);
  ~Endpoint();
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  unsigned short port() const noexcept;

 private:
  EndpointSources sources_;
  std::unique_ptr<HttpServer> server_;  // last: stopped before the sources go
};

}  // namespace factotum::metrics
