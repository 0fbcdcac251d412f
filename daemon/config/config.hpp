// The daemon's configuration as plain, immutable data (DESIGN.md §5, STYLE.md "Config is
// data"): load_config() parses the YAML file once, validates every key and returns a Config;
// nothing reads YAML after that. A reload (SIGHUP) calls load_config() again and swaps the
// whole value, so a Config is never modified in place: pass it around as
// `std::shared_ptr<const Config>` or by const reference.
//
// yaml-cpp and Boost.JSON stay out of this header: plugin settings are kept as JSON text.
#pragma once

#include "faktory/url.hpp"
#include "service/log.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace factotum::config {

// Where a value was written: 1-based line and column in a configuration file. line == 0 means
// "not from a file" (a command-line flag, the environment, a default).
struct SourceLocation {
  std::string file;
  unsigned line = 0;
  unsigned column = 0;

  // "FILE:LINE:COL", or just "FILE" / "" when there is no position.
  std::string to_string() const;
};

// A configuration the daemon must not run with; the daemon exits 78 (EX_CONFIG) on it at
// start-up and keeps the old Config on reload. Thrown by load_config() and parse_config(), and
// by the daemon itself for checks that need loaded plugins (an unknown middleware name, a
// plugins.config entry for no plugin), so those errors carry the config location too.
//
// what() = "FILE:LINE:COL: KEY: MESSAGE"; parts that are empty are left out, e.g.
// "--url: Faktory URL 'http://x': unknown scheme ..." or "FILE: cannot read ...".
// Messages never contain a password.
class ConfigError : public std::runtime_error {
 public:
  ConfigError(SourceLocation where, std::string key, std::string message);

  const SourceLocation& where() const noexcept { return where_; }
  const std::string& file() const noexcept { return where_.file; }
  unsigned line() const noexcept { return where_.line; }
  unsigned column() const noexcept { return where_.column; }
  // Dotted path of the offending key ("worker.concurrency"), a flag ("--url"), an environment
  // variable ("FAKTORY_URL"), or empty for errors about the whole file.
  const std::string& key() const noexcept { return key_; }
  const std::string& message() const noexcept { return message_; }

 private:
  SourceLocation where_;
  std::string key_;
  std::string message_;
};

// Where a setting with several possible origins took its value from (precedence: flag >
// environment > file > default).
enum class ValueSource { default_value, file, environment, flag };

enum class QueueMode {
  strict,    // `queues: [a, b]`: always a before b (Faktory's own order, PROTOCOL.md §5)
  weighted,  // `queues: {a: 3, b: 1}`: a comes first three times as often as b
};

// The log's own types (syslog numbering, as the plugin SDK uses): the config names what the
// logger takes, so nothing converts between two copies of the same enum.
using LogLevel = service::LogLevel;
using LogFormat = service::LogFormat;
std::string_view to_string(QueueMode mode) noexcept;

struct TlsConfig {
  // Empty paths: not set. Set paths are absolute (relative ones are resolved against the
  // config file's directory) and were readable at load time.
  std::filesystem::path ca_file;    // PEM bundle to trust; empty = the system CA store
  std::filesystem::path cert_file;  // client certificate; always together with key_file
  std::filesystem::path key_file;
  bool verify = true;  // false only by an explicit `verify: false` (and a warning)
};

enum class PasswordSource { none, url, config, file };

struct FaktoryConfig {
  // The server to use, resolved with the precedence --url > FAKTORY_PROVIDER/FAKTORY_URL >
  // faktory.url > tcp://localhost:7419. Log only url.redacted().
  faktory::ServerUrl url;
  ValueSource url_source = ValueSource::default_value;
  // Human-readable origin for summaries and logs: "--url", "FAKTORY_URL",
  // "MY_URL (named by FAKTORY_PROVIDER)", "faktory.url at FILE:L:C", "default".
  std::string url_origin = "default";

  // faktory.password or the contents of faktory.password_file; overrides a password in the
  // URL (faktory::ClientOptions::password). Never log it.
  std::optional<std::string> password;
  PasswordSource password_source = PasswordSource::none;
  std::filesystem::path password_file;  // set when password_source == file

  TlsConfig tls;

  // faktory.timeout: how long to wait for a connection, a TLS handshake or a reply before
  // the connection is given up and made again. A FETCH waits 2 s longer (the server holds it
  // up to 2 s while the queues are empty). A silence, not a transfer: bytes that keep
  // arriving extend it (faktory/sync_connection.cpp).
  std::chrono::milliseconds timeout{std::chrono::seconds(5)};
};

struct Queue {
  std::string name;
  unsigned weight = 1;  // 1 in strict mode
};

