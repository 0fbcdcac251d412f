// Plugin files that crashed the worker while loading (a static constructor, init): not loaded
// again by the workers this supervisor starts, until the file changes (another inode, size or
// mtime: a fixed build dropped in its place is tried). Kept by the supervisor and inherited by
// each worker it forks.
#pragma once

#include "service/file_identity.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace factotum::supervisor {

class Quarantine {
 public:
  void add(const std::filesystem::path& file, const service::FileIdentity& identity,
           std::string how);
  // Why `file` in this version must not be loaded, or nullopt.
  std::optional<std::string> refuse(const std::filesystem::path& file,
                                    const service::FileIdentity& identity) const;
  bool empty() const noexcept { return entries_.empty(); }

 private:
  struct Entry {
    std::filesystem::path file;
    service::FileIdentity identity;
    std::string how;
  };
  std::vector<Entry> entries_;
};

}  // namespace factotum::supervisor
