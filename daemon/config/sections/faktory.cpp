// faktory: url, password | password_file, tls.{ca_file,cert_file,key_file,verify}, timeout.
#include "config/referenced_files.hpp"
#include "config/sections/sections.hpp"
#include "config/value_parsers.hpp"

#include <optional>

namespace factotum::config {
namespace {

constexpr std::string_view kFaktoryKeys[] = {"url", "password", "password_file", "tls", "timeout"};
constexpr std::string_view kTlsKeys[] = {"ca_file", "cert_file", "key_file", "verify"};

void read_tls(const YamlReader& yaml, const YAML::Node& tls_key, const YAML::Node& v,
              TlsConfig& tls, FileFacts& facts) {
  if (v.IsMap() && v.size() > 0) facts.tls_where = yaml.where(tls_key);
  std::optional<SourceLocation> cert_where;
  std::optional<SourceLocation> key_where;
  yaml.section(v, "faktory.tls", kTlsKeys,
               [&](const std::string& key, const YAML::Node& k, const YAML::Node& value) {
                 const std::string path = join_key("faktory.tls", key);
                 if (key == "verify") {
                   tls.verify = yaml.boolean(k, value, path);
                   if (!tls.verify) facts.verify_off_where = yaml.where(value);
                   return;
                 }
                 const std::string text = yaml.string(k, value, path, "a file name");
                 if (text.empty()) yaml.fail(value, path, "cannot be empty; remove the key");
                 const std::filesystem::path file = yaml.path(text);
                 if (std::string error = check_tls_file(file); !error.empty()) {
                   yaml.fail(value, path, std::move(error));
                 }
                 if (key == "ca_file") tls.ca_file = file;
                 if (key == "cert_file") {
                   tls.cert_file = file;
                   cert_where = yaml.where(value);
                 }
                 if (key == "key_file") {
                   tls.key_file = file;
                   key_where = yaml.where(value);
                 }
               });
  if (cert_where && !key_where) {
    throw ConfigError(*cert_where, "faktory.tls.cert_file",
                      "set without faktory.tls.key_file; a client certificate needs its "
                      "private key");
  }
  if (key_where && !cert_where) {
    throw ConfigError(*key_where, "faktory.tls.key_file",
                      "set without faktory.tls.cert_file; a private key needs its client "
                      "certificate");
  }
}

}  // namespace

void read_faktory(const YamlReader& yaml, const YAML::Node& v, const faktory::EnvLookup& env,
                  FaktoryConfig& out, FileFacts& facts) {
  // Lines of the two password keys, so that setting both names the other.
  std::optional<unsigned> password_line;
  std::optional<unsigned> password_file_line;
  yaml.section(v, "faktory", kFaktoryKeys,
               [&](const std::string& key, const YAML::Node& k, const YAML::Node& value) {
                 const std::string path = join_key("faktory", key);
                 if (key == "url") {
                   const std::string text = yaml.string(k, value, path);
                   auto parsed = faktory::parse_url(text);
                   // The URL's own error (redacted by parse_url) with the position in the file.
                   if (!parsed) yaml.fail(value, path, parsed.error().message);
                   facts.url = std::move(*parsed);
                   facts.url_where = yaml.where(value);
                 } else if (key == "password") {
                   const std::string text = yaml.string(k, value, path);
                   if (password_file_line) {
                     yaml.fail(value, path,
                               "set together with faktory.password_file (line " +
                                   std::to_string(*password_file_line) + "); use only one");
                   }
                   if (text.empty()) {
                     yaml.fail(value, path, "is empty; remove the key for no password");
                   }
                   out.password = text;
                   out.password_source = PasswordSource::config;
                   password_line = yaml.where(k).line;
                 } else if (key == "password_file") {
                   const std::string text = yaml.string(k, value, path);
                   if (password_line) {
                     yaml.fail(value, path,
                               "set together with faktory.password (line " +
                                   std::to_string(*password_line) + "); use only one");
                   }
                   PasswordFile read = read_password_file(text, yaml.base_dir(), env);
                   if (!read.ok()) yaml.fail(value, path, std::move(read.error));
                   if (read.readable_by_everyone) {
                     facts.shared_password_file_where = yaml.where(value);
                   }
                   out.password = std::move(read.password);
                   out.password_source = PasswordSource::file;
                   out.password_file = std::move(read.file);
                   password_file_line = yaml.where(k).line;
                 } else if (key == "tls") {
                   read_tls(yaml, k, value, out.tls, facts);
                 } else if (key == "timeout") {
                   out.timeout = yaml.duration(k, value, path);
                   if (auto error = check_network_timeout(out.timeout)) {
                     yaml.fail(value, path, std::move(*error));
                   }
                 }
               });
}

}  // namespace factotum::config
