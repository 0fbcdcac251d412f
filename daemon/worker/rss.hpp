// Resident set size for BEAT's rss_kb (PROTOCOL.md §10: read VmRSS, and parse the number —
// the Go worker keeps " kB" and so always reports 0).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace factotum::worker {

// VmRSS of this process in kB, or std::nullopt when /proc is unavailable.
std::optional<std::int64_t> current_rss_kb();
// Parses the VmRSS line out of a /proc/<pid>/status text.
std::optional<std::int64_t> parse_vmrss_kb(std::string_view status);

}  // namespace factotum::worker
