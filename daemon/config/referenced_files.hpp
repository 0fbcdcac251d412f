// The files a configuration names and the daemon must be able to read: the password file, read
// now, and the TLS files, which the Faktory client loads at connect but are checked now so a
// typo stops the start (or the reload), not the first connect. Errors are ConfigError messages
// without position or key.
#pragma once

#include "faktory/url.hpp"

#include <filesystem>
#include <string>

namespace factotum::config {

struct PasswordFile {
  std::string password;  // without the trailing newline `echo secret > file` leaves
  std::filesystem::path file;
  bool readable_by_everyone = false;  // worth a warning
  std::string error;                  // empty on success
  bool ok() const noexcept { return error.empty(); }
};

// faktory.password_file as written: relative to `base_dir`, or under $CREDENTIALS_DIRECTORY
// (looked up in `env`) when it starts with that variable.
PasswordFile read_password_file(const std::string& text, const std::filesystem::path& base_dir,
                                const faktory::EnvLookup& env);

// Empty when the daemon can read `file`, else why not ("cannot read '/x': Permission denied").
std::string check_tls_file(const std::filesystem::path& file);

}  // namespace factotum::config
