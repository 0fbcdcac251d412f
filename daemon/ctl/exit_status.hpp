// The exit statuses of `factotum ctl` (sysexits.h: service/exit_status.hpp, the daemon's own
// list, and 1 for "done, but nothing happened"), and the error a command ends with. Every error is
// one line on stderr, "factotum ctl: ...", that names what was wrong; the status tells a script
// which kind of thing it was.
#pragma once

#include "faktory/error.hpp"
#include "service/exit_status.hpp"

#include <iosfwd>
#include <string>
#include <string_view>

namespace factotum::ctl {

using service::kExitConfig;       // 78: the configuration (as the daemon)
using service::kExitNoPerm;       // 77: password refused, pidfile unreadable, signal not permitted
using service::kExitOk;           // 0
using service::kExitProtocol;     // 76: the server answered -ERR (or nonsense)
using service::kExitSoftware;     // 70: an internal error (as the daemon)
using service::kExitTempFail;     // 75: `stop` timed out, the daemon runs on
using service::kExitUnavailable;  // 69: no server, or no daemon to signal
using service::kExitUsage;        // 64: bad command line, JSON or time
// The request was valid and sent, and (as far as ctl can tell) did nothing: a mutate after
// which the set is no smaller, a queue the server does not know (Faktory answers OK to both).
inline constexpr int kExitNothingDone = 1;

struct Failure {
  int status = kExitSoftware;
  std::string message;  // without the "factotum ctl: " prefix
};

// Writes "factotum ctl: MESSAGE" and returns the status, for `return fail(err, ...)`.
int fail(std::ostream& err, const Failure& failure);

// A client error as a Failure: `doing` says what failed ("cannot reach the Faktory server at
// URL", "PUSH"). The status follows the error's kind: unreachable 69, refused 76, password 77.
Failure server_failure(std::string_view doing, const faktory::Error& error);

}  // namespace factotum::ctl
