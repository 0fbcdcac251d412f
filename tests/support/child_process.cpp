#include "child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <utility>

extern char** environ;

namespace factotum::testing {

namespace {

using Clock = std::chrono::steady_clock;

std::string errno_text() {
  return std::strerror(errno);
}

}  // namespace

ChildProcess::ChildProcess(std::vector<std::string> argv, std::vector<std::string> env,
                           Stderr stderr_mode) {
  int out[2];
  int err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe: " + errno_text());
  }
  if (stderr_mode == Stderr::journal) {
    // What systemd sets for a service whose stderr is the journal: the device and inode of
    // that stream, so the service can tell it from a stderr redirected elsewhere.
    struct stat st {};
    if (::fstat(err[1], &st) != 0) throw std::runtime_error("fstat: " + errno_text());
    env.push_back("JOURNAL_STREAM=" + std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);

  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  std::vector<std::string> env_strings;
  // An entry of `env` replaces an inherited one of the same name (getenv would find the
  // inherited one first).
  const auto overridden = [&](std::string_view inherited) {
    const auto eq = inherited.find('=');
    if (eq == std::string_view::npos) return false;
    const auto name = inherited.substr(0, eq + 1);
    for (const auto& e : env) {
      if (std::string_view(e).substr(0, name.size()) == name) return true;
    }
    return false;
  };
  for (char** e = environ; *e != nullptr; ++e) {
    if (!overridden(*e)) env_strings.emplace_back(*e);
  }
  for (auto& e : env) env_strings.push_back(e);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  const int rc = ::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  ::close(err[1]);
  if (rc != 0) {
    ::close(out[0]);
    ::close(err[0]);
    throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  out_fd_ = out[0];
  err_fd_ = err[0];
}

ChildProcess::~ChildProcess() {
  if (!exit_code_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (out_fd_ >= 0) ::close(out_fd_);
  if (err_fd_ >= 0) ::close(err_fd_);
}

void ChildProcess::signal(int signo) const {
  if (!exit_code_) ::kill(pid_, signo);
}

bool ChildProcess::pump(std::chrono::milliseconds timeout) {
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  if (out_fd_ < 0 && err_fd_ < 0) return false;
  const int n = ::poll(fds, 2, static_cast<int>(timeout.count()));
  if (n <= 0) return true;
  auto drain = [&](int& fd, std::string& partial, std::string* only, short revents) {
    if (fd < 0 || (revents & (POLLIN | POLLHUP | POLLERR)) == 0) return;
    char buf[4096];
    const ssize_t got = ::read(fd, buf, sizeof buf);
    if (got <= 0) {
      if (!partial.empty()) lines_.push_back(std::exchange(partial, {}));
      ::close(fd);
      fd = -1;
      return;
    }
    all_.append(buf, static_cast<std::size_t>(got));
    if (only != nullptr) only->append(buf, static_cast<std::size_t>(got));
    partial.append(buf, static_cast<std::size_t>(got));
    std::size_t nl;
    while ((nl = partial.find('\n')) != std::string::npos) {
      lines_.push_back(partial.substr(0, nl));
      partial.erase(0, nl + 1);
    }
  };
  drain(out_fd_, out_buf_, nullptr, fds[0].revents);
  drain(err_fd_, err_buf_, &err_all_, fds[1].revents);
  return out_fd_ >= 0 || err_fd_ >= 0;
}

std::optional<std::string> ChildProcess::wait_for_line(
    const std::function<bool(const std::string&)>& match, std::chrono::milliseconds deadline) {
  const auto until = Clock::now() + deadline;
  for (;;) {
    while (next_line_ < lines_.size()) {
      const auto& line = lines_[next_line_++];
      if (match(line)) return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    if (left.count() <= 0) return std::nullopt;
    if (!pump(std::min(left, std::chrono::milliseconds(100))) && next_line_ >= lines_.size()) {
      return std::nullopt;
    }
  }
}

std::optional<int> ChildProcess::wait_exit(std::chrono::milliseconds deadline) {
  const auto until = Clock::now() + deadline;
  while (!exit_code_) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (Clock::now() >= until) return std::nullopt;
    // Keep draining output so a chatty child never blocks on a full pipe.
    if (!pump(std::chrono::milliseconds(20))) {
      // Both pipes closed: the child is exiting; wait for it without polling pipes.
      ::usleep(2000);
    }
  }
  while (pump(std::chrono::milliseconds(0))) {
  }
  return exit_code_;
}

void ChildProcess::drain_output() {
  auto before = all_.size();
  while (pump(std::chrono::milliseconds(0)) && all_.size() != before) before = all_.size();
}

std::string ChildProcess::output() const {
  return all_;
}

}  // namespace factotum::testing
