#include "faktory/url.hpp"

#include "faktory/quote.hpp"

#include <boost/url/ipv4_address.hpp>
#include <boost/url/ipv6_address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <boost/url/url_view.hpp>

#include <unistd.h>

#include <cstdlib>
#include <map>
#include <memory>

namespace factotum::faktory {
namespace {

constexpr std::string_view kProviderVar = "FAKTORY_PROVIDER";
constexpr std::string_view kUrlVar = "FAKTORY_URL";

// Error messages quote the URL, but a URL may carry a password: blank out what sits between
// the first ':' of the authority and the last '@' before the path, parse or no parse.
std::string redact_raw(std::string_view url) {
  // Redact from the first ':' of the authority up to the LAST '@' of the whole string, not
  // just the authority's: an unencoded '/', '?' or '#' in a password ends the authority early
  // for a URL parser, and the rest of the password must not leak into an error message.
  const auto scheme_end = url.find("://");
  const std::size_t authority = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  const auto at = url.rfind('@');
  if (at == std::string_view::npos || at < authority) return std::string(url);
  const auto colon = url.substr(authority, at - authority).find(':');
  if (colon == std::string_view::npos) return std::string(url);
  std::string out(url.substr(0, authority + colon + 1));
  out += "***";
  out += url.substr(at);
  return out;
}

Error url_error(std::string_view url, const std::string& what) {
  return Error(errc::invalid_url, "Faktory URL " + quote(redact_raw(url), 200) + ": " + what);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Result<std::uint16_t> parse_port(std::string_view url, std::string_view text) {
  if (text.empty()) return url_error(url, "the port after ':' is empty (default is 7419)");
  unsigned long value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return url_error(url, "port " + quote(text) + " is not a number");
    value = value * 10 + static_cast<unsigned long>(c - '0');
    if (value > 65535) {
      return url_error(url, "port " + quote(text) + " is out of range (1-65535)");
    }
  }
  if (value == 0) return url_error(url, "port 0 is not a usable port (1-65535)");
  return static_cast<std::uint16_t>(value);
}

std::string env_or_empty(const EnvLookup& env, std::string_view name) {
  auto value = env(std::string(name));
  return value ? std::move(*value) : std::string();
}

// The URL from the environment together with the name of the variable it came from, so
// parse errors can say where to look.
struct EnvUrl {
  std::string source;
  std::string url;
};

Result<std::optional<EnvUrl>> env_url(const EnvLookup& env) {
  // PROTOCOL.md §1: FAKTORY_PROVIDER names the variable that holds the URL.
  const std::string provider = env_or_empty(env, kProviderVar);
  if (!provider.empty()) {
    if (provider.find(':') != std::string::npos) {
      // Do not echo the value: it is probably a URL, possibly with a password in it.
      return Error(errc::invalid_url,
                   "FAKTORY_PROVIDER must hold the *name* of the environment variable that "
                   "contains the URL (e.g. FAKTORY_PROVIDER=MY_FAKTORY_URL), but its value "
                   "contains ':' and looks like a URL; put the URL in FAKTORY_URL instead");
    }
    std::string url = env_or_empty(env, provider);
    if (url.empty()) {
      return Error(errc::invalid_url, "FAKTORY_PROVIDER names the environment variable " +
                                          quote(provider) + ", which is not set or empty");
    }
    return std::optional<EnvUrl>{EnvUrl{provider, std::move(url)}};
  }
  std::string url = env_or_empty(env, kUrlVar);
  if (url.empty()) return std::optional<EnvUrl>{};
  return std::optional<EnvUrl>{EnvUrl{std::string(kUrlVar), std::move(url)}};
}

Result<ServerUrl> parse_from(std::string_view source, std::string_view url) {
  auto parsed = parse_url(url);
  if (!parsed) {
    Error e = parsed.error();
    e.message = std::string(source) + ": " + e.message;
    return e;
  }
  return parsed;
}

}  // namespace

std::string ServerUrl::redacted() const {
  boost::urls::url u;
  u.set_scheme(tls ? "tcp+tls" : "tcp");
  if (!username.empty()) u.set_user(username);
  if (password) u.set_password("***");
  // An IPv6 literal needs its brackets back; anything else that is not IPv4 is a name, set
  // as such (set_host_address would take "v1.x" for an IPvFuture literal and bracket it).
  if (auto v6 = boost::urls::parse_ipv6_address(host)) {
    u.set_host_ipv6(*v6);
  } else if (auto v4 = boost::urls::parse_ipv4_address(host)) {
    u.set_host_ipv4(*v4);
  } else {
    u.set_host_name(host);
  }
  u.set_port_number(port);
  return std::string(u.buffer());
}

Result<ServerUrl> parse_url(std::string_view url) {
  if (url.find("://") == std::string_view::npos) {
    return url_error(url, "missing scheme: expected tcp://host:port or tcp+tls://host:port");
  }
  {
    // user:pass@ whose password holds an unencoded '/', '?' or '#': the parser would read the
    // rest as a path and report a confusing error; say what is wrong instead.
    const auto authority = url.find("://") + 3;
    const auto cut = url.find_first_of("/?#", authority);
    const auto at = url.rfind('@');
    if (at != std::string_view::npos && cut != std::string_view::npos && at > cut) {
      return url_error(url,
                       "a '/', '?' or '#' in the password must be percent-encoded "
                       "(%2F, %3F, %23)");
    }
  }
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) {
    // Boost.URL rejects bad percent-encoding and characters not allowed in a URL.
    return url_error(url, "not a valid URL (" + parsed.error().message() +
                              "); a space, '%', '#', '?', '/' or '@' in a password must be "
                              "percent-encoded");
  }
  const boost::urls::url_view& u = *parsed;

