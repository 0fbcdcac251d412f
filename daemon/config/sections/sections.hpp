// The walk over each top-level section of the file: which key holds what, read through
// YamlReader (positions, types) and value_parsers (each value's rules), into that section's part
// of the Config. A section that is missing or empty leaves the defaults. Internal to the config
// module: includes yaml-cpp.
#pragma once

#include "config/config.hpp"
#include "config/file_facts.hpp"
#include "config/yaml_reader.hpp"
#include "faktory/url.hpp"

#include <map>
#include <string>
#include <vector>

namespace factotum::config {

// faktory: url (into `facts`: flags and the environment may override it), password or
// password_file (read here; `env` for $CREDENTIALS_DIRECTORY), tls.
void read_faktory(const YamlReader& yaml, const YAML::Node& value, const faktory::EnvLookup& env,
                  FaktoryConfig& out, FileFacts& facts);

void read_worker(const YamlReader& yaml, const YAML::Node& value, WorkerConfig& out);

void read_plugins(const YamlReader& yaml, const YAML::Node& value, PluginsConfig& out);

void read_jobtypes(const YamlReader& yaml, const YAML::Node& value,
                   std::map<std::string, JobtypeOptions, std::less<>>& out);

// `key` is the middleware key itself, where an error about a missing list points.
void read_middleware(const YamlReader& yaml, const YAML::Node& key, const YAML::Node& value,
                     std::vector<MiddlewareEntry>& out);

void read_logging(const YamlReader& yaml, const YAML::Node& value, LoggingConfig& out);

void read_metrics(const YamlReader& yaml, const YAML::Node& value, MetricsConfig& out);

}  // namespace factotum::config
