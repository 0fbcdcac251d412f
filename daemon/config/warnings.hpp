// Valid but probably unintended settings (Config::warnings), once the URL is resolved: a TLS
// setting means nothing without a tcp+tls:// URL, so whether it deserves a warning is only known
// then.
#pragma once

#include "config/config.hpp"
#include "config/file_facts.hpp"

#include <string>
#include <vector>

namespace factotum::config {

// One "FILE:L:C: KEY: MESSAGE" line per warning: the password file's, then the TLS ones.
std::vector<std::string> config_warnings(const FaktoryConfig& faktory, const FileFacts& file);

}  // namespace factotum::config
