// The supervised worker's crash handler: when a thread dies of SIGSEGV, SIGBUS, SIGILL, SIGFPE,
// SIGABRT, SIGTRAP or SIGSYS, it notes in the crash table (job_table.hpp) which thread it was,
// the signal, and — on a processor's thread — that this thread's job is the one that crashed.
// Then the process dies of that same signal as it would have without a handler (core dump and
// all): the handler records, it never tries to recover. It uses only plain stores and
// async-signal-safe calls.
//
// A stack overflow leaves no stack to run a handler on, so every thread that runs plugin code
// (the processors, the threads that load plugins) gets an alternate signal stack through a
// ThreadCrashScope. Threads that plugins start themselves have none: a stack overflow there
// kills the worker unrecorded, and every job in flight is FAILed as WorkerCrashed.
#pragma once

#include <cstddef>

namespace factotum::crash {

class JobTable;
struct JobRecord;

// Installs the handler for the whole process. Call once, before any other thread starts;
// `table` must outlive the process's threads. Threads (this one included) still need a
// ThreadCrashScope for their alternate stack.
void install_crash_handler(JobTable& table);

// For the life of a thread (or of a part of it): an alternate signal stack, and the record of
// the job this thread runs (nullptr: none, e.g. a loading thread). Does nothing when no
// handler was installed (an unsupervised daemon).
class ThreadCrashScope {
 public:
  explicit ThreadCrashScope(JobRecord* record = nullptr);
  ~ThreadCrashScope();
  ThreadCrashScope(const ThreadCrashScope&) = delete;
  ThreadCrashScope& operator=(const ThreadCrashScope&) = delete;

 private:
  void* stack_ = nullptr;
  std::size_t size_ = 0;
  JobRecord* previous_ = nullptr;
};

}  // namespace factotum::crash
