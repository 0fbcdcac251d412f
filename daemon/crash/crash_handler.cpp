#include "crash/crash_handler.hpp"

#include "crash/job_table.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace factotum::crash {

namespace {

constexpr int kCrashSignals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS};

std::atomic<JobTable*> g_table{nullptr};
// The worker's pid: a process a plugin forks without exec inherits this handler and the
// mapping, and must not write into the worker's table (nor into the next worker's).
std::atomic<pid_t> g_worker_pid{0};
// The job this thread runs (static TLS of the executable: safe to read in a handler).
thread_local JobRecord* t_record = nullptr;

void on_crash(int signal, siginfo_t* info, void* /*context*/) {
  // A fault (si_code > 0), or abort()/raise() by this process. A crash signal sent by another
  // process (kill -SEGV, the supervisor's watchdog) is not a crash of this thread's job.
  const bool own = info->si_code > 0 || info->si_pid == ::getpid();
  JobTable* table = g_table.load(std::memory_order_acquire);
  if (own && table != nullptr && ::getpid() == g_worker_pid.load(std::memory_order_relaxed)) {
    // This thread's own marks first: should another thread crash at the same moment and end
    // the process, whichever mark is complete still names its job.
    if (t_record != nullptr) t_record->crash_signal.store(signal, std::memory_order_release);
    CrashMark& mark = table->crash();
    std::int32_t none = 0;
    // The first crash wins: others may follow as the process goes down.
    if (mark.signal.compare_exchange_strong(none, signal, std::memory_order_acq_rel)) {
      mark.code = info->si_code;
      mark.address = reinterpret_cast<std::uintptr_t>(info->si_addr);
      mark.tid.store(static_cast<pid_t>(::gettid()), std::memory_order_release);
    }
  }
  // Die of the signal as without a handler (core dump and all). The default action is set
  // explicitly (a plugin's runtime may have chained its own handler to this one), and the
  // signal is sent again whatever it was: a trap or a seccomp SIGSYS would not happen again
  // by returning. It is delivered as soon as this handler returns.
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  ::sigemptyset(&default_action.sa_mask);
  ::sigaction(signal, &default_action, nullptr);
  ::raise(signal);
}

}  // namespace

void install_crash_handler(JobTable& table) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // The sanitizers' own handlers report a crash better (and their builds are for finding
  // bugs, not for running plugins): the jobs are still recorded, and FAILed as WorkerCrashed.
  (void)table;
  return;
#endif
  g_worker_pid.store(::getpid(), std::memory_order_relaxed);
  g_table.store(&table, std::memory_order_release);
  struct sigaction action {};
  action.sa_sigaction = on_crash;
  action.sa_flags = static_cast<int>(SA_SIGINFO | SA_ONSTACK | SA_RESETHAND);
  ::sigemptyset(&action.sa_mask);
  for (const int signal : kCrashSignals) ::sigaction(signal, &action, nullptr);
}

ThreadCrashScope::ThreadCrashScope(JobRecord* record) {
  if (g_table.load(std::memory_order_acquire) == nullptr) return;
  previous_ = t_record;
  t_record = record;
  stack_t current{};
  if (::sigaltstack(nullptr, &current) == 0 && (current.ss_flags & SS_DISABLE) == 0) {
    return;  // the thread has one already (an outer scope)
  }
  // Enough for the handler; pages that are never used are never resident.
  size_ =
      std::max<std::size_t>(64 * 1024, static_cast<std::size_t>(::sysconf(_SC_MINSIGSTKSZ)) * 4);
  void* mapped = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) return;
  stack_t alternate{};
  alternate.ss_sp = mapped;
  alternate.ss_size = size_;
  if (::sigaltstack(&alternate, nullptr) != 0) {
    ::munmap(mapped, size_);
    return;
  }
  stack_ = mapped;
}

ThreadCrashScope::~ThreadCrashScope() {
  if (g_table.load(std::memory_order_acquire) == nullptr) return;
  t_record = previous_;
  if (stack_ == nullptr) return;
  stack_t disabled{};
  disabled.ss_flags = SS_DISABLE;
  ::sigaltstack(&disabled, nullptr);
  ::munmap(stack_, size_);
}

}  // namespace factotum::crash
