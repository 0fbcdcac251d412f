// What the reliability runs share: the factotum binary started as a child process (with its
// supervisor, as a service runs it) against a server reached through the fault proxy, and a
// sample of its processes' memory and file descriptors.
#pragma once

#include "child_process.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace factotum::testing {

struct DaemonOptions {
  std::string url;  // the proxy's
  unsigned concurrency = 4;
  std::string queues = "[default, followup]";
  std::string timeout = "1s";  // faktory.timeout: how soon a black hole is noticed
  std::string log_level = "info";
};

// Writes DIR/factotum.yaml and starts factotum on it; waits for "worker started". Throws
// std::runtime_error (with the daemon's output) when it does not start.
std::unique_ptr<ChildProcess> start_daemon(const std::filesystem::path& dir,
                                           const DaemonOptions& options);

// The worker process: the supervisor's one child (0 when there is none right now).
pid_t worker_of(pid_t supervisor);

struct ProcessSample {
  std::uint64_t rss_kb = 0;
  std::uint64_t fds = 0;
};
// Resident memory (VmRSS) and open file descriptors of `pid`; zeros when it is gone.
ProcessSample sample_process(pid_t pid);

// Polls `condition` every 10 ms until it holds or `deadline` passes.
template <class Condition>
bool wait_until(Condition condition, std::chrono::milliseconds deadline);

}  // namespace factotum::testing

#include <thread>

template <class Condition>
bool factotum::testing::wait_until(Condition condition, std::chrono::milliseconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // a polled condition
  }
  return true;
}
