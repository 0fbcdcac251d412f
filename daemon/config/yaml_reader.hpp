// Typed values out of a YAML document, every error at the value's FILE:LINE:COL with its dotted
// key. The section walks (sections/) read through it, so they say only which key goes where.
// Internal to the config module: includes yaml-cpp.
#pragma once

#include "config/config.hpp"
#include "config/yaml_support.hpp"

// impl.h: Node's inline members, which every reader of nodes calls.
#include <yaml-cpp/node/impl.h>
#include <yaml-cpp/node/node.h>

#include <chrono>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace factotum::config {

using KeyNames = std::span<const std::string_view>;

class YamlReader {
 public:
  // `file` names the document in messages; relative paths in it resolve against `base_dir`.
  YamlReader(std::string file, std::filesystem::path base_dir);

  const std::string& file() const noexcept { return file_; }
  const std::filesystem::path& base_dir() const noexcept { return base_dir_; }
  SourceLocation where(const YAML::Node& node) const;

  [[noreturn]] void fail(const YAML::Node& at, const std::string& key, std::string message) const;

  // Where to point for a value: the value, or its key when it is empty (an empty value's
  // mark lies past it, often on the next line).
  static const YAML::Node& point(const YAML::Node& key, const YAML::Node& value);

  // Iterates a section that must be a map (an empty section means "all defaults"), refusing
  // keys it does not know: a typo must not pass silently (DESIGN.md §5).
  void section(const YAML::Node& value, const std::string& path, KeyNames known,
               const EntryFn& fn) const;
  // for_each_entry() in this file.
  void entries(const YAML::Node& map, const std::string& path, const EntryFn& fn) const;

  unsigned positive(const YAML::Node& k, const YAML::Node& v, const std::string& key, unsigned max,
                    std::string_view what = "a positive integer") const;
  // YAML 1.2 core booleans only: YAML 1.1's yes/no/on/off are a classic trap.
  bool boolean(const YAML::Node& k, const YAML::Node& v, const std::string& key) const;
  // Any scalar, quoted or not, as its text. The error never shows the value (it may be a
  // password), only its kind.
  std::string string(const YAML::Node& k, const YAML::Node& v, const std::string& key,
                     std::string_view what = "a string") const;
  std::chrono::milliseconds duration(const YAML::Node& k, const YAML::Node& v,
                                     const std::string& key) const;
  // resolve_path() against base_dir().
  std::filesystem::path path(const std::string& text) const;

 private:
  std::string file_;
  std::filesystem::path base_dir_;
};

}  // namespace factotum::config
