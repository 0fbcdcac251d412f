// Editing a running daemon's configuration file in place, as an operator would before SIGHUP.
#pragma once

#include "daemon_fixture.hpp"

#include <fstream>
#include <sstream>
#include <string>

namespace factotum::testing {

// Replaces the first `from` by `to` in the daemon's configuration file (`from` must be there).
inline void edit_config(const Daemon& daemon, const std::string& from, const std::string& to) {
  std::stringstream text;
  text << std::ifstream(daemon.config()).rdbuf();
  std::string yaml = text.str();
  const auto at = yaml.find(from);
  REQUIRE(at != std::string::npos);
  yaml.replace(at, from.size(), to);
  std::ofstream(daemon.config()) << yaml;
}

}  // namespace factotum::testing
