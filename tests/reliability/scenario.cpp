#include "scenario.hpp"

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string_view>

namespace factotum::testing {

namespace fs = std::filesystem;

std::unique_ptr<ChildProcess> start_daemon(const fs::path& dir, const DaemonOptions& options) {
  const fs::path config = dir / "factotum.yaml";
  {
    std::ofstream out(config);
    out << "faktory:\n  url: " << options.url << "\n  timeout: " << options.timeout << "\n"
        << "worker:\n  concurrency: " << options.concurrency << "\n"
        << "  queues: " << options.queues << "\n"
        << "  shutdown_timeout: 20s\n"
        << "  heartbeat_interval: 5s\n"
        << "plugins:\n  directories: [" FACTOTUM_BINARY_DIR "/tests/e2e-plugins]\n"
        << "logging:\n  level: " << options.log_level << "\n";
  }
  auto daemon = std::make_unique<ChildProcess>(
      std::vector<std::string>{FACTOTUM_BINARY_DIR "/bin/factotum", "--config", config.string()});
  const auto started = daemon->wait_for_line(
      [](const std::string& line) { return line.find("worker started") != std::string::npos; },
      std::chrono::seconds(60));
  if (!started) throw std::runtime_error("factotum did not start:\n" + daemon->output());
  return daemon;
}

pid_t worker_of(pid_t supervisor) {
  std::ifstream in("/proc/" + std::to_string(supervisor) + "/task/" + std::to_string(supervisor) +
                   "/children");
  pid_t child = 0;
  in >> child;
  return child;
}

ProcessSample sample_process(pid_t pid) {
  ProcessSample sample;
  const fs::path proc = "/proc/" + std::to_string(pid);
  std::ifstream status(proc / "status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("VmRSS:")) sample.rss_kb = std::stoull(line.substr(6));
  }
  std::error_code ec;
  for (fs::directory_iterator it(proc / "fd", ec), end; !ec && it != end; it.increment(ec)) {
    ++sample.fds;
  }
  return sample;
}

}  // namespace factotum::testing
