#include "config/warnings.hpp"
#include "faktory/quote.hpp"

namespace factotum::config {
namespace {

std::string format_warning(const SourceLocation& where, std::string_view key,
                           std::string_view message) {
  std::string out = where.to_string();
  if (!out.empty()) out += ": ";
  out += key;
  out += ": ";
  out += message;
  return out;
}

}  // namespace

std::vector<std::string> config_warnings(const FaktoryConfig& f, const FileFacts& file) {
  std::vector<std::string> out;
  if (file.shared_password_file_where) {
    out.push_back(format_warning(
        *file.shared_password_file_where, "faktory.password_file",
        faktory::quote(f.password_file.string()) + " is readable by every user; chmod o-r it"));
  }
  if (file.verify_off_where && f.url.tls) {
    out.push_back(format_warning(
        *file.verify_off_where, "faktory.tls.verify",
        "false: the server's certificate is not checked; anyone on the network path can "
        "impersonate it"));
  }
  if (file.tls_where && !f.url.tls) {
    out.push_back(format_warning(*file.tls_where, "faktory.tls",
                                 "set, but the Faktory URL " + f.url.redacted() + " (" +
                                     f.url_origin +
                                     ") does not use TLS; write tcp+tls:// to use it"));
  }
  return out;
}

}  // namespace factotum::config
