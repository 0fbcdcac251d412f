#include "plugins/scan.hpp"

#include "plugins/trust.hpp"

#include <algorithm>
#include <system_error>
#include <utility>

namespace factotum::plugins {

namespace fs = std::filesystem;

fs::path absolute_path(const fs::path& path) {
  std::error_code ec;
  fs::path absolute = fs::absolute(path, ec);
  return (ec ? path : absolute).lexically_normal();
}

namespace {

Candidate open_candidate(const service::UniqueFd& directory_fd, fs::path file, fs::path directory,
                         bool strict) {
  Candidate candidate{std::move(file), std::move(directory), std::nullopt, {}};
  candidate.opened = open_plugin_file(directory_fd, candidate.file, strict, candidate.error);
  return candidate;
}

}  // namespace

Scan scan_directories(const std::vector<fs::path>& directories, bool strict,
                      std::vector<LoadError>& errors) {
  Scan scan;
  for (const auto& given : directories) {
    fs::path directory = absolute_path(given);
    // "dir/" and "dir" are one directory; listed twice, its plugins would clash with themselves.
    if (!directory.has_filename() && directory.has_parent_path() &&
        directory != directory.root_path()) {
      directory = directory.parent_path();
    }
    if (std::find(scan.configured.begin(), scan.configured.end(), directory) !=
        scan.configured.end()) {
      continue;
    }
    scan.configured.push_back(directory);
    std::string why;
    const SharedFd fd = open_plugin_directory(directory, strict, why);
    std::optional<std::vector<std::string>> names;
    if (fd) names = list_plugin_files(*fd, why);
    if (!names) {
      errors.push_back({directory, std::move(why)});
      continue;
    }
    scan.listed.push_back(directory);
    for (const auto& name : *names) {
      scan.candidates.push_back(open_candidate(*fd, directory / name, directory, strict));
    }
  }
  return scan;
}

Scan scan_file(const fs::path& file, bool strict) {
  Scan scan;
  const fs::path absolute = absolute_path(file);
  std::string why;
  const SharedFd fd = open_plugin_directory(absolute.parent_path(), strict, why);
  if (!fd) {
    scan.candidates.push_back({absolute, {}, std::nullopt, std::move(why)});
  } else {
    scan.candidates.push_back(open_candidate(*fd, absolute, {}, strict));
  }
  return scan;
}

}  // namespace factotum::plugins
