// What the worker runtime needs to know, derived from the validated Config by the daemon.
// Plain data: a reload builds a new one and hands it over whole.
#pragma once

#include "faktory/client_options.hpp"
#include "worker/queue_order.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>

namespace factotum::worker {

struct WorkerSettings {
  // Server, credentials, TLS and this worker's identity (wid, hostname, pid, labels).
  faktory::ClientOptions connection;
  unsigned concurrency = 10;
  QueueSelection queues{false, {"default"}, {}};
  std::chrono::milliseconds shutdown_timeout{25000};
  std::chrono::milliseconds heartbeat_interval{15000};
  // Per-jobtype job timeouts (jobtypes.<name>.timeout).
  std::map<std::string, std::chrono::milliseconds, std::less<>> jobtype_timeouts;
  // A job's deadline is also kept this far before its reservation runs out, so the server
  // never re-runs a job a live worker still holds without being told (DESIGN.md §3).
  std::chrono::milliseconds reservation_margin{10000};
};

}  // namespace factotum::worker
