// Where retired plugin generations end (DESIGN.md §4.7): one thread that runs each retired
// generation's destructor (the plugin's shutdown, then its destroy callbacks) in the order the
// generations were retired.
//
// A generation is retired by whichever thread drops its last reference: the processor thread
// that finished the generation's last job (inside PluginHost::run), or the loading thread
// publishing a registry without it (reload). Neither may run a plugin's shutdown: a reload must
// not wait for a plugin's teardown (nor may the daemon's control thread, which never runs plugin
// code, DESIGN.md §3), and a processor must not be held up, after its job, by another plugin
// generation's teardown. So that thread only queues the generation here.
//
// The thread starts with the first retirement (an idle daemon has no extra thread) and lives
// until drain(). The queue is shared (shared_ptr) by the host and by every generation's
// deleter, because a job may still hold a generation while the host is being destroyed.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace factotum::plugins {

class Generation;

class RetirementQueue {
 public:
  RetirementQueue();  // starts no thread
  // drain(): the generations retired last (after the host was gone) are ended too.
  ~RetirementQueue();
  RetirementQueue(const RetirementQueue&) = delete;
  RetirementQueue& operator=(const RetirementQueue&) = delete;

  // Queues `generation` to be destroyed on the retirement thread; never waits for a shutdown.
  // Any thread. Should the thread not start (no resources), the generation is destroyed here,
  // on the calling thread: late is better than never.
  void retire(std::unique_ptr<Generation> generation) noexcept;

  // Waits until every generation retired so far is destroyed, then joins the thread. From then
  // on a generation retired late (by a job that outlived the host) starts a thread that ends as
  // soon as the queue is empty.
  void drain() noexcept;

 private:
  void run() noexcept;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<Generation>> queue_;  // retirement order
  std::thread thread_;
  bool running_ = false;   // thread_ is taking work (it clears this, under the mutex, to end)
  bool draining_ = false;  // drain() was called: the thread ends once the queue is empty
};

// Shares a loaded generation (its init succeeded): when its last reference drops, on any
// thread, it is handed to `queue` rather than destroyed there.
std::shared_ptr<Generation> share_until_retired(std::unique_ptr<Generation> generation,
                                                std::shared_ptr<RetirementQueue> queue);

}  // namespace factotum::plugins
