// What the worker's threads share: the control thread (signals, heartbeat, deadlines,
// quiet/stop) and every processor thread. Everything here is safe to use from any thread.
#pragma once

#include "plugins/plugin_host.hpp"
#include "worker/server_status.hpp"
#include "worker/settings_store.hpp"

#include <atomic>
#include <chrono>
#include <memory>

namespace factotum::crash {
class JobTable;
}
namespace factotum::metrics {
class JobMetrics;
}

namespace factotum::worker {

// running → quiet → stopping, never backwards (as the server's own worker states).
enum class Phase { running, quiet, stopping };

struct WorkerContext {
  using Clock = std::chrono::steady_clock;

  WorkerContext(plugins::PluginHost& plugin_host, std::shared_ptr<const WorkerSettings> initial)
      : host(plugin_host), settings(initial), status(initial->connection->url.redacted()) {}

  plugins::PluginHost& host;
  SettingsStore settings;
  ServerStatus status;
  // Supervised: where processors record the job they run (null: not recorded). Set before
  // start.
  crash::JobTable* job_table = nullptr;
  // Where processors count their jobs for the metrics endpoint (null: not counted). Set before
  // start.
  metrics::JobMetrics* job_metrics = nullptr;

  Phase phase() const noexcept { return phase_.load(std::memory_order_acquire); }
  void set_phase(Phase phase) noexcept { phase_.store(phase, std::memory_order_release); }
  bool may_fetch() const noexcept { return phase() == Phase::running; }

  // Re-registration (a reload changed the labels, which the server fixes per wid until every
  // connection of the wid has closed, PROTOCOL.md §4): while set, processors send no FETCH,
  // close their connections and do not reconnect. Set and cleared by the control thread.
  bool connections_held() const noexcept { return held_.load(std::memory_order_acquire); }
  void hold_connections(bool held) noexcept { held_.store(held, std::memory_order_release); }

  // When shutdown stops waiting for jobs in flight: stop + shutdown_timeout, or now after a
  // second TERM; max() until a stop. Back-off sleeps end by then, and a report that cannot be
  // sent by then is given up (the server retries the job when its reservation expires).
  Clock::time_point stop_deadline() const noexcept {
    return Clock::time_point(Clock::duration(stop_deadline_.load(std::memory_order_acquire)));
  }
  void set_stop_deadline(Clock::time_point at) noexcept {
    stop_deadline_.store(at.time_since_epoch().count(), std::memory_order_release);
  }

 private:
  std::atomic<Phase> phase_{Phase::running};
  std::atomic<bool> held_{false};
  std::atomic<Clock::rep> stop_deadline_{Clock::time_point::max().time_since_epoch().count()};
};

}  // namespace factotum::worker
