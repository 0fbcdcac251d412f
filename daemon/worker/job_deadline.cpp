#include "worker/job_deadline.hpp"

#include <algorithm>

namespace factotum::worker {

namespace {
constexpr std::chrono::seconds kDefaultReservation{1800};
constexpr std::chrono::seconds kShortestReservation{60};

JobClock::duration reservation_budget(const WorkerSettings& settings,
                                      JobClock::duration reservation) {
  const auto margin = std::min<JobClock::duration>(settings.reservation_margin, reservation / 2);
  return reservation - margin;
}
}  // namespace

std::chrono::seconds reservation_of(const faktory::Job& job) {
  const std::int64_t requested = job.reserve_for.value_or(0);
  if (requested <= 0) return kDefaultReservation;
  return std::chrono::seconds(std::max<std::int64_t>(requested, kShortestReservation.count()));
}

JobClock::time_point deadline_for(const WorkerSettings& settings, std::string_view jobtype,
                                  JobClock::time_point started,
                                  JobClock::time_point reservation_expiry) {
  JobClock::duration budget = reservation_budget(settings, reservation_expiry - started);
  if (auto it = settings.jobtype_timeouts.find(jobtype); it != settings.jobtype_timeouts.end()) {
    budget = std::min<JobClock::duration>(budget, it->second);
  }
  return started + budget;
}

JobClock::duration shortest_budget(const WorkerSettings& settings) {
  // The budget grows with the reservation, so the shortest reservation bounds it from below.
  JobClock::duration shortest = reservation_budget(settings, kShortestReservation);
  for (const auto& [jobtype, timeout] : settings.jobtype_timeouts) {
    shortest = std::min<JobClock::duration>(shortest, timeout);
  }
  return shortest;
}

}  // namespace factotum::worker
