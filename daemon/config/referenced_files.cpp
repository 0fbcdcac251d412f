#include "config/referenced_files.hpp"
#include "config/read_file.hpp"
#include "config/value_parsers.hpp"
#include "faktory/quote.hpp"

#include <sys/stat.h>
#include <string_view>

namespace factotum::config {
namespace {

namespace fs = std::filesystem;
using faktory::quote;

std::string cannot_read(const fs::path& file, const std::string& error) {
  return "cannot read " + quote(file.string()) + ": " + error;
}

PasswordFile failure(std::string message) {
  PasswordFile out;
  out.error = std::move(message);
  return out;
}

}  // namespace

PasswordFile read_password_file(const std::string& text, const fs::path& base_dir,
                                const faktory::EnvLookup& env) {
  if (text.empty()) return failure("cannot be empty; remove the key for no password");
  fs::path file;
  // systemd's LoadCredential= (DESIGN.md §6) puts the password in
  // $CREDENTIALS_DIRECTORY/<name>; the directory is only known from the environment.
  static constexpr std::string_view kPrefixes[] = {"${CREDENTIALS_DIRECTORY}/",
                                                   "$CREDENTIALS_DIRECTORY/"};
  for (const std::string_view prefix : kPrefixes) {
    if (text.starts_with(prefix)) {
      const auto dir = env("CREDENTIALS_DIRECTORY");
      if (!dir || dir->empty()) {
        return failure(
            "$CREDENTIALS_DIRECTORY is not set (set LoadCredential= in the unit, or give a plain "
            "path)");
      }
      file = normalise_path(fs::path(*dir) / text.substr(prefix.size()));
      break;
    }
  }
  if (file.empty()) file = resolve_path(text, base_dir);

  FileContents contents = read_whole_file(file);
  if (!contents.ok()) return failure(cannot_read(file, contents.error));
  PasswordFile out;
  out.password = std::move(contents.data);
  while (!out.password.empty() && (out.password.back() == '\n' || out.password.back() == '\r')) {
    out.password.pop_back();
  }
  if (out.password.empty()) return failure(quote(file.string()) + " is empty");

  struct stat st {};
  out.readable_by_everyone = ::stat(file.c_str(), &st) == 0 && (st.st_mode & S_IROTH) != 0;
  out.file = std::move(file);
  return out;
}

std::string check_tls_file(const fs::path& file) {
  const std::string error = check_readable(file);
  return error.empty() ? error : cannot_read(file, error);
}

}  // namespace factotum::config
