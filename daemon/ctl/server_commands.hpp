// The commands that talk to the Faktory server, each on a connected client (one file each).
// They print their result to `out` and an error as one "factotum ctl: ..." line to `err`, and
// return the exit status (exit_status.hpp).
#pragma once

#include "ctl/command_line.hpp"
#include "faktory/blocking_client.hpp"

#include <iosfwd>

namespace factotum::ctl {

// PUSH; prints the jid.
int run_command(const PushArgs& args, faktory::BlockingClient& client, std::ostream& out,
                std::ostream& err);
// INFO; a table, or the server's JSON on one line.
int run_command(const InfoArgs& args, faktory::BlockingClient& client, std::ostream& out,
                std::ostream& err);
// QUEUE PAUSE|RESUME|REMOVE, for the queues the server knows (INFO); those it does not know
// are named on `err` and make the status 1: Faktory answers OK and does nothing for them.
int run_command(const QueueArgs& args, faktory::BlockingClient& client, std::ostream& out,
                std::ostream& err);
// MUTATE, with the target set's size from INFO before and after ("retries: 3 → 1 jobs"):
// Faktory answers OK whether or not a job matched, so the sizes are all there is to go by. A
// set that did not shrink: status 1 (a guess, as other jobs enter and leave it meanwhile).
int run_command(const MutateArgs& args, faktory::BlockingClient& client, std::ostream& out,
                std::ostream& err);

}  // namespace factotum::ctl
