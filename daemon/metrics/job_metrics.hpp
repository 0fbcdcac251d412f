// What the job path counts, for the metrics endpoint: jobs finished by jobtype and outcome,
// their durations, FETCH round trips, reconnects and resent reports, and each processor's
// state. Counting is a few relaxed atomic increments per job into the processor's own cells
// (no lock, no allocation, no cache line shared with other processors); a scrape sums the
// cells of every processor, retired ones included, so counters never go backwards.
//
// Cardinality is bounded: a jobtype gets its own label only if a plugin registered it when the
// processor first met it; all others are counted under one label value (kUnregistered), so a
// producer cannot create series by pushing random jobtypes.
//
// Threading: ProcessorMetrics belongs to its processor's thread, but for count_taken_over()
// (the control thread). JobMetrics is thread-safe; collect() runs on the HTTP server's thread.
#pragma once

#include "metrics/histogram_cells.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace prometheus {
struct MetricFamily;
}

namespace factotum::metrics {

// The jobtype label of jobs whose jobtype no plugin registered.
inline constexpr std::string_view kUnregistered = "_unregistered";

enum class Outcome : std::uint8_t { succeeded, failed, timeout, unknown_jobtype };
inline constexpr std::size_t kOutcomes = 4;
std::string_view outcome_label(Outcome outcome) noexcept;

// What a processor is doing, as the factotum_processors gauge shows it.
enum class ProcessorState : std::uint8_t {
  connecting,  // connecting, or waiting to reconnect
  fetching,
  running,
  reporting,
  quiet,    // no longer fetching: the worker is quiet
  stopped,  // no longer fetching: the worker stops, or the processor retires
};
inline constexpr std::size_t kProcessorStates = 6;

// One jobtype's counts on one processor. Written with fetch_add: the processor, and for a
// job it took over, the control thread. A cache line of its own (no false sharing with
// another processor's cells).
struct alignas(64) JobtypeCells {
  std::array<std::atomic<std::uint64_t>, kOutcomes> outcomes{};
  DurationCells durations;

  // A job whose function ran for `took`.
  void count(Outcome outcome, std::chrono::nanoseconds took) noexcept {
    count(outcome);
    durations.observe(took);
  }
  // A job whose function never ran (an invalid payload, refused at shutdown).
  void count(Outcome outcome) noexcept {
    outcomes[static_cast<std::size_t>(outcome)].fetch_add(1, std::memory_order_relaxed);
  }
};

class JobMetrics;

class alignas(64) ProcessorMetrics {
 public:
  // The cells of `jobtype`. `registered` is asked once per new jobtype (it takes the plugin
  // registry's lock); an unregistered one is asked each time, so that one registered later by
  // a reload gets its own label, and random names never fill this processor's map.
  JobtypeCells& jobtype(std::string_view name,
                        const std::function<bool(std::string_view)>& registered);

  void set_state(ProcessorState state) noexcept { state_.store(state, std::memory_order_relaxed); }
  void fetched(std::chrono::nanoseconds round_trip) noexcept { fetches_.observe(round_trip); }
  void reconnected() noexcept { reconnects_.fetch_add(1, std::memory_order_relaxed); }
  void resent(bool fail) noexcept {
    (fail ? fail_resends_ : ack_resends_).fetch_add(1, std::memory_order_relaxed);
  }

 private:
  friend class JobMetrics;
  explicit ProcessorMetrics(JobMetrics& owner) : owner_(owner) {}

  JobMetrics& owner_;
  std::atomic<bool> in_use_{false};
  std::atomic<ProcessorState> state_{ProcessorState::connecting};
  FetchCells fetches_;
  std::atomic<std::uint64_t> reconnects_{0};
  std::atomic<std::uint64_t> ack_resends_{0};
  std::atomic<std::uint64_t> fail_resends_{0};
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view name) const noexcept {
      return std::hash<std::string_view>{}(name);
    }
  };
  // Written by the processor's thread only, under mutex_; read without it by that thread and
  // under it by a scrape.
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::unique_ptr<JobtypeCells>, NameHash, std::equal_to<>>
      jobtypes_;
};

class JobMetrics {
 public:
  JobMetrics();
  ~JobMetrics();
  JobMetrics(const JobMetrics&) = delete;
  JobMetrics& operator=(const JobMetrics&) = delete;

  // A processor's cells: a free slot of a retired processor (its counts stay), or a new one.
  ProcessorMetrics& acquire();
  // The control thread's own connection (the FAILs of jobs it took over).
  void control_reconnected() noexcept {
    control_reconnects_.fetch_add(1, std::memory_order_relaxed);
  }
  void control_resent() noexcept { control_fail_resends_.fetch_add(1, std::memory_order_relaxed); }
  // The processor has exited: its slot counts no state any more and can be reused.
  void release(ProcessorMetrics& processor) noexcept;

  // factotum_jobs_finished_total (`crashed` from the extras: jobtype label → jobs the
  // supervisor FAILed because the worker died), factotum_job_duration_seconds,
  // factotum_jobs_in_flight, factotum_processors, factotum_fetch_duration_seconds,
  // factotum_server_reconnects_total, factotum_report_resends_total.
  struct Extras {
    std::map<std::string, std::uint64_t> crashed;
    // While the worker is quiet: its concurrency. Processors have exited but for those still
    // finishing a job; the rest count as `quiet`.
    std::uint64_t quiet_capacity = 0;
  };
  void collect(std::vector<prometheus::MetricFamily>& out, const Extras& extras) const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<ProcessorMetrics>> processors_;
  std::atomic<std::uint64_t> control_reconnects_{0};
  std::atomic<std::uint64_t> control_fail_resends_{0};
};

}  // namespace factotum::metrics
