// The worker's metrics endpoint (metrics.listen; README "Metrics"). Beside what the job path
// counts (metrics/job_metrics.hpp), each scrape adds the worker's state, the plugins loaded,
// reloads, the supervisor's crash tally, the queue sizes (metrics.queue_sizes) and the
// process. /healthz answers from the worker's phase and the control loop's liveness: a timer
// on the control thread stamps it every second, and a stamp older than 10 s is reported as a
// wedged control loop.
//
// Threading: construct, stop() and destroy on the control thread; reload_finished() from any
// thread; the collectors run on the endpoint's own thread.
#pragma once

#include "config/config.hpp"

#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace factotum::worker {
class Worker;
}
namespace factotum::plugins {
class PluginHost;
}
namespace factotum::crash {
class JobTable;
}
namespace factotum::metrics {
class JobMetrics;
}

namespace factotum {

class MetricsService {
 public:
  struct Parts {
    worker::Worker& worker;
    const plugins::PluginHost& host;
    const metrics::JobMetrics& jobs;
    const crash::JobTable* table = nullptr;  // supervised: the supervisor's crash tally
    std::string version;
  };

  // Listens on config.metrics (enabled) at once. Throws std::runtime_error naming the address
  // if it cannot (in use, not an address of this host, no permission) — unless `retry_listen`
  // (a worker restarted after a crash: the service is running): it then logs the error and
  // tries again every 5 s.
  MetricsService(boost::asio::io_context& io, const config::Config& config, Parts parts,
                 bool retry_listen = false);
  ~MetricsService();
  MetricsService(const MetricsService&) = delete;
  MetricsService& operator=(const MetricsService&) = delete;

  // A reload ended (ok: applied).
  void reload_finished(bool ok);
  // The worker stops: the liveness timer and the INFO poll end (so the io_context can run out
  // of work); the endpoint answers until destroyed, /healthz with 503 "stopping".
  void stop();
  // 0 while not listening.
  unsigned short port() const noexcept;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace factotum
