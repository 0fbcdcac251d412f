// How much of a plugin's failure report the host keeps (sdk.h job_fail). A plugin's FAIL text
// is unbounded: uncapped, one 1 MB message would be copied into the job, the outcome, the log
// line and the FAIL command. The host cuts it the first time it copies it, so a huge string is
// never copied whole; the cut stays visible and never splits a UTF-8 character. (The Faktory
// server keeps less still: 100 bytes of errtype, 1000 of message, 50 backtrace lines; these
// caps bound what the daemon itself carries, logs and sends.)
#pragma once

#include "service/text_cut.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace factotum::plugins {

// Every cap counts the marker that shows the cut: a capped text is never longer than its cap.
inline constexpr std::size_t kMaxErrtypeBytes = 256;
inline constexpr std::size_t kMaxMessageBytes = 8192;  // 8 KiB
inline constexpr std::size_t kMaxBacktraceLines = 50;
inline constexpr std::size_t kMaxBacktraceLineBytes = 512;

// At most kMaxErrtypeBytes; a cut errtype ends with "…".
std::string capped_errtype(std::string_view errtype);

// At most kMaxMessageBytes; a cut message ends with "… (truncated, 1.0 MiB)", the size being
// the original message's.
std::string capped_message(std::string_view message);

// One backtrace line, at most kMaxBacktraceLineBytes; a cut line ends with "…".
std::string capped_backtrace_line(std::string_view line);

// `backtrace` split at '\n' (a final '\n' ends the last line, it starts no empty one), each
// line capped. At most kMaxBacktraceLines lines: when there are more, the last line kept says
// how many were left out ("… (951 more lines)").
std::vector<std::string> capped_backtrace(std::string_view backtrace);

// (The UTF-8-safe cut and the size names, for the tests that pin them down.)
using text::human_size;
using text::utf8_prefix;

}  // namespace factotum::plugins
