// The host function table handed to every plugin (DESIGN.md §4.3) and the host's definitions
// of the opaque handles sdk.h declares: factotum_plugin (one per generation) and factotum_job
// (one per run(), on the job thread's stack).
#pragma once

#include "factotum/sdk.h"
#include "plugins/plugin_host.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace factotum::plugins {
class Generation;
class Registry;
struct JobtypeEntry;

// The one static table, identical for every plugin; its `size` tells a newer plugin which
// functions this host has (sdk.h FACTOTUM_HOST_HAS).
const factotum_host_api* host_api() noexcept;
}  // namespace factotum::plugins

// Global namespace: sdk.h declares both as incomplete structs there.
struct factotum_plugin {
  factotum::plugins::Generation* generation;
};

struct factotum_job {
  const factotum::plugins::JobInput* input = nullptr;
  // The snapshot the job took; run() keeps it alive for the whole job, so middleware and
  // handler pointers stay valid even if a reload publishes a new registry meanwhile.
  const factotum::plugins::Registry* registry = nullptr;
  const factotum::plugins::JobtypeEntry* handler = nullptr;
  // Chain positions 0..n-1 are middleware, n is the job function. `running` is the position
  // executing now, `started` the highest position entered, so job_next can refuse a second
  // call from the same middleware (sdk.h: at most once per job).
  std::size_t running = 0;
  std::size_t started = 0;
  // Set by job_fail; copied, because the plugin's strings are borrowed only for the call, and
  // capped while copying (failure_limits.hpp).
  bool failure_set = false;
  std::string errtype;
  std::string message;
  std::vector<std::string> backtrace;
};

namespace factotum::plugins {

// Runs chain position `position` (a middleware, or the job function at the chain's end).
factotum_status run_chain_at(factotum_job& job, std::size_t position) noexcept;

// Marks the job this thread is running, so the log function can tag lines with its jid.
class CurrentJobScope {
 public:
  explicit CurrentJobScope(const factotum_job* job) noexcept;
  ~CurrentJobScope();
  CurrentJobScope(const CurrentJobScope&) = delete;
  CurrentJobScope& operator=(const CurrentJobScope&) = delete;

 private:
  const factotum_job* previous_;
};

// The jid of the job running on this thread, empty outside a job.
std::string_view current_jid() noexcept;

}  // namespace factotum::plugins
