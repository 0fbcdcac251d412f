#include "ctl/exit_status.hpp"
#include "ctl/info_fields.hpp"
#include "ctl/server_commands.hpp"
#include "faktory/quote.hpp"

#include <algorithm>
#include <map>
#include <ostream>

namespace factotum::ctl {

namespace {

std::string past_tense(const std::string& action) {
  return action == "pause" ? "paused" : action == "resume" ? "resumed" : "removed";
}

}  // namespace

int run_command(const QueueArgs& args, faktory::BlockingClient& client, std::ostream& out,
                std::ostream& err) {
  auto info = client.info();
  if (!info) return fail(err, server_failure("INFO", info.error()));
  const auto known = info_queues(*info);
  const bool every = args.names.size() == 1 && args.names.front() == "*";
  std::vector<std::string> targets;
  int status = kExitOk;
  if (every) {
    if (known.empty()) {
      return fail(err,
                  {kExitNothingDone, "the server has no queues: nothing to " + args.action_name});
    }
    targets = args.names;
  } else {
    // Faktory pauses, resumes and removes only queues it has seen, and answers OK for the
    // others (transcripts/09-queue-admin.txt §4): say so rather than pretend.
    for (const auto& name : args.names) {
      if (known.count(name)) {
        targets.push_back(name);
      } else {
        status = fail(err, {kExitNothingDone, "no queue " + faktory::quote(name) +
                                                  " on the server (Faktory only acts on queues "
                                                  "it has seen): nothing to " +
                                                  args.action_name});
      }
    }
    if (targets.empty()) return status;
  }
  if (auto done = client.queue(args.action, targets); !done) {
    return fail(err, server_failure("QUEUE " + args.action_name, done.error()));
  }
  std::string list;
  for (const auto& [name, size] : known) {
    if (!every && std::find(targets.begin(), targets.end(), name) == targets.end()) continue;
    if (!list.empty()) list += ", ";
    list += name;
    if (args.action == faktory::commands::QueueAction::remove) {
      list += " (" + std::to_string(size) + (size == 1 ? " job)" : " jobs)");
    }
  }
  out << past_tense(args.action_name) << (every ? " every queue: " : ": ") << list << "\n";
  return status;
}

}  // namespace factotum::ctl
