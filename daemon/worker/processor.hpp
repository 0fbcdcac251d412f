// One processor: a Faktory connection of its own that FETCHes a job, runs it on its own job
// thread through the plugin host, and reports ACK or FAIL — one job at a time (DESIGN.md §3).
// Runs as a coroutine on the I/O thread.
#pragma once

#include "faktory/client.hpp"
#include "worker/backoff.hpp"
#include "worker/job_thread.hpp"
#include "worker/queue_order.hpp"
#include "worker/runtime.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <optional>
#include <string>

namespace factotum::worker {

class Processor : public std::enable_shared_from_this<Processor> {
 public:
  Processor(Runtime& runtime, unsigned index);

  // FETCH → run → report until the worker is quiet or stopping; then END.
  boost::asio::awaitable<void> run();

  // Ends a back-off sleep early (quiet/stop): nothing is in flight during one.
  void wake();
  // At the shutdown deadline: stop waiting for the running job, cancel and FAIL it.
  void abandon_job_for_shutdown();
  // Wakes the wait for the running job when its deadline has passed.
  void check_deadline(std::chrono::steady_clock::time_point now);

  std::string describe() const;
  unsigned index() const noexcept { return index_; }

 private:
  enum class State { connecting, idle, fetching, running, reporting, waiting, stopped };

  boost::asio::awaitable<bool> ensure_connected(bool for_report);
  boost::asio::awaitable<void> sleep(std::chrono::milliseconds duration, bool for_report = false);
  boost::asio::awaitable<void> process(std::string payload);
  boost::asio::awaitable<void> wait_for_job(RunningJob& job);
  // ACK (failure null) or FAIL; with fetch_next, the next FETCH goes out with it when the
  // worker may still fetch, and its reply is kept in next_fetch_ for run().
  boost::asio::awaitable<void> report(RunningJob& job, const faktory::commands::FailArgs* failure,
                                      bool fetch_next);
  // Parses the FETCHed payload (moved from on success) and computes the job's deadline.
  std::shared_ptr<RunningJob> prepare(std::string& payload);
  // On the job thread, when a job function has returned.
  void on_job_done(std::shared_ptr<RunningJob> job);

  Runtime& rt_;
  unsigned index_;
  faktory::Client client_;
  QueueOrder order_;
  Backoff backoff_;
  boost::asio::steady_timer sleep_timer_;
  boost::asio::steady_timer job_timer_;
  State state_ = State::connecting;
  std::shared_ptr<RunningJob> current_;
  std::optional<faktory::Result<std::optional<std::string>>> next_fetch_;
  bool abandon_ = false;
  // When the current connection was established (for ServerStatus's outage accounting).
  std::chrono::steady_clock::time_point connected_since_{};
  // Last: its thread calls back into the members above, so it must end (join) first.
  JobThread job_thread_;
};

}  // namespace factotum::worker
