// FAILs sent by the control thread, from a connection of its own, for jobs whose processor is
// still inside the job function: past their deadline (JobTimeout) or still running when
// shutdown gives up on them (WorkerShutdown). The server takes FAIL by jid from any
// connection (server/commands.go `fail`), so the job is retried at once while the processor's
// thread stays busy (DESIGN.md §3). The connection is opened on first use and kept.
//
// Threading: the control thread only.
#pragma once

#include "faktory/commands.hpp"
#include "worker/worker_context.hpp"

#include <chrono>
#include <functional>
#include <memory>

namespace boost::asio {
class io_context;
}

namespace factotum::worker {

class ControlReports {
 public:
  using Clock = std::chrono::steady_clock;

  ControlReports(boost::asio::io_context& io, WorkerContext& context);
  ~ControlReports();
  ControlReports(const ControlReports&) = delete;
  ControlReports& operator=(const ControlReports&) = delete;

  // Queues a FAIL. FAILs go out in order, reconnecting with back-off, until the server
  // answers or `give_up_at` passes (then the server retries the job when its reservation
  // expires, and the log says so).
  // `origin`: the connection settings of the server the job came from (null: the current
  // ones); a reload may have moved the worker to another server since.
  // `on_answered`: called once the server has answered the FAIL (+OK, or an error such as
  // "Job not found": either way it no longer holds the job for this worker).
  void fail(faktory::commands::FailArgs failure, std::string jobtype, Clock::time_point give_up_at,
            std::shared_ptr<const faktory::ClientOptions> origin = nullptr,
            std::function<void()> on_answered = {});
  // Shutdown stops waiting: every FAIL still queued is given up at `by` at the latest.
  void hurry(Clock::time_point by);
  // Nothing queued or being sent.
  bool idle() const noexcept;
  // Called each time the last queued FAIL has been dealt with.
  void set_on_idle(std::function<void()> callback);
  // Ends the connection (the last step of shutdown; call when idle).
  void finish();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace factotum::worker
