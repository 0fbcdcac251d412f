// Linked into fuzz_config_yaml before the config library, so the linker takes these two
// functions from here and never pulls daemon/config/read_file.cpp (which defines nothing else)
// out of the archive. Should read_file.cpp ever define more, the link fails with a duplicate
// definition rather than fuzzing the real file system.
#include "fake_files.hpp"
#include "config/read_file.hpp"

#include <string>

namespace factotum::config {
namespace {

// The error for `file`, empty when it "exists".
std::string fake_error(const std::filesystem::path& file) {
  const std::string name = file.filename().string();
  if (name.starts_with("missing")) return "No such file or directory";
  if (name.starts_with("denied")) return "Permission denied";
  if (name.starts_with("dir") || name.empty()) return "it is a directory";
  return {};
}

}  // namespace

FileContents read_whole_file(const std::filesystem::path& file) {
  FileContents out;
  out.error = fake_error(file);
  if (!out.error.empty()) return out;
  const std::string name = file.filename().string();
  if (name.starts_with("empty")) return out;
  if (name.starts_with("newlines")) {
    out.data = "\r\n\n";
    return out;
  }
  out.data = std::string(fuzz::kFakeSecret) + "\n";
  return out;
}

std::string check_readable(const std::filesystem::path& file) {
  return fake_error(file);
}

}  // namespace factotum::config
