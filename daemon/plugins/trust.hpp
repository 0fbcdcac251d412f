// Who may have put a plugin where the daemon loads it from (DESIGN.md §4.8): sshd's StrictModes
// for plugin files and every directory on the way to them, and the private staging directory.
// Every refusal is a sentence naming the path, what is wrong with it and the command that
// fixes it.
#pragma once

#include "service/unique_fd.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace factotum::plugins {

// Shared by every file opened from one directory; closed with the last of them.
using SharedFd = std::shared_ptr<const service::UniqueFd>;

// StrictModes for one plugin file or plugin directory: owned by root or the daemon's user and
// not writable by group or others, or anyone who can write it can run code as the daemon.
// `what` names it in the reason ("plugin file", "plugin directory").
std::optional<std::string> check_trust(const struct stat& st, const std::filesystem::path& path,
                                       std::string_view what);

// Opens plugin directory `dir` (absolute) for reading, walking from "/" one directory at a time
// (openat, O_NOFOLLOW) and resolving symbolic links itself, so every directory the path passes
// through, the targets of its links included, is the one checked. When `strict`:
//  - the plugin directory itself passes check_trust: owned by root or the daemon's user, not
//    writable by group or others, sticky or not (anyone who can add a file to it picks code the
//    daemon runs);
//  - every directory on the way to it is owned by root or the daemon's user, and writable by
//    group or others only with the sticky bit (like /tmp): they may add entries but cannot
//    rename or remove anyone else's, so the next directory on the way, checked in turn, cannot
//    be swapped. (sshd refuses a world-writable parent even when sticky; a plugin directory in
//    a private directory under /tmp is as safe as one under /usr.)
// Plugin files are then opened relative to the returned descriptor: nothing on the path can
// change between the checks and the open. Null on failure, with `why`.
SharedFd open_plugin_directory(const std::filesystem::path& dir, bool strict, std::string& why);

// A configured staging directory: created 0700 when missing; refused when other users could
// write or read it (they could swap a staged file between copy and dlopen).
std::optional<std::string> ensure_private_directory(const std::filesystem::path& dir);

}  // namespace factotum::plugins
