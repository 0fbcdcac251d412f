// What the worker runtime needs to know, derived from the validated Config by the daemon.
// Immutable once published: a reconfiguration builds a new one and publishes it whole
// (SettingsStore); every thread reads a consistent snapshot.
#pragma once

#include "faktory/client_options.hpp"
#include "worker/queue_order.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace factotum::worker {

struct WorkerSettings {
  // Server, credentials, TLS (with the one TLS context every connection shares) and this
  // worker's identity (wid, hostname, pid, labels). Shared by pointer: a snapshot that keeps
  // the same connection settings keeps the same object, so a processor can tell by comparing
  // pointers whether it must reconnect.
  std::shared_ptr<const faktory::ClientOptions> connection =
      std::make_shared<const faktory::ClientOptions>();
  // The TLS files' identities (device, inode, size, mtime) when `connection` was built: a
  // reload with the same paths but rotated files builds a new connection object.
  std::string tls_files_stamp;
  unsigned concurrency = 10;
  QueueSelection queues{false, {"default"}, {}};
  std::chrono::milliseconds shutdown_timeout{25000};
  std::chrono::milliseconds heartbeat_interval{15000};
  // Per-jobtype job timeouts (jobtypes.<name>.timeout).
  std::map<std::string, std::chrono::milliseconds, std::less<>> jobtype_timeouts;
  // Processor threads run as SCHED_BATCH (worker.cpu_scheduling: batch): the same CPU share
  // as other threads, but a processor woken by a reply does not preempt what runs. On a
  // machine it shares with the Faktory server, or with interactive services, that keeps a
  // processor from preempting them on every reply it gets.
  bool batch_scheduling = true;
  // A job's deadline is also kept this far before its reservation runs out, so the server
  // never re-runs a job a live worker still holds without being told (DESIGN.md §3).
  std::chrono::milliseconds reservation_margin{10000};
};

}  // namespace factotum::worker
