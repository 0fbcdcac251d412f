#include "config/value_parsers.hpp"
#include "config/did_you_mean.hpp"
#include "config/duration.hpp"
#include "faktory/quote.hpp"

#include <algorithm>
#include <cstdint>

namespace factotum::config {
namespace {

using faktory::quote;
using std::chrono::milliseconds;
using namespace std::chrono_literals;

constexpr std::string_view kLogLevels[] = {"error", "warning", "info", "debug"};
constexpr LogLevel kLogLevelValues[] = {LogLevel::error, LogLevel::warning, LogLevel::info,
                                        LogLevel::debug};
constexpr std::string_view kLogFormats[] = {"text", "json"};
constexpr LogFormat kLogFormatValues[] = {LogFormat::text, LogFormat::json};
constexpr std::string_view kCpuSchedulings[] = {"batch", "normal"};
constexpr CpuScheduling kCpuSchedulingValues[] = {CpuScheduling::batch, CpuScheduling::normal};

constexpr milliseconds kMaxShutdownTimeout = 24h;
// PROTOCOL.md §4: BEAT no more often than every 5 s and at least every 60 s (the server reaps
// a worker 60-75 s after its last BEAT).
constexpr milliseconds kMinHeartbeat = 5s;
// Below 500 ms a loaded server's reply is taken for a dead connection; above 5 minutes a dead
// one goes unnoticed for longer than a job's reservation margin.
constexpr milliseconds kMinNetworkTimeout = 500ms;
constexpr milliseconds kMaxNetworkTimeout = 5min;
constexpr milliseconds kMaxHeartbeat = 60s;

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}
bool is_space_or_control(char c) noexcept {
  const auto byte = static_cast<unsigned char>(c);
  return byte <= 0x20 || byte == 0x7f;
}
bool has_space_or_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), is_space_or_control);
}
bool is_queue_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '.' || c == '_' ||
         c == '-';
}

// The value whose name is `text`, else "unknown <what> 'text'" with a did-you-mean.
template <typename T, std::size_t N>
std::optional<std::string> from_name(std::string_view text, const std::string_view (&names)[N],
                                     const T (&values)[N], std::string_view what, T& out) {
  for (std::size_t i = 0; i < N; ++i) {
    if (text == names[i]) {
      out = values[i];
      return std::nullopt;
    }
  }
  return "unknown " + std::string(what) + " " + quote(text) + suggestion_suffix(text, names);
}

}  // namespace

std::optional<std::string> parse_positive(std::string_view text, bool quoted, unsigned max,
                                          std::string_view what, unsigned& out) {
  const std::string expected = "expected " + std::string(what) + ", got ";
  if (text.empty() || !std::all_of(text.begin(), text.end(), is_digit)) {
    return expected + quote(text);
  }
  if (quoted) return expected + "the string " + quote(text) + " (remove the quotes)";
  std::uint64_t value = 0;
  for (const char c : text) {
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
    if (value > max) break;  // saturate: the digits are shown as written
  }
  if (value == 0) return expected + quote(text);
  if (value > max) return "must be at most " + std::to_string(max) + ", got " + std::string(text);
  out = static_cast<unsigned>(value);
  return std::nullopt;
}

std::optional<std::string> log_level_from_name(std::string_view text, LogLevel& out) {
  return from_name(text, kLogLevels, kLogLevelValues, "log level", out);
}

std::optional<std::string> log_format_from_name(std::string_view text, LogFormat& out) {
  return from_name(text, kLogFormats, kLogFormatValues, "log format", out);
}

std::optional<std::string> cpu_scheduling_from_name(std::string_view text, CpuScheduling& out) {
  return from_name(text, kCpuSchedulings, kCpuSchedulingValues, "CPU scheduling", out);
}

