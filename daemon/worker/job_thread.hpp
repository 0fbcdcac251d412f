// The thread one processor runs its jobs on (DESIGN.md §3: job code never runs on the I/O
// thread). Each processor has its own and hands it one job at a time through a single futex
// word: no shared queue, no lock, one wake-up per job.
#pragma once

#include "worker/running_job.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>

namespace factotum::plugins {
class PluginHost;
}

namespace factotum::worker {

class JobThread {
 public:
  // `done` runs on the job thread after each job, once its outcome is stored and the thread
  // is ready for the next one.
  JobThread(plugins::PluginHost& host, std::function<void(std::shared_ptr<RunningJob>)> done);
  // Joins the thread: it must be idle or finishing a job (a process that abandons a running
  // job ends with std::_Exit instead, DESIGN.md §3).
  ~JobThread();
  JobThread(const JobThread&) = delete;
  JobThread& operator=(const JobThread&) = delete;

  // Runs `job` through the plugin host. Only called when the previous job is done.
  void start(std::shared_ptr<RunningJob> job);

 private:
  enum : std::uint32_t { kIdle, kWork, kQuit };
  void loop();

  plugins::PluginHost& host_;
  std::function<void(std::shared_ptr<RunningJob>)> done_;
  std::shared_ptr<RunningJob> job_;  // handed over by start(), published by state_
  std::atomic<std::uint32_t> state_{kIdle};
  std::thread thread_;  // last: starts once everything above is initialised
};

}  // namespace factotum::worker
