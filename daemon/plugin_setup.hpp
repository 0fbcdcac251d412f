// Loading the configured plugins into the plugin host: at start-up, for --check-config and on
// reload, with the same checks each time, so --check-config validates exactly what a start or
// a reload would apply.
#pragma once

#include "config/config.hpp"

#include <filesystem>
#include <functional>

namespace factotum::plugins {
class PluginHost;
}

namespace factotum {

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
// `on_loading` (optional) is told each plugin file just before its code first runs.
bool setup_plugins(plugins::PluginHost& host, const config::Config& config, PluginSetup mode,
                   std::function<void(const std::filesystem::path&)> on_loading = {});

}  // namespace factotum
