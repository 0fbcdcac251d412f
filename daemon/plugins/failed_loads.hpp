// The plugin files that failed to load, remembered so that a rescan does not load them again:
// every attempt stages and maps the library anew and may run its init (whose code then stays
// mapped for good, DESIGN.md §4.7). A failure is remembered for one version of one file (path
// and FileIdentity) and, once the plugin's name was known, the plugins.config.<name> it was
// tried with: a new file version or a changed config is tried again. The loading thread only
// (start-up, then the reload thread).
#pragma once

#include "plugins/generation.hpp"
#include "plugins/plugin_host.hpp"

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace factotum::plugins {

struct FailedLoad {
  FileIdentity identity;
  std::string reason;
  // Set when the failure came after the descriptor was read (a name conflict, init failed,
  // a jobtype conflict): the plugin's name and the config it was given.
  std::string plugin;
  std::string config;
  // A conflict with another loaded plugin is not a property of the file alone: the name and
  // the jobtypes it wants are checked again, without loading it, against each new plugin set,
  // and it is tried again once they are free.
  bool conflict = false;
  std::vector<std::string> jobtypes;
};

class FailedLoads {
 public:
  // The failure remembered for this version of `file`, still valid with `options`' config.
  const FailedLoad* find(const std::filesystem::path& file, const FileIdentity& identity,
                         const LoadOptions& options) const;
  void remember(const std::filesystem::path& file, FailedLoad failure);
  void forget(const std::filesystem::path& file) { failures_.erase(file); }
  // Forgets the files `keep` says no to (gone from a rescanned directory).
  void keep_only(const std::function<bool(const std::filesystem::path&)>& keep);

 private:
  std::map<std::filesystem::path, FailedLoad> failures_;  // the latest failure per file
};

// The text reported for a failure found in the memory (LoadError::repeated).
std::string not_retried(const std::string& reason);

}  // namespace factotum::plugins
