// plugins: directories, strict_permissions, fatal_errors, watch, config.<plugin>.
#include "config/sections/sections.hpp"
#include "config/yaml_to_json.hpp"
#include "faktory/quote.hpp"

#include <yaml-cpp/node/iterator.h>

#include <algorithm>
#include <utility>

namespace factotum::config {
namespace {

namespace fs = std::filesystem;
using faktory::quote;

constexpr std::string_view kPluginsKeys[] = {"directories", "strict_permissions", "fatal_errors",
                                             "watch", "config"};

void read_directories(const YamlReader& yaml, const YAML::Node& k, const YAML::Node& v,
                      PluginsConfig& out) {
  const std::string path = "plugins.directories";
  if (!v.IsSequence()) {
    yaml.fail(YamlReader::point(k, v), path,
              "expected a list of directories, got " + describe_value(v));
  }
  std::vector<fs::path> directories;
  std::vector<std::pair<std::string, unsigned>> written;  // as written, and its line
  for (const YAML::Node& item : v) {
    if (!item.IsScalar()) {
      yaml.fail(item, path, "expected a directory, got " + describe_value(item));
    }
    const std::string& text = item.Scalar();
    if (text.empty()) yaml.fail(item, path, "a directory cannot be empty");
    fs::path dir = yaml.path(text);
    const auto same = std::find(directories.begin(), directories.end(), dir);
    if (same != directories.end()) {
      // Loading a directory twice would register every jobtype in it twice.
      const auto& [first_text, first_line] =
          written[static_cast<std::size_t>(same - directories.begin())];
      yaml.fail(item, path,
                quote(text) + " is the same directory as " + quote(first_text) + " (line " +
                    std::to_string(first_line) + ")");
    }
    directories.push_back(std::move(dir));
    written.emplace_back(text, yaml.where(item).line);
  }
  out.directories = std::move(directories);
}

void read_settings(const YamlReader& yaml, const YAML::Node& v, PluginsConfig& out) {
  const std::string path = "plugins.config";
  if (v.IsNull()) return;
  if (!v.IsMap()) {
    yaml.fail(v, path, "expected a map of plugin name to settings, got " + describe_value(v));
  }
  std::size_t values_left = kMaxSettingsValues;
  yaml.entries(v, path, [&](const std::string& name, const YAML::Node& k, const YAML::Node& value) {
    const std::string key = join_key(path, name);
    if (name.empty()) yaml.fail(k, path, "a plugin name cannot be empty");
    PluginSettings settings;
    settings.where = yaml.where(k);
    if (value.IsNull()) {
      settings.json = "{}";
    } else if (value.IsMap()) {
      settings.json = yaml_to_json(value, yaml.file(), key, values_left);
    } else {
      // The SDK promises plugins a JSON object (sdk.h, config_json).
      yaml.fail(value, key,
                "expected a map of settings for plugin " + quote(name) + ", got " +
                    describe_value(value));
    }
    out.settings.emplace(name, std::move(settings));
  });
}

}  // namespace

void read_plugins(const YamlReader& yaml, const YAML::Node& v, PluginsConfig& out) {
  yaml.section(v, "plugins", kPluginsKeys,
               [&](const std::string& key, const YAML::Node& k, const YAML::Node& value) {
                 const std::string path = join_key("plugins", key);
                 if (key == "directories") {
                   read_directories(yaml, k, value, out);
                 } else if (key == "strict_permissions") {
                   out.strict_permissions = yaml.boolean(k, value, path);
                 } else if (key == "fatal_errors") {
                   out.fatal_errors = yaml.boolean(k, value, path);
                 } else if (key == "watch") {
                   out.watch = yaml.boolean(k, value, path);
                 } else if (key == "config") {
                   read_settings(yaml, value, out);
                 }
               });
}

}  // namespace factotum::config
