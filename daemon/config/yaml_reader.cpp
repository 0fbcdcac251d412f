#include "config/yaml_reader.hpp"
#include "config/did_you_mean.hpp"
#include "config/duration.hpp"
#include "config/value_parsers.hpp"
#include "faktory/quote.hpp"

#include <algorithm>

namespace factotum::config {
namespace {

using faktory::quote;

constexpr std::string_view kDurationExample = "a duration such as 25s, 1500ms or 2m";

bool contains(KeyNames keys, std::string_view key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

}  // namespace

YamlReader::YamlReader(std::string file, std::filesystem::path base_dir)
    : file_(std::move(file)), base_dir_(std::move(base_dir)) {}

SourceLocation YamlReader::where(const YAML::Node& node) const {
  return location_of(node, file_);
}

void YamlReader::fail(const YAML::Node& at, const std::string& key, std::string message) const {
  throw ConfigError(where(at), key, std::move(message));
}

const YAML::Node& YamlReader::point(const YAML::Node& key, const YAML::Node& value) {
  return value.IsNull() ? key : value;
}

void YamlReader::section(const YAML::Node& value, const std::string& path, KeyNames known,
                         const EntryFn& fn) const {
  if (value.IsNull()) return;
  if (!value.IsMap()) fail(value, path, "expected a map, got " + describe_value(value));
  entries(value, path, [&](const std::string& key, const YAML::Node& k, const YAML::Node& v) {
    if (!contains(known, key)) {
      fail(k, join_key(path, key),
           "unknown key " + quote(key) + " in " + path + suggestion_suffix(key, known));
    }
    fn(key, k, v);
  });
}

void YamlReader::entries(const YAML::Node& map, const std::string& path, const EntryFn& fn) const {
  for_each_entry(map, file_, path, fn);
}

unsigned YamlReader::positive(const YAML::Node& k, const YAML::Node& v, const std::string& key,
                              unsigned max, std::string_view what) const {
  if (!v.IsScalar()) {
    fail(point(k, v), key, "expected " + std::string(what) + ", got " + describe_value(v));
  }
  unsigned out = 0;
  if (auto error = parse_positive(v.Scalar(), !is_plain_scalar(v), max, what, out)) {
    fail(v, key, std::move(*error));
  }
  return out;
}

bool YamlReader::boolean(const YAML::Node& k, const YAML::Node& v, const std::string& key) const {
  if (v.IsScalar()) {
    const std::string& s = v.Scalar();
    const bool is_true = s == "true" || s == "True" || s == "TRUE";
    const bool is_false = s == "false" || s == "False" || s == "FALSE";
    if (is_plain_scalar(v) && (is_true || is_false)) return is_true;
    if (is_true || is_false) {
      fail(v, key, "expected true or false, got the string " + quote(s) + " (remove the quotes)");
    }
  }
  fail(point(k, v), key, "expected true or false, got " + describe_value(v));
}

std::string YamlReader::string(const YAML::Node& k, const YAML::Node& v, const std::string& key,
                               std::string_view what) const {
  if (!v.IsScalar()) {
    fail(point(k, v), key,
         "expected " + std::string(what) + ", got " +
             (v.IsSequence() ? "a list"
              : v.IsMap()    ? "a map"
                             : "no value"));
  }
  return v.Scalar();
}

std::chrono::milliseconds YamlReader::duration(const YAML::Node& k, const YAML::Node& v,
                                               const std::string& key) const {
  if (!v.IsScalar()) {
    fail(point(k, v), key,
         "expected " + std::string(kDurationExample) + ", got " + describe_value(v));
  }
  const ParsedDuration parsed = parse_duration(v.Scalar());
  if (!parsed.ok()) fail(v, key, parsed.error);
  return parsed.value;
}

std::filesystem::path YamlReader::path(const std::string& text) const {
  return resolve_path(text, base_dir_);
}

}  // namespace factotum::config
