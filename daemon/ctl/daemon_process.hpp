// Finding the local daemon's main process (the supervisor, which passes signals on to its
// worker) for `factotum ctl quiet|stop`, and signalling it without ever hitting another
// process: the pid comes from the daemon's pidfile or from systemd (systemd_main_pid.hpp) and
// is pinned by a pidfd (Linux 5.3+; the pid and its start time on an older kernel), so a pid
// reused meanwhile cannot be signalled; it is used only once /proc says it is a process (not
// a thread) named factotum, not the worker. The pidfd also tells when the process has exited.
#pragma once

#include "ctl/command_line.hpp"
#include "ctl/exit_status.hpp"

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <variant>

namespace factotum::ctl {

class DaemonProcess {
 public:
  // From --pidfile, else systemd's MainPID of the unit. Errors: no pidfile, one that holds no
  // pid, a stale one (no such process, a thread, not factotum's main process), a unit that does
  // not run (69); a pidfile that may not be read or a process that may not be inspected (77).
  static std::variant<DaemonProcess, Failure> find(const SignalArgs& args);

  DaemonProcess(DaemonProcess&& other) noexcept;
  DaemonProcess& operator=(DaemonProcess&&) = delete;
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;
  ~DaemonProcess();

  pid_t pid() const noexcept { return pid_; }
  // "pid 1234 from /run/factotum.pid", "pid 1234, the main process of factotum.service".
  const std::string& description() const noexcept { return description_; }

  // Sends `signal`; a failure says why (not permitted: 77; gone meanwhile: 69).
  std::optional<Failure> send(int signal) const;
  // Waits until the process has exited (a zombie counts) or `timeout` passed; true if it has.
  bool wait_exit(std::chrono::milliseconds timeout) const;

 private:
  DaemonProcess(pid_t pid, int pidfd, std::string start_time, std::string description);
  bool ended_now() const;  // without a pidfd: /proc

  pid_t pid_;
  int pidfd_;               // -1 where the kernel has no pidfd_open (ENOSYS)
  std::string start_time_;  // without a pidfd: tells the process from a later one with its pid
  std::string description_;
};

}  // namespace factotum::ctl
