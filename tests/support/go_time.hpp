// Go time formatting/parsing as Faktory uses it: util.Nows() writes RFC3339Nano in UTC
// (trailing fractional zeros dropped) and `at` is read with time.Parse(RFC3339Nano), whose
// error texts reach the client verbatim (transcripts 03 and 04).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <variant>

namespace factotum::testing::gotime {

using Time = std::chrono::sys_time<std::chrono::nanoseconds>;

// "2026-11-28T14:30:57.33883074Z"; no fraction at all when the nanoseconds are zero.
std::string format_rfc3339nano(Time t);

// "14:30:57 UTC" (INFO's server_utc_time).
std::string format_clock(Time t);

// time.Parse("2006-01-02T15:04:05.999999999Z07:00", s) as Go 1.19 does it: the time, or the
// ParseError text (`parsing time "x" as "...": cannot parse "x" as "2006"`).
std::variant<Time, std::string> parse_rfc3339nano(std::string_view s);

}  // namespace factotum::testing::gotime
