// Small helpers for reading yaml-cpp nodes with positions, shared by load_config.cpp and
// yaml_to_json.cpp. Internal to the config module: includes yaml-cpp.
#pragma once

#include "config/config.hpp"

#include <yaml-cpp/mark.h>
#include <yaml-cpp/node/node.h>

#include <functional>
#include <string>
#include <string_view>

namespace factotum::config {

// yaml-cpp marks are 0-based; messages are 1-based like compilers'.
SourceLocation location_of(const YAML::Mark& mark, const std::string& file);
SourceLocation location_of(const YAML::Node& node, const std::string& file);

// "a.b" from a path and a key; just the key at the top level.
std::string join_key(std::string_view path, std::string_view key);

// A plain (unquoted, untagged) scalar: the only kind YAML types as bool/int/null.
bool is_plain_scalar(const YAML::Node& node);

// How a value is shown after "got ": "a list", "a map", "no value", or the quoted text.
// Never use it on a value that may be a secret.
std::string describe_value(const YAML::Node& node);

// Calls fn(key, key_node, value) for each entry of a map in file order. Keys must be scalars;
// a key seen twice is an error at the second ("duplicate key 'x' (first at line N)"), since
// yaml-cpp keeps both and a lookup would silently take one. `path` names the map in errors.
using EntryFn = std::function<void(const std::string& key, const YAML::Node& key_node,
                                   const YAML::Node& value)>;
void for_each_entry(const YAML::Node& map, const std::string& file, const std::string& path,
                    const EntryFn& fn);

}  // namespace factotum::config
