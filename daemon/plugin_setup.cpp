#include "plugin_setup.hpp"

#include "config/did_you_mean.hpp"
#include "plugins/plugin_host.hpp"
#include "service/log.hpp"

#include <set>

namespace factotum {

using service::Log;

namespace {

// A plugins.config.<name> entry that names no loaded plugin: a typo, or a plugin that failed
// to load. Either way its settings reach nobody; say so (DESIGN.md §5: unknown keys are errors).
void check_plugin_settings(const plugins::PluginHost& host, const config::Config& config) {
  std::vector<std::string> loaded;
  for (const auto& jobtype : host.jobtypes()) loaded.push_back(jobtype.plugin);
  for (const auto& middleware : host.middleware()) loaded.push_back(middleware.plugin);
  const std::set<std::string> names(loaded.begin(), loaded.end());
  const std::vector<std::string> candidates(names.begin(), names.end());
  for (const auto& [name, settings] : config.plugins.settings) {
    if (names.contains(name)) continue;
    std::string message = "no loaded plugin is named '" + name + "'";
    if (auto close = config::did_you_mean(name, candidates)) {
      message += "; did you mean '" + *close + "'?";
    } else {
      message += " (its settings are not used)";
    }
    if (config.plugins.fatal_errors) {
      throw config::ConfigError(settings.where, "plugins.config." + name, message);
    }
    Log::warning(settings.where.to_string() + ": plugins.config." + name + ": " + message);
  }
}

}  // namespace

bool setup_plugins(plugins::PluginHost& host, const config::Config& config, PluginSetup mode) {
  plugins::LoadOptions load;
  load.strict_permissions = config.plugins.strict_permissions;
  load.fatal_errors = config.plugins.fatal_errors;
  load.config_json = config.plugins.config_json();
  const auto report = mode == PluginSetup::start
                          ? host.load_directories(config.plugins.directories, load)
                          : host.reload(config.plugins.directories, load);
  for (const auto& loaded : report.loaded) Log::info("plugin loaded", {{"plugin", loaded}});
  for (const auto& error : report.errors) {
    Log::error("plugin not loaded", {{"file", error.file.string()}, {"reason", error.reason}});
  }
  if (!report.ok() && config.plugins.fatal_errors) {
    const auto& first = report.errors.front();
    throw config::ConfigError({config.source.string(), 0, 0}, "plugins.fatal_errors",
                              "plugin " + first.message());
  }
  std::vector<std::string> order;
  for (const auto& entry : config.middleware) order.push_back(entry.name);
  if (auto error = host.set_middleware_order(order)) {
    const auto where =
        config.middleware.empty() ? config::SourceLocation{} : config.middleware.front().where;
    throw config::ConfigError(where, "middleware", *error);
  }
  check_plugin_settings(host, config);
  if (host.jobtypes().empty()) {
    Log::warning("no plugin registered a jobtype: every fetched job will fail as UnknownJobtype");
  }
  return report.ok();
}

}  // namespace factotum
