#include "metrics/job_metrics.hpp"

#include "metrics/families.hpp"

namespace factotum::metrics {

namespace {

constexpr std::array<std::string_view, kProcessorStates> kStateLabels = {
    "connecting", "fetching", "running", "reporting", "quiet", "stopped"};

// What the processors counted for one jobtype label, added up.
struct JobtypeTotal {
  std::array<std::uint64_t, kOutcomes> outcomes{};
  std::uint64_t crashed = 0;
  HistogramTotal durations;
};

}  // namespace

std::string_view outcome_label(Outcome outcome) noexcept {
  switch (outcome) {
    case Outcome::succeeded:
      return "succeeded";
    case Outcome::failed:
      return "failed";
    case Outcome::timeout:
      return "timeout";
    case Outcome::unknown_jobtype:
      return "unknown_jobtype";
  }
  return "?";
}

JobtypeCells& ProcessorMetrics::jobtype(std::string_view name,
                                        const std::function<bool(std::string_view)>& registered) {
  if (const auto it = jobtypes_.find(name); it != jobtypes_.end()) return *it->second;
  const std::string_view label = registered(name) ? name : kUnregistered;
  if (label != name) {
    if (const auto it = jobtypes_.find(label); it != jobtypes_.end()) return *it->second;
  }
  std::lock_guard lock(mutex_);
  return *jobtypes_.emplace(std::string(label), std::make_unique<JobtypeCells>()).first->second;
}

JobMetrics::JobMetrics() = default;
JobMetrics::~JobMetrics() = default;

ProcessorMetrics& JobMetrics::acquire() {
  std::lock_guard lock(mutex_);
  for (auto& processor : processors_) {
    if (!processor->in_use_.load(std::memory_order_relaxed)) {
      processor->in_use_.store(true, std::memory_order_relaxed);
      processor->set_state(ProcessorState::connecting);
      return *processor;
    }
  }
  processors_.push_back(std::unique_ptr<ProcessorMetrics>(new ProcessorMetrics(*this)));
  processors_.back()->in_use_.store(true, std::memory_order_relaxed);
  return *processors_.back();
}

void JobMetrics::release(ProcessorMetrics& processor) noexcept {
  std::lock_guard lock(mutex_);
  processor.in_use_.store(false, std::memory_order_relaxed);
}

void JobMetrics::collect(std::vector<prometheus::MetricFamily>& out, const Extras& extras) const {
  std::map<std::string, JobtypeTotal> jobtypes;
  for (const auto& [name, count] : extras.crashed) jobtypes[name].crashed += count;
  std::array<std::uint64_t, kProcessorStates> states{};
  std::uint64_t in_use = 0;
  HistogramTotal fetches;
  std::uint64_t reconnects = control_reconnects_.load(std::memory_order_relaxed);
  std::uint64_t ack_resends = 0;
  std::uint64_t fail_resends = control_fail_resends_.load(std::memory_order_relaxed);
  {
    std::lock_guard lock(mutex_);
    for (const auto& processor : processors_) {
      if (processor->in_use_.load(std::memory_order_relaxed)) {
        ++in_use;
        ++states[static_cast<std::size_t>(processor->state_.load(std::memory_order_relaxed))];
      }
      fetches.add(processor->fetches_);
      reconnects += processor->reconnects_.load(std::memory_order_relaxed);
      ack_resends += processor->ack_resends_.load(std::memory_order_relaxed);
      fail_resends += processor->fail_resends_.load(std::memory_order_relaxed);
      std::lock_guard cells_lock(processor->mutex_);
      for (const auto& [name, cells] : processor->jobtypes_) {
        JobtypeTotal& total = jobtypes[name];
        for (std::size_t i = 0; i < kOutcomes; ++i) {
          total.outcomes[i] += cells->outcomes[i].load(std::memory_order_relaxed);
        }
        total.durations.add(cells->durations);
      }
    }
  }

  if (extras.quiet_capacity > in_use) {
    states[static_cast<std::size_t>(ProcessorState::quiet)] += extras.quiet_capacity - in_use;
  }

  auto finished = make_family("factotum_jobs_finished_total",
                              "Jobs finished, by jobtype and outcome (crashed: the worker "
                              "process died while the job ran; its supervisor FAILed it).",
                              prometheus::MetricType::Counter);
  auto durations = make_family("factotum_job_duration_seconds",
                               "How long job functions ran, by jobtype (timed out: until the "
                               "job was FAILed; jobs that never ran are not observed).",
                               prometheus::MetricType::Histogram);
  for (const auto& [name, total] : jobtypes) {
    for (std::size_t i = 0; i < kOutcomes; ++i) {
      add_sample(finished, {{"jobtype", name}, {"outcome", std::string(outcome_label(Outcome(i)))}},
                 static_cast<double>(total.outcomes[i]));
    }
    add_sample(finished, {{"jobtype", name}, {"outcome", "crashed"}},
               static_cast<double>(total.crashed));
    add_histogram(durations, {{"jobtype", name}}, kDurationBounds, total.durations);
  }
  out.push_back(std::move(finished));
  out.push_back(std::move(durations));

  auto in_flight = make_family("factotum_jobs_in_flight", "Job functions running now.",
                               prometheus::MetricType::Gauge);
  add_sample(in_flight, {},
             static_cast<double>(states[static_cast<std::size_t>(ProcessorState::running)]));
  out.push_back(std::move(in_flight));

  auto processors = make_family("factotum_processors", "Processors, by what they are doing.",
                                prometheus::MetricType::Gauge);
  for (std::size_t i = 0; i < kProcessorStates; ++i) {
    add_sample(processors, {{"state", std::string(kStateLabels[i])}},
               static_cast<double>(states[i]));
  }
  out.push_back(std::move(processors));

  auto fetch = make_family("factotum_fetch_duration_seconds",
                           "FETCH round trips, from sending it to its reply (an idle FETCH "
                           "waits up to 2 s on the server).",
                           prometheus::MetricType::Histogram);
  add_histogram(fetch, {}, kFetchBounds, fetches);
  out.push_back(std::move(fetch));

  auto reconnect = make_family("factotum_server_reconnects_total",
                               "Connections to the Faktory server opened again after one was "
                               "lost, refused or replaced (processors, and the connection the "
                               "control thread FAILs timed-out jobs on).",
                               prometheus::MetricType::Counter);
  add_sample(reconnect, {}, static_cast<double>(reconnects));
  out.push_back(std::move(reconnect));

  auto resends = make_family("factotum_report_resends_total",
                             "ACKs and FAILs sent again after the connection broke before "
                             "the server answered.",
                             prometheus::MetricType::Counter);
  add_sample(resends, {{"command", "ACK"}}, static_cast<double>(ack_resends));
  add_sample(resends, {{"command", "FAIL"}}, static_cast<double>(fail_resends));
  out.push_back(std::move(resends));
}

}  // namespace factotum::metrics
