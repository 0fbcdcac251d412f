// The exit statuses of the factotum binary (sysexits.h), one list for the daemon, its
// supervisor and `factotum ctl`, and the configuration file both read when none is named.
#pragma once

namespace factotum::service {

inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 64;        // EX_USAGE: a bad command line, JSON or time (ctl)
inline constexpr int kExitUnavailable = 69;  // EX_UNAVAILABLE: no server, or no daemon (ctl)
inline constexpr int kExitSoftware = 70;     // EX_SOFTWARE: an internal error
inline constexpr int kExitTempFail = 75;     // EX_TEMPFAIL: ctl stop timed out, the daemon runs on
inline constexpr int kExitProtocol = 76;     // EX_PROTOCOL: the server answered -ERR (ctl)
inline constexpr int kExitNoPerm = 77;       // EX_NOPERM: password refused, not permitted (ctl)
inline constexpr int kExitConfig = 78;       // EX_CONFIG: the configuration cannot be used

// The daemon's configuration file when --config names none (the packaged unit's too).
inline constexpr const char* kDefaultConfigFile = "/etc/factotum/factotum.yaml";

}  // namespace factotum::service
