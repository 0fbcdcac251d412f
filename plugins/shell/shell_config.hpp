// The shell plugin's configuration (`plugins.config.shell`), parsed and validated once at init
// into an immutable struct; jobs never look at JSON config again.
#pragma once

#include "substitute.hpp"

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace factotum::shell {

// Invalid configuration; what() starts with the full key path
// ("plugins.config.shell.jobtypes.greet.command: ...").
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct JobtypeConfig {
  std::string name;
  // command[0] is the program: an absolute path without placeholders, so a job's args can
  // never choose what runs.
  std::string program;
  std::vector<ArgTemplate> args;     // command[1..]
  std::vector<std::string> command;  // as written, for log lines
  std::optional<std::chrono::milliseconds> timeout;
  std::string timeout_text;  // as written ("10s"), for the timeout message
  std::vector<std::pair<std::string, std::string>> env;  // added to the daemon's environment
  std::string cwd;                                       // empty: the daemon's working directory
};

struct ShellConfig {
  std::vector<JobtypeConfig> jobtypes;
};

// Parses the JSON object text the host hands over. Throws ConfigError.
ShellConfig parse_config(std::string_view json_text);

// "<digits><unit>" with unit ms, s, m or h (the daemon's own duration syntax); nullopt when
// `text` is not one.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace factotum::shell
