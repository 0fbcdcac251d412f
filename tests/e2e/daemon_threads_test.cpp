// The daemon's threads as the operating system sees them: one per processor, named, under the
// configured CPU scheduling policy (worker.cpu_scheduling).
#include "daemon_fixture.hpp"

#include <sched.h>

#include <csignal>
#include <map>

using namespace factotum;
using namespace factotum::testing;

namespace {

// Thread name → scheduling policy, from /proc/PID/task/*/stat (field 41, "policy").
std::multimap<std::string, int> thread_policies(int pid) {
  std::multimap<std::string, int> out;
  for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    std::ifstream stat(task.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto open = text.find('(');
    const auto close = text.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    const std::string name = text.substr(open + 1, close - open - 1);
    std::istringstream rest(text.substr(close + 2));
    std::string field;
    for (int i = 3; i <= 41 && rest >> field; ++i) {
      if (i == 41) out.emplace(name, std::stoi(field));
    }
  }
  return out;
}

std::size_t processors_with(const std::multimap<std::string, int>& threads, int policy) {
  std::size_t n = 0;
  for (const auto& [name, p] : threads) n += name.rfind("factotum-p", 0) == 0 && p == policy;
  return n;
}

}  // namespace

TEST_CASE("processor threads run as SCHED_BATCH by default, SCHED_OTHER with normal") {
  TestServer server(quick_server_options());
  for (const bool batch : {true, false}) {
    INFO((batch ? "default" : "cpu_scheduling: normal"));
    Daemon::Settings settings;
    settings.concurrency = 3;
    if (!batch) settings.worker_extra = "  cpu_scheduling: normal\n";
    Daemon daemon(server, settings);
    daemon.start();
    // Every processor has sent its FETCH: its thread runs and has set its policy.
    REQUIRE(server.wait_for(
        [&](const TestServer::Stats&) {
          return connections_of(server, daemon.wid(), "FETCH").size() == 3;
        },
        kDeadline));
    const auto threads = thread_policies(daemon.worker_pid());
    CHECK(processors_with(threads, batch ? SCHED_BATCH : SCHED_OTHER) == 3);
    // The control thread (the process's own name) stays SCHED_OTHER: signals, heartbeats and
    // deadlines are never delayed behind a busy CPU.
    const auto control = threads.find("factotum-worker");
    REQUIRE(control != threads.end());
    CHECK(control->second == SCHED_OTHER);
    daemon.process().signal(SIGTERM);
    CHECK(daemon.process().wait_exit(kDeadline) == 0);
  }
}
