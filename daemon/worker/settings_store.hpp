// The current WorkerSettings snapshot, swapped whole and atomically (DESIGN.md §3, "Config is
// data"). Processors hold their own copy of the pointer and check for a newer snapshot before
// each FETCH with one atomic load; they take the lock only when one was published.
#pragma once

#include "worker/worker_settings.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

namespace factotum::worker {

class SettingsStore {
 public:
  explicit SettingsStore(std::shared_ptr<const WorkerSettings> initial)
      : current_(std::move(initial)) {}

  // Any thread. Readers see the new snapshot from their next refresh() on.
  void publish(std::shared_ptr<const WorkerSettings> next) {
    {
      std::lock_guard lock(mutex_);
      current_.swap(next);
      version_.fetch_add(1, std::memory_order_release);
    }
    // `next` (the previous snapshot) is released here, outside the lock.
  }

  std::shared_ptr<const WorkerSettings> current() const {
    std::lock_guard lock(mutex_);
    return current_;
  }

  // Replaces `held` by the current snapshot when a newer one was published since `version`;
  // returns whether it did. The common case costs one atomic load.
  bool refresh(std::shared_ptr<const WorkerSettings>& held, std::uint64_t& version) const {
    const std::uint64_t now = version_.load(std::memory_order_acquire);
    if (held && now == version) return false;
    std::lock_guard lock(mutex_);
    held = current_;
    version = version_.load(std::memory_order_relaxed);
    return true;
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const WorkerSettings> current_;
  std::atomic<std::uint64_t> version_{1};
};

}  // namespace factotum::worker
