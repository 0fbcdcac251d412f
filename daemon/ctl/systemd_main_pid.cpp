#include "ctl/systemd_main_pid.hpp"

#include "faktory/quote.hpp"
#include "service/pid_file.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace factotum::ctl {

std::variant<pid_t, Failure> main_pid_from_systemd(const std::string& unit) {
  const std::string asking = "cannot ask systemd for the main process of " + unit;
  const std::string hint = "; give the daemon's pidfile with --pidfile FILE";
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return Failure{kExitSoftware, asking + ": pipe: " + std::strerror(errno)};
  }
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  ::posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  // "--": a unit name that starts with '-' is a name, not an option.
  std::string program = "systemctl", show = "show", property = "--property=MainPID",
              value = "--value", end_of_options = "--", name = unit;
  char* argv[] = {program.data(),        show.data(), property.data(), value.data(),
                  end_of_options.data(), name.data(), nullptr};
  pid_t child = 0;
  const int spawned = ::posix_spawnp(&child, "systemctl", &actions, nullptr, argv, environ);
  ::posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  std::string output;
  if (spawned == 0) {
    char buffer[512];
    ssize_t n = 0;
    while ((n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR)) {
      if (n > 0) output.append(buffer, static_cast<std::size_t>(n));
    }
  }
  ::close(pipe_fds[0]);
  if (spawned != 0) {
    return Failure{kExitUnavailable, asking + ": systemctl: " + std::strerror(spawned) + hint};
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  const auto pid = service::parse_pid(output);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !pid) {
    while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
    return Failure{kExitUnavailable, asking + ": systemctl says " + faktory::quote(output) + hint};
  }
  if (*pid == 0) {
    return Failure{kExitUnavailable, unit + " is not running (systemd knows no main process)" +
                                         hint + " for a daemon not run by systemd"};
  }
  return *pid;
}

}  // namespace factotum::ctl
