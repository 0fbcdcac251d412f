#include "config/config.hpp"

namespace factotum::config {
namespace {

std::string format_what(const SourceLocation& where, const std::string& key,
                        const std::string& message) {
  std::string out = where.to_string();
  if (!out.empty()) out += ": ";
  if (!key.empty()) out += key + ": ";
  out += message;
  return out;
}

}  // namespace

std::string SourceLocation::to_string() const {
  if (line == 0) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

ConfigError::ConfigError(SourceLocation where, std::string key, std::string message)
    : std::runtime_error(format_what(where, key, message)),
      where_(std::move(where)),
      key_(std::move(key)),
      message_(std::move(message)) {}

std::string_view to_string(QueueMode mode) noexcept {
  return mode == QueueMode::weighted ? "weighted" : "strict";
}

std::string_view to_string(CpuScheduling scheduling) noexcept {
  return scheduling == CpuScheduling::batch ? "batch" : "normal";
}

std::map<std::string, std::string> PluginsConfig::config_json() const {
  std::map<std::string, std::string> out;
  for (const auto& [name, plugin] : settings) out.emplace(name, plugin.json);
  return out;
}

std::optional<std::chrono::milliseconds> Config::jobtype_timeout(std::string_view jobtype) const {
  const auto it = jobtypes.find(jobtype);
  if (it == jobtypes.end()) return std::nullopt;
  return it->second.timeout;
}

}  // namespace factotum::config
