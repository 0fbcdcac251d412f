#include "config/yaml_to_json.hpp"

#include "config/yaml_support.hpp"

#include <yaml-cpp/node/impl.h>
#include <yaml-cpp/node/iterator.h>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace factotum::config {
namespace {

bool all_of(std::string_view s, bool (*pred)(char)) {
  if (s.empty()) return false;
  for (const char c : s) {
    if (!pred(c)) return false;
  }
  return true;
}
bool is_dec(char c) {
  return c >= '0' && c <= '9';
}
bool is_oct(char c) {
  return c >= '0' && c <= '7';
}
bool is_hex(char c) {
  return is_dec(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// YAML 1.2 core schema float: [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
bool is_core_float(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  std::size_t int_digits = 0;
  while (i < s.size() && is_dec(s[i])) ++i, ++int_digits;
  std::size_t frac_digits = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_dec(s[i])) ++i, ++frac_digits;
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    std::size_t exp_digits = 0;
    while (i < s.size() && is_dec(s[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == s.size();
}

// An integer in `digits` (base 8, 10 or 16), negated when `negative`; null when it does not
// fit 64 bits, so it stays a string rather than losing precision.
boost::json::value integer(std::string_view digits, int base, bool negative) {
  std::uint64_t magnitude = 0;
  const auto [end, ec] =
      std::from_chars(digits.data(), digits.data() + digits.size(), magnitude, base);
  if (ec != std::errc() || end != digits.data() + digits.size()) return nullptr;
  if (!negative) {
    if (magnitude <= static_cast<std::uint64_t>(INT64_MAX)) {
      return static_cast<std::int64_t>(magnitude);
    }
    return magnitude;
  }
  if (magnitude <= static_cast<std::uint64_t>(INT64_MAX)) {
    return -static_cast<std::int64_t>(magnitude);
  }
  if (magnitude == static_cast<std::uint64_t>(INT64_MAX) + 1) return INT64_MIN;
  return nullptr;
}

// A plain scalar typed by YAML 1.2's core schema (what a YAML-reading plugin author expects,
// not YAML 1.1's yes/no/on/off booleans).
boost::json::value typed_plain(const std::string& text) {
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
    return nullptr;
  }
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;

  std::string_view s = text;
  bool negative = false;
  std::string_view unsigned_part = s;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    negative = s.front() == '-';
    unsigned_part = s.substr(1);
  }
  if (all_of(unsigned_part, is_dec)) {
    auto v = integer(unsigned_part, 10, negative);
    return v.is_null() ? boost::json::value(text) : v;
  }
  // The core schema has unsigned 0o/0x forms only.
  if (s.size() > 2 && s[0] == '0' && s[1] == 'o' && all_of(s.substr(2), is_oct)) {
    auto v = integer(s.substr(2), 8, false);
    return v.is_null() ? boost::json::value(text) : v;
  }
  if (s.size() > 2 && s[0] == '0' && s[1] == 'x' && all_of(s.substr(2), is_hex)) {
    auto v = integer(s.substr(2), 16, false);
    return v.is_null() ? boost::json::value(text) : v;
  }
  if (is_core_float(s)) {
    // strtod is locale-dependent, but the daemon never calls setlocale, so "C" applies.
    const double d = std::strtod(text.c_str(), nullptr);
    if (std::isfinite(d)) return d;
  }
  // .inf/.nan have no JSON form: they stay strings, like everything else.
  return boost::json::value(text);
}

// Whether Boost.JSON's parser takes `s` as a string: it rejects what is not well-formed UTF-8
// (the serializer escapes control characters and passes other bytes through as they are).
bool is_utf8(std::string_view s) {
  boost::system::error_code ec;
  boost::json::parse(boost::json::serialize(boost::json::string_view(s)), ec);
  return !ec;
}

// yaml-cpp passes any bytes through, but JSON text must be UTF-8: a plugin could not parse the
// settings it is handed (found by tests/fuzz/fuzz_config_yaml).
void require_utf8(const YAML::Node& node, const std::string& file, const std::string& path) {
  if (!is_utf8(node.Scalar())) {
    throw ConfigError(location_of(node, file), path,
                      "is not valid UTF-8; plugin settings are handed to the plugin as JSON, "
                      "which must be");
  }
}

// A YAML alias is a reference, not a copy: `a: &x {b: *x}` is a node that contains itself.
// The conversion copies, so it stops at a depth no plugin setting comes near (found by
// tests/fuzz/fuzz_config_yaml: a stack overflow).
constexpr std::size_t kMaxDepth = 64;

struct Conversion {
  const std::string& file;
  std::size_t& values_left;
};

boost::json::value convert(const YAML::Node& node, const std::string& path, std::size_t depth,
                           Conversion& c) {
  if (depth > kMaxDepth) {
    throw ConfigError(location_of(node, c.file), path,
                      "nests deeper than " + std::to_string(kMaxDepth) +
                          " levels (is an alias inside the node it names?)");
  }
  if (c.values_left == 0) {
    throw ConfigError(location_of(node, c.file), path,
                      "plugin settings hold more than " + std::to_string(kMaxSettingsValues) +
                          " values in all (do aliases repeat aliases?)");
  }
  --c.values_left;
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      require_utf8(node, c.file, path);
      if (is_plain_scalar(node)) return typed_plain(node.Scalar());
      return boost::json::value(node.Scalar());
    case YAML::NodeType::Sequence: {
      boost::json::array out;
      out.reserve(node.size());
      std::size_t index = 0;
      for (auto it = node.begin(); it != node.end(); ++it, ++index) {
        out.push_back(convert(*it, path + "[" + std::to_string(index) + "]", depth + 1, c));
      }
      return out;
    }
    case YAML::NodeType::Map: {
      boost::json::object out;
      for_each_entry(node, c.file, path,
                     [&](const std::string& key, const YAML::Node& k, const YAML::Node& value) {
                       require_utf8(k, c.file, join_key(path, key));
                       out.emplace(key, convert(value, join_key(path, key), depth + 1, c));
                     });
      return out;
    }
  }
  return nullptr;
}

}  // namespace

std::string yaml_to_json(const YAML::Node& node, const std::string& file,
                         const std::string& key_path, std::size_t& values_left) {
  Conversion conversion{file, values_left};
  return boost::json::serialize(convert(node, key_path, 0, conversion));
}

}  // namespace factotum::config
