#include "config/yaml_support.hpp"

#include "faktory/quote.hpp"

#include <yaml-cpp/node/impl.h>
#include <yaml-cpp/node/iterator.h>

#include <map>

namespace factotum::config {

SourceLocation location_of(const YAML::Mark& mark, const std::string& file) {
  // A null mark (-1) stays "no position" rather than turning into line 0 of a file.
  if (mark.line < 0 || mark.column < 0) return SourceLocation{file, 0, 0};
  return SourceLocation{file, static_cast<unsigned>(mark.line) + 1,
                        static_cast<unsigned>(mark.column) + 1};
}

SourceLocation location_of(const YAML::Node& node, const std::string& file) {
  return location_of(node.Mark(), file);
}

std::string join_key(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  std::string out(path);
  out += '.';
  out += key;
  return out;
}

bool is_plain_scalar(const YAML::Node& node) {
  // yaml-cpp tags an untagged plain scalar "?" and an untagged quoted one "!".
  return node.IsScalar() && node.Tag() == "?";
}

std::string describe_value(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Scalar:
      return faktory::quote(node.Scalar());
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "no value";
}

void for_each_entry(const YAML::Node& map, const std::string& file, const std::string& path,
                    const EntryFn& fn) {
  std::map<std::string, unsigned, std::less<>> seen;  // key → line of its first occurrence
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node key_node = it->first;
    const YAML::Node value = it->second;
    if (!key_node.IsScalar()) {
      throw ConfigError(location_of(key_node, file), path,
                        "a key must be a plain string, got " + describe_value(key_node));
    }
    const std::string& key = key_node.Scalar();
    const SourceLocation where = location_of(key_node, file);
    const auto [first, inserted] = seen.emplace(key, where.line);
    if (!inserted) {
      throw ConfigError(where, join_key(path, key),
                        "duplicate key " + faktory::quote(key) + " (first at line " +
                            std::to_string(first->second) + ")");
    }
    fn(key, key_node, value);
  }
}

}  // namespace factotum::config
