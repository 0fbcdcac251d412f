// The service manager's notification protocol (sd_notify(3)): READY=1, RELOADING=1, STOPPING=1,
// STATUS=…, WATCHDOG=1 as datagrams to the socket named by $NOTIFY_SOCKET. Without it (not run
// by systemd, or not Type=notify) every call does nothing.
//
// The protocol is small and stable, and systemd documents it as the interface ("Standalone
// Implementations" in sd_notify(3)): it is spoken here directly rather than through
// libsystemd, which would load six more libraries (libgcrypt, liblz4, liblzma, libzstd,
// libcap, libgpg-error; 1.1 MB of RSS) into a daemon for one datagram.
//
// Threading: send() may be called from any thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace factotum::service {

class SystemdNotify {
 public:
  // Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID, then removes them from the
  // environment (as sd_notify's unset_environment does), so that processes started by plugins
  // do not inherit them. Call once at start, before any thread exists (unsetenv).
  static SystemdNotify from_environment();
  // Over a connected datagram socket (taking it over) instead: a supervised worker's
  // notifications go to its supervisor, which relays them (supervisor/supervisor.hpp).
  static SystemdNotify over_socket(int fd, std::optional<std::chrono::microseconds> watchdog);
  SystemdNotify() = default;
  ~SystemdNotify();
  SystemdNotify(SystemdNotify&& other) noexcept;
  SystemdNotify& operator=(SystemdNotify&& other) noexcept;
  SystemdNotify(const SystemdNotify&) = delete;
  SystemdNotify& operator=(const SystemdNotify&) = delete;

  bool enabled() const noexcept { return fd_ >= 0; }
  // How often the service manager wants WATCHDOG=1 (WatchdogSec=), if it asked this process.
  std::optional<std::chrono::microseconds> watchdog_timeout() const noexcept { return watchdog_; }
  // One datagram of newline-separated assignments, e.g. "READY=1\nSTATUS=idle". Never
  // blocks; errors are ignored: the service manager going away (or not reading) must not stop
  // the daemon.
  void send(std::string_view message) const noexcept;

 private:
  int fd_ = -1;
  std::string address_;  // sockaddr_un path; a leading '\0' for the abstract namespace; empty
                         // when fd_ is connected
  std::optional<std::chrono::microseconds> watchdog_;
};

// "MONOTONIC_USEC=…" of CLOCK_MONOTONIC now, which RELOADING=1 must carry (systemd ≥ 253).
std::string monotonic_usec_now();

}  // namespace factotum::service
