// `factotum ctl quiet|stop` without --pidfile: the daemon's main process as systemd knows it,
// `systemctl show --property=MainPID --value -- UNIT`.
#pragma once

#include "ctl/exit_status.hpp"

#include <sys/types.h>

#include <string>
#include <variant>

namespace factotum::ctl {

// The unit's MainPID; a unit that does not run (MainPID 0) or a systemctl that cannot be run
// or says something else is a Failure (69) that suggests --pidfile.
std::variant<pid_t, Failure> main_pid_from_systemd(const std::string& unit);

}  // namespace factotum::ctl
