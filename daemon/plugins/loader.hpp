// Loading one plugin file (DESIGN.md §4.2, §4.6, §4.8): trust checks, a private staged copy,
// dlopen with RTLD_NOW | RTLD_LOCAL, the entry point and descriptor checks. Every failure is a
// sentence for the operator saying what is wrong with the file and what to do about it.
#pragma once

#include "factotum/sdk.h"
#include "plugins/generation.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace factotum::plugins {

// The private directory staged copies are loaded from (mode 0700). The default one is made by
// mkdtemp() and removed on destruction; removing a staged file is safe while it is mapped.
class StagingDir {
 public:
  // A fresh directory under $RUNTIME_DIRECTORY (systemd) or the system temp directory.
  static std::unique_ptr<StagingDir> create(std::string& why);
  ~StagingDir();
  StagingDir(const StagingDir&) = delete;
  StagingDir& operator=(const StagingDir&) = delete;
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  explicit StagingDir(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
};

// A configured staging directory: created 0700 when missing; refused when other users could
// write or read it (they could swap a staged file between copy and dlopen).
std::optional<std::string> ensure_private_directory(const std::filesystem::path& dir);

// StrictModes for a plugin directory: owned by root or the daemon's user, not writable by
// group or others. Returns the reason it is refused.
std::optional<std::string> check_directory_trust(const std::filesystem::path& dir);

// The identity reload() compares against a generation's (stat follows symlinks, like open).
std::optional<FileIdentity> identify(const std::filesystem::path& file);

struct StagedFile {
  std::filesystem::path staged;
  FileIdentity identity;  // of the bytes actually copied (fstat of the descriptor read)
};

// Opens `file` once, checks it (regular file, StrictModes when `strict`, ELF magic) and
// copies those same bytes to a name unique to `generation` in `staging_dir`: glibc returns
// the old handle for a path it already loaded, and overwriting a mapped .so in place would
// crash the process; a private copy avoids both (DESIGN.md §4.6).
std::optional<StagedFile> stage_plugin_file(const std::filesystem::path& file,
                                            const std::filesystem::path& staging_dir,
                                            std::uint64_t generation, bool strict,
                                            std::string& why);

// dlopens the staged copy with RTLD_NOW | RTLD_LOCAL, finds factotum_plugin_v1 and checks the
// descriptor. The returned copy is zero-filled beyond what the plugin's descriptor holds.
// The library is never unloaded, even when its checks fail (DESIGN.md §4.7).
std::optional<factotum_plugin_descriptor> open_plugin(const std::filesystem::path& staged,
                                                      const std::filesystem::path& file,
                                                      std::string& why);

}  // namespace factotum::plugins
