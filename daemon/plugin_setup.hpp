// Loading the configured plugins into the plugin host: at start-up, for --check-config and on
// reload, with the same checks each time, so --check-config validates exactly what a start or
// a reload would apply.
#pragma once

#include "config/config.hpp"
#include "plugins/plugin_host.hpp"

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace factotum {

// What the caller wants to know of, or forbid, while plugins load (crash containment: the
// supervisor's crash table and quarantine, --check-config's child).
struct PluginLoadHooks {
  // Just before a plugin file's code first runs (static constructors at dlopen, then init).
  std::function<void(const std::filesystem::path& file, const plugins::FileIdentity& identity)>
      on_loading;
  // Once that file's code has run (its init returned, or its load failed).
  std::function<void()> on_loaded;
  // A file not to load, and why (e.g. it crashed the worker while loading); nullopt: load it.
  std::function<std::optional<std::string>(const std::filesystem::path& file,
                                           const plugins::FileIdentity& identity)>
      refuse;
};

enum class PluginSetup {
  start,   // load every plugin of the configured directories
  reload,  // rescan them: new and changed files load as new generations, removed ones go
};

// Loads (or rescans) the plugins of `config` and applies its middleware order. Logs one line
// per plugin loaded, replaced or removed, and one per plugin that could not be loaded.
// Throws config::ConfigError when the configuration cannot be used as it is: a plugin that
// failed under plugins.fatal_errors, a middleware name that no plugin registered, a
// plugins.config entry naming no loaded plugin under plugins.fatal_errors (otherwise a
// warning). Returns false when a plugin was skipped (reported; not fatal).
// `hooks` (each optional) see the plugins' code run (crash containment, check_config.hpp).
bool setup_plugins(plugins::PluginHost& host, const config::Config& config, PluginSetup mode,
                   const PluginLoadHooks& hooks = {});

}  // namespace factotum
