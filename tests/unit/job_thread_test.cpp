// JobThread: the hand-over between a processor and its job thread. The processor hands over
// the next job as soon as it sees one finished; no job may be lost then. (The race this once
// had needed a preemption inside a few instructions and showed only under load: scripts/bench
// with the server and the worker pinned to one CPU each. JobThread::start now aborts on a
// hand-over to a busy thread, so such a bug cannot lose jobs silently.)
#include "worker/job_thread.hpp"
#include "plugins/plugin_host.hpp"

#include <catch2/catch.hpp>

#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

using namespace factotum;

namespace {

// Runs the calling thread (and threads it starts) on one CPU: the job thread is then often
// preempted right after marking a job finished, which is when a hand-over race shows.
struct OneCpu {
  cpu_set_t saved{};
  OneCpu() {
    ::pthread_getaffinity_np(::pthread_self(), sizeof saved, &saved);
    cpu_set_t one;
    CPU_ZERO(&one);
    for (std::size_t cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &saved)) {
        CPU_SET(cpu, &one);
        break;
      }
    }
    ::pthread_setaffinity_np(::pthread_self(), sizeof one, &one);
  }
  ~OneCpu() { ::pthread_setaffinity_np(::pthread_self(), sizeof saved, &saved); }
};

}  // namespace

TEST_CASE("a job thread runs every job handed to it, even right after it finished one") {
  OneCpu one_cpu;
  plugins::PluginHost host({});  // no plugins: every job fails fast as UnknownJobtype
  std::atomic<int> done{0};
  std::atomic<int> done_before_finished{0};
  // (No Catch assertion on the job thread: Catch2 is not thread-safe.)
  worker::JobThread thread(host, [&](std::shared_ptr<worker::RunningJob> job) {
    if (!job->finished.load()) done_before_finished.fetch_add(1);
    done.fetch_add(1);
  });

  constexpr int kJobs = 20000;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (int i = 0; i < kJobs; ++i) {
    auto job = std::make_shared<worker::RunningJob>();
    job->job.jid = "jid-" + std::to_string(i);
    job->job.jobtype = "nothing";
    thread.start(job);
    // What a processor does: hand over the next job as soon as this one reports finished.
    while (!job->finished.load(std::memory_order_acquire)) {
      if (std::chrono::steady_clock::now() > deadline) {
        FAIL("job " << i << " was handed over but never ran");
      }
      std::this_thread::yield();
    }
    REQUIRE(job->outcome.errtype == "UnknownJobtype");
  }
  while (done.load() < kJobs && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  CHECK(done.load() == kJobs);
  CHECK(done_before_finished.load() == 0);
}
