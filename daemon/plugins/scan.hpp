// Finding the plugin files a load or reload considers: each directory opened through its
// checked path (trust.hpp), its `*.so` files in name order, each opened and checked
// (loader.hpp open_plugin_file). Cheap, and run in full at every rescan: nothing here loads a
// library or runs plugin code.
#pragma once

#include "plugins/loader.hpp"
#include "plugins/plugin_host.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace factotum::plugins {

struct Candidate {
  std::filesystem::path file;       // absolute, named through its configured directory
  std::filesystem::path directory;  // the configured directory; empty for load_file()
  std::optional<OpenedFile> opened;
  std::string error;  // why it could not be opened (opened is empty)
};

struct Scan {
  std::vector<Candidate> candidates;  // scan order: directories as configured, names sorted
  std::vector<std::filesystem::path> configured;  // the directories asked for (absolute)
  std::vector<std::filesystem::path> listed;      // those read in full
};

// Directory errors (missing, refused, unreadable) go to `errors`, naming the directory.
Scan scan_directories(const std::vector<std::filesystem::path>& directories, bool strict,
                      std::vector<LoadError>& errors);
// One file; errors about its directory are the file's.
Scan scan_file(const std::filesystem::path& file, bool strict);

// `path` made absolute (against the working directory) and lexically normal.
std::filesystem::path absolute_path(const std::filesystem::path& path);

}  // namespace factotum::plugins
