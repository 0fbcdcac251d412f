// The worker runtime: `concurrency` processors, each with its own connection, fetching jobs
// and running them, each on its own job thread, through the plugin host; a heartbeat on its own
// lifelong connection; quiet and graceful stop (DESIGN.md §3).
//
// Threading: everything but job functions runs on the io_context given to the constructor
// (one thread runs it). quiet(), stop() and dump_state() may be called from any thread.
#pragma once

#include "worker/worker_settings.hpp"

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace boost::asio {
class io_context;
}

namespace factotum::plugins {
class PluginHost;
}

namespace factotum::worker {

class Worker {
 public:
  Worker(boost::asio::io_context& io, WorkerSettings settings, plugins::PluginHost& host);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Starts the heartbeat and the processors on the io_context; returns at once.
  void start();

  // Stop fetching, let jobs in flight finish, keep heartbeating (TSTP, server "quiet").
  void quiet();
  // Graceful stop (TERM/INT, server "terminate"): no new FETCH, outstanding FETCHes return and
  // their jobs run, wait up to shutdown_timeout, FAIL what still runs, END, done. A second
  // call skips the waits.
  void stop();
  // Logs every job in flight and the connection states (TTIN).
  void dump_state();

  // True once stop() completed: every connection ended. The io_context then runs out of work.
  bool finished() const noexcept;
  // Called on the I/O thread once stopping completed (e.g. to close the signal handler so
  // the io_context runs out of work). Set before start().
  void set_on_finished(std::function<void()> callback);
  // Job functions still running (abandoned at shutdown): the process must then exit without
  // joining their threads — they are never killed, and never waited for past the timeout.
  bool jobs_still_running() const noexcept;

  // Pushes a follow-up job for a plugin (job JSON object text; jid/queue/retry filled in).
  // Blocking; called from job threads. Returns false with the reason in jid_or_error.
  bool push(std::string_view job_json, std::string& jid_or_error);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace factotum::worker
