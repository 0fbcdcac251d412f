// A plugin's settings (`plugins.config.<name>`) as JSON text, the only form that crosses the
// plugin ABI (DESIGN.md §4.3). Internal to the config module: includes yaml-cpp.
#pragma once

#include <yaml-cpp/node/node.h>

#include <cstddef>
#include <string>

namespace factotum::config {

// Converts a YAML subtree to compact JSON. Plain scalars are typed like YAML 1.2's core
// schema: true/false → bool, null/~/empty → null, decimal/0x/0o integers → numbers, decimal
// floats → numbers (.inf/.nan, which JSON cannot express, stay strings); everything else, and
// every quoted scalar, is a string. Map keys become strings, in file order. A duplicate key or
// a non-scalar key is a ConfigError at its position (`file`, `key_path` name it); so is a
// string that is not UTF-8, and nesting deeper than 64 levels.
//
// YAML aliases are references: a few hundred bytes of aliases to aliases expand a
// billion-fold when copied. So each value converted counts against `values_left`, shared by
// every plugin's settings (start it at kMaxSettingsValues); none left is a ConfigError.
inline constexpr std::size_t kMaxSettingsValues = 100'000;
std::string yaml_to_json(const YAML::Node& node, const std::string& file,
                         const std::string& key_path, std::size_t& values_left);

}  // namespace factotum::config
