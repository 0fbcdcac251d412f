// Live reload (SIGHUP; DESIGN.md §3): read the configuration again from where the daemon read
// it at start (the same file, flags and environment, with the same precedence), validate it
// completely, load changed plugins, and only then swap: the plugin registry, then the worker's
// settings snapshot and the log settings. An invalid configuration changes nothing.
//
// Threading: reloads run one at a time on a thread of their own, started with the first one
// (parsing, dlopen and plugin init may block; the control thread never waits for them). A
// request while a reload runs is remembered and runs after it: requests coalesce, none is lost
// and two never overlap.
#pragma once

#include "config/config.hpp"
#include "faktory/url.hpp"
#include "plugin_setup.hpp"
#include "worker/worker_settings.hpp"

#include <filesystem>
#include <functional>
#include <memory>

namespace factotum::plugins {
class PluginHost;
}
namespace factotum::worker {
class Worker;
}

namespace factotum {

// Where the configuration comes from: what the daemon was started with.
struct ConfigInputs {
  std::filesystem::path file;
  config::ConfigOverrides overrides;
  faktory::EnvLookup env;
};

class Reloader {
 public:
  // `running` and `settings` are what the daemon runs now; `host` and `worker` must outlive the
  // Reloader.
  // Told on the reload thread: a reload begins; it ended (ok, or failed and nothing changed);
  // a configuration a reload put in effect (e.g. to watch the new plugin directories).
  // `full`: the configuration file and the plugins; otherwise a plugin rescan (plugins.watch).
  struct Hooks {
    std::function<void(bool full)> started;
    std::function<void(bool full, bool ok)> finished;
    std::function<void(const config::Config&)> applied;
    // Around the plugins' code that a reload runs (the supervisor's crash table).
    PluginLoadHooks plugin_load;
  };
  Reloader(ConfigInputs inputs, config::Config running,
           std::shared_ptr<const worker::WorkerSettings> settings, plugins::PluginHost& host,
           worker::Worker& worker, Hooks hooks = {});
  // Lets a reload in progress finish, then joins the thread.
  ~Reloader();
  Reloader(const Reloader&) = delete;
  Reloader& operator=(const Reloader&) = delete;

  // Asks for a reload of the configuration and the plugin directories. Any thread.
  void request();
  // Asks for a rescan of the plugin directories only, on the running configuration
  // (plugins.watch). Any thread.
  void request_plugin_rescan();
  // No reload starts from now on (the daemon is stopping). Any thread.
  void close();
  // A reload is running now (it may be blocked in a plugin's init: the daemon does not wait
  // for it at exit). Any thread.
  bool busy() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace factotum
