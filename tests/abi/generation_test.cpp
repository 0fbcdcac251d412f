// Plugin generations (DESIGN.md §4.7): a changed file loads beside the old one; jobs already
// running finish on the old code, new jobs run the new code, and the old generation is shut
// down after its last job. Synchronised with the log collector's condition variable and the
// job's cancellation flag, never with sleeps.
#include "abi_test_support.hpp"

#include <catch2/catch.hpp>

#include <future>
#include <thread>

using namespace factotum;
using namespace factotum::abi_test;

namespace {

std::uint64_t generation_of(const plugins::PluginHost& host, std::string_view jobtype) {
  for (const auto& info : host.jobtypes()) {
    if (info.name == jobtype) return info.generation;
  }
  return 0;
}

}  // namespace

TEST_CASE("a changed plugin loads as a new generation while the old one finishes its job",
          "[abi][generation]") {
  TempDir dir;
  const auto file = install("gen_v1", dir.path(), "gen.so");
  LogCollector log;
  auto host = std::make_unique<plugins::PluginHost>(log.services());
  REQUIRE(host->load_directories({dir.path()}, options()).ok());
  const auto first = generation_of(*host, "Gen");
  REQUIRE(first != 0);

  TestJob old_job("Gen", "old");
  old_job.args_json = R"(["wait"])";
  auto old_outcome = std::async(std::launch::async, [&] { return host->run(old_job.input()); });
  REQUIRE(log.wait_for("v1 waiting"));

  // Overwrite the file in place: the mapped code is a private staged copy, so this is safe.
  // The inode stays and v1/v2 may have the same size, so make sure the mtime moves even on
  // a file system with coarse timestamps.
  const auto v1_mtime = fs::last_write_time(file);
  install("gen_v2", dir.path(), "gen.so");
  fs::last_write_time(file, v1_mtime + std::chrono::seconds(2));
  const auto report = host->reload({dir.path()}, options());
  REQUIRE(report.ok());
  REQUIRE(report.loaded.size() == 1);
  CHECK(report.loaded.front() == "gen 2.0.0 (" + file.string() + ")");
  CHECK(generation_of(*host, "Gen") > first);

  const auto fresh = host->run(TestJob("Gen", "new").input());
  CHECK(fresh.succeeded());
  CHECK(log.messages_for("new") == std::vector<std::string>{"v2 ran"});
  CHECK(log.index_of("v1 shutdown") == -1);  // v1 still has a job in flight

  old_job.cancelled = true;  // releases the old job
  CHECK(old_outcome.get().succeeded());
  CHECK(log.messages_for("old") == std::vector<std::string>{"v1 ran", "v1 waiting", "v1 finished"});
  const auto finished = log.index_of("v1 finished", "old");
  const auto shutdown = log.index_of("v1 shutdown");
  CHECK(shutdown > finished);
  CHECK(log.count("v1 shutdown") == 1);
  CHECK(log.index_of("v2 shutdown") == -1);

  host.reset();  // the live generation is shut down with the host
  CHECK(log.count("v2 shutdown") == 1);
  CHECK(log.count("v1 shutdown") == 1);
}

TEST_CASE("reload leaves unchanged plugins alone and drops removed ones", "[abi][generation]") {
  TempDir dir;
  install("good_c", dir.path());
  const auto cpp = install("cpp_jobs", dir.path());
  LogCollector log;
  plugins::PluginHost host(log.services());
  REQUIRE(host.load_directories({dir.path()}, options()).ok());
  const auto good_generation = generation_of(host, "CEcho");

  auto report = host.reload({dir.path()}, options());
  CHECK(report.ok());
  CHECK(report.loaded.empty());
  CHECK(generation_of(host, "CEcho") == good_generation);
  CHECK(log.count("init on host " FACTOTUM_HOST_VERSION_FOR_TESTS " abi 1.0") == 1);

  fs::remove(cpp);
  report = host.reload({dir.path()}, options());
  CHECK(report.ok());
  CHECK(host.run(TestJob("Succeeds").input()).errtype == "UnknownJobtype");
  CHECK(generation_of(host, "CEcho") == good_generation);
  CHECK(log.count("good_c shutdown") == 0);
}

TEST_CASE("a changed plugin that fails to load leaves the old generation in service",
          "[abi][generation]") {
  TempDir dir;
  install("gen_v1", dir.path(), "gen.so");
  LogCollector log;
  plugins::PluginHost host(log.services());
  REQUIRE(host.load_directories({dir.path()}, options()).ok());
  replace("newer_minor", dir.path(), "gen.so");
  const auto report = host.reload({dir.path()}, options());
  REQUIRE(report.errors.size() == 1);
  CHECK(contains(report.errors.front().reason, "upgrade factotum"));
  CHECK(host.run(TestJob("Gen", "after").input()).succeeded());
  CHECK(log.messages_for("after") == std::vector<std::string>{"v1 ran"});
  CHECK(log.count("v1 shutdown") == 0);
}

TEST_CASE("jobs keep running correctly while generations are swapped repeatedly",
          "[abi][generation]") {
  TempDir dir;
  install("gen_v1", dir.path(), "gen.so");
  LogCollector log;
  auto host = std::make_unique<plugins::PluginHost>(log.services());
  REQUIRE(host->load_directories({dir.path()}, options()).ok());

  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::atomic<int> runs{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      while (!stop.load()) {
        if (!host->run(TestJob("Gen", "s" + std::to_string(t)).input()).succeeded()) ++failures;
        ++runs;
      }
    });
  }
  constexpr int swaps = 20;
  for (int i = 0; i < swaps; ++i) {
    replace(i % 2 == 0 ? "gen_v2" : "gen_v1", dir.path(), "gen.so");
    const auto report = host->reload({dir.path()}, options());
    CHECK(report.ok());
    CHECK(report.loaded.size() == 1);
  }
  stop = true;
  for (auto& thread : threads) thread.join();
  CHECK(failures == 0);
  CHECK(runs > 0);
  // Every generation but the live one was shut down exactly once, after its last job.
  CHECK(log.count("v1 init") + log.count("v2 init") == swaps + 1);
  CHECK(log.count("v1 shutdown") + log.count("v2 shutdown") == swaps);
  host.reset();
  CHECK(log.count("v1 shutdown") + log.count("v2 shutdown") == swaps + 1);
}
