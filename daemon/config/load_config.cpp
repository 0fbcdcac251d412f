// YAML text → validated Config. One pass over the document in file order, so the first error
// reported is the first one in the file; every error names file:line:col and the dotted key.
#include "config/config.hpp"
#include "config/did_you_mean.hpp"
#include "config/duration.hpp"
#include "config/read_file.hpp"
#include "config/yaml_support.hpp"
#include "config/yaml_to_json.hpp"
#include "faktory/quote.hpp"

#include <yaml-cpp/yaml.h>

#include <sys/stat.h>
#include <algorithm>
#include <span>

namespace factotum::config {
namespace {

namespace fs = std::filesystem;
using faktory::quote;
using std::chrono::milliseconds;
using namespace std::chrono_literals;
using Keys = std::span<const std::string_view>;

constexpr std::string_view kTopKeys[] = {"faktory",    "worker",  "plugins", "jobtypes",
                                         "middleware", "logging", "metrics"};
constexpr std::string_view kFaktoryKeys[] = {"url", "password", "password_file", "tls"};
constexpr std::string_view kTlsKeys[] = {"ca_file", "cert_file", "key_file", "verify"};
constexpr std::string_view kWorkerKeys[] = {
    "concurrency",        "queues", "labels",        "shutdown_timeout",
    "heartbeat_interval", "wid",    "cpu_scheduling"};
constexpr std::string_view kCpuSchedulings[] = {"batch", "normal"};
constexpr std::string_view kPluginsKeys[] = {"directories", "strict_permissions", "fatal_errors",
                                             "config"};
constexpr std::string_view kJobtypeKeys[] = {"timeout"};
constexpr std::string_view kLoggingKeys[] = {"level", "format"};
constexpr std::string_view kMetricsKeys[] = {"listen"};
constexpr std::string_view kLogLevels[] = {"error", "warning", "info", "debug"};
constexpr std::string_view kLogFormats[] = {"text", "json"};

// A thousand processors (a thread and a Faktory connection each) is already far past what one
// process should run; a bigger number is almost certainly a typo.
constexpr unsigned kMaxConcurrency = 1000;
constexpr unsigned kMaxQueueWeight = 10000;
constexpr milliseconds kMaxShutdownTimeout = 24h;
// PROTOCOL.md §4: BEAT no more often than every 5 s and at least every 60 s (the server reaps
// a worker 60-75 s after its last BEAT).
constexpr milliseconds kMinHeartbeat = 5s;
constexpr milliseconds kMaxHeartbeat = 60s;

constexpr std::string_view kDurationExample = "a duration such as 25s, 1500ms or 2m";

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}
bool is_space_or_control(char c) noexcept {
  const auto byte = static_cast<unsigned char>(c);
  return byte <= 0x20 || byte == 0x7f;
}
bool is_queue_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '.' || c == '_' ||
         c == '-';
}
bool has_space_or_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), is_space_or_control);
}
bool contains(Keys keys, std::string_view key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

// Text checks shared by YAML values and command-line flags: an error message, or nullopt.
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

std::optional<std::string> level_from_name(std::string_view text, LogLevel& out) {
  static constexpr LogLevel kValues[] = {LogLevel::error, LogLevel::warning, LogLevel::info,
                                         LogLevel::debug};
  for (std::size_t i = 0; i < std::size(kLogLevels); ++i) {
    if (text == kLogLevels[i]) {
      out = kValues[i];
      return std::nullopt;
    }
  }
  return "unknown log level " + quote(text) + suggestion_suffix(text, kLogLevels);
}

// "host:port" with the host an IPv4 address, a name, or an IPv6 address in brackets.
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
    // Exposing metrics on every interface should be a decision, not an accident.
    return "the host is empty: write 127.0.0.1:" + std::string(port) +
           " for this machine only or 0.0.0.0:" + std::string(port) + " for every interface";
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

// A lexically normal absolute path without a trailing separator, so "/a/b/" and "/a/./b"
// compare equal to "/a/b".
fs::path normalise(fs::path p) {
  p = p.lexically_normal();
  if (!p.has_filename() && p.has_relative_path()) p = p.parent_path();
  return p;
}

std::string format_warning(const SourceLocation& where, std::string_view key,
                           std::string_view message) {
  std::string out = where.to_string();
  if (!out.empty()) out += ": ";
  out += key;
  out += ": ";
  out += message;
  return out;
}

class Loader {
 public:
  Loader(std::string file, fs::path base_dir, const ConfigOverrides& flags,
         const faktory::EnvLookup& env)
      : file_(std::move(file)), base_dir_(std::move(base_dir)), flags_(flags), env_(env) {}

  Config run(const YAML::Node& root) {
    config_.source = file_;
    if (!root.IsNull()) {
      if (!root.IsMap()) {
        fail(root, "",
             "the configuration must be a map of sections (faktory, worker, plugins, ...), "
             "got " +
                 describe_value(root));
      }
      for_each_entry(
          root, file_, "", [&](const std::string& key, const YAML::Node& k, const YAML::Node& v) {
            if (!contains(kTopKeys, key)) {
              fail(k, key,
                   "unknown top-level key " + quote(key) + suggestion_suffix(key, kTopKeys));
            }
            if (key == "faktory") faktory(v);
            if (key == "worker") worker(v);
            if (key == "plugins") plugins(v);
            if (key == "jobtypes") jobtypes(v);
            if (key == "middleware") middleware(k, v);
            if (key == "logging") logging(v);
            if (key == "metrics") metrics(v);
          });
    }
    apply_flags();
    resolve_url();
    add_warnings();
    return std::move(config_);
  }

 private:
  // ---- errors and positions ------------------------------------------------------------

  [[noreturn]] void fail(const YAML::Node& at, const std::string& key, std::string message) const {
    throw ConfigError(location_of(at, file_), key, std::move(message));
  }

  // Where to point for a value: the value, or its key when it is empty (an empty value's
  // mark lies past it, often on the next line).
  static const YAML::Node& point(const YAML::Node& key, const YAML::Node& value) {
    return value.IsNull() ? key : value;
  }

  // ---- maps ------------------------------------------------------------------------------

  // Iterates a section that must be a map (an empty section means "all defaults"), refusing
  // keys it does not know: a typo must not pass silently (DESIGN.md §5).
  void section(const YAML::Node& value, const std::string& path, Keys known,
               const EntryFn& fn) const {
    if (value.IsNull()) return;
    if (!value.IsMap()) fail(value, path, "expected a map, got " + describe_value(value));
    for_each_entry(
        value, file_, path, [&](const std::string& key, const YAML::Node& k, const YAML::Node& v) {
          if (!contains(known, key)) {
            fail(k, join_key(path, key),
                 "unknown key " + quote(key) + " in " + path + suggestion_suffix(key, known));
          }
          fn(key, k, v);
        });
  }

  // ---- scalars ---------------------------------------------------------------------------

  unsigned positive(const YAML::Node& k, const YAML::Node& v, const std::string& key, unsigned max,
                    std::string_view what = "a positive integer") const {
    if (!v.IsScalar()) {
      fail(point(k, v), key, "expected " + std::string(what) + ", got " + describe_value(v));
    }
    unsigned out = 0;
    if (auto error = parse_positive(v.Scalar(), !is_plain_scalar(v), max, what, out)) {
      fail(v, key, std::move(*error));
    }
    return out;
  }

  bool boolean(const YAML::Node& k, const YAML::Node& v, const std::string& key) const {
    // YAML 1.2 core booleans only: YAML 1.1's yes/no/on/off are a classic trap.
    if (v.IsScalar()) {
      const std::string& s = v.Scalar();
      const bool is_true = s == "true" || s == "True" || s == "TRUE";
      const bool is_false = s == "false" || s == "False" || s == "FALSE";
      if (is_plain_scalar(v) && (is_true || is_false)) return is_true;
      if (is_true || is_false) {
        fail(v, key, "expected true or false, got the string " + quote(s) + " (remove the quotes)");
      }
    }
    fail(point(k, v), key, "expected true or false, got " + describe_value(v));
  }

  // Any scalar, quoted or not, as its text. The error never shows the value (it may be a
  // password), only its kind.
  std::string string(const YAML::Node& k, const YAML::Node& v, const std::string& key,
                     std::string_view what = "a string") const {
    if (!v.IsScalar()) {
      fail(point(k, v), key,
           "expected " + std::string(what) + ", got " +
               (v.IsSequence() ? "a list"
                : v.IsMap()    ? "a map"
                               : "no value"));
    }
    return v.Scalar();
  }

  milliseconds duration(const YAML::Node& k, const YAML::Node& v, const std::string& key) const {
    if (!v.IsScalar()) {
      fail(point(k, v), key,
           "expected " + std::string(kDurationExample) + ", got " + describe_value(v));
    }
    const ParsedDuration parsed = parse_duration(v.Scalar());
    if (!parsed.ok()) fail(v, key, parsed.error);
    return parsed.value;
  }

  fs::path resolve(const std::string& text) const {
    fs::path p(text);
    if (p.is_relative()) p = base_dir_ / p;
    return normalise(std::move(p));
  }

  // ---- faktory ---------------------------------------------------------------------------

  void faktory(const YAML::Node& v) {
    std::optional<unsigned> password_line;
    std::optional<unsigned> password_file_line;
    section(v, "faktory", kFaktoryKeys,
            [&](const std::string& key, const YAML::Node& k, const YAML::Node& value) {
              const std::string path = join_key("faktory", key);
              if (key == "url") {
                const std::string text = string(k, value, path);
                auto parsed = faktory::parse_url(text);
                // The URL's own error (redacted by parse_url) with the position in the file.
                if (!parsed) fail(value, path, parsed.error().message);
                file_url_ = std::move(*parsed);
                file_url_where_ = location_of(value, file_);
              } else if (key == "password") {
                const std::string text = string(k, value, path);
                if (password_file_line) {
                  fail(value, path,
                       "set together with faktory.password_file (line " +
                           std::to_string(*password_file_line) + "); use only one");
                }
                if (text.empty()) fail(value, path, "is empty; remove the key for no password");
                config_.faktory.password = text;
                config_.faktory.password_source = PasswordSource::config;
                password_line = location_of(k, file_).line;
              } else if (key == "password_file") {
                const std::string text = string(k, value, path);
                if (password_line) {
                  fail(value, path,
                       "set together with faktory.password (line " +
                           std::to_string(*password_line) + "); use only one");
                }
                read_password_file(value, path, text);
                password_file_line = location_of(k, file_).line;
              } else if (key == "tls") {
                tls(k, value);
              }
            });
  }

  void read_password_file(const YAML::Node& value, const std::string& key,
                          const std::string& text) {
    if (text.empty()) fail(value, key, "cannot be empty; remove the key for no password");
    fs::path file;
    // systemd's LoadCredential= (DESIGN.md §6) puts the password in
    // $CREDENTIALS_DIRECTORY/<name>; the directory is only known from the environment.
    static constexpr std::string_view kPrefixes[] = {"${CREDENTIALS_DIRECTORY}/",
                                                     "$CREDENTIALS_DIRECTORY/"};
    for (const std::string_view prefix : kPrefixes) {
      if (text.starts_with(prefix)) {
        const auto dir = env_("CREDENTIALS_DIRECTORY");
        if (!dir || dir->empty()) {
          fail(value, key,
               "$CREDENTIALS_DIRECTORY is not set (set LoadCredential= in the unit, or give a "
               "plain path)");
        }
        file = normalise(fs::path(*dir) / text.substr(prefix.size()));
        break;
      }
    }
    if (file.empty()) file = resolve(text);

    FileContents contents = read_whole_file(file);
    if (!contents.ok())
      fail(value, key, "cannot read " + quote(file.string()) + ": " + contents.error);
    std::string& password = contents.data;
    // `echo secret > file` leaves a newline that is not part of the password.
    while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) {
      password.pop_back();
    }
    if (password.empty()) fail(value, key, quote(file.string()) + " is empty");

    struct stat st {};
    if (::stat(file.c_str(), &st) == 0 && (st.st_mode & S_IROTH) != 0) {
      config_.warnings.push_back(
          format_warning(location_of(value, file_), key,
                         quote(file.string()) + " is readable by every user; chmod o-r it"));
    }
    config_.faktory.password = std::move(password);
    config_.faktory.password_source = PasswordSource::file;
    config_.faktory.password_file = file;
  }

  void tls(const YAML::Node& tls_key, const YAML::Node& v) {
    if (v.IsMap() && v.size() > 0) tls_where_ = location_of(tls_key, file_);
    std::optional<SourceLocation> cert_where;
    std::optional<SourceLocation> key_where;
    TlsConfig& tls = config_.faktory.tls;
    section(v, "faktory.tls", kTlsKeys,
            [&](const std::string& key, const YAML::Node& k, const YAML::Node& value) {
              const std::string path = join_key("faktory.tls", key);
              if (key == "verify") {
                tls.verify = boolean(k, value, path);
                if (!tls.verify) verify_off_where_ = location_of(value, file_);
                return;
              }
              const std::string text = string(k, value, path, "a file name");
              if (text.empty()) fail(value, path, "cannot be empty; remove the key");
              const fs::path file = resolve(text);
              // Checked now so a typo stops the start (or the reload), not the first connect.
              const std::string error = check_readable(file);
              if (!error.empty())
                fail(value, path, "cannot read " + quote(file.string()) + ": " + error);
              if (key == "ca_file") tls.ca_file = file;
              if (key == "cert_file") {
                tls.cert_file = file;
                cert_where = location_of(value, file_);
              }
              if (key == "key_file") {
                tls.key_file = file;
                key_where = location_of(value, file_);
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

  // ---- worker ----------------------------------------------------------------------------

  void worker(const YAML::Node& v) {
    WorkerConfig& w = config_.worker;
    section(v, "worker", kWorkerKeys,
            [&](const std::string& key, const YAML::Node& k, const YAML::Node& value) {
              const std::string path = join_key("worker", key);
              if (key == "concurrency") {
                w.concurrency = positive(k, value, path, kMaxConcurrency);
                w.concurrency_source = ValueSource::file;
              } else if (key == "queues") {
                queues(k, value);
              } else if (key == "labels") {
                labels(value);
              } else if (key == "shutdown_timeout") {
                w.shutdown_timeout = duration(k, value, path);
                if (w.shutdown_timeout > kMaxShutdownTimeout) {
                  fail(value, path,
                       "must be at most " + format_duration(kMaxShutdownTimeout) + ", got " +
                           format_duration(w.shutdown_timeout));
                }
              } else if (key == "heartbeat_interval") {
                w.heartbeat_interval = duration(k, value, path);
                if (w.heartbeat_interval < kMinHeartbeat || w.heartbeat_interval > kMaxHeartbeat) {
                  fail(value, path,
                       "must be between 5s and 60s (Faktory reaps a worker after 60s without a "
                       "heartbeat), got " +
                           format_duration(w.heartbeat_interval));
                }
              } else if (key == "wid") {
                w.wid = string(k, value, path);
                if (w.wid.empty()) {
                  fail(value, path, "cannot be empty; remove the key to generate one at start");
                }
                if (has_space_or_control(w.wid)) {
                  fail(value, path, quote(w.wid) + " contains whitespace or control characters");
                }
              } else if (key == "cpu_scheduling") {
                const std::string text = string(k, value, path);
                if (text == "batch") {
                  w.cpu_scheduling = CpuScheduling::batch;
                } else if (text == "normal") {
                  w.cpu_scheduling = CpuScheduling::normal;
                } else {
                  fail(value, path,
                       "unknown CPU scheduling " + quote(text) +
                           suggestion_suffix(text, kCpuSchedulings));
                }
              }
            });
  }

  // A queue name goes on the FETCH line, space-separated (PROTOCOL.md §5), and the Faktory
  // server silently drops from a FETCH every name outside [a-zA-Z0-9._-]+: a worker asking only
  // for such a queue would wait forever without a word.
  void check_queue_name(const YAML::Node& at, const std::string& name) const {
    if (name.empty()) fail(at, "worker.queues", "a queue name cannot be empty");
    if (!std::all_of(name.begin(), name.end(), is_queue_name_char)) {
      fail(at, "worker.queues",
           "queue name " + quote(name) +
               " may only contain ASCII letters, digits, '.', '_' and '-': the Faktory server "
               "ignores other names in FETCH");
    }
  }

  void queues(const YAML::Node& k, const YAML::Node& v) {
    const std::string path = "worker.queues";
    std::vector<Queue> out;
    QueueMode mode = QueueMode::strict;
    if (v.IsSequence()) {
      std::map<std::string, unsigned, std::less<>> seen;
      for (const YAML::Node& item : v) {
        if (!item.IsScalar()) {
          fail(item, path, "expected a queue name, got " + describe_value(item));
        }
        const std::string& name = item.Scalar();
        check_queue_name(item, name);
        const unsigned line = location_of(item, file_).line;
        if (const auto [first, inserted] = seen.emplace(name, line); !inserted) {
          fail(item, path,
               "duplicate queue " + quote(name) + " (first at line " +
                   std::to_string(first->second) + ")");
        }
        out.push_back(Queue{name, 1});
      }
    } else if (v.IsMap()) {
      // Duplicate names are caught by for_each_entry as duplicate keys.
      mode = QueueMode::weighted;
      for_each_entry(
          v, file_, path, [&](const std::string& name, const YAML::Node& qk, const YAML::Node& qv) {
            check_queue_name(qk, name);
            out.push_back(Queue{name, positive(qk, qv, join_key(path, name), kMaxQueueWeight,
                                               "a positive integer weight")});
          });
    } else {
      fail(point(k, v), path,
           "expected a list of queue names (strict order) or a map of queue name to weight, "
           "got " +
               describe_value(v));
    }
    // FETCH with no queue is an error on the server (PROTOCOL.md §0.3).
    if (out.empty()) fail(v, path, "needs at least one queue");
    config_.worker.queues = std::move(out);
    config_.worker.queue_mode = mode;
  }

  void labels(const YAML::Node& v) {
    const std::string path = "worker.labels";
    std::vector<std::string> out;
    if (!v.IsNull()) {  // an empty value (every label commented out): no labels
      if (!v.IsSequence()) fail(v, path, "expected a list of strings, got " + describe_value(v));
      std::map<std::string, unsigned, std::less<>> seen;
      for (const YAML::Node& item : v) {
        if (!item.IsScalar()) fail(item, path, "expected a label, got " + describe_value(item));
        const std::string& label = item.Scalar();
        if (label.empty()) fail(item, path, "a label cannot be empty");
        const unsigned line = location_of(item, file_).line;
        if (const auto [first, inserted] = seen.emplace(label, line); !inserted) {
          fail(item, path,
               "duplicate label " + quote(label) + " (first at line " +
                   std::to_string(first->second) + ")");
        }
        out.push_back(label);
      }
    }
    config_.worker.labels = std::move(out);
  }

  // ---- plugins ---------------------------------------------------------------------------

  void plugins(const YAML::Node& v) {
    PluginsConfig& p = config_.plugins;
    section(v, "plugins", kPluginsKeys,
            [&](const std::string& key, const YAML::Node& k, const YAML::Node& value) {
              const std::string path = join_key("plugins", key);
              if (key == "directories") {
                directories(k, value);
              } else if (key == "strict_permissions") {
                p.strict_permissions = boolean(k, value, path);
              } else if (key == "fatal_errors") {
                p.fatal_errors = boolean(k, value, path);
              } else if (key == "config") {
                plugin_settings(value);
              }
            });
  }

  void directories(const YAML::Node& k, const YAML::Node& v) {
    const std::string path = "plugins.directories";
    if (!v.IsSequence()) {
      fail(point(k, v), path, "expected a list of directories, got " + describe_value(v));
    }
    std::vector<fs::path> out;
    std::vector<std::pair<std::string, unsigned>> written;  // as written, and its line
    for (const YAML::Node& item : v) {
      if (!item.IsScalar()) {
        fail(item, path, "expected a directory, got " + describe_value(item));
      }
      const std::string& text = item.Scalar();
      if (text.empty()) fail(item, path, "a directory cannot be empty");
      fs::path dir = resolve(text);
      const auto same = std::find(out.begin(), out.end(), dir);
      if (same != out.end()) {
        // Loading a directory twice would register every jobtype in it twice.
        const auto& [first_text, first_line] =
            written[static_cast<std::size_t>(same - out.begin())];
        fail(item, path,
             quote(text) + " is the same directory as " + quote(first_text) + " (line " +
                 std::to_string(first_line) + ")");
      }
      out.push_back(std::move(dir));
      written.emplace_back(text, location_of(item, file_).line);
    }
    config_.plugins.directories = std::move(out);
  }

  void plugin_settings(const YAML::Node& v) {
    const std::string path = "plugins.config";
    if (v.IsNull()) return;
    if (!v.IsMap())
      fail(v, path, "expected a map of plugin name to settings, got " + describe_value(v));
    for_each_entry(v, file_, path,
                   [&](const std::string& name, const YAML::Node& k, const YAML::Node& value) {
                     const std::string key = join_key(path, name);
                     if (name.empty()) fail(k, path, "a plugin name cannot be empty");
                     PluginSettings settings;
                     settings.where = location_of(k, file_);
                     if (value.IsNull()) {
                       settings.json = "{}";
                     } else if (value.IsMap()) {
                       settings.json = yaml_to_json(value, file_, key);
                     } else {
                       // The SDK promises plugins a JSON object (sdk.h, config_json).
                       fail(value, key,
                            "expected a map of settings for plugin " + quote(name) + ", got " +
                                describe_value(value));
                     }
                     config_.plugins.settings.emplace(name, std::move(settings));
                   });
  }

  // ---- jobtypes, middleware, logging, metrics --------------------------------------------

  void jobtypes(const YAML::Node& v) {
    if (v.IsNull()) return;
    if (!v.IsMap()) fail(v, "jobtypes", "expected a map, got " + describe_value(v));
    for_each_entry(
        v, file_, "jobtypes",
        [&](const std::string& name, const YAML::Node& k, const YAML::Node& value) {
          const std::string path = join_key("jobtypes", name);
          if (name.empty()) fail(k, "jobtypes", "a jobtype name cannot be empty");
          if (!value.IsNull() && !value.IsMap()) {
            fail(value, path, "expected a map of options (timeout), got " + describe_value(value));
          }
          JobtypeOptions options;
          options.where = location_of(k, file_);
          section(value, path, kJobtypeKeys,
                  [&](const std::string& key, const YAML::Node& ok, const YAML::Node& ov) {
                    const std::string opt = join_key(path, key);
                    if (key == "timeout") {
                      const milliseconds timeout = duration(ok, ov, opt);
                      if (timeout <= 0ms) {
                        fail(ov, opt, "must be greater than zero, got " + format_duration(timeout));
                      }
                      options.timeout = timeout;
                    }
                  });
          config_.jobtypes.emplace(name, std::move(options));
        });
  }

  void middleware(const YAML::Node& k, const YAML::Node& v) {
    const std::string path = "middleware";
    std::vector<MiddlewareEntry> out;
    if (!v.IsNull()) {  // empty: the order plugins registered them, the default
      if (!v.IsSequence()) {
        fail(point(k, v), path, "expected a list of middleware names, got " + describe_value(v));
      }
      for (const YAML::Node& item : v) {
        if (!item.IsScalar()) {
          fail(item, path, "expected a middleware name, got " + describe_value(item));
        }
        const std::string& name = item.Scalar();
        if (name.empty()) fail(item, path, "a middleware name cannot be empty");
        const auto same = std::find_if(out.begin(), out.end(),
                                       [&](const MiddlewareEntry& e) { return e.name == name; });
        if (same != out.end()) {
          fail(item, path,
               "duplicate middleware " + quote(name) + " (first at line " +
                   std::to_string(same->where.line) + ")");
        }
        out.push_back(MiddlewareEntry{name, location_of(item, file_)});
      }
    }
    config_.middleware = std::move(out);
  }

  void logging(const YAML::Node& v) {
    section(v, "logging", kLoggingKeys,
            [&](const std::string& key, const YAML::Node& k, const YAML::Node& value) {
              const std::string path = join_key("logging", key);
              const std::string text = string(k, value, path);
              if (key == "level") {
                if (auto error = level_from_name(text, config_.logging.level)) {
                  fail(value, path, std::move(*error));
                }
                config_.logging.level_source = ValueSource::file;
              } else if (key == "format") {
                if (text == "text") {
                  config_.logging.format = LogFormat::text;
                } else if (text == "json") {
                  config_.logging.format = LogFormat::json;
                } else {
                  fail(value, path,
                       "unknown log format " + quote(text) + suggestion_suffix(text, kLogFormats));
                }
              }
            });
  }

  void metrics(const YAML::Node& v) {
    section(v, "metrics", kMetricsKeys,
            [&](const std::string& key, const YAML::Node& k, const YAML::Node& value) {
              const std::string path = join_key("metrics", key);
              const std::string text = string(k, value, path);
              config_.metrics = MetricsConfig{};
              if (text.empty()) return;  // explicitly off
              if (auto error = parse_listen(text, config_.metrics))
                fail(value, path, std::move(*error));
            });
  }

  // ---- after the file --------------------------------------------------------------------

  void apply_flags() {
    // After the file, so a broken file is reported even when a flag overrides the key.
    if (flags_.concurrency) {
      unsigned value = 0;
      if (auto error = parse_positive(*flags_.concurrency, false, kMaxConcurrency,
                                      "a positive integer", value)) {
        throw ConfigError({}, "--concurrency", std::move(*error));
      }
      config_.worker.concurrency = value;
      config_.worker.concurrency_source = ValueSource::flag;
    }
    if (flags_.log_level) {
      if (auto error = level_from_name(*flags_.log_level, config_.logging.level)) {
        throw ConfigError({}, "--log-level", std::move(*error));
      }
      config_.logging.level_source = ValueSource::flag;
    }
  }

  // DESIGN.md §5: --url > FAKTORY_PROVIDER/FAKTORY_URL > faktory.url > default. The file's
  // URL was already validated where it stands, even if something else overrides it.
  void resolve_url() {
    FaktoryConfig& f = config_.faktory;
    if (flags_.url) {
      // A flag wins even over a broken environment, so --url is always a way out.
      auto parsed = faktory::parse_url(*flags_.url);
      if (!parsed) throw ConfigError({}, "--url", parsed.error().message);
      f.url = std::move(*parsed);
      f.url_source = ValueSource::flag;
      f.url_origin = "--url";
    } else if (auto from_env = faktory::url_from_environment(env_); !from_env) {
      // The message names FAKTORY_PROVIDER and what is wrong with it.
      throw ConfigError({}, "", from_env.error().message);
    } else if (*from_env) {
      const auto provider = env_("FAKTORY_PROVIDER");
      const bool via_provider = provider && !provider->empty();
      const std::string variable = via_provider ? *provider : "FAKTORY_URL";
      auto parsed = faktory::parse_url(**from_env);
      if (!parsed) throw ConfigError({}, variable, parsed.error().message);
      f.url = std::move(*parsed);
      f.url_source = ValueSource::environment;
      f.url_origin = via_provider ? variable + " (named by FAKTORY_PROVIDER)" : variable;
    } else if (file_url_) {
      f.url = std::move(*file_url_);
      f.url_source = ValueSource::file;
      f.url_origin = "faktory.url at " + file_url_where_.to_string();
    } else {
      f.url = faktory::parse_url(faktory::kDefaultUrl).value();
      f.url_source = ValueSource::default_value;
      f.url_origin = "default";
    }
    if (f.password_source == PasswordSource::none && f.url.password) {
      f.password_source = PasswordSource::url;
    }
  }

  void add_warnings() {
    const FaktoryConfig& f = config_.faktory;
    if (verify_off_where_ && f.url.tls) {
      config_.warnings.push_back(format_warning(
          *verify_off_where_, "faktory.tls.verify",
          "false: the server's certificate is not checked; anyone on the network path can "
          "impersonate it"));
    }
    if (tls_where_ && !f.url.tls) {
      config_.warnings.push_back(
          format_warning(*tls_where_, "faktory.tls",
                         "set, but the Faktory URL " + f.url.redacted() + " (" + f.url_origin +
                             ") does not use TLS; write tcp+tls:// to use it"));
    }
  }

  std::string file_;
  fs::path base_dir_;
  const ConfigOverrides& flags_;
  const faktory::EnvLookup& env_;
  Config config_;

  std::optional<faktory::ServerUrl> file_url_;
  SourceLocation file_url_where_;
  std::optional<SourceLocation> tls_where_;
  std::optional<SourceLocation> verify_off_where_;
};

}  // namespace

Config parse_config(std::string_view yaml, std::string source_name, const ConfigOverrides& flags,
                    const faktory::EnvLookup& env) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(yaml));
  } catch (const YAML::Exception& e) {
    throw ConfigError(location_of(e.mark, source_name), "", "invalid YAML: " + e.msg);
  }
  // A stray "---" splits the file; yaml-cpp's Load would silently ignore all but the first.
  for (std::size_t i = 1; i < documents.size(); ++i) {
    if (!documents[i].IsNull()) {
      throw ConfigError(location_of(documents[i], source_name), "",
                        "the file holds more than one YAML document; put everything in one");
    }
  }
  const YAML::Node root = documents.empty() ? YAML::Node() : documents.front();

  std::error_code ec;
  fs::path base_dir = fs::absolute(fs::path(source_name), ec).parent_path();
  if (ec) base_dir = fs::path(source_name).parent_path();
  return Loader(std::move(source_name), std::move(base_dir), flags, env).run(root);
}

Config load_config(const std::filesystem::path& file, const ConfigOverrides& flags,
                   const faktory::EnvLookup& env) {
  const FileContents contents = read_whole_file(file);
  if (!contents.ok()) {
    throw ConfigError(SourceLocation{file.string(), 0, 0}, "",
                      "cannot read the configuration file: " + contents.error);
  }
  return parse_config(contents.data, file.string(), flags, env);
}

}  // namespace factotum::config