  ServerUrl out;
  const std::string scheme = lower(u.scheme());
  if (scheme == "tcp+tls") {
    out.tls = true;
  } else if (scheme != "tcp") {
    return url_error(url,
                     "unknown scheme " + quote(u.scheme()) + ": expected tcp:// or tcp+tls://");
  }

  if (!u.has_authority()) return url_error(url, "missing '//host'");
  switch (u.host_type()) {
    case boost::urls::host_type::ipv6:
      out.host = u.host_ipv6_address().to_string();
      break;
    case boost::urls::host_type::ipvfuture:
      return url_error(url, "IPvFuture host addresses are not supported");
    default:
      out.host = u.host_address();
      break;
  }
  if (out.host.empty()) return url_error(url, "the host is empty");
  for (const char c : out.host) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f) {
      return url_error(url,
                       "the host " + quote(out.host) + " contains a space or control character");
    }
  }

  const auto path = u.encoded_path();
  if (!path.empty() && path.front() != '/') {
    // Boost.URL ends the port at the first non-digit and calls the rest a path: "7a" would
    // otherwise be reported as port 7 with path "a".
    return url_error(
        url, u.has_port()
                 ? "port " + quote(std::string(u.port()) + std::string(path)) + " is not a number"
                 : "not a valid URL");
  }
  if (u.has_port()) {
    auto port = parse_port(url, u.port());
    if (!port) return port.error();
    out.port = *port;
  }

  // PROTOCOL.md §1: username is ignored by Faktory but kept for proxies; the password is
  // URL-decoded before hashing, as FWR/FWN do.
  if (u.has_userinfo()) {
    out.username = u.user();
    if (u.has_password()) out.password = u.password();
  }

  if (!path.empty() && path != "/") {
    return url_error(url, "unexpected path " + quote(path) +
                              " (a Faktory URL is only scheme://[:password@]host[:port])");
  }
  if (u.has_query()) return url_error(url, "a query ('?...') is not allowed in a Faktory URL");
  if (u.has_fragment()) {
    return url_error(url, "a fragment ('#...') is not allowed in a Faktory URL");
  }
  return out;
}

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    // getenv is only unsafe against concurrent setenv, which factotum never calls.
    const char* value = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe)
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

EnvLookup environment_snapshot() {
  auto variables = std::make_shared<std::map<std::string, std::string, std::less<>>>();
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view assignment(*entry);
    const auto equals = assignment.find('=');
    if (equals == std::string_view::npos) continue;
    variables->emplace(std::string(assignment.substr(0, equals)),
                       std::string(assignment.substr(equals + 1)));
  }
  return [variables](const std::string& name) -> std::optional<std::string> {
    const auto found = variables->find(name);
    if (found == variables->end()) return std::nullopt;
    return found->second;
  };
}

Result<std::optional<std::string>> url_from_environment(const EnvLookup& env) {
  auto found = env_url(env);
  if (!found) return found.error();
  if (!*found) return std::optional<std::string>{};
  return std::optional<std::string>{std::move((*found)->url)};
}

Result<ServerUrl> resolve_url(std::optional<std::string_view> flag, const EnvLookup& env,
                              std::optional<std::string_view> configured) {
  // DESIGN.md §5: command-line flag > environment > YAML > default. A flag wins even when
  // the environment is broken, so --url is always a way out.
  if (flag) return parse_from("--url", *flag);
  auto from_env = env_url(env);
  if (!from_env) return from_env.error();
  if (*from_env) return parse_from((*from_env)->source, (*from_env)->url);
  if (configured) return parse_from("faktory.url", *configured);
  return parse_url(kDefaultUrl);
}

}  // namespace factotum::faktory
