// State shared by the processors, the heartbeat and the shutdown logic of one Worker. Lives
// on the I/O thread: only code running there touches it (no locks), except the atomics.
#pragma once

#include "plugins/plugin_host.hpp"
#include "worker/running_job.hpp"
#include "worker/server_status.hpp"
#include "worker/worker_settings.hpp"

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>

namespace factotum::worker {

enum class Phase { running, quiet, stopping };

struct Runtime {
  Runtime(boost::asio::io_context& io_context, WorkerSettings worker_settings,
          plugins::PluginHost& plugin_host)
      : io(io_context),
        host(plugin_host),
        settings(std::move(worker_settings)),
        status(settings.connection.url.redacted()) {}

  boost::asio::io_context& io;
  plugins::PluginHost& host;
  WorkerSettings settings;
  ServerStatus status;

  Phase phase = Phase::running;
  bool hurry = false;  // a second TERM/INT: skip the waits
  std::chrono::steady_clock::time_point stop_deadline =
      std::chrono::steady_clock::time_point::max();

  std::uint64_t next_job_id = 1;
  // Every job between FETCH and its report, for TTIN and shutdown.
  std::map<std::uint64_t, std::shared_ptr<RunningJob>> in_flight;

  // Job functions that have not returned yet (a timed-out or abandoned job keeps its thread).
  std::atomic<unsigned> busy_threads{0};

  // Set by the Worker: wakes the processors when `deadline` passes. One shared timer, re-armed
  // only when a job's deadline is earlier than any pending one, keeps per-job timer syscalls
  // off the job path.
  std::function<void(std::chrono::steady_clock::time_point deadline)> watch_deadline;

  bool may_fetch() const noexcept { return phase == Phase::running; }
};

}  // namespace factotum::worker
