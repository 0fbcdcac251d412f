// Runs another program as a child process for end-to-end tests: arguments as argv (no shell),
// stdout/stderr captured line by line, signals, and waiting with a deadline. Tests wait on
// conditions (a line appearing, the child exiting), never on sleeps.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace factotum::testing {

class ChildProcess {
 public:
  // `journal`: the child is told its stderr is the systemd journal, as systemd does for a
  // service (JOURNAL_STREAM=<dev>:<ino> of the stderr pipe), without involving journald.
  enum class Stderr { pipe, journal };

  // Starts `argv[0]` with the arguments; throws std::runtime_error when it cannot start.
  // `env` entries ("NAME=value") are added to the current environment, replacing inherited
  // ones of the same name.
  explicit ChildProcess(std::vector<std::string> argv, std::vector<std::string> env = {},
                        Stderr stderr_mode = Stderr::pipe);
  ~ChildProcess();  // SIGKILLs and reaps a child that is still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  int pid() const noexcept { return pid_; }
  void signal(int signo) const;

  // Waits until a line the child wrote (stdout or stderr) satisfies `match`; returns it, or
  // std::nullopt when the deadline passes or the child closes its output first. Each line is
  // offered once: the next call continues after it.
  std::optional<std::string> wait_for_line(const std::function<bool(const std::string&)>& match,
                                           std::chrono::milliseconds deadline);

  // Waits for the child to exit; returns its exit code (128 + signal when killed), or
  // std::nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds deadline);

  // Everything read so far from stdout and stderr.
  std::string output() const;
  // Everything read so far from stderr alone.
  std::string error_output() const { return err_all_; }
  // Reads whatever output is available now, without waiting.
  void poll_output() { pump(std::chrono::milliseconds(0)); }
  // Reads all the output available now (a running child may write more later).
  void drain_output();

 private:
  bool pump(std::chrono::milliseconds timeout);  // reads what is available; false when both closed
  int pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::optional<int> exit_code_;
  std::string out_buf_, err_buf_;
  std::vector<std::string> lines_;
  std::size_t next_line_ = 0;
  std::string all_;
  std::string err_all_;
};

}  // namespace factotum::testing
