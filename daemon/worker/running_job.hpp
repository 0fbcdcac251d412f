// One job between FETCH and ACK/FAIL. Shared by the processor (I/O thread) and the job
// thread: the thread may outlive the processor's interest in it (deadline passed, shutdown),
// so the job's bytes live here, not on the processor's stack.
#pragma once

#include "faktory/job.hpp"
#include "plugins/plugin_host.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace factotum::worker {

struct RunningJob {
  std::uint64_t id = 0;     // worker-local, for the in-flight table
  std::string payload;      // the FETCH reply, as received
  faktory::Job job;         // parsed from payload
  std::string args_json;    // job.args serialized once for the plugin
  std::string custom_json;  // job.custom serialized once, "{}" when absent
  std::string plugin;       // the plugin that handles its jobtype (for TTIN and logs)
  unsigned processor = 0;
  std::chrono::steady_clock::time_point started;
  std::chrono::steady_clock::time_point deadline;
  std::chrono::steady_clock::time_point reservation_expiry;
  std::atomic<bool> cancelled{false};  // read by the plugin through job_cancelled()
  std::atomic<bool> finished{false};   // the job function has returned
  plugins::JobOutcome outcome;         // written by the job thread before `finished`

  plugins::JobInput input() const {
    plugins::JobInput in;
    in.jid = job.jid;
    in.jobtype = job.jobtype;
    in.queue = job.queue;
    in.args_json = args_json;
    in.custom_json = custom_json;
    in.payload_json = payload;
    // failure.retry_count counts from 0 at the first failure (PROTOCOL.md §6).
    in.retry_count = job.failure ? job.failure->retry_count + 1 : 0;
    in.cancelled = &cancelled;
    return in;
  }
};

}  // namespace factotum::worker
