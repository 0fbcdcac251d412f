// One processor's entry in the crash table (crash/job_table.hpp): the job it is running, for
// the supervisor to FAIL should the worker process die with it. Written by the processor's own
// thread with plain stores into shared memory — no lock, no syscall, no IPC on the job path —
// and read by the supervisor only once the worker process is dead, so no reader ever races a
// writer. `state` is written last (release) when a job begins: a record caught half-written by
// the death of the process is recognised and its jid never used.
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
  enum State : std::uint32_t {
    idle = 0,     // no job
    writing = 1,  // a job is being recorded: the fields below are not complete
    running = 2,  // jid and jobtype are complete; plugin fields once plugin_known
  };

  std::atomic<std::uint32_t> state{idle};
  // Set by the crash handler on the thread that ran this job when that thread crashed.
  std::atomic<std::int32_t> crash_signal{0};
  std::atomic<bool> plugin_known{false};
  std::int64_t started_ns = 0;  // CLOCK_MONOTONIC (the same clock in every process)
  FixedText<256> jid;
  FixedText<256> jobtype;
  FixedText<128> plugin;
  FixedText<128> version;
  FixedText<512> file;

  // The processor's thread, when a job is about to run.
  void begin(std::string_view job_jid, std::string_view job_type, std::int64_t started) noexcept {
    state.store(writing, std::memory_order_relaxed);
    plugin_known.store(false, std::memory_order_relaxed);
    jid.set(job_jid);
    jobtype.set(job_type);
    started_ns = started;
    state.store(running, std::memory_order_release);
  }
  // The plugin host, once it knows whose job function the job runs in.
  void set_plugin(std::string_view name, std::string_view plugin_version,
                  std::string_view plugin_file) noexcept {
    plugin.set(name);
    version.set(plugin_version);
    file.set(plugin_file);
    plugin_known.store(true, std::memory_order_release);
  }
  // The job is reported (the server answered its ACK or FAIL), or taken over and reported by
  // the control thread: the supervisor has nothing to do for it.
  void end() noexcept { state.store(idle, std::memory_order_release); }
};

}  // namespace factotum::crash
