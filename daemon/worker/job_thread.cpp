#include "worker/job_thread.hpp"

#include "plugins/plugin_host.hpp"
#include "service/log.hpp"

#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>

namespace factotum::worker {

namespace {

// A bare futex rather than std::atomic::wait: libstdc++ spins and calls sched_yield before
// sleeping, which on a busy machine costs more than the sleep it tries to avoid (a job
// thread waits for the next job for a whole FETCH round trip anyway).
std::uint32_t* futex_word(std::atomic<std::uint32_t>& word) {
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
  return reinterpret_cast<std::uint32_t*>(&word);
}

void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t while_value) {
  ::syscall(SYS_futex, futex_word(word), FUTEX_WAIT_PRIVATE, while_value, nullptr, nullptr, 0);
}

void futex_wake(std::atomic<std::uint32_t>& word) {
  ::syscall(SYS_futex, futex_word(word), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

}  // namespace

JobThread::JobThread(plugins::PluginHost& host,
                     std::function<void(std::shared_ptr<RunningJob>)> done)
    : host_(host), done_(std::move(done)), thread_([this] { loop(); }) {}

JobThread::~JobThread() {
  if (state_.exchange(kQuit, std::memory_order_acq_rel) == kWork) {
    // A job handed over but not yet taken would vanish: stop loudly instead (as start()).
    service::Log::error("internal error: a job thread was ended with a job not yet started");
    std::abort();
  }
  futex_wake(state_);
  thread_.join();
}

void JobThread::start(std::shared_ptr<RunningJob> job) {
  job_ = std::move(job);
  if (state_.exchange(kWork, std::memory_order_acq_rel) != kIdle) {
    // A job handed to a busy thread would be lost without a trace: stop loudly instead.
    service::Log::error("internal error: a job was handed to a job thread that is not idle");
    std::abort();
  }
  futex_wake(state_);
}

void JobThread::loop() {
  // Shown by top -H and in core dumps, so a stuck job thread is easy to tell apart.
  ::pthread_setname_np(::pthread_self(), "factotum-job");
  for (;;) {
    std::uint32_t state = state_.load(std::memory_order_acquire);
    while (state == kIdle) {
      futex_wait(state_, kIdle);  // returns at once if the word is no longer kIdle
      state = state_.load(std::memory_order_acquire);
    }
    if (state == kQuit) return;
    auto job = std::move(job_);
    job->outcome = host_.run(job->input());
    // Idle before the job reads as finished: the processor hands over the next job as soon
    // as it sees `finished`, and that hand-over must not be overwritten here. A kQuit that
    // came meanwhile stays.
    std::uint32_t expected = kWork;
    state_.compare_exchange_strong(expected, kIdle, std::memory_order_acq_rel);
    job->finished.store(true, std::memory_order_release);
    done_(std::move(job));
  }
}

}  // namespace factotum::worker
