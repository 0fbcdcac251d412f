// Where the Faktory server is: `tcp://[user][:password@]host:port` or `tcp+tls://...`
// (PROTOCOL.md §1), and how the environment names it (FAKTORY_PROVIDER → FAKTORY_URL →
// tcp://localhost:7419).
#pragma once

#include "faktory/error.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace factotum::faktory {

inline constexpr std::string_view kDefaultUrl = "tcp://localhost:7419";
inline constexpr std::uint16_t kDefaultPort = 7419;

struct ServerUrl {
  bool tls = false;
  std::string host = "localhost";  // IPv6 literals without brackets
  std::uint16_t port = kDefaultPort;
  std::string username;                 // ignored by Faktory, kept for proxies
  std::optional<std::string> password;  // URL-decoded

  // The URL with the password replaced by "***": the only form that may be logged.
  std::string redacted() const;
};

// The same server: scheme (TLS or not), host as written and port. Credentials aside.
inline bool same_server(const ServerUrl& a, const ServerUrl& b) noexcept {
  return a.tls == b.tls && a.host == b.host && a.port == b.port;
}

// Parses a URL. Missing port → 7419. Errors (errc::invalid_url) name the problem:
// unknown scheme ("http"; expected tcp:// or tcp+tls://), bad or out-of-range port, empty host,
// a path/query/fragment, bad percent-encoding.
Result<ServerUrl> parse_url(std::string_view url);

// Reads one environment variable; std::nullopt when unset. Injectable for tests.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup process_environment();
// The process environment as it is now, copied: what a reload reads much later, on another
// thread, without racing a plugin's setenv (and with the start's values, as a restart would).
EnvLookup environment_snapshot();

// The URL the environment asks for, or std::nullopt when neither FAKTORY_PROVIDER nor
// FAKTORY_URL is set. FAKTORY_PROVIDER holds the *name* of the variable with the URL; a value
// that looks like a URL (contains ':') or names an unset variable is an error that says so.
Result<std::optional<std::string>> url_from_environment(const EnvLookup& env);

// Flag > environment > configured > default, then parsed.
Result<ServerUrl> resolve_url(std::optional<std::string_view> flag, const EnvLookup& env,
                              std::optional<std::string_view> configured);

}  // namespace factotum::faktory
