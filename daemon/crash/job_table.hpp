// The crash table: a small shared-memory mapping made by the supervisor before it forks the
// worker (MAP_SHARED | MAP_ANONYMOUS: both processes see the same pages, nothing on disk).
// The worker's processors record there the job each one runs (JobRecord); its loading thread
// marks the plugin file whose code is running (LoadingMark); its crash handler notes which
// thread died of what (CrashMark). When the worker dies abnormally the supervisor reads it all
// to FAIL the jobs that would otherwise stay reserved, and to quarantine a plugin that crashed
// while loading (DESIGN.md §3; README "When a plugin crashes").
//
// Threading: acquire()/release() from any thread (a mutex in the worker's own memory);
// a record and the marks are written only by the threads named above; the supervisor reads
// only between the death of one worker and the fork of the next (reset()).
#pragma once

#include "crash/job_record.hpp"
#include "service/file_identity.hpp"

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string_view>
#include <vector>

namespace factotum::crash {

// The plugin file whose code the loading thread is running (static constructors, init).
struct LoadingMark {
  std::atomic<pid_t> tid{0};  // the loading thread; 0: nothing is loading
  service::FileIdentity identity;
  FixedText<1024> file;
};

// Written by the crash handler of the first thread that crashes.
struct CrashMark {
  std::atomic<std::int32_t> signal{0};
  std::atomic<pid_t> tid{0};
  std::int32_t code = 0;       // siginfo si_code
  std::uintptr_t address = 0;  // the faulting address (SIGSEGV, SIGBUS)
};

// What the supervisor counts across workers, for the metrics of the worker that follows
// (reset() keeps it): abnormal deaths, and the jobs in flight at each by metrics label (the
// jobtype, or "_unregistered" for one no plugin ran). Written by the supervisor only while no
// worker runs; read by the next worker's metrics endpoint.
struct CrashTally {
  static constexpr std::size_t kJobtypes = 64;  // more distinct jobtypes count as `other_jobs`
  struct Jobtype {
    FixedText<256> name;
    std::atomic<std::uint64_t> jobs{0};
  };
  std::atomic<std::uint64_t> worker_crashes{0};
  std::atomic<std::uint32_t> jobtypes_used{0};
  Jobtype jobtypes[kJobtypes];
  std::atomic<std::uint64_t> other_jobs{0};
};

class JobTable {
 public:
  // Room for this many processors at once (running and retiring ones).
  static constexpr std::size_t kCapacity = 2048;

  // Maps a zeroed table; throws std::system_error if the mapping fails.
  JobTable();
  ~JobTable();
  JobTable(const JobTable&) = delete;
  JobTable& operator=(const JobTable&) = delete;

  // --- The worker. ---
  // A record for a new processor; nullptr when every record is taken (its jobs are then not
  // covered, and a warning says so once).
  JobRecord* acquire();
  void release(JobRecord* record);
  // The loading thread, before and after a plugin file's code runs.
  void loading(const std::filesystem::path& file, const service::FileIdentity& identity) noexcept;
  void loaded() noexcept;
  CrashMark& crash() noexcept;
  // The worker has loaded its configuration and plugins and started (its start is over).
  void started() noexcept;

  // --- The supervisor, after the worker died. ---
  const LoadingMark& loading_mark() const noexcept;
  const CrashMark& crash_mark() const noexcept;
  bool was_started() const noexcept;
  // Every record not idle.
  std::vector<const JobRecord*> in_flight() const;
  // The worker died abnormally with these jobs in flight (their jobtypes).
  void count_crash(const std::vector<std::string_view>& jobtypes) noexcept;
  // Clears everything but the tally, before the next worker is forked.
  void reset() noexcept;

  // --- Both. ---
  const CrashTally& tally() const noexcept;

 private:
  struct Shared;
  Shared* shared_ = nullptr;
  std::size_t bytes_ = 0;
  std::mutex mutex_;  // the worker's: which records are taken
  std::vector<bool> taken_;
  bool warned_full_ = false;
};

}  // namespace factotum::crash
