// The worker runtime (DESIGN.md §3). Threads and who owns what:
//  - `concurrency` processors, each a thread of its own with its own Faktory connection,
//    FETCHing jobs and running them inline through the plugin host, then ACKing or FAILing
//    them on that connection (processor.hpp);
//  - the control thread, which runs the io_context given to the constructor: signals (in the
//    daemon), the heartbeat on its own lifelong connection, job deadlines, quiet, stop and
//    hurry, and a reporting connection of its own from which it FAILs jobs a processor is
//    still stuck in (past their deadline, or when shutdown gives up on them). It never runs
//    plugin code.
// Settings are an immutable snapshot; apply() publishes a new one: processors read it before
// each FETCH, and a change of concurrency starts or retires processors.
//
// Threading: every public member may be called from any thread (they post to the control
// thread; apply() publishes the snapshot itself first), except finished() and
// jobs_still_running(), which belong to the control thread.
// Lifetime: the io_context outlives the Worker and runs no more handlers once the Worker is
// destroyed (the daemon destroys the Worker after run() returned, then the io_context); the
// handlers the Worker left queued refer to it.
#pragma once

#include "worker/worker_settings.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace boost::asio {
class io_context;
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

namespace factotum::worker {

class ProducerPool;

class Worker {
 public:
  // `producers` serves the plugins' push_job; the worker closes it once it has stopped.
  // `job_table` (supervised worker; outlives the worker): each processor records there the
  // job it runs, for the supervisor to FAIL should this process die (crash/job_table.hpp).
  // `job_metrics` (outlives the worker): where processors count their jobs for the metrics
  // endpoint.
  Worker(boost::asio::io_context& io, std::shared_ptr<const WorkerSettings> settings,
         plugins::PluginHost& host, std::shared_ptr<ProducerPool> producers,
         crash::JobTable* job_table = nullptr, metrics::JobMetrics* job_metrics = nullptr);
  // Joins the processor threads: call it once the worker has stopped, or only with processors
  // that are not inside a job function (they are stopped first: each waits for its FETCH or
  // its connection attempt, and gives up a report it is resending).
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Starts the heartbeat and the processors; returns at once.
  void start();
  // Publishes a new settings snapshot before it returns: queues apply from each processor's
  // next FETCH, job timeouts to jobs that start from now on, new connection settings after the
  // job in flight, and `concurrency` starts processors or retires some (each finishes its job
  // and its FETCH, then ENDs and exits) on the control thread. One caller at a time (the
  // reload thread).
  void apply(std::shared_ptr<const WorkerSettings> settings);

  // Stop fetching, let jobs in flight finish, keep heartbeating (TSTP, server "quiet").
  void quiet();
  // Graceful stop (TERM/INT, server "terminate"): no new FETCH, outstanding FETCHes return and
  // their jobs run, wait up to shutdown_timeout, FAIL what still runs, END, done. A second
  // call skips the waits.
  void stop();
  // Logs every job in flight and the connection states (TTIN).
  void dump_state();
  // One line for the service manager (control thread): "busy 3/20 · queues critical,default ·
  // connected", "quiet, 2 jobs in flight · …", "stopping, 2 jobs in flight · …".
  std::string status() const;
  // The current settings' shutdown_timeout (any thread).
  std::chrono::milliseconds shutdown_timeout() const;

  // What the metrics endpoint and the health check show of the worker (any thread).
  struct Gauges {
    unsigned concurrency = 0;
    bool quiet = false;
    bool stopping = false;
    bool server_up = false;  // the last connection attempt to the server succeeded
  };
  Gauges gauges() const;
  // The current settings snapshot (any thread).
  std::shared_ptr<const WorkerSettings> settings() const;

  // True once stop() completed: every connection ended. The io_context then runs out of work.
  bool finished() const noexcept;
  // Called on the control thread once stopping completed (e.g. to close the signal handler
  // so the io_context runs out of work). Set before start().
  void set_on_finished(std::function<void()> callback);
  // Called on the control thread when stopping begins (TERM, or the server's "terminate").
  // Set before start().
  void set_on_stopping(std::function<void()> callback);
  // Job functions still running (abandoned at shutdown, already FAILed): the process must
  // then exit without joining their threads — they are never killed, and never waited for
  // past the timeout.
  bool jobs_still_running() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace factotum::worker
