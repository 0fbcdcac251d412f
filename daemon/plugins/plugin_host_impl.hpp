// PluginHost's state, shared by plugin_host.cpp (the job path, queries) and
// plugin_set_update.cpp (loading: the next plugin set, computed whole and published at once).
#pragma once

#include "plugins/failed_loads.hpp"
#include "plugins/generation.hpp"
#include "plugins/loader.hpp"
#include "plugins/plugin_host.hpp"
#include "plugins/registry.hpp"
#include "plugins/retirement_queue.hpp"
#include "plugins/scan.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace factotum::plugins {

class Claims;  // plugin_set_update.cpp

struct PluginHost::Impl {
  // One loaded file. It is replaced by a new generation when the file or its plugin config
  // changes; the old one lives on in snapshots and running jobs until they finish (§4.7).
  struct Active {
    std::filesystem::path file;
    std::filesystem::path directory;  // the configured directory; empty: load_file()
    std::shared_ptr<Generation> generation;
  };

  std::shared_ptr<const HostServices> services;
  // Where a generation goes when its last reference drops (retirement_queue.hpp). Shared with
  // every loaded generation's deleter: a job may still hold one when the host is destroyed.
  std::shared_ptr<RetirementQueue> retirement = std::make_shared<RetirementQueue>();
  // The job path's only shared state: one shared_ptr copy per job, under a mutex held for
  // that copy alone. (std::atomic<std::shared_ptr> would do, but libstdc++ 12 hides its lock
  // bit from ThreadSanitizer, which then reports every publish as a race.)
  mutable std::mutex current_mutex;
  std::shared_ptr<const Registry> current;

  // Loading state, used by one loading call at a time under `control`, which run() never
  // takes: a job never waits for a load.
  mutable std::mutex control;
  std::vector<Active> active;  // plugin load order
  std::vector<std::string> middleware_order;
  std::uint64_t next_generation = 1;
  FailedLoads failed;
  std::unique_ptr<StagingDir> default_staging;
  // Every staged copy made, for remove_staged_files() (a generation unlinks its own when it
  // ends, but an exit that skips destructors ends none).
  std::vector<std::filesystem::path> staged_paths;

  // Computes the plugin set that `scan` and `options` ask for beside the current one and, unless
  // the call fails as a whole, publishes it with its middleware chain as one registry
  // (plugin_set_update.cpp). `rescan`: a file gone from a listed directory, or a directory no
  // longer configured, removes its plugin (reload()).
  LoadReport apply(Scan scan, bool rescan, const LoadOptions& options, LoadReport report);
  // Stages, opens and initialises one file, its plugin name and jobtypes checked against
  // `claims`. On failure `why` says why, and `failure` is set when the failure is a property of
  // this file version (and config) worth remembering.
  std::unique_ptr<Generation> load_generation(const OpenedFile& file, const Claims& claims,
                                              const LoadOptions& options, std::string& why,
                                              std::optional<FailedLoad>& failure);
  std::optional<std::filesystem::path> staging_dir(const LoadOptions& options, std::string& why);

  std::shared_ptr<const Registry> snapshot() const {
    std::lock_guard lock(current_mutex);
    return current;
  }
  void publish(std::shared_ptr<const Registry> next) {
    {
      std::lock_guard lock(current_mutex);
      current.swap(next);
    }
    // `next` now holds the previous snapshot; dropping it may retire a generation, which is
    // only handed to the retirement thread, but still better outside the lock job threads take.
  }
};

}  // namespace factotum::plugins
