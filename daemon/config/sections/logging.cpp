// logging: level, format.
#include "config/sections/sections.hpp"
#include "config/value_parsers.hpp"

namespace factotum::config {
namespace {

constexpr std::string_view kLoggingKeys[] = {"level", "format"};

}  // namespace

void read_logging(const YamlReader& yaml, const YAML::Node& v, LoggingConfig& out) {
  yaml.section(v, "logging", kLoggingKeys,
               [&](const std::string& key, const YAML::Node& k, const YAML::Node& value) {
                 const std::string path = join_key("logging", key);
                 const std::string text = yaml.string(k, value, path);
                 std::optional<std::string> error;
                 if (key == "level") {
                   error = log_level_from_name(text, out.level);
                   out.level_source = ValueSource::file;
                 } else if (key == "format") {
                   error = log_format_from_name(text, out.format);
                 }
                 if (error) yaml.fail(value, path, std::move(*error));
               });
}

}  // namespace factotum::config