// How processor threads are scheduled (worker.cpu_scheduling).
enum class CpuScheduling {
  batch,   // SCHED_BATCH: a woken processor does not preempt what runs; the same CPU share
  normal,  // SCHED_OTHER, like any thread
};
std::string_view to_string(CpuScheduling scheduling) noexcept;

struct WorkerConfig {
  unsigned concurrency = 10;
  ValueSource concurrency_source = ValueSource::default_value;
  QueueMode queue_mode = QueueMode::strict;
  std::vector<Queue> queues{Queue{"default", 1}};  // never empty; names unique
  std::vector<std::string> labels;
  std::chrono::milliseconds shutdown_timeout{std::chrono::seconds(25)};
  std::chrono::milliseconds heartbeat_interval{std::chrono::seconds(15)};  // 5 s .. 60 s
  std::string wid;  // empty: generated at start
  CpuScheduling cpu_scheduling = CpuScheduling::batch;
};

// One plugin's `plugins.config.<name>` subtree.
struct PluginSettings {
  std::string json;  // a JSON object, keys in file order
  SourceLocation where;
};

struct PluginsConfig {
  // Absolute, normalised, unique, in search order.
  std::vector<std::filesystem::path> directories{"/usr/lib/factotum/plugins",
                                                 "/usr/local/lib/factotum/plugins"};
  bool strict_permissions = true;
  bool fatal_errors = false;
  // Watch the directories (inotify) and rescan them when a .so appears, is replaced or is
  // removed, after a settle delay: the plugin part of a reload, without SIGHUP.
  bool watch = false;
  // Plugin name → settings. Which names exist is only known once plugins are loaded: the
  // daemon checks them then (did_you_mean() helps) and uses `where` in its message.
  std::map<std::string, PluginSettings, std::less<>> settings;

  // The form plugins::LoadOptions::config_json wants.
  std::map<std::string, std::string> config_json() const;
};

struct JobtypeOptions {
  std::optional<std::chrono::milliseconds> timeout;  // unset: only reserve_for limits the job
  SourceLocation where;
};

struct MiddlewareEntry {
  std::string name;
  SourceLocation where;
};

struct LoggingConfig {
  LogLevel level = LogLevel::info;
  ValueSource level_source = ValueSource::default_value;
  LogFormat format = LogFormat::text;
};

struct MetricsConfig {
  std::string listen;  // "host:port" as written; empty = no metrics endpoint
  std::string host;    // IPv6 without brackets
  std::uint16_t port = 0;
  // Export the sizes of the configured queues (the server's INFO, at most every 15 s).
  bool queue_sizes = false;
  bool enabled() const noexcept { return !listen.empty(); }
};

struct Config {
  // The file this was loaded from (as given to load_config), for messages and reloads.
  std::filesystem::path source;

  FaktoryConfig faktory;
  WorkerConfig worker;
  PluginsConfig plugins;
  std::map<std::string, JobtypeOptions, std::less<>> jobtypes;
  // Order of the middleware chain, outermost first; empty = the order plugins registered them.
  std::vector<MiddlewareEntry> middleware;
  LoggingConfig logging;
  MetricsConfig metrics;

  // Valid but probably unintended settings ("FILE:L:C: KEY: ..."), for the daemon to log at
  // warning level and --check-config to print.
  std::vector<std::string> warnings;

  // The configured timeout for a jobtype, if any.
  std::optional<std::chrono::milliseconds> jobtype_timeout(std::string_view jobtype) const;
};

// Command-line flags that override the file. Values are the flags' raw text: they are
// validated by the same rules as the YAML keys, and errors name the flag ("--concurrency: ...").
struct ConfigOverrides {
  std::optional<std::string> url;          // --url: beats FAKTORY_URL and faktory.url
  std::optional<std::string> log_level;    // --log-level: beats logging.level
  std::optional<std::string> concurrency;  // --concurrency: beats worker.concurrency
};

// Reads and validates `file`. Relative paths inside it are resolved against its directory.
// A missing or unreadable file, invalid YAML and every invalid key are ConfigErrors; an empty
// file gives all defaults. `env` is consulted for FAKTORY_PROVIDER / FAKTORY_URL and for
// $CREDENTIALS_DIRECTORY in faktory.password_file.
Config load_config(const std::filesystem::path& file, const ConfigOverrides& flags,
                   const faktory::EnvLookup& env);

// The same on YAML text. `source_name` is used in messages and as Config::source; relative
// paths are resolved against its directory (made absolute from the current directory).
Config parse_config(std::string_view yaml, std::string source_name, const ConfigOverrides& flags,
                    const faktory::EnvLookup& env);

// A multi-line, human summary for --check-config and the start-up log: resolved URL
// (redacted) and its origin, queues with weights, concurrency, timeouts, plugin directories,
// logging. Never a password, never plugin settings' values (they may hold secrets).
std::string describe(const Config& config);

}  // namespace factotum::config
