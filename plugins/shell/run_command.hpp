// Runs one command without a shell and waits for it: stdin /dev/null, stdout and stderr
// captured (their last 4 KiB), a timeout and a cancellation check, and a kill sequence that
// reaches the command's children too. Knows nothing about jobs, so it can be tested alone.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace factotum::shell {

inline constexpr std::size_t kTailBytes = 4096;

struct CommandSpec {
  std::vector<std::string> argv;  // argv[0] is the absolute path that is executed
  std::vector<std::pair<std::string, std::string>> env;  // set on top of the daemon's environ
  std::string cwd;                                       // empty: inherit
  std::optional<std::chrono::milliseconds> timeout;
  std::chrono::milliseconds kill_grace{5000};  // SIGTERM → SIGKILL
};

struct CommandResult {
  enum class Outcome {
    exited,        // exit_status holds the status
    signaled,      // term_signal holds the signal
    timed_out,     // the timeout passed; the process group was killed
    cancelled,     // is_cancelled() turned true; the process group was killed
    spawn_failed,  // spawn_errno holds why (nothing ran)
  };
  Outcome outcome = Outcome::exited;
  int exit_status = 0;
  int term_signal = 0;
  int spawn_errno = 0;
  std::string stdout_tail;  // the last kTailBytes of each stream
  std::string stderr_tail;
};

// Blocks the calling thread until the command is over. `is_cancelled` is polled at least
// every 100 ms. Throws std::system_error only for local failures (pipe, poll); a command
// that cannot start is Outcome::spawn_failed.
CommandResult run_command(const CommandSpec& spec, const std::function<bool()>& is_cancelled);

// "SIGTERM" for 15, "signal 99" for a number without a name.
std::string signal_name(int signal_number);

}  // namespace factotum::shell
