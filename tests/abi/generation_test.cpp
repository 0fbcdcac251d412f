// Plugin generations (DESIGN.md §4.7): a changed file loads beside the old one; jobs already
// running finish on the old code, new jobs run the new code, and the old generation is shut
// down after its last job. Synchronised with the log collector's condition variable and the
// job's cancellation flag, never with sleeps.
#include "abi_test_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <condition_variable>
#include <future>
#include <mutex>
#include <set>
#include <thread>

using namespace factotum;
using namespace factotum::abi_test;

namespace {

std::size_t count_of(const std::vector<LogLine>& lines, std::string_view message) {
  return static_cast<std::size_t>(std::count_if(
      lines.begin(), lines.end(), [&](const LogLine& line) { return line.message == message; }));
}

// The messages of the shutdown lines, in the order they were logged.
std::vector<std::string> shutdowns(const std::vector<LogLine>& lines) {
  std::vector<std::string> out;
  for (const auto& line : lines) {
    if (line.message.ends_with(" shutdown")) out.push_back(line.message);
  }
  return out;
}

// The kernel's ids of this process's threads.
std::set<std::string> thread_ids() {
  std::set<std::string> ids;
  for (const auto& entry : fs::directory_iterator("/proc/self/task")) {
    ids.insert(entry.path().filename().string());
  }
  return ids;
}

std::size_t threads_started_since(const std::set<std::string>& before) {
  const auto now = thread_ids();
  return static_cast<std::size_t>(
      std::count_if(now.begin(), now.end(), [&](const auto& id) { return !before.contains(id); }));
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
  REQUIRE(log.wait_for("v1 shutdown"));  // on the retirement thread, soon after the job
  const auto finished = log.index_of("v1 finished", "old");
  const auto shutdown = log.index_of("v1 shutdown");
  CHECK(shutdown > finished);
  CHECK(log.count("v1 shutdown") == 1);
  CHECK(log.index_of("v2 shutdown") == -1);

  host.reset();  // the live generation is shut down with the host
  CHECK(log.count("v2 shutdown") == 1);
  CHECK(log.count("v1 shutdown") == 1);
}

TEST_CASE(
    "a job runs on the generation it was resolved to when it started, though a reload then "
    "replaced or removed it",
    "[abi][generation]") {
  TempDir dir;
  const auto file = install("gen_v1", dir.path(), "gen.so");
  LogCollector log;
  plugins::PluginHost host(log.services());
  REQUIRE(host.load_directories({dir.path()}, options()).ok());
  const bool removed = GENERATE(true, false);
  const TestJob job("Gen", "started");
  {
    // The worker resolves a job's handler when it logs "job started", before it enters the
    // job function: a reload may come in between.
    const plugins::ResolvedJob resolved = host.resolve(job.jobtype);
    CHECK(resolved.plugin() == "gen");

    if (removed) {
      fs::remove(file);
    } else {
      replace("gen_v2", dir.path(), "gen.so");
    }
    const auto report = host.reload({dir.path()}, options());
    REQUIRE(report.ok());
    REQUIRE(report.changes.size() == 1);
    CHECK(host.plugin_for("Gen") == (removed ? std::nullopt : std::optional<std::string>("gen")));
    CHECK(log.index_of("v1 shutdown") == -1);  // `resolved` holds it

    const auto outcome = host.run(resolved, job.input());
    CHECK(outcome.succeeded());
    CHECK(outcome.plugin == "gen");
    CHECK(log.messages_for("started") == std::vector<std::string>{"v1 ran"});
  }
  // Once let go of, the retired generation is shut down; a job resolved now sees the reload.
  REQUIRE(log.wait_for("v1 shutdown"));
  const auto next = host.run(TestJob("Gen", "next").input());
  if (removed) {
    CHECK(next.errtype == "UnknownJobtype");
    CHECK(log.messages_for("next").empty());
  } else {
    CHECK(next.succeeded());
    CHECK(log.messages_for("next") == std::vector<std::string>{"v2 ran"});
  }
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
  CHECK(log.wait_until([](const std::vector<LogLine>& lines) {
    return count_of(lines, "v1 shutdown") + count_of(lines, "v2 shutdown") == swaps;
  }));
  CHECK(log.count("v1 shutdown") + log.count("v2 shutdown") == swaps);
  host.reset();
  CHECK(log.count("v1 shutdown") + log.count("v2 shutdown") == swaps + 1);
}

TEST_CASE("a replaced generation is shut down once, after its last job, on the retirement thread",
          "[abi][generation]") {
  TempDir dir;
  install("gen_v1", dir.path(), "gen.so");
  LogCollector log;
  auto host = std::make_unique<plugins::PluginHost>(log.services());
  REQUIRE(host->load_directories({dir.path()}, options()).ok());

  TestJob old_job("Gen", "old");
  old_job.args_json = R"(["wait"])";
  BackgroundJob job(*host, old_job);  // thread J
  REQUIRE(log.wait_for("v1 waiting"));

  const std::thread::id reloading_thread = std::this_thread::get_id();
  replace("gen_v2", dir.path(), "gen.so");
  REQUIRE(host->reload({dir.path()}, options()).loaded.size() == 1);
  CHECK(log.index_of("v1 shutdown") == -1);  // its job still runs

  CHECK(job.finish().succeeded());
  REQUIRE(log.wait_for("v1 shutdown"));
  const auto lines = log.lines();
  const auto finished = log.index_of("v1 finished", "old");
  const auto shutdown = log.index_of("v1 shutdown");
  REQUIRE(finished >= 0);
  CHECK(lines[static_cast<std::size_t>(finished)].thread == job.thread_id());  // J ran the job
  CHECK(shutdown > finished);
  const LogLine& line = lines[static_cast<std::size_t>(shutdown)];
  CHECK(line.thread != job.thread_id());
  CHECK(line.thread != reloading_thread);
  CHECK(line.jid.empty());

  host.reset();
  CHECK(log.count("v1 shutdown") == 1);
  CHECK(log.count("v2 shutdown") == 1);
  const auto v2 = log.index_of("v2 shutdown");
  CHECK(log.lines()[static_cast<std::size_t>(v2)].thread != reloading_thread);
}

TEST_CASE(
    "destroying the host runs every remaining shutdown, in retirement order, before it "
    "returns",
    "[abi][generation]") {
  TempDir dir;
  install("gen_v1", dir.path(), "gen.so");
  LogCollector log;
  // The first "v1 shutdown" line holds its shutdown until the test releases it, so the host is
  // destroyed while one shutdown runs and another waits in the queue.
  std::mutex mutex;
  std::condition_variable changed;
  bool holding = false;
  bool release = false;
  std::atomic<bool> host_destroyed{false};
  bool destroyed_while_held = false;
  auto services = log.services();
  services.log = [&, record = services.log](int level, std::string_view plugin,
                                            std::string_view jid, std::string_view message) {
    record(level, plugin, jid, message);
    if (message != "v1 shutdown") return;
    std::unique_lock lock(mutex);
    if (holding) return;  // the second v1's, when the host goes
    holding = true;
    changed.notify_all();
    changed.wait_for(lock, std::chrono::seconds(60), [&] { return release; });
    destroyed_while_held = host_destroyed.load();
  };
  auto host = std::make_unique<plugins::PluginHost>(services);
  REQUIRE(host->load_directories({dir.path()}, options()).ok());

  replace("gen_v2", dir.path(), "gen.so");
  REQUIRE(host->reload({dir.path()}, options()).loaded.size() == 1);  // retires v1: held
  {
    std::unique_lock lock(mutex);
    REQUIRE(changed.wait_for(lock, std::chrono::seconds(60), [&] { return holding; }));
  }
  replace("gen_v1", dir.path(), "gen.so");
  REQUIRE(host->reload({dir.path()}, options()).loaded.size() == 1);  // retires v2: queued

  std::thread destroyer([&] {
    host.reset();
    host_destroyed = true;
  });
  const std::thread::id destroying_thread = destroyer.get_id();
  {
    std::lock_guard lock(mutex);
    release = true;
  }
  changed.notify_all();
  destroyer.join();

  CHECK_FALSE(destroyed_while_held);
  const auto lines = log.lines();
  // All three before the destructor returned: v1 and v2 as retired, then the live v1.
  CHECK(shutdowns(lines) == std::vector<std::string>{"v1 shutdown", "v2 shutdown", "v1 shutdown"});
  for (const auto& line : lines) {
    if (!line.message.ends_with(" shutdown")) continue;
    CHECK(line.thread != destroying_thread);
    CHECK(line.thread != std::this_thread::get_id());
  }
}

TEST_CASE("an idle host has no retirement thread, and the first retirement starts the one it keeps",
          "[abi][generation]") {
  // A sanitizer runtime may start a helper thread along with the process's first thread: let
  // that happen before counting.
  std::thread([] {}).join();
  const auto before = thread_ids();

  TempDir dir;
  install("gen_v1", dir.path(), "gen.so");
  LogCollector log;
  auto host = std::make_unique<plugins::PluginHost>(log.services());
  REQUIRE(host->load_directories({dir.path()}, options()).ok());
  CHECK(host->run(TestJob("Gen").input()).succeeded());
  CHECK(threads_started_since(before) == 0);

  replace("gen_v2", dir.path(), "gen.so");
  REQUIRE(host->reload({dir.path()}, options()).loaded.size() == 1);
  REQUIRE(log.wait_for("v1 shutdown"));
  CHECK(threads_started_since(before) == 1);

  replace("gen_v1", dir.path(), "gen.so");
  REQUIRE(host->reload({dir.path()}, options()).loaded.size() == 1);
  REQUIRE(log.wait_for("v2 shutdown"));
  CHECK(threads_started_since(before) == 1);
  const auto lines = log.lines();
  CHECK(lines[static_cast<std::size_t>(log.index_of("v1 shutdown"))].thread ==
        lines[static_cast<std::size_t>(log.index_of("v2 shutdown"))].thread);
  host.reset();
}