std::optional<std::string> parse_listen(std::string_view text, MetricsConfig& out) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return "expected [ipv6]:port (e.g. [::1]:9100), got " + quote(text);
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return "expected host:port (e.g. 127.0.0.1:9100), got " + quote(text);
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return "write an IPv6 address in brackets, e.g. [::1]:9100, got " + quote(text);
    }
  }
  if (host.empty()) {
    // Exposing metrics on every interface should be a decision, not an accident. The port is
    // repeated in the advice only when it is a number: raw text could break the line.
    const std::string shown =
        !port.empty() && port.size() <= 5 && std::all_of(port.begin(), port.end(), is_digit)
            ? std::string(port)
            : std::string("PORT");
    return "the host is empty: write 127.0.0.1:" + shown +
           " for this machine only or 0.0.0.0:" + shown + " for every interface";
  }
  if (has_space_or_control(host)) {
    return "the host " + quote(host) + " contains a space or control character";
  }
  if (port.empty() || !std::all_of(port.begin(), port.end(), is_digit)) {
    return "port " + quote(port) + " is not a number (1-65535)";
  }
  unsigned long value = 0;
  for (const char c : port) {
    value = value * 10 + static_cast<unsigned long>(c - '0');
    if (value > 65535) break;
  }
  if (value == 0 || value > 65535) return "port " + quote(port) + " is out of range (1-65535)";
  out.listen = std::string(text);
  out.host = std::string(host);
  out.port = static_cast<std::uint16_t>(value);
  return std::nullopt;
}

// A queue name goes on the FETCH line, space-separated (PROTOCOL.md §5), and the Faktory server
// silently drops from a FETCH every name outside [a-zA-Z0-9._-]+: a worker asking only for such
// a queue would wait forever without a word.
std::optional<std::string> check_queue_name(std::string_view name) {
  if (name.empty()) return "a queue name cannot be empty";
  if (!std::all_of(name.begin(), name.end(), is_queue_name_char)) {
    return "queue name " + quote(name) +
           " may only contain ASCII letters, digits, '.', '_' and '-': the Faktory server "
           "ignores other names in FETCH";
  }
  return std::nullopt;
}

std::optional<std::string> check_wid(std::string_view wid) {
  if (wid.empty()) return "cannot be empty; remove the key to generate one at start";
  if (has_space_or_control(wid)) {
    return quote(wid) + " contains whitespace or control characters";
  }
  return std::nullopt;
}

std::optional<std::string> check_shutdown_timeout(milliseconds timeout) {
  if (timeout > kMaxShutdownTimeout) {
    return "must be at most " + format_duration(kMaxShutdownTimeout) + ", got " +
           format_duration(timeout);
  }
  return std::nullopt;
}

std::optional<std::string> check_network_timeout(milliseconds timeout) {
  if (timeout < kMinNetworkTimeout || timeout > kMaxNetworkTimeout) {
    return "must be between " + format_duration(kMinNetworkTimeout) + " and " +
           format_duration(kMaxNetworkTimeout) + ", got " + format_duration(timeout);
  }
  return std::nullopt;
}

std::optional<std::string> check_heartbeat_interval(milliseconds interval) {
  if (interval < kMinHeartbeat || interval > kMaxHeartbeat) {
    return "must be between 5s and 60s (Faktory reaps a worker after 60s without a heartbeat), "
           "got " +
           format_duration(interval);
  }
  return std::nullopt;
}

std::optional<std::string> check_jobtype_timeout(milliseconds timeout) {
  if (timeout <= 0ms) return "must be greater than zero, got " + format_duration(timeout);
  return std::nullopt;
}

std::filesystem::path normalise_path(std::filesystem::path path) {
  path = path.lexically_normal();
  if (!path.has_filename() && path.has_relative_path()) path = path.parent_path();
  return path;
}

std::filesystem::path resolve_path(const std::string& text, const std::filesystem::path& base_dir) {
  std::filesystem::path path(text);
  if (path.is_relative()) path = base_dir / path;
  return normalise_path(std::move(path));
}

}  // namespace factotum::config
