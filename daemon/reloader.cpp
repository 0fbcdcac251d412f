#include "reloader.hpp"

#include "config/config_diff.hpp"
#include "crash/crash_handler.hpp"
#include "daemon_settings.hpp"
#include "plugin_setup.hpp"
#include "plugins/plugin_host.hpp"
#include "service/log.hpp"
#include "worker/worker.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace factotum {

using service::Log;

namespace {

constexpr const char* kReloadFailed = "reload failed; still running the previous configuration";

}  // namespace

struct Reloader::Impl {
  ConfigInputs inputs;
  plugins::PluginHost& host;
  worker::Worker& worker;
  Hooks hooks;
  // What runs now; only the reload thread touches them once it has started.
  config::Config running;
  std::shared_ptr<const worker::WorkerSettings> settings;

  std::mutex mutex;
  std::condition_variable wake;
  bool reload_pending = false;
  bool rescan_pending = false;
  bool closed = false;
  std::atomic<bool> running_one{false};
  std::thread thread;  // started by the first request

  Impl(ConfigInputs config_inputs, config::Config running_config,
       std::shared_ptr<const worker::WorkerSettings> running_settings,
       plugins::PluginHost& plugin_host, worker::Worker& the_worker, Hooks reload_hooks)
      : inputs(std::move(config_inputs)),
        host(plugin_host),
        worker(the_worker),
        hooks(std::move(reload_hooks)),
        running(std::move(running_config)),
        settings(std::move(running_settings)) {}

  void request(bool full) {
    {
      std::lock_guard lock(mutex);
      if (closed) {
        Log::info("stopping: the reload request is ignored");
        return;
      }
      if (reload_pending || (rescan_pending && !full)) {
        Log::info("a reload is already queued; this request joins it");
      } else if (thread.joinable()) {
        Log::debug("reload queued");
      }
      (full ? reload_pending : rescan_pending) = true;
      if (!thread.joinable()) thread = std::thread([this] { loop(); });
    }
    wake.notify_one();
  }

  void close() {
    {
      std::lock_guard lock(mutex);
      closed = true;
    }
    wake.notify_one();
  }

  void loop() {
    // Plugins' init runs on this thread: a crash there is recorded (crash_handler.hpp).
    const crash::ThreadCrashScope crash_scope;
    std::unique_lock lock(mutex);
    for (;;) {
      wake.wait(lock, [this] { return closed || reload_pending || rescan_pending; });
      if (closed) return;
      // A full reload rescans the plugin directories too: one covers both requests.
      const bool full = reload_pending;
      reload_pending = rescan_pending = false;
      running_one.store(true, std::memory_order_release);
      lock.unlock();
      if (hooks.started) hooks.started(full);
      bool ok = false;
      try {
        if (full) {
          reload();
        } else {
          rescan();
        }
        ok = true;
      } catch (const config::ConfigError& e) {
        Log::error(std::string("configuration error: ") + e.what());
        Log::error(kReloadFailed);
      } catch (const std::exception& e) {
        Log::error(std::string("reload: internal error: ") + e.what());
        Log::error(kReloadFailed);
      }
      if (hooks.finished) hooks.finished(full, ok);
      lock.lock();
      running_one.store(false, std::memory_order_release);
    }
  }

  void reload() {
    Log::info("reloading the configuration", {{"config", inputs.file.string()}});
    config::Config next = config::load_config(inputs.file, inputs.overrides, inputs.env);
    // The wid is kept for the life of the process (the server knows this worker by it).
    const std::string& wid = settings->connection->identity.wid;
    if (!next.worker.wid.empty() && next.worker.wid != wid) {
      Log::warning("worker.wid changed: the worker id stays " + wid +
                   " until factotum is restarted");
    }
    if (next.metrics.listen != running.metrics.listen ||
        next.metrics.queue_sizes != running.metrics.queue_sizes) {
      Log::warning("metrics settings changed: they take effect when factotum is restarted");
    }
    auto next_settings = make_worker_settings(next, wid, settings.get());
    const auto changes = config::describe_changes(running, next);
    // Last of what may fail: a plugin set that cannot be used leaves everything as it was.
    // What follows it only logs and publishes.
    setup_plugins(host, next, PluginSetup::reload, hooks.plugin_load);

    for (const auto& warning : next.warnings) Log::warning(warning);
    for (const auto& change : changes) Log::info("reload: " + change);
    Log::set_level(next.logging.level);
    Log::set_format(next.logging.format);
    worker.apply(next_settings);
    running = std::move(next);
    settings = std::move(next_settings);
    if (hooks.applied) hooks.applied(running);
    Log::info(changes.empty() ? "reload done: the configuration is unchanged"
                              : "reload done: the new configuration is in effect");
  }

  void rescan() {
    Log::info("a plugin directory changed: rescanning");
    setup_plugins(host, running, PluginSetup::reload, hooks.plugin_load);
    Log::info("plugin rescan done");
  }
};

Reloader::Reloader(ConfigInputs inputs, config::Config running,
                   std::shared_ptr<const worker::WorkerSettings> settings,
                   plugins::PluginHost& host, worker::Worker& worker, Hooks hooks)
    : impl_(std::make_unique<Impl>(std::move(inputs), std::move(running), std::move(settings), host,
                                   worker, std::move(hooks))) {}

Reloader::~Reloader() {
  impl_->close();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void Reloader::request() {
  impl_->request(true);
}

void Reloader::request_plugin_rescan() {
  impl_->request(false);
}

void Reloader::close() {
  impl_->close();
}

bool Reloader::busy() const noexcept {
  return impl_->running_one.load(std::memory_order_acquire);
}

}  // namespace factotum
