// Wakes the control thread when the earliest deadline of the jobs in flight passes, without
// costing the job path a wake-up (DESIGN.md §3: job deadlines live on the control thread).
//
// The control thread keeps one timer at the time its last scan of the processors' job slots
// asked for (the earliest deadline it found, and no later than the shortest budget a job
// starting afterwards could get), and publishes that time in `armed_`. A processor that
// starts a job with an earlier deadline asks for a new scan (a post to the control thread);
// one whose deadline is later — always, unless the settings changed — costs one atomic load. While
// a scan runs `armed_` reads "never", so a job that begins during the scan asks for another one;
// with sequentially consistent accesses on both sides, every job is seen by a scan no later than
// its deadline.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>

namespace boost::asio {
class io_context;
}

namespace factotum::worker {

class DeadlineWatch {
 public:
  using Clock = std::chrono::steady_clock;
  // Runs on the control thread: takes over every job past its deadline and returns when to
  // scan again (Clock::time_point::max() for never).
  using Scan = std::function<Clock::time_point(Clock::time_point now)>;

  DeadlineWatch(boost::asio::io_context& io, Scan scan);
  ~DeadlineWatch();
  DeadlineWatch(const DeadlineWatch&) = delete;
  DeadlineWatch& operator=(const DeadlineWatch&) = delete;

  // Processor threads, after the job's slot holds its deadline.
  void job_started(Clock::time_point deadline) {
    if (deadline.time_since_epoch().count() < armed_.load(std::memory_order_seq_cst)) {
      request_scan();
    }
  }

  // Control thread: scan now (e.g. when shutdown gives up on jobs) / never again.
  void scan_now();
  void stop();

 private:
  void request_scan();

  struct Impl;
  std::unique_ptr<Impl> impl_;
  // The deadline the control thread's timer waits for, as steady_clock ticks; "max" while a
  // scan runs or when no job is in flight.
  std::atomic<Clock::rep> armed_{Clock::time_point::max().time_since_epoch().count()};
};

}  // namespace factotum::worker
