// One setting's text → its value, or the sentence an operator reads when it is wrong. No YAML
// here: the command-line flags (--concurrency, --log-level) go through the same rules as the
// keys. Each function returns nullopt on success (having set `out`), else the message without
// position or key, which the caller adds (ConfigError).
#pragma once

#include "config/config.hpp"

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace factotum::config {

// A thousand processors (a thread and a Faktory connection each) is already far past what one
// process should run; a bigger number is almost certainly a typo.
inline constexpr unsigned kMaxConcurrency = 1000;
inline constexpr unsigned kMaxQueueWeight = 10000;

// Decimal digits from 1 to `max`. `quoted`: the YAML value was a quoted string, which the error
// says (with "remove the quotes") rather than accept a number written as text. `what` names the
// expected value ("a positive integer").
std::optional<std::string> parse_positive(std::string_view text, bool quoted, unsigned max,
                                          std::string_view what, unsigned& out);

std::optional<std::string> log_level_from_name(std::string_view text, LogLevel& out);
std::optional<std::string> log_format_from_name(std::string_view text, LogFormat& out);
std::optional<std::string> cpu_scheduling_from_name(std::string_view text, CpuScheduling& out);

// "host:port" with the host an IPv4 address, a name, or an IPv6 address in brackets.
std::optional<std::string> parse_listen(std::string_view text, MetricsConfig& out);

// Names that go on protocol lines, checked as written.
std::optional<std::string> check_queue_name(std::string_view name);
std::optional<std::string> check_wid(std::string_view wid);

// Ranges of the durations (parse_duration() reads them).
std::optional<std::string> check_shutdown_timeout(std::chrono::milliseconds timeout);
std::optional<std::string> check_heartbeat_interval(std::chrono::milliseconds interval);
std::optional<std::string> check_network_timeout(std::chrono::milliseconds timeout);
std::optional<std::string> check_jobtype_timeout(std::chrono::milliseconds timeout);

// A lexically normal absolute path without a trailing separator, so "/a/b/" and "/a/./b"
// compare equal to "/a/b".
std::filesystem::path normalise_path(std::filesystem::path path);
// `text` made absolute against `base_dir` (the config file's directory) and normalised.
std::filesystem::path resolve_path(const std::string& text, const std::filesystem::path& base_dir);

}  // namespace factotum::config
