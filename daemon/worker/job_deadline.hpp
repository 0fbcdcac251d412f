// When a job must be given up: its jobtype's timeout, and in any case some margin before its
// Faktory reservation expires, so the server never re-runs a job a live worker still holds
// without being told (DESIGN.md §3).
#pragma once

#include "faktory/job.hpp"
#include "worker/worker_settings.hpp"

#include <chrono>
#include <string_view>

namespace factotum::worker {

using JobClock = std::chrono::steady_clock;

// PROTOCOL.md §5: reserve_for 0/absent means 1800 s; the server raises values below 60 s.
std::chrono::seconds reservation_of(const faktory::Job& job);

JobClock::time_point deadline_for(const WorkerSettings& settings, std::string_view jobtype,
                                  JobClock::time_point started,
                                  JobClock::time_point reservation_expiry);

// The shortest time any job can have between its start and its deadline under `settings`: a
// job that starts at t has its deadline at t + shortest_budget() or later.
JobClock::duration shortest_budget(const WorkerSettings& settings);

}  // namespace factotum::worker
