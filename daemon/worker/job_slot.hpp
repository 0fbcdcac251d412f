// The job one processor is running, shared between the processor's thread and the control
// thread (DESIGN.md §3). The processor runs the job inline; the control thread may take it
// over — cancel it (the flag plugins poll) and FAIL it from its own connection — when its
// deadline passes or shutdown gives up on it. Exactly one side reports a job: whoever moves
// the slot out of `running` first. A mutex held for a few stores makes that decision; it is
// taken twice per job and is uncontended but for the rare take-over.
#pragma once

#include "faktory/client_options.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace factotum::crash {
struct JobRecord;
}
namespace factotum::metrics {
struct JobtypeCells;
}

namespace factotum::worker {

class JobSlot {
 public:
  using Clock = std::chrono::steady_clock;

  // What the control thread sees of a job in flight.
  struct View {
    std::string jid;
    std::string jobtype;
    Clock::time_point started;
    Clock::time_point deadline;
    Clock::time_point reservation_expiry;
    bool taken = false;  // already reported by the control thread; its function still runs
    // The connection settings of the server the job came from (a reload may have moved the
    // worker to another one since): its FAIL goes there.
    std::shared_ptr<const faktory::ClientOptions> origin;
    // Its crash-table record (supervised worker) and, once taken over, the word that names
    // the job in it (JobRecord::take_over): the control thread marks it reported once the
    // server answered its FAIL, so that a supervisor never FAILs it a second time.
    crash::JobRecord* record = nullptr;
    std::uint64_t record_word = 0;
    // Where its jobtype's outcomes are counted (null: not counted): the control thread counts
    // a job it takes over.
    metrics::JobtypeCells* cells = nullptr;
  };

  // Processor thread: the job is about to run. False when shutdown has closed the slot: the
  // job must then be FAILed without running plugin code.
  bool begin(std::string_view jid, std::string_view jobtype, Clock::time_point started,
             Clock::time_point deadline, Clock::time_point reservation_expiry,
             const std::shared_ptr<const faktory::ClientOptions>& origin = nullptr,
             crash::JobRecord* record = nullptr, metrics::JobtypeCells* cells = nullptr);
  // Processor thread: the job function returned. True when the processor reports the job;
  // false when the control thread took it over (its result is then dropped).
  bool end();
  // The flag a running job polls through job_cancelled().
  const std::atomic<bool>* cancelled_flag() const noexcept { return &cancelled_; }

  // Control thread: takes the job over when its deadline has passed.
  std::optional<View> take_over_if_due(Clock::time_point now);
  // Control thread, at the shutdown deadline: closes the slot (no job may begin any more)
  // and takes over the job running in it, if any.
  std::optional<View> close_for_shutdown();
  // Control thread: the job in flight (running or taken over), for TTIN and deadline scans.
  std::optional<View> current() const;
  // True while the processor is inside a job function that was taken over.
  bool busy_with_taken_job() const;

 private:
  enum class State { idle, running, taken };
  std::optional<View> take_over_locked();

  mutable std::mutex mutex_;
  State state_ = State::idle;
  bool closed_ = false;
  View job_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace factotum::worker
