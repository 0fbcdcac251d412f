// `factotum ctl quiet` and `stop`: TSTP or TERM to the local daemon's main process
// (daemon_process.hpp), and for stop, waiting until it has exited (stop_timeout.hpp says how
// long). Neither needs the server, its password or its TLS files.
#pragma once

#include "ctl/command_line.hpp"

#include <iosfwd>

namespace factotum::ctl {

int run_signal(const SignalArgs& args, const ConnectionArgs& connection, std::ostream& out,
               std::ostream& err);

}  // namespace factotum::ctl
