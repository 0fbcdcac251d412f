#include "ctl/schedule_time.hpp"

#include "config/duration.hpp"
#include "faktory/job.hpp"
#include "faktory/quote.hpp"

#include <ctime>

namespace factotum::ctl {

namespace {

constexpr const char* kForms =
    "give an RFC 3339 time with the T and a zone (2026-12-01T08:00:00Z, "
    "2026-12-01T09:00:00+01:00) or +DURATION from now (+90s, +5m, +2h)";

std::string utc_rfc3339(std::chrono::system_clock::time_point at) {
  const auto ms = std::chrono::time_point_cast<std::chrono::milliseconds>(at);
  const std::time_t seconds = std::chrono::system_clock::to_time_t(ms);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  const auto millis = (ms.time_since_epoch() % std::chrono::seconds(1)).count();
  char fraction[8];
  std::snprintf(fraction, sizeof fraction, ".%03d", static_cast<int>(millis));
  return std::string(date) + fraction + "Z";
}

}  // namespace

ScheduleTime parse_schedule_time(std::string_view text, std::chrono::system_clock::time_point now) {
  if (text.starts_with('+')) {
    const auto duration = config::parse_duration(text.substr(1));
    if (!duration.ok()) {
      return {{}, "--at " + faktory::quote(text) + ": " + duration.error + "; " + kForms};
    }
    return {utc_rfc3339(now + duration.value), {}};
  }
  // The job model already checks `at` exactly as the server's parser does (job.cpp): the
  // same rule here, so a time the server would refuse never leaves.
  faktory::Job probe = faktory::Job::create("probe");
  probe.at = std::string(text);
  if (text.empty() || !probe.validate()) {
    return {{}, "--at " + faktory::quote(text) + " is not a time: " + kForms};
  }
  return {std::string(text), {}};
}

}  // namespace factotum::ctl
