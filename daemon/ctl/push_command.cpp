#include "ctl/exit_status.hpp"
#include "ctl/server_commands.hpp"
#include "faktory/job.hpp"

#include <ostream>

namespace factotum::ctl {

int run_command(const PushArgs& args, faktory::BlockingClient& client, std::ostream& out,
                std::ostream& err) {
  auto job = faktory::Job::create(args.jobtype, args.args, args.queue);
  // Always an explicit retry: a PUSH without one takes whatever an earlier PUSH left as the
  // server-wide default (PROTOCOL.md §0.6).
  job.retry = args.retry;
  job.at = args.at;
  job.custom = args.custom;
  if (auto valid = job.validate(); !valid) return fail(err, server_failure("push", valid.error()));
  if (auto pushed = client.push(job); !pushed) {
    return fail(err, server_failure("PUSH of a " + args.jobtype + " job", pushed.error()));
  }
  out << job.jid << "\n";
  return kExitOk;
}

}  // namespace factotum::ctl
