// The scalar parsers behind the config keys and flags (duration.hpp, value_parsers.hpp,
// did_you_mean.hpp), each checked against what its header promises: a value on success, else a
// one-line message. The first byte picks the parser ('0'..'8' in the seeds), the rest is the
// text; a few parsers take numbers from the front of the rest.
#include "config/did_you_mean.hpp"
#include "config/duration.hpp"
#include "config/value_parsers.hpp"
#include "fuzz_input.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace {

using namespace factotum::config;
using factotum::fuzz::FuzzInput;
using std::chrono::milliseconds;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_digit);
}

// An error is one line and not empty.
void check_message(const std::optional<std::string>& error) {
  if (error && (error->empty() || error->find_first_of("\r\n") != std::string::npos)) std::abort();
}

void duration(std::string_view text) {
  const ParsedDuration parsed = parse_duration(text);
  check_message(parsed.ok() ? std::nullopt : std::optional(parsed.error));
  // The grammar: <digits><unit>, unit ms, s, m or h.
  const std::size_t digits = std::min(text.find_first_not_of("0123456789"), text.size());
  const std::string_view unit = text.substr(digits);
  const bool grammatical =
      digits > 0 && (unit == "ms" || unit == "s" || unit == "m" || unit == "h");
  if (parsed.ok() != grammatical && !(grammatical && parsed.error.ends_with("is too large"))) {
    std::abort();
  }
  if (!parsed.ok()) return;
  if (parsed.value < milliseconds(0)) std::abort();
  const ParsedDuration again = parse_duration(format_duration(parsed.value));
  if (!again.ok() || again.value != parsed.value) std::abort();
}

void formatted_duration(FuzzInput& in) {
  const auto ms = static_cast<std::int64_t>(in.u64() & std::numeric_limits<std::int64_t>::max());
  const std::string text = format_duration(milliseconds(ms));
  const ParsedDuration parsed = parse_duration(text);
  if (!parsed.ok() || parsed.value.count() != ms) std::abort();  // duration.hpp's promise
}

void positive(FuzzInput& in) {
  const unsigned max = in.u32();
  const bool quoted = in.flag();
  const std::string_view text = in.rest();
  unsigned out = 0;
  const auto error = parse_positive(text, quoted, max, "a positive integer", out);
  check_message(error);
  // Reference: the digits' value, saturated.
  std::uint64_t value = 0;
  const bool digits = all_digits(text);
  if (digits) {
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc::result_out_of_range) value = std::numeric_limits<std::uint64_t>::max();
    (void)end;
  }
  const bool want = digits && !quoted && value >= 1 && value <= max;
  if (want != !error) std::abort();
  if (!error && out != value) std::abort();
}

void names(std::string_view text) {
  LogLevel level{};
  LogFormat format{};
  CpuScheduling scheduling{};
  const auto level_error = log_level_from_name(text, level);
  const auto format_error = log_format_from_name(text, format);
  const auto scheduling_error = cpu_scheduling_from_name(text, scheduling);
  check_message(level_error);
  check_message(format_error);
  check_message(scheduling_error);
  if (!level_error && factotum::service::to_string(level) != text) std::abort();
  if (!format_error && factotum::service::to_string(format) != text) std::abort();
  if (!scheduling_error && to_string(scheduling) != text) std::abort();
}

void listen(std::string_view text) {
  MetricsConfig metrics;
  const auto error = parse_listen(text, metrics);
  check_message(error);
  if (error) {
    if (metrics.enabled()) std::abort();  // nothing set on failure
    return;
  }
  if (metrics.listen != text || metrics.host.empty() || metrics.port == 0) std::abort();
  // The text is the host (IPv6 in brackets), ':' and the port's digits.
  const std::string_view port = text.substr(text.rfind(':') + 1);
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value != metrics.port) std::abort();
  const bool bracketed = text.front() == '[';
  const std::string host = bracketed ? "[" + metrics.host + "]" : metrics.host;
  if (text.substr(0, host.size()) != host || text.size() != host.size() + 1 + port.size()) {
    std::abort();
  }
}

void protocol_names(std::string_view text) {
  const auto queue_error = check_queue_name(text);
  const auto wid_error = check_wid(text);
  check_message(queue_error);
  check_message(wid_error);
  const bool queue_ok = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '.' ||
           c == '_' || c == '-';
  });
  if (queue_ok != !queue_error) std::abort();
  const bool wid_ok = !text.empty() && std::none_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte <= 0x20 || byte == 0x7f;
  });
  if (wid_ok != !wid_error) std::abort();
}

void paths(FuzzInput& in) {
  const std::string base(in.short_string());
  const std::string text(in.rest());
  // The base is absolute, as the config file's directory is (made absolute by parse_config).
  const auto resolved = resolve_path(text, "/etc/factotum" / std::filesystem::path(base));
  if (!resolved.is_absolute()) std::abort();
  if (normalise_path(resolved) != resolved) std::abort();  // normal form is stable
}

void duration_ranges(FuzzInput& in) {
  const milliseconds value(static_cast<std::int64_t>(in.u64()));
  check_message(check_shutdown_timeout(value));
  check_message(check_heartbeat_interval(value));
  const auto jobtype_error = check_jobtype_timeout(value);
  check_message(jobtype_error);
  if (!jobtype_error != (value > milliseconds(0))) std::abort();
}

void suggestions(FuzzInput& in) {
  const std::string_view a = in.short_string();
  const std::string_view b = in.rest();
  const std::size_t d = edit_distance(a, b);
  if (d != edit_distance(b, a) || d > std::max(a.size(), b.size())) std::abort();
  if (edit_distance(a, a) != 0) std::abort();
  const std::string_view candidates[] = {"faktory", "worker", "plugins", b};
  const auto suggestion = did_you_mean(a, candidates);
  if (suggestion && std::find(std::begin(candidates), std::end(candidates), *suggestion) ==
                        std::end(candidates)) {
    std::abort();
  }
  (void)suggestion_suffix(a, candidates);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzInput in(data, size);
  const unsigned mode = (in.byte() + 2u) % 10u;  // '0' (48) picks 0, '1' picks 1, ...
  switch (mode) {
    case 0:
      duration(in.rest());
      break;
    case 1:
      formatted_duration(in);
      break;
    case 2:
      positive(in);
      break;
    case 3:
      names(in.rest());
      break;
    case 4:
      listen(in.rest());
      break;
    case 5:
      protocol_names(in.rest());
      break;
    case 6:
      paths(in);
      break;
    case 7:
      duration_ranges(in);
      break;
    default:  // 8, 9
      suggestions(in);
      break;
  }
  return 0;
}
