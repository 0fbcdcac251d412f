#include "shell_config.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

#include <charconv>
#include <cstdint>
#include <system_error>

namespace factotum::shell {
namespace {

constexpr std::string_view kRoot = "plugins.config.shell";

[[noreturn]] void fail(const std::string& key, const std::string& message) {
  throw ConfigError(key + ": " + message);
}

// Names what was found instead, with the fix for the usual YAML surprise: a plain 5 or true
// arrives as a number or a bool, not as text.
std::string describe(const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::null:
      return "got null";
    case boost::json::kind::bool_:
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_: {
      const std::string text = boost::json::serialize(value);
      return "got " + text + " (quote it, \"" + text + "\", to make it a string)";
    }
    case boost::json::kind::string:
      return "got the string " + boost::json::serialize(value);
    case boost::json::kind::array:
      return "got a list";
    case boost::json::kind::object:
      return "got a map";
  }
  return "got something else";
}

std::string string_value(const boost::json::value& value, const std::string& key,
                         std::string_view expected) {
  if (!value.is_string()) fail(key, "expected " + std::string(expected) + ", " + describe(value));
  std::string text(value.get_string());
  // A NUL cannot cross execve or setenv: it would silently cut the value short.
  if (text.find('\0') != std::string::npos) fail(key, "contains a NUL character");
  return text;
}

void parse_command(const boost::json::value& value, const std::string& key, JobtypeConfig& out) {
  constexpr std::string_view kExpected = "expected a non-empty list of strings";
  if (!value.is_array() || value.get_array().empty()) fail(key, std::string(kExpected));
  const auto& list = value.get_array();
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string element_key = key + "[" + std::to_string(i) + "]";
    if (!list[i].is_string()) {
      fail(element_key,
           std::string(kExpected) + "; element " + std::to_string(i) + " " + describe(list[i]));
    }
    out.command.push_back(string_value(list[i], element_key, "a string"));
  }
  out.program = out.command.front();
  if (out.program.empty() || out.program.front() != '/') {
    fail(key + "[0]", "the program must be an absolute path (no PATH lookup is done), got \"" +
                          out.program + "\"");
  }
  if (out.program.find_first_of("{}") != std::string::npos) {
    fail(key + "[0]",
         "the program cannot contain placeholders or braces: job args must not choose what "
         "runs");
  }
  for (std::size_t i = 1; i < out.command.size(); ++i) {
    try {
      out.args.push_back(ArgTemplate::parse(out.command[i]));
    } catch (const std::invalid_argument& e) {
      fail(key + "[" + std::to_string(i) + "]", e.what());
    }
  }
}

void parse_env(const boost::json::value& value, const std::string& key, JobtypeConfig& out) {
  if (!value.is_object())
    fail(key, "expected a map of variable names to strings, " + describe(value));
  for (const auto& member : value.get_object()) {
    const std::string name(member.key());
    const std::string var_key = key + "." + name;
    if (name.empty() || name.find_first_of("=") != std::string::npos ||
        name.find('\0') != std::string::npos) {
      fail(var_key, "is not a valid environment variable name");
    }
    out.env.emplace_back(name, string_value(member.value(), var_key, "a string"));
  }
}

JobtypeConfig parse_jobtype(const std::string& name, const boost::json::value& value,
                            const std::string& key) {
  if (!value.is_object()) fail(key, "expected a map with at least a command, " + describe(value));
  JobtypeConfig out;
  out.name = name;
  const auto& object = value.get_object();
  for (const auto& member : object) {
    const std::string_view field = member.key();
    const std::string field_key = key + "." + std::string(field);
    if (field == "command") {
      parse_command(member.value(), field_key, out);
    } else if (field == "timeout") {
      if (member.value().is_null()) continue;  // `timeout:` left empty means no timeout
      constexpr std::string_view kExpected = "expected a duration such as 25s, 1500ms or 10m";
      out.timeout_text = string_value(member.value(), field_key, kExpected);
      out.timeout = parse_duration(out.timeout_text);
      if (!out.timeout)
        fail(field_key, std::string(kExpected) + ", got \"" + out.timeout_text + "\"");
      if (out.timeout->count() == 0)
        fail(field_key, "must be greater than 0 (omit it for no timeout)");
    } else if (field == "env") {
      parse_env(member.value(), field_key, out);
    } else if (field == "cwd") {
      out.cwd = string_value(member.value(), field_key, "an absolute directory path");
      if (out.cwd.empty() || out.cwd.front() != '/') {
        fail(field_key, "expected an absolute directory path, got \"" + out.cwd + "\"");
      }
    } else {
      fail(field_key, "unknown key (expected command, timeout, env or cwd)");
    }
  }
  if (out.command.empty()) fail(key + ".command", "is required: the program and its arguments");
  return out;
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) return std::nullopt;
  const std::string_view unit = text.substr(digits);
  std::int64_t factor = 0;
  if (unit == "ms") factor = 1;
  if (unit == "s") factor = 1000;
  if (unit == "m") factor = 60 * 1000;
  if (unit == "h") factor = 60 * 60 * 1000;
  if (factor == 0) return std::nullopt;
  std::int64_t number = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + digits, number);
  // Also keeps steady_clock::now() + timeout far from overflowing.
  constexpr std::int64_t kMaxMs = std::int64_t{365} * 24 * 60 * 60 * 1000;
  if (ec != std::errc() || end != text.data() + digits || number > kMaxMs / factor) {
    return std::nullopt;
  }
  return std::chrono::milliseconds(number * factor);
}

ShellConfig parse_config(std::string_view json_text) {
  const std::string root(kRoot);
  std::error_code ec;
  const boost::json::value root_value = boost::json::parse(json_text, ec);
  if (ec) fail(root, "the host passed invalid JSON (" + ec.message() + ")");
  if (root_value.is_null()) return {};
  if (!root_value.is_object())
    fail(root, "expected a map with a jobtypes key, " + describe(root_value));

  ShellConfig config;
  for (const auto& member : root_value.get_object()) {
    const std::string key = root + "." + std::string(member.key());
    if (member.key() != "jobtypes") fail(key, "unknown key (expected jobtypes)");
    if (member.value().is_null()) continue;  // `jobtypes:` left empty: nothing to register
    if (!member.value().is_object()) {
      fail(key, "expected a map of jobtype names to {command, timeout, env, cwd}, " +
                    describe(member.value()));
    }
    for (const auto& jobtype : member.value().get_object()) {
      const std::string name(jobtype.key());
      const std::string jobtype_key = key + "." + name;
      if (name.empty()) fail(key, "a jobtype name cannot be empty");
      config.jobtypes.push_back(parse_jobtype(name, jobtype.value(), jobtype_key));
    }
  }
  return config;
}

}  // namespace factotum::shell
