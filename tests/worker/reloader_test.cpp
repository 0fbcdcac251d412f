// The Reloader's contract, on a real Worker and plugin host: reloads never overlap, requests
// made while one runs coalesce into exactly one more, and the one after reads the file as it
// is then (none is lost). The e2e tests show what a reload changes; this shows how they queue.
#include "worker_harness.hpp"

#include "config/config.hpp"
#include "reloader.hpp"
#include "test_jobs.hpp"

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <mutex>

using namespace factotum;
using namespace factotum::testing;

TEST_CASE("reloads never overlap and requests made during one coalesce into one more") {
  TestServer server(quick_server());
  auto settings = settings_for(server, 1, {"default"});
  RunningWorker running(settings);
  TempDir dir;
  const auto file = dir.path / "factotum.yaml";
  const auto write = [&](unsigned concurrency) {
    std::ofstream(file) << "faktory:\n  url: " << server.url()
                        << "\nworker:\n  concurrency: " << concurrency
                        << "\nplugins:\n  directories: [" << dir.path.string()
                        << "]\n  strict_permissions: false\n";
  };
  write(1);
  const ConfigInputs inputs{file, {}, [](const std::string&) { return std::nullopt; }};
  auto config = config::load_config(inputs.file, inputs.overrides, inputs.env);

  std::mutex mutex;
  std::condition_variable changed;
  bool release_first = false;
  int started = 0;
  int finished = 0;
  int ok = 0;
  std::atomic<int> running_now{0};
  std::atomic<int> most_at_once{0};
  Reloader::Hooks hooks;
  hooks.started = [&](bool) {
    most_at_once = std::max(most_at_once.load(), ++running_now);
    std::unique_lock lock(mutex);
    ++started;
    changed.notify_all();
    // The first reload waits for the test: requests pile up meanwhile.
    if (started == 1) changed.wait(lock, [&] { return release_first; });
  };
  hooks.finished = [&](bool, bool succeeded) {
    --running_now;
    std::lock_guard lock(mutex);
    ++finished;
    ok += succeeded ? 1 : 0;
    changed.notify_all();
  };
  std::optional<unsigned> applied_concurrency;
  hooks.applied = [&](const config::Config& applied) {
    std::lock_guard lock(mutex);
    applied_concurrency = applied.worker.concurrency;
  };
  {
    Reloader reloader(inputs, config, settings, running.host(), running.worker(), hooks);
    reloader.request();
    {
      std::unique_lock lock(mutex);
      REQUIRE(changed.wait_for(lock, kDeadline, [&] { return started == 1; }));
    }
    CHECK(reloader.busy());
    // Five more requests while the first is held, the file changing before each.
    for (unsigned i = 2; i <= 6; ++i) {
      write(i);
      reloader.request();
    }
    {
      std::lock_guard lock(mutex);
      release_first = true;
    }
    changed.notify_all();
    std::unique_lock lock(mutex);
    REQUIRE(changed.wait_for(lock, kDeadline, [&] { return finished == 2; }));
    // What was applied last is the file as last written (a reload reads the file when it
    // runs, so the queued one covers every request made before it started).
    CHECK(applied_concurrency == 6u);
    lock.unlock();
    reloader.close();
  }  // joins the reload thread
  CHECK(started == 2);
  CHECK(finished == 2);
  CHECK(ok == 2);
  CHECK(most_at_once == 1);
}
