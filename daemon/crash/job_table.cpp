#include "crash/job_table.hpp"

#include "service/log.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace factotum::crash {

struct JobTable::Shared {
  // One past the highest record ever acquired: the supervisor reads (and resets) no further,
  // so the pages of records never used are never touched and cost no memory.
  std::atomic<std::uint32_t> used{0};
  std::atomic<bool> started{false};
  LoadingMark loading;
  CrashMark crash;
  CrashTally tally;
  JobRecord records[kCapacity];
};

JobTable::JobTable() : bytes_(sizeof(Shared)), taken_(kCapacity, false) {
  // Untouched pages cost no memory: only the records of live processors become resident.
  void* mapped = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) {
    throw std::system_error(errno, std::generic_category(), "mmap of the crash table");
  }
  // The mapping is zero-filled, which is every field's initial value. It is not constructed:
  // that would write, and so make resident, every page of it.
  shared_ = static_cast<Shared*>(mapped);
}

JobTable::~JobTable() {
  if (shared_ != nullptr) ::munmap(shared_, bytes_);
}

JobRecord* JobTable::acquire() {
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < kCapacity; ++i) {
    if (!taken_[i]) {
      taken_[i] = true;
      shared_->records[i].end();
      if (shared_->used.load(std::memory_order_relaxed) <= i) {
        shared_->used.store(static_cast<std::uint32_t>(i + 1), std::memory_order_release);
      }
      return &shared_->records[i];
    }
  }
  if (!warned_full_) {
    warned_full_ = true;
    service::Log::warning(
        "the crash table is full: jobs of the newest processors are not covered should the "
        "worker crash");
  }
  return nullptr;
}

void JobTable::release(JobRecord* record) {
  if (record == nullptr) return;
  record->end();
  std::lock_guard lock(mutex_);
  taken_[static_cast<std::size_t>(record - shared_->records)] = false;
}

void JobTable::loading(const std::filesystem::path& file,
                       const service::FileIdentity& identity) noexcept {
  shared_->loading.tid.store(0, std::memory_order_relaxed);
  shared_->loading.identity = identity;
  shared_->loading.file.set(file.native());
  shared_->loading.tid.store(static_cast<pid_t>(::gettid()), std::memory_order_release);
}

void JobTable::loaded() noexcept {
  shared_->loading.tid.store(0, std::memory_order_release);
}

void JobTable::started() noexcept {
  shared_->started.store(true, std::memory_order_release);
}

bool JobTable::was_started() const noexcept {
  return shared_->started.load(std::memory_order_acquire);
}

CrashMark& JobTable::crash() noexcept {
  return shared_->crash;
}

const LoadingMark& JobTable::loading_mark() const noexcept {
  return shared_->loading;
}

const CrashMark& JobTable::crash_mark() const noexcept {
  return shared_->crash;
}

std::vector<const JobRecord*> JobTable::in_flight() const {
  std::vector<const JobRecord*> records;
  const auto used = std::min<std::size_t>(shared_->used.load(std::memory_order_acquire), kCapacity);
  for (std::size_t i = 0; i < used; ++i) {
    const JobRecord& record = shared_->records[i];
    if (record.state() != JobRecord::idle) {
      records.push_back(&record);
    }
  }
  return records;
}

void JobTable::count_crash(const std::vector<std::string_view>& jobtypes) noexcept {
  CrashTally& tally = shared_->tally;
  tally.worker_crashes.fetch_add(1, std::memory_order_relaxed);
  for (const std::string_view jobtype : jobtypes) {
    // (Clamped: the worker could write this page, and a crash may have scribbled on it.)
    const std::size_t used = std::min<std::size_t>(
        tally.jobtypes_used.load(std::memory_order_relaxed), CrashTally::kJobtypes);
    std::size_t i = 0;
    while (i < used && tally.jobtypes[i].name.view() != jobtype) ++i;
    if (i == used) {
      if (used == CrashTally::kJobtypes) {
        tally.other_jobs.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      tally.jobtypes[i].name.set(jobtype);
      tally.jobtypes_used.store(static_cast<std::uint32_t>(used + 1), std::memory_order_release);
    }
    tally.jobtypes[i].jobs.fetch_add(1, std::memory_order_relaxed);
  }
}

const CrashTally& JobTable::tally() const noexcept {
  return shared_->tally;
}

void JobTable::reset() noexcept {
  shared_->started.store(false, std::memory_order_relaxed);
  shared_->loading.tid.store(0, std::memory_order_relaxed);
  shared_->crash.signal.store(0, std::memory_order_relaxed);
  shared_->crash.tid.store(0, std::memory_order_relaxed);
  const auto used = std::min<std::size_t>(shared_->used.load(std::memory_order_relaxed), kCapacity);
  for (std::size_t i = 0; i < used; ++i) {
    shared_->records[i].word.store(0, std::memory_order_relaxed);
    shared_->records[i].crash_signal.store(0, std::memory_order_relaxed);
  }
  shared_->used.store(0, std::memory_order_relaxed);
  std::lock_guard lock(mutex_);
  taken_.assign(kCapacity, false);
}

}  // namespace factotum::crash
