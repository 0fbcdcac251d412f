#include "plugin_setup.hpp"

#include "config/did_you_mean.hpp"
#include "plugins/plugin_host.hpp"
#include "service/log.hpp"

#include <algorithm>

namespace factotum {

using service::Log;

namespace {

// A plugins.config.<name> entry that names no plugin of `loaded`: a typo, or a plugin that
// failed to load. Either way its settings reach nobody; say so (DESIGN.md §5: unknown keys
// are errors). One ConfigError per such entry.
std::vector<config::ConfigError> check_plugin_settings(
    const std::vector<plugins::PluginInfo>& loaded, const config::Config& config) {
  std::vector<std::string> names;
  for (const auto& plugin : loaded) names.push_back(plugin.name);
  std::vector<config::ConfigError> unknown;
  for (const auto& [name, settings] : config.plugins.settings) {
    if (std::find(names.begin(), names.end(), name) != names.end()) continue;
    std::string message = "no loaded plugin is named '" + name + "'";
    if (auto close = config::did_you_mean(name, names)) {
      message += "; did you mean '" + *close + "'?";
    } else {
      message += " (its settings are not used)";
    }
    unknown.emplace_back(settings.where, "plugins.config." + name, message);
  }
  return unknown;
}

}  // namespace

bool setup_plugins(plugins::PluginHost& host, const config::Config& config, PluginSetup mode,
                   const PluginLoadHooks& hooks) {
  plugins::LoadOptions load;
  load.on_loading = hooks.on_loading;
  load.on_loaded = hooks.on_loaded;
  load.refuse = hooks.refuse;
  load.strict_permissions = config.plugins.strict_permissions;
  load.fatal_errors = config.plugins.fatal_errors;
  load.config_json = config.plugins.config_json();
  // The order is applied with the plugin set, in one step: a name that does not resolve
  // leaves everything as it was.
  std::vector<std::string> order;
  for (const auto& entry : config.middleware) order.push_back(entry.name);
  load.middleware_order = std::move(order);
  std::vector<config::ConfigError> unknown_plugins;
  load.accept = [&](const std::vector<plugins::PluginInfo>& next) {
    unknown_plugins = check_plugin_settings(next, config);
    // Under fatal_errors such an entry is an error: nothing changes.
    return unknown_plugins.empty() || !config.plugins.fatal_errors;
  };
  const auto report = mode == PluginSetup::start
                          ? host.load_directories(config.plugins.directories, load)
                          : host.reload(config.plugins.directories, load);
  for (const auto& error : report.errors) {
    if (report.middleware_error && error.file.empty()) continue;  // said below, with its place
    Log::error("plugin not loaded", {{"file", error.file.string()}, {"reason", error.reason}});
  }
  if (report.middleware_error) {
    const auto where =
        config.middleware.empty() ? config::SourceLocation{} : config.middleware.front().where;
    throw config::ConfigError(where, "middleware", *report.middleware_error);
  }
  if (!report.ok() && config.plugins.fatal_errors) {
    const auto& first = report.errors.front();
    throw config::ConfigError({config.source.string(), 0, 0}, "plugins.fatal_errors",
                              "plugin " + first.message());
  }
  if (report.refused) throw unknown_plugins.front();
  for (const auto& unknown : unknown_plugins) Log::warning(unknown.what());
  for (const auto& change : report.changes) Log::info(change.describe());
  if (mode == PluginSetup::reload && report.changes.empty()) {
    Log::info("plugins unchanged");
  }
  if (host.jobtypes().empty()) {
    Log::warning("no plugin registered a jobtype: every fetched job will fail as UnknownJobtype");
  }
  return report.ok();
}

}  // namespace factotum
