// The worker's shared state, without a network: the job slot that decides who reports a job,
// the deadline watch's wake-up rule, the settings snapshot, the job deadline arithmetic.
#include "worker/deadline_watch.hpp"
#include "worker/job_deadline.hpp"
#include "worker/job_slot.hpp"
#include "worker/settings_store.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using namespace factotum::worker;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST_CASE("a job slot lets exactly one side report a job") {
  JobSlot slot;
  const auto t0 = Clock::now();
  REQUIRE(slot.begin("jid-1", "T", t0, t0 + 1s, t0 + 60s));
  CHECK_FALSE(slot.cancelled_flag()->load());
  CHECK_FALSE(slot.take_over_if_due(t0 + 500ms));  // not due yet
  auto taken = slot.take_over_if_due(t0 + 1s);
  REQUIRE(taken);
  CHECK(taken->jid == "jid-1");
  CHECK(slot.cancelled_flag()->load());  // the job is told to stop
  CHECK(slot.busy_with_taken_job());
  CHECK_FALSE(slot.take_over_if_due(t0 + 2s));  // taken once
  CHECK_FALSE(slot.end());                      // the processor drops the result
  CHECK_FALSE(slot.current());

  // The next job starts clean and, finished in time, is the processor's to report.
  REQUIRE(slot.begin("jid-2", "T", t0, t0 + 1s, t0 + 60s));
  CHECK_FALSE(slot.cancelled_flag()->load());
  CHECK(slot.end());
}

TEST_CASE("shutdown closes a slot: its job is taken over and no job may begin after") {
  JobSlot slot;
  const auto t0 = Clock::now();
  REQUIRE(slot.begin("jid-1", "T", t0, t0 + 1h, t0 + 2h));
  auto taken = slot.close_for_shutdown();
  REQUIRE(taken);
  CHECK(taken->jid == "jid-1");
  CHECK_FALSE(slot.end());
  CHECK_FALSE(slot.begin("jid-2", "T", t0, t0 + 1h, t0 + 2h));
  CHECK_FALSE(slot.close_for_shutdown());  // an idle slot has nothing to take over
}

TEST_CASE("the deadline watch wakes the control thread only for an earlier deadline") {
  boost::asio::io_context io;
  int scans = 0;
  DeadlineWatch watch(io, [&](Clock::time_point now) {
    ++scans;
    return now + 1h;  // the next look is an hour away
  });
  watch.scan_now();
  REQUIRE(scans == 1);
  watch.job_started(Clock::now() + 2h);  // later than the armed look: no wake-up
  CHECK(io.poll() == 0);
  CHECK(scans == 1);
  watch.job_started(Clock::now() + 10ms);  // earlier: the control thread scans again
  io.poll();
  CHECK(scans == 2);
  watch.stop();
}

TEST_CASE("a settings snapshot is picked up once, when a newer one was published") {
  auto first = std::make_shared<WorkerSettings>();
  first->concurrency = 2;
  SettingsStore store(first);
  std::shared_ptr<const WorkerSettings> held;
  std::uint64_t version = 0;
  CHECK(store.refresh(held, version));
  CHECK(held->concurrency == 2);
  CHECK_FALSE(store.refresh(held, version));
  auto second = std::make_shared<WorkerSettings>(*first);
  second->concurrency = 5;
  store.publish(second);
  CHECK(store.refresh(held, version));
  CHECK(held->concurrency == 5);
  CHECK(held->connection == first->connection);  // unchanged connection settings, same object
  CHECK_FALSE(store.refresh(held, version));
}

TEST_CASE("a job's deadline is its jobtype's timeout, and a margin before its reservation ends") {
  WorkerSettings settings;
  settings.jobtype_timeouts.emplace("quick", 2s);
  const auto t0 = Clock::now();
  CHECK(deadline_for(settings, "quick", t0, t0 + 1800s) == t0 + 2s);
  CHECK(deadline_for(settings, "other", t0, t0 + 1800s) == t0 + 1790s);
  CHECK(deadline_for(settings, "other", t0, t0 + 60s) == t0 + 50s);
  // The shortest any job can get: no deadline can come sooner after a job's start.
  CHECK(shortest_budget(settings) == 2s);
  settings.jobtype_timeouts.clear();
  CHECK(shortest_budget(settings) == 50s);

  factotum::faktory::Job job;
  CHECK(reservation_of(job) == 1800s);  // absent: the server's default
  job.reserve_for = 10;
  CHECK(reservation_of(job) == 60s);  // raised by the server
  job.reserve_for = 600;
  CHECK(reservation_of(job) == 600s);
}

TEST_CASE("under contention, every job in a slot is reported exactly once") {
  // A processor running jobs back to back against a control thread taking over whatever is
  // due: each job ends reported by exactly one of them (run it under the tsan preset too).
  JobSlot slot;
  constexpr int kJobs = 20000;
  std::atomic<bool> done{false};
  std::atomic<int> taken{0};
  std::thread control([&] {
    while (!done.load()) {
      // Half the jobs are due at once; the other half never are.
      if (slot.take_over_if_due(Clock::now())) taken.fetch_add(1);
    }
  });
  int reported_by_processor = 0;
  int begun = 0;
  const auto t0 = Clock::now();
  for (int i = 0; i < kJobs; ++i) {
    const auto deadline = i % 2 ? t0 : t0 + 1h;
    if (!slot.begin("jid", "T", t0, deadline, t0 + 2h)) break;
    ++begun;
    if (slot.end()) ++reported_by_processor;
  }
  done.store(true);
  control.join();
  CHECK(begun == kJobs);
  CHECK(reported_by_processor + taken.load() == kJobs);
  CHECK(taken.load() <= kJobs / 2);  // only a due job is ever taken
}
