#include "ctl/daemon_process.hpp"

#include "ctl/systemd_main_pid.hpp"
#include "faktory/quote.hpp"
#include "service/pid_file.hpp"
#include "service/signal_text.hpp"
#include "service/unique_fd.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <sstream>
#include <thread>

namespace factotum::ctl {

namespace {

using Clock = std::chrono::steady_clock;

// By system call: glibc 2.36's <sys/pidfd.h> declares its wrappers without C linkage.
int open_pidfd(pid_t pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0U));
}
int pidfd_signal(int pidfd, int signal) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, signal, nullptr, 0U));
}

// The daemon's main process keeps the executable's name; its worker renames itself
// (supervisor.cpp run_child) and acts only on signals its supervisor passes on.
constexpr std::string_view kMainName = "factotum";
constexpr std::string_view kWorkerName = "factotum-worker";

// A /proc/PID file's text, or the errno of the read (ENOENT: no such process).
struct ProcFile {
  std::optional<std::string> text;
  int error = 0;
};
ProcFile read_proc(pid_t pid, const char* file) {
  const std::string path = "/proc/" + std::to_string(pid) + "/" + file;
  service::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return {std::nullopt, errno};
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return {std::nullopt, errno};
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  return {std::move(text), 0};
}

// Field 22 of /proc/PID/stat, the start time: with the pid, it names one process.
std::string start_time_of(pid_t pid) {
  const auto stat = read_proc(pid, "stat").text;
  if (!stat) return {};
  const auto close = stat->rfind(')');  // the name may hold spaces and parentheses
  if (close == std::string::npos || close + 2 > stat->size()) return {};
  std::istringstream fields(stat->substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
  }
  return field;
}

// The state letter of /proc/PID/stat ('Z': exited, not yet reaped by its parent).
char state_of(pid_t pid) {
  const auto stat = read_proc(pid, "stat").text;
  const auto close = stat ? stat->rfind(')') : std::string::npos;
  return close != std::string::npos && close + 2 < stat->size() ? (*stat)[close + 2] : '?';
}

// The Tgid: line of /proc/PID/status: the process a thread id belongs to (itself for a
// process). /proc/TID exists for every thread, though it is not listed.
std::optional<pid_t> thread_group_of(const std::string& status) {
  std::istringstream lines(status);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("Tgid:", 0) != 0) continue;
    const auto value = line.find_first_not_of(" \t", 5);
    return value == std::string::npos ? std::nullopt : service::parse_pid(line.substr(value));
  }
  return std::nullopt;
}

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

// Where the pid came from, and how to speak of it when it names no daemon.
struct Candidate {
  pid_t pid = 0;
  std::string description;
  std::string stale;
};

std::variant<Candidate, Failure> candidate_of(const SignalArgs& args) {
  if (args.pidfile) {
    const auto read = service::read_pid_file(*args.pidfile);
    if (!read.pid) {
      // Not permitted to read it is not "no daemon": status 77, as a signal not permitted.
      const int status =
          read.error == EACCES || read.error == EPERM ? kExitNoPerm : kExitUnavailable;
      std::string message = read.message;
      if (read.error == ENOENT) {
        message += " (is the daemon running, started with --pidfile " + *args.pidfile + "?)";
      }
      return Failure{status, std::move(message)};
    }
    return Candidate{*read.pid, "pid " + std::to_string(*read.pid) + " from " + *args.pidfile,
                     "stale pidfile " + *args.pidfile + ": "};
  }
  auto found = main_pid_from_systemd(args.unit);
  if (auto* failure = std::get_if<Failure>(&found)) return std::move(*failure);
  const pid_t pid = std::get<pid_t>(found);
  return Candidate{pid, "pid " + std::to_string(pid) + ", the main process of " + args.unit,
                   "systemd's main process of " + args.unit + ": "};
}

}  // namespace

