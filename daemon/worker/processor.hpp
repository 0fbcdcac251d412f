// One processor: a thread of its own that owns one Faktory connection and runs one job at a
// time inline — FETCH → middleware chain → job function → ACK or FAIL sent in one write with
// the next FETCH — with blocking I/O on its own socket. No hand-off between threads on the job
// path: a job costs this thread one wake-up, as in a bare FETCH/ACK loop (DESIGN.md §3).
//
// Who may report what: this thread ACKs or FAILs the jobs it runs, on its own connection.
// The control thread may take a job over through the JobSlot (deadline passed, shutdown gave
// up on it) and FAIL it from its own connection; the processor then drops the late result.
//
// Threading: start(), retire(), wake() and the accessors are called on the control thread;
// everything else runs on the processor's thread.
#pragma once

#include "faktory/blocking_client.hpp"
#include "worker/backoff.hpp"
#include "worker/job_slot.hpp"
#include "worker/queue_order.hpp"
#include "worker/worker_context.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace factotum::crash {
struct JobRecord;
}
namespace factotum::metrics {
class ProcessorMetrics;
struct JobtypeCells;
}  // namespace factotum::metrics

namespace factotum::worker {

class DeadlineWatch;

class Processor {
 public:
  // `on_exit` runs on the processor's thread as its last act (the worker then joins it).
  Processor(WorkerContext& context, DeadlineWatch& deadlines, unsigned index,
            std::function<void(unsigned index)> on_exit);
  // Joins the thread, releases its crash-table record. The thread must be ending: the worker stops
  // or retires a processor first, and a process that abandons a running job exits without
  // destroying it.
  ~Processor();
  Processor(const Processor&) = delete;
  Processor& operator=(const Processor&) = delete;

  void start();
  // Finish the job in flight and the FETCH already sent, send nothing more (but END), exit.
  void retire();
  // Cuts a back-off sleep short (quiet, stop, retire, re-registration).
  void wake();
  // Re-registration: when a job function is running (its connection idle: no FETCH pending,
  // nothing being sent), closes the connection for the server under it and returns true. The
  // job goes on; its report goes out on a new connection once connections are no longer held.
  bool detach_if_running();
  // Has no connection open for the server while connections are held: waiting for the
  // release, detached in a job, or gone.
  bool disconnected_for_hold() const noexcept;

  unsigned index() const noexcept { return index_; }
  bool retiring() const noexcept { return retiring_.load(std::memory_order_acquire); }
  // The thread has returned from its loop (joining it will not block).
  bool exited() const noexcept { return exited_.load(std::memory_order_acquire); }
  JobSlot& slot() noexcept { return slot_; }
  const JobSlot& slot() const noexcept { return slot_; }
  std::string describe() const;

 private:
  using Clock = std::chrono::steady_clock;
  using Fetched = faktory::Result<std::optional<std::string>>;
  enum class State {
    starting,
    connecting,
    fetching,
    running,
    detaching,  // the control thread is closing the connection under a running job
    reporting,
    waiting,
    held,  // connection closed; waits until connections are no longer held
    stopped
  };

  // How a job ended, as the server must hear it: ACK, or FAIL with the failure.
  struct Report {
    std::string jid;
    std::string jobtype;
    std::optional<faktory::commands::FailArgs> failure;  // nullopt: ACK
    Clock::time_point reservation_expiry;
    std::string_view verb() const noexcept { return failure ? "FAIL" : "ACK"; }
  };

  void run();
  bool may_fetch() const noexcept { return context_.may_fetch() && !retiring(); }
  // Connected on the newest connection settings, or false after a failed attempt and its
  // back-off sleep.
  bool ensure_connected();
  // One connection attempt (on the newest settings); a failure sleeps the back-off.
  bool connect_once(bool for_report);
  Fetched fetch();
  // Runs the job through the plugin host; nullopt when there is nothing to report (the
  // control thread took the job over, or the payload has no jid to FAIL it by).
  std::optional<Report> run_job(std::string payload);
  std::optional<Report> invalid_job(const std::string& payload, const std::string& error);
  // Sends the report with the next FETCH when the worker still fetches; returns that FETCH's
  // reply, or "no job" when no FETCH went out.
  Fetched report_and_fetch(const std::optional<Report>& report);
  // Resends a report over reconnects until the server answers, the job's reservation has
  // certainly expired, or the shutdown deadline passes (DESIGN.md §3). `sent_before`: it went
  // out once already, on a connection that broke before the answer.
  void report_until_answered(const Report& report, bool sent_before = false);
  void log_refused(const Report& report, const faktory::Error& error);
  void fetch_failed(const faktory::Error& error);
  void sleep(std::chrono::milliseconds duration, bool for_report = false);
  // Takes the newest settings snapshot if one was published (one atomic load otherwise).
  void refresh_settings();
  // The connection settings changed since client_ was built: reconnect between jobs.
  bool connection_outdated() const noexcept;
  // Leaves State::running for State::reporting once the job function has returned (waiting
  // out a detach under way), and drops a connection detached meanwhile.
  void finish_running();
  // While connections are held: END the connection and wait for the release.
  void wait_while_held();
  const std::vector<std::string>& next_queues();
  void end_connection();
  // The job is reported (or was by the control thread): the supervisor has nothing to FAIL.
  void end_record() noexcept;
  void set_state(State state) noexcept;
  // The metrics cells of a jobtype (null when not counted).
  metrics::JobtypeCells* cells_for(std::string_view jobtype);

  WorkerContext& context_;
  DeadlineWatch& deadlines_;
  const unsigned index_;
  const std::function<void(unsigned)> on_exit_;
  JobSlot slot_;
  crash::JobRecord* const record_;            // in the crash table; null when not supervised
  metrics::ProcessorMetrics* const metrics_;  // null when no metrics are kept
  // Whether a plugin registered a jobtype (its metrics label): asked once per new jobtype.
  const std::function<bool(std::string_view)> registered_;
  std::atomic<bool> retiring_{false};
  std::atomic<bool> exited_{false};
  std::atomic<State> state_{State::starting};
  std::atomic<bool> detached_{false};  // the control thread closed the connection in a job

  // The processor thread's own state.
  const std::uint64_t seed_;
  std::shared_ptr<const WorkerSettings> settings_;
  std::uint64_t settings_version_ = 0;
  std::shared_ptr<const faktory::ClientOptions> connection_;  // what client_ was built with
  std::optional<faktory::BlockingClient> client_;
  std::optional<QueueOrder> order_;
  bool batch_scheduling_ = false;  // the thread's policy is SCHED_BATCH
  Backoff backoff_;
  Clock::time_point connected_since_{};
  bool ever_connected_ = false;

  std::mutex sleep_mutex_;
  std::condition_variable sleep_cv_;
  bool woken_ = false;

  std::thread thread_;  // last: started by start(), once everything above exists
};

}  // namespace factotum::worker
