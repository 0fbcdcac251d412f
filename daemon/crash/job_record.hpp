// One processor's entry in the crash table (crash/job_table.hpp): the job it is running, for
// the supervisor to FAIL should the worker process die with it. Written by the processor's own
// thread with plain stores into shared memory — no lock, no syscall, no IPC on the job path —
// and read by the supervisor only once the worker process is dead, so no reader ever races a
// writer. The state is written last (release) when a job begins: a record caught half-written
// by the death of the process is recognised and its jid never used.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace factotum::crash {

// A string of at most N bytes, kept in place (the table lives in a shared mapping: no heap).
template <std::size_t N>
struct FixedText {
  std::uint32_t size = 0;  // bytes stored
  bool truncated = false;  // the value was longer than N
  char data[N];

  void set(std::string_view text) noexcept {
    size = static_cast<std::uint32_t>(std::min(text.size(), N));
    truncated = text.size() > N;
    std::memcpy(data, text.data(), size);
  }
  std::string_view view() const noexcept { return {data, std::min<std::size_t>(size, N)}; }
};

struct JobRecord {
  enum State : std::uint8_t {
    idle = 0,     // no job
    writing = 1,  // a job is being recorded: the fields below are not complete
    running = 2,  // jid and jobtype are complete; plugin fields once plugin_known
    taken = 3,    // the control thread took the job over (deadline, shutdown) and is FAILing it
    reported = 4  // ...and the server answered that FAIL; its function may still be running
  };

  // (job sequence << 8) | State, in one word: the control thread moves a record on only if it
  // still holds the job it took over (the sequence changes with every job), never a later
  // job of the same processor.
  std::atomic<std::uint64_t> word{0};
  // Set by the crash handler on the thread that ran this job when that thread crashed.
  std::atomic<std::int32_t> crash_signal{0};
  std::atomic<bool> plugin_known{false};
  std::int64_t started_ns = 0;  // CLOCK_MONOTONIC (the same clock in every process)
  FixedText<256> jid;
  FixedText<256> jobtype;
  FixedText<128> plugin;
  FixedText<128> version;
  FixedText<512> file;

  static State state_of(std::uint64_t w) noexcept { return static_cast<State>(w & 0xff); }
  State state() const noexcept { return state_of(word.load(std::memory_order_acquire)); }

  // The processor's thread, when a job is about to run.
  void begin(std::string_view job_jid, std::string_view job_type, std::int64_t started) noexcept {
    const std::uint64_t job = (word.load(std::memory_order_relaxed) >> 8) + 1;
    word.store(job << 8 | writing, std::memory_order_relaxed);
    plugin_known.store(false, std::memory_order_relaxed);
    jid.set(job_jid);
    jobtype.set(job_type);
    started_ns = started;
    word.store(job << 8 | running, std::memory_order_release);
  }
  // The plugin host, once it knows whose job function the job runs in.
  void set_plugin(std::string_view name, std::string_view plugin_version,
                  std::string_view plugin_file) noexcept {
    plugin.set(name);
    version.set(plugin_version);
    file.set(plugin_file);
    plugin_known.store(true, std::memory_order_release);
  }
  // The processor's thread: the job is reported (the server answered its ACK or FAIL), or its
  // function returned after a take-over. The supervisor has nothing to do for it.
  void end() noexcept {
    const std::uint64_t w = word.load(std::memory_order_relaxed);
    word.store((w & ~std::uint64_t{0xff}) | idle, std::memory_order_release);
  }
  // The control thread, taking the job over: returns the word that identifies it (0 when the
  // record holds no running job).
  std::uint64_t take_over() noexcept {
    std::uint64_t w = word.load(std::memory_order_acquire);
    if (state_of(w) != running) return 0;
    const std::uint64_t now_taken = (w & ~std::uint64_t{0xff}) | taken;
    return word.compare_exchange_strong(w, now_taken, std::memory_order_acq_rel) ? now_taken : 0;
  }
  // The control thread: the server answered the FAIL of the job `take_over` returned `taken_word`
  // for. A supervisor must not FAIL it again: it may be running elsewhere as a retry by now.
  void reported_by_control(std::uint64_t taken_word) noexcept {
    std::uint64_t expected = taken_word;
    word.compare_exchange_strong(expected, (taken_word & ~std::uint64_t{0xff}) | reported,
                                 std::memory_order_acq_rel);
  }
};

}  // namespace factotum::crash
