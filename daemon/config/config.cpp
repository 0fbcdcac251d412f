#include "config/config.hpp"

namespace factotum::config {
namespace {

// One line, whatever the parts hold: a key may be any quoted YAML string ("a\nb"), and
// yaml-cpp's messages carry the character it could not read (found by
// tests/fuzz/fuzz_config_yaml). Control characters are shown escaped.
std::string one_line(const std::string& text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (byte < 0x20 || byte == 0x7f) {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

std::string format_what(const SourceLocation& where, const std::string& key,
                        const std::string& message) {
  std::string out = where.to_string();
  if (!out.empty()) out += ": ";
  if (!key.empty()) out += key + ": ";
  out += message;
  return one_line(out);
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
