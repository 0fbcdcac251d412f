// Runs the real `factotum ctl` as a child process and returns what a shell would see: the
// exit status, standard output and standard error, each read from a pipe of its own.
#pragma once

#include "daemon_fixture.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern char** environ;

namespace factotum::testing {

struct CtlRun {
  int status = -1;
  std::string out;  // standard output
  std::string err;  // standard error
};

// Runs `argv` to its end (within kDeadline); `env` entries ("NAME=value") replace inherited
// ones of the same name, and a bare "NAME" removes it.
inline CtlRun run_capturing(std::vector<std::string> argv, const std::vector<std::string>& env) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view inherited(*e);
    const auto name = inherited.substr(0, inherited.find('=') + 1);
    bool replaced = false;
    for (const auto& entry : env) {
      replaced = replaced || entry.rfind(name, 0) == 0 || entry + "=" == name;
    }
    if (!replaced) env_strings.emplace_back(inherited);
  }
  for (const auto& entry : env) {
    if (entry.find('=') != std::string::npos) env_strings.push_back(entry);
  }
  std::vector<char*> args, envp;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  int out[2], err[2];
  REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
  REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  ::posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  pid_t pid = 0;
  const int spawned = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), envp.data());
  ::posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  ::close(err[1]);
  INFO("cannot start " << argv[0] << ": " << std::strerror(spawned));
  REQUIRE(spawned == 0);

  CtlRun run;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* text[2] = {&run.out, &run.err};
  const auto until = std::chrono::steady_clock::now() + kDeadline;
  int open_pipes = 2;
  while (open_pipes > 0 && std::chrono::steady_clock::now() < until) {
    if (::poll(fds, 2, 100) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[4096];
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        text[i]->append(buffer, static_cast<std::size_t>(n));
      } else {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_pipes;
      }
    }
  }
  for (const auto& fd : fds) {
    if (fd.fd >= 0) ::close(fd.fd);
  }
  if (open_pipes > 0) ::kill(pid, SIGKILL);  // past the deadline
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  INFO("stdout: " << run.out << "\nstderr: " << run.err);
  REQUIRE(open_pipes == 0);
  REQUIRE(WIFEXITED(status));
  run.status = WEXITSTATUS(status);
  return run;
}

// `factotum ctl ARGS...`; `env` entries ("NAME=value", "NAME" to unset) change the
// environment.
inline CtlRun run_ctl(std::vector<std::string> args, std::vector<std::string> env = {}) {
  args.insert(args.begin(), {FACTOTUM_BINARY_DIR "/bin/factotum", "ctl"});
  return run_capturing(std::move(args), env);
}

// The same, told the test server's URL.
inline CtlRun run_ctl(const TestServer& server, std::vector<std::string> args) {
  args.insert(args.end(), {"--url", server.url()});
  return run_ctl(std::move(args));
}

// One line on stderr, "factotum ctl: ...", containing each of `texts`.
inline void check_error_line(const CtlRun& run, std::initializer_list<std::string_view> texts) {
  INFO("stderr: " << run.err);
  CHECK(run.err.rfind("factotum ctl: ", 0) == 0);
  CHECK(count_of(run.err, "\n") == 1);
  for (const auto text : texts) CHECK(run.err.find(text) != std::string::npos);
}

}  // namespace factotum::testing
