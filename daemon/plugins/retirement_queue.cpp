#include "plugins/retirement_queue.hpp"

#include "plugins/generation.hpp"

#include <cstdio>
#include <exception>
#include <utility>

namespace factotum::plugins {

RetirementQueue::RetirementQueue() = default;

RetirementQueue::~RetirementQueue() {
  drain();
}

void RetirementQueue::retire(std::unique_ptr<Generation> generation) noexcept {
  std::deque<std::unique_ptr<Generation>> stranded;
  {
    std::lock_guard lock(mutex_);
    try {
      queue_.push_back(std::move(generation));  // strong guarantee: on failure we still own it
      if (!running_) {
        // A thread that ran out of work after drain() has returned from run() (it cleared
        // running_ under this mutex and touches nothing afterwards): join it, start another.
        if (thread_.joinable()) thread_.join();
        thread_ = std::thread([this] { run(); });
        running_ = true;
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr,
                   "factotum: cannot hand a retired plugin generation to the retirement thread "
                   "(%s); shutting it down on this thread\n",
                   e.what());
      // No thread will take what is queued: end it all here, outside the lock.
      stranded.swap(queue_);
    }
  }
  wake_.notify_one();
  while (!stranded.empty()) stranded.pop_front();  // in retirement order
  // `generation` still owns the generation only if it could not be queued: destroyed here too.
}

void RetirementQueue::drain() noexcept {
  std::thread thread;
  {
    std::lock_guard lock(mutex_);
    draining_ = true;
    thread = std::move(thread_);
  }
  wake_.notify_all();
  if (!thread.joinable()) return;
  try {
    // The retirement thread never drops the last reference to its queue (it holds none), so
    // this is not expected; joining itself would throw.
    if (thread.get_id() == std::this_thread::get_id()) {
      thread.detach();
    } else {
      thread.join();
    }
  } catch (const std::exception&) {
    // join() only throws for a thread that cannot be joined, which was checked above.
  }
}

void RetirementQueue::run() noexcept {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return !queue_.empty() || draining_; });
    if (queue_.empty()) {
      running_ = false;  // drain(): nothing left; a later retire() starts a new thread
      return;
    }
    std::unique_ptr<Generation> generation = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    generation.reset();  // ~Generation: the plugin's shutdown, then its destroy callbacks
    lock.lock();
  }
}

std::shared_ptr<Generation> share_until_retired(std::unique_ptr<Generation> generation,
                                                std::shared_ptr<RetirementQueue> queue) {
  // If the control block cannot be allocated, shared_ptr hands the pointer to the deleter,
  // which retires it: nothing leaks and nothing is shut down twice.
  return {generation.release(), [queue = std::move(queue)](Generation* retired) noexcept {
            queue->retire(std::unique_ptr<Generation>(retired));
          }};
}

}  // namespace factotum::plugins
