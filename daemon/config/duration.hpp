// Durations as operators write them: a whole number and one unit, `1500ms`, `25s`, `2m`, `1h`.
// A bare number is refused (is `30` seconds or milliseconds?) with a hint to add a unit.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace factotum::config {

struct ParsedDuration {
  std::chrono::milliseconds value{0};
  std::string error;  // empty on success; otherwise a sentence naming the problem
  bool ok() const noexcept { return error.empty(); }
};

// Parses "<digits><unit>" with unit ms, s, m or h. Zero is accepted here ("0s"); each key
// decides its own range. Errors quote the text ("unknown unit 'sec' in '25sec'; ...").
ParsedDuration parse_duration(std::string_view text);

// The shortest exact form in the largest unit that divides it: 120000 ms → "2m",
// 1500 ms → "1500ms", 0 → "0s". parse_duration(format_duration(d)) == d.
std::string format_duration(std::chrono::milliseconds duration);

}  // namespace factotum::config
