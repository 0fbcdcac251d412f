// The daemon's pidfile (`factotum --pidfile FILE`): the main process's pid, one decimal line,
// for `factotum ctl quiet|stop --pidfile FILE` to find the process to signal.
//
// The main process (the supervisor; the worker itself with --no-supervisor) takes the file at
// start-up, before any plugin loads, and holds an exclusive flock(2) on it for its whole life.
// A second daemon given the same file finds it locked and refuses to start; a file left by a
// daemon that died holds no lock (the kernel released it) and is replaced. The file is written
// to a mkstemp(3) name in the same directory and renamed into place (linked, when there is
// none yet), so a reader never sees half a pid, no name is predictable and no symbolic link is
// followed.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace factotum::service {

// A pid as the pidfile and `systemctl show --value` write it: decimal digits, then
// whitespace at most. nullopt for anything else; 0 is a value (systemd's "no process").
std::optional<pid_t> parse_pid(std::string_view text);

class PidFile {
 public:
  // Takes `file` for this process: its pid written, the lock held. Otherwise why not, as a
  // sentence ("factotum (pid 1234) holds it: ...", "cannot create a file in /run/x: ...").
  static std::variant<PidFile, std::string> take(const std::filesystem::path& file);

  PidFile(PidFile&& other) noexcept;
  PidFile& operator=(PidFile&&) = delete;
  PidFile(const PidFile&) = delete;
  PidFile& operator=(const PidFile&) = delete;
  // Removes the file if it is still the one this process wrote, and releases the lock.
  ~PidFile();

  // The same, now: for a process about to end without running destructors (_Exit).
  void remove() noexcept;
  // In a forked child (the worker): closes the child's copy of the descriptor and leaves the
  // file and the lock to the parent. A lock is the open file's, shared across fork(): a
  // worker that outlived its supervisor would otherwise hold it.
  void forget() noexcept;

 private:
  PidFile(std::filesystem::path file, int fd) : file_(std::move(file)), fd_(fd) {}

  std::filesystem::path file_;
  int fd_;  // the locked file; -1 once removed or forgotten
};

struct PidFileRead {
  std::optional<pid_t> pid;  // set on success; never 0
  int error = 0;             // the errno of a file that cannot be read (ENOENT, EACCES, ...)
  // Why there is no pid: "cannot read the pidfile FILE: ...", "the pidfile FILE is a
  // directory", "... does not hold a pid". Never the file's contents (a file named by
  // mistake may hold a secret).
  std::string message;
};
PidFileRead read_pid_file(const std::filesystem::path& file);

}  // namespace factotum::service
