// How long `factotum ctl stop` waits for the daemon to exit, and where that figure came from
// (printed with it): --timeout; else the configuration's worker.shutdown_timeout + 20 s (what
// the daemon asks systemd for when it stops); else, without a configuration file, 45 s.
#pragma once

#include "ctl/command_line.hpp"
#include "ctl/exit_status.hpp"

#include <chrono>
#include <string>
#include <string_view>
#include <variant>

namespace factotum::ctl {

// The daemon's default worker.shutdown_timeout (25 s) and the 20 s it asks systemd for on top
// (FETCHes in flight, the FAILs, END), as the unit's TimeoutStopSec.
inline constexpr std::chrono::seconds kDefaultStopTimeout{45};

struct StopTimeout {
  std::chrono::milliseconds value;
  std::string source;  // "--timeout", "worker.shutdown_timeout 25s in FILE + 20s", ...
};

// The file is --config, else the default one, which may be missing (then 45 s), but neither
// unreadable nor invalid (78). Only worker.shutdown_timeout is wanted: the faktory section
// (a password file or TLS files an operator may not be able to read, FAKTORY_URL) is never
// read, and neither is the environment.
std::variant<StopTimeout, Failure> stop_timeout(const SignalArgs& args,
                                                const ConnectionArgs& connection);

// `yaml` with the lines of its top-level `faktory:` block left empty (so the positions in
// errors about the rest stay right). A file that writes its top level as a flow mapping
// ({faktory: ...}) is returned as it is.
std::string without_faktory_section(std::string_view yaml);

}  // namespace factotum::ctl