std::variant<DaemonProcess, Failure> DaemonProcess::find(const SignalArgs& args) {
  auto candidate = candidate_of(args);
  if (auto* failure = std::get_if<Failure>(&candidate)) return std::move(*failure);
  const auto& [pid, description, stale] = std::get<Candidate>(candidate);
  const std::string process_text = "process " + std::to_string(pid);
  const Failure gone{kExitUnavailable,
                     stale + "no process " + std::to_string(pid) + " (the daemon is not running)"};
  // Pinned first, checked second: once the pidfd is open, what /proc says while the process
  // still runs is about this process. Only a kernel without pidfds (before 5.3) goes by the
  // pid alone, with its start time to tell it from a later process of the same pid.
  const int pidfd = open_pidfd(pid);
  const int pidfd_error = pidfd < 0 ? errno : 0;
  if (pidfd < 0 && pidfd_error == ESRCH) return gone;
  const std::string start_time = pidfd_error == ENOSYS ? start_time_of(pid) : std::string();
  DaemonProcess process(pid, pidfd, start_time, description);

  const auto status = read_proc(pid, "status");
  if (!status.text) {
    if (status.error == ENOENT || process.ended_now()) return gone;
    return Failure{status.error == EACCES ? kExitNoPerm : kExitSoftware,
                   "cannot tell whether " + process_text + " is factotum: /proc/" +
                       std::to_string(pid) + "/status: " + std::strerror(status.error)};
  }
  if (const auto group = thread_group_of(*status.text); group && *group != pid) {
    return Failure{kExitUnavailable, stale + std::to_string(pid) + " is a thread of process " +
                                         std::to_string(*group) +
                                         ", not a process: give the main process's pid"};
  }
  if (pidfd < 0 && pidfd_error != ENOSYS) {
    return Failure{kExitSoftware,
                   "cannot pin " + process_text + " (pidfd_open): " + std::strerror(pidfd_error)};
  }
  const auto name = read_proc(pid, "comm");
  if (!name.text) {
    if (name.error == ENOENT || process.ended_now()) return gone;
    return Failure{name.error == EACCES ? kExitNoPerm : kExitSoftware,
                   "cannot tell whether " + process_text + " is factotum: /proc/" +
                       std::to_string(pid) + "/comm: " + std::strerror(name.error)};
  }
  const std::string comm = first_line(*name.text);
  if (comm == kWorkerName) {
    return Failure{kExitUnavailable,
                   stale + process_text +
                       " is factotum's worker process, which acts only on signals from its "
                       "supervisor: give the main process's pid"};
  }
  if (comm != kMainName) {
    return Failure{kExitUnavailable,
                   stale + process_text + " is " + faktory::quote(comm) + ", not factotum"};
  }
  if (process.ended_now()) return gone;
  return process;
}

DaemonProcess::DaemonProcess(pid_t pid, int pidfd, std::string start_time, std::string description)
    : pid_(pid),
      pidfd_(pidfd),
      start_time_(std::move(start_time)),
      description_(std::move(description)) {}

DaemonProcess::DaemonProcess(DaemonProcess&& other) noexcept
    : pid_(other.pid_),
      pidfd_(std::exchange(other.pidfd_, -1)),
      start_time_(std::move(other.start_time_)),
      description_(std::move(other.description_)) {}

DaemonProcess::~DaemonProcess() {
  if (pidfd_ >= 0) ::close(pidfd_);
}

bool DaemonProcess::ended_now() const {
  if (pidfd_ >= 0) {
    pollfd fd{pidfd_, POLLIN, 0};
    return ::poll(&fd, 1, 0) > 0;
  }
  const char state = state_of(pid_);
  return state == '?' || state == 'Z' || state == 'X' || start_time_of(pid_) != start_time_;
}

std::optional<Failure> DaemonProcess::send(int signal) const {
  // kill() only where the kernel has no pidfd (find() said so): the start time was checked.
  const int sent = pidfd_ >= 0 ? pidfd_signal(pidfd_, signal) : ::kill(pid_, signal);
  const int error = errno;
  if (sent == 0) return std::nullopt;
  const std::string what = "cannot send " + service::signal_text(signal) + " to factotum (" +
                           description_ + "): " + std::strerror(error);
  if (error == EPERM) {
    return Failure{kExitNoPerm, what + " (run it as root or as the daemon's user)"};
  }
  return Failure{error == ESRCH ? kExitUnavailable : kExitSoftware, what};
}

bool DaemonProcess::wait_exit(std::chrono::milliseconds timeout) const {
  // Far enough for any --timeout (parse_duration's longest is far shorter), near enough that
  // adding it to now() cannot overflow.
  constexpr auto kLongest = std::chrono::hours(24 * 365 * 100);
  const auto until = Clock::now() + std::clamp<std::chrono::milliseconds>(
                                        timeout, std::chrono::milliseconds(0), kLongest);
  for (;;) {
    const auto left = std::max<long long>(
        std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now()).count(), 0);
    if (pidfd_ >= 0) {
      // A pidfd becomes readable when its process exits. poll() takes an int: a longer wait
      // is several polls.
      pollfd fd{pidfd_, POLLIN, 0};
      const int ready = ::poll(&fd, 1, static_cast<int>(std::min<long long>(left, INT_MAX)));
      if (ready > 0) return true;
      if ((ready < 0 && errno == EINTR) || (ready == 0 && left > INT_MAX)) continue;
      return false;
    }
    // No pidfd: look at /proc now and then.
    if (ended_now()) return true;
    if (left <= 0) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min<long long>(left, 50)));
  }
}

}  // namespace factotum::ctl
