// Loading one plugin file (DESIGN.md §4.2, §4.6, §4.8): opening and checking it, a private
// staged copy, dlopen with RTLD_NOW | RTLD_LOCAL, the entry point and descriptor checks. Every
// failure is a sentence for the operator saying what is wrong with the file and what to do about
// it.
#pragma once

#include "factotum/sdk.h"
#include "plugins/generation.hpp"
#include "plugins/trust.hpp"
#include "service/unique_fd.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace boost::dll {
class shared_library;
}

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

// A plugin file opened for loading: every check and the staged copy use this one descriptor,
// so what was checked is what gets loaded.
struct OpenedFile {
  std::filesystem::path file;  // as the operator named it: <configured directory>/<name>
  SharedFd fd;
  FileIdentity identity;  // fstat of `fd`: what reload() compares
};

// Opens `file`, whose directory `directory` is (from open_plugin_directory), with O_NOFOLLOW
// (a plugin is never reached through a symbolic link: its target escapes the directory that
// was checked) and O_NONBLOCK (a FIFO named *.so must not hang the loader), then checks it: a
// regular file, StrictModes when `strict`, ELF magic. These checks are cheap and run at every
// rescan; nothing here runs plugin code.
std::optional<OpenedFile> open_plugin_file(const service::UniqueFd& directory,
                                           const std::filesystem::path& file, bool strict,
                                           std::string& why);

// The names of the `*.so` entries of `directory`, in name order (a deterministic load order,
// hence middleware order).
std::optional<std::vector<std::string>> list_plugin_files(const service::UniqueFd& directory,
                                                          std::string& why);

// Copies the opened file to a name unique to `generation` in `staging_dir`: glibc returns the
// old handle for a path it already loaded, and overwriting a mapped .so in place would crash
// the process; a private copy avoids both (DESIGN.md §4.6). Refuses a file that changed while
// it was copied. Returns the staged path.
std::optional<std::filesystem::path> stage_plugin_file(const OpenedFile& file,
                                                       const std::filesystem::path& staging_dir,
                                                       std::uint64_t generation, std::string& why);

// A dlopened plugin library. Dropping it unloads the library (dlclose), which is right only
// while nothing of the plugin but its entry point has run: once its init is about to run,
// keep_mapped() it for good (DESIGN.md §4.7).
class PluginLibrary {
 public:
  explicit PluginLibrary(std::unique_ptr<boost::dll::shared_library> library) noexcept;
  PluginLibrary(PluginLibrary&&) noexcept;
  PluginLibrary& operator=(PluginLibrary&&) noexcept;
  ~PluginLibrary();
  void keep_mapped();

 private:
  std::unique_ptr<boost::dll::shared_library> library_;
};

struct OpenedPlugin {
  PluginLibrary library;
  factotum_plugin_descriptor descriptor;  // zero-filled beyond what the plugin's holds
};

// dlopens the staged copy with RTLD_NOW | RTLD_LOCAL, finds factotum_plugin_v1 and checks the
// descriptor. A library that fails a check is unloaded again before this returns.
std::optional<OpenedPlugin> open_plugin(const std::filesystem::path& staged,
                                        const std::filesystem::path& file, std::string& why);

}  // namespace factotum::plugins
