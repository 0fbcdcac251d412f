// `factotum ctl …`: the operator's command line for the Faktory server the daemon uses and for
// the local daemon (see command_line.cpp for the commands and the exit statuses).
#pragma once

namespace factotum::ctl {

// argv[0] is "ctl". Returns the process exit status (exit_status.hpp).
int ctl_main(int argc, char** argv);

}  // namespace factotum::ctl
