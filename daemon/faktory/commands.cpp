#include "faktory/commands.hpp"

#include "faktory/quote.hpp"
#include "service/text_cut.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

namespace factotum::faktory::commands {
namespace {

namespace json = boost::json;

Error refuse(std::string what) {
  return Error(errc::invalid_argument, std::move(what));
}

std::string line(std::string_view verb, std::string_view argument) {
  std::string out;
  out.reserve(verb.size() + 1 + argument.size() + 2);
  out += verb;
  out += ' ';
  out += argument;
  out += "\r\n";
  return out;
}

// Names go on the line separated by single spaces (PROTOCOL.md §5, FETCH): a space would split
// one name into two, CR/LF would end the line early, and "" is a real (different) queue.
Result<void> check_names(std::string_view verb, std::span<const std::string> names) {
  if (names.empty()) {
    // PROTOCOL.md §0.3 / §0.13: FETCH with no names is an error; QUEUE PAUSE with none
    // crashes a 1.9.x server.
    return refuse(std::string(verb) + " needs at least one queue name");
  }
  for (const auto& name : names) {
    if (name.empty()) return refuse(std::string(verb) + ": a queue name is empty");
    if (name.find_first_of(" \r\n") != std::string::npos) {
      return refuse(std::string(verb) + ": queue name " + quote(name) +
                    " contains a space, CR or LF, which cannot be sent on a Faktory command line");
    }
  }
  return {};
}

Result<void> check_jid(std::string_view verb, std::string_view jid) {
  if (jid.empty()) return refuse(std::string(verb) + " needs a jid, got an empty one");
  return {};
}

std::string join(std::span<const std::string> names) {
  std::string out;
  for (const auto& name : names) {
    if (!out.empty()) out += ' ';
    out += name;
  }
  return out;
}

}  // namespace

Result<std::string> push(const Job& job) {
  // Job::serialize always writes an integer retry (PROTOCOL.md §0.6) and is never empty, so
  // PUSH always carries its argument (§0.13). Validation is the server's: it answers -ERR.
  return line("PUSH", job.serialize());
}

Result<std::string> pushb(std::span<const Job> jobs) {
  if (jobs.empty()) return refuse("PUSHB needs at least one job");
  json::array batch;
  batch.reserve(jobs.size());
  for (const auto& job : jobs) batch.emplace_back(job.to_json());  // each with retry (§0.14)
  return line("PUSHB", json::serialize(batch));
}

Result<std::string> fetch(std::span<const std::string> queues) {
  if (auto ok = check_names("FETCH", queues); !ok) return ok.error();
  return line("FETCH", join(queues));
}

Result<std::string> ack(std::string_view jid) {
  if (auto ok = check_jid("ACK", jid); !ok) return ok.error();
  // PROTOCOL.md §5: the server decodes ACK into map[string]string, so jid must be a string.
  json::object body;
  body["jid"] = jid;
  return line("ACK", json::serialize(body));
}

Result<std::string> fail(const FailArgs& args) {
  if (auto ok = check_jid("FAIL", args.jid); !ok) return ok.error();
  json::object body;
  body["jid"] = args.jid;
  // The server keeps this much and drops the rest without a trace (PROTOCOL.md §5): cut here
  // instead, where the cut can show in the Web UI.
  body["errtype"] = text::cut_with_marker(args.errtype, kFailErrtypeBytes, text::kEllipsis);
  body["message"] = text::cut_with_marker(
      args.message, kFailMessageBytes,
      std::string(text::kEllipsis) + " (truncated, " + text::human_size(args.message.size()) + ")");
  // Always an array: anything else is `-ERR invalid FAIL` (transcripts fact 8).
  json::array backtrace;
  const bool all_fit = args.backtrace.size() <= kFailBacktraceLines;
  const std::size_t kept = all_fit ? args.backtrace.size() : kFailBacktraceLines - 1;
  backtrace.reserve(kept + 1);
  for (std::size_t i = 0; i < kept; ++i) backtrace.emplace_back(args.backtrace[i]);
  if (!all_fit) {
    backtrace.emplace_back(std::string(text::kEllipsis) + " (" +
                           std::to_string(args.backtrace.size() - kept) + " more lines)");
  }
  body["backtrace"] = std::move(backtrace);
  return line("FAIL", json::serialize(body));
}

Result<std::string> beat(const BeatArgs& args) {
  if (args.wid.empty()) {
    return refuse("BEAT needs the worker's wid (`BEAT {}` only earns '-ERR unknown worker')");
  }
  json::object body;
  body["wid"] = args.wid;
  if (args.current_state) {
    // PROTOCOL.md §4: states only move forward; "running" or anything else is ignored by the
    // server, so sending it would hide a bug.
    if (*args.current_state != "quiet" && *args.current_state != "terminate") {
      return refuse("BEAT current_state must be \"quiet\" or \"terminate\", got " +
                    quote(*args.current_state));
    }
    body["current_state"] = *args.current_state;
  }
  if (args.rss_kb) body["rss_kb"] = *args.rss_kb;
  return line("BEAT", json::serialize(body));
}

std::string info() {
  return "INFO\r\n";
}
std::string flush() {
  return "FLUSH\r\n";
}
std::string end() {
  return "END\r\n";
}

Result<std::string> queue(QueueAction action, std::span<const std::string> names) {
  const std::string_view sub = action == QueueAction::pause    ? "PAUSE"
                               : action == QueueAction::resume ? "RESUME"
                                                               : "REMOVE";
  const std::string verb = "QUEUE " + std::string(sub);
  if (auto ok = check_names(verb, names); !ok) return ok.error();
  // "*" means every queue; mixed with names it is almost certainly a mistake (and with
  // REMOVE a destructive one), so it must stand alone.
  if (names.size() > 1) {
    for (const auto& name : names) {
      if (name == "*") return refuse(verb + ": '*' (every queue) must be the only name");
    }
  }
  return line(verb, join(names));
}

Result<std::string> mutate(const boost::json::object& operation) {
  if (operation.empty()) return refuse("MUTATE needs an operation object, got {}");
  // PROTOCOL.md §0.11: the server splits the line on ' ' and wants exactly two parts. Compact
  // JSON has whitespace only inside strings, and no escape sequence contains a space, so
  // replacing every space byte by the escape \u0020 keeps the JSON equal and space-free.
  const std::string compact = json::serialize(operation);
  std::string escaped;
  escaped.reserve(compact.size());
  for (const char c : compact) {
    if (c == ' ') {
      escaped += "\\u0020";
    } else {
      escaped += c;
    }
  }
  return line("MUTATE", escaped);
}

}  // namespace factotum::faktory::commands
