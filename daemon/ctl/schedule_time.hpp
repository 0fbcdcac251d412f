// `factotum ctl push --at TIME`: when a scheduled job becomes due, as an RFC 3339 time for the
// job's `at` field (PROTOCOL.md §6).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace factotum::ctl {

struct ScheduleTime {
  std::string rfc3339;  // the job's `at`; empty when error is set
  std::string error;
};

// TIME is either an RFC 3339 time as Faktory parses it (2026-12-01T08:00:00Z,
// 2026-12-01T09:00:00.5+01:00: the T and a zone are required), sent as written, or
// +DURATION from `now` (+90s, +5m, +2h, +1500ms; the units of the configuration's durations),
// sent in UTC with milliseconds.
ScheduleTime parse_schedule_time(std::string_view text, std::chrono::system_clock::time_point now);

}  // namespace factotum::ctl
