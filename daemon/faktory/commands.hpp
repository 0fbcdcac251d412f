// Formats every command a worker or producer sends (PROTOCOL.md §5) as one line ending in
// CRLF. The worker never formats a protocol line itself. A command that must not be sent
// (a verb without its argument crashes a 1.9.x server, PROTOCOL.md §0.13; a queue name with
// a space; JSON with a space for MUTATE, §0.11) is refused with errc::invalid_argument.
#pragma once

#include "faktory/error.hpp"
#include "faktory/job.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace factotum::faktory::commands {

Result<std::string> push(const Job& job);              // always with an explicit integer retry
Result<std::string> pushb(std::span<const Job> jobs);  // non-empty; each with retry
// Queue names: non-empty list; each name non-empty, no space, CR or LF.
Result<std::string> fetch(std::span<const std::string> queues);
Result<std::string> ack(std::string_view jid);

// What a Faktory server keeps of a FAIL (F: manager/retry.go): fail() cuts longer fields to
// these sizes itself, with a visible marker ("… (truncated, 1.2 KiB)", "… (12 more lines)").
inline constexpr std::size_t kFailErrtypeBytes = 100;
inline constexpr std::size_t kFailMessageBytes = 1000;
inline constexpr std::size_t kFailBacktraceLines = 50;

struct FailArgs {
  std::string jid;
  std::string errtype;  // empty → the server writes "unknown"
  std::string message;
  std::vector<std::string> backtrace;
};
Result<std::string> fail(const FailArgs& args);

struct BeatArgs {
  std::string wid;
  std::optional<std::string> current_state;  // "quiet" | "terminate"
  std::optional<std::int64_t> rss_kb;
};
Result<std::string> beat(const BeatArgs& args);

std::string info();
std::string flush();
std::string end();

enum class QueueAction { pause, resume, remove };
// names: non-empty; "*" alone means every queue.
Result<std::string> queue(QueueAction action, std::span<const std::string> names);

// MUTATE {"cmd","target","filter"} serialized without spaces (spaces in values are escaped
// as \u0020 so the server's split-on-space never cuts the JSON).
Result<std::string> mutate(const boost::json::object& operation);

}  // namespace factotum::faktory::commands
