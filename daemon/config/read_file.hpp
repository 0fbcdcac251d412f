// Reads the small files a configuration names (the config itself, a password file) and says
// why it could not, in words an operator can act on ("No such file or directory").
#pragma once

#include <filesystem>
#include <string>

namespace factotum::config {

struct FileContents {
  std::string data;
  std::string error;  // empty on success: strerror() text, or "it is a directory"
  bool ok() const noexcept { return error.empty(); }
};

// The whole file. Opened with the daemon's effective credentials, so "readable" means
// readable by the daemon, which is what matters under systemd's User=.
FileContents read_whole_file(const std::filesystem::path& file);

// Whether the daemon can open `file` for reading (same errors as read_whole_file, nothing
// read): TLS files are only loaded later, by the Faktory client.
std::string check_readable(const std::filesystem::path& file);

}  // namespace factotum::config
