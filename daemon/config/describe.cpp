// The --check-config summary: what the daemon will actually do with this configuration,
// after defaults, flags and the environment, in the order an operator checks it.
#include "config/config.hpp"
#include "config/duration.hpp"

namespace factotum::config {
namespace {

std::string_view source_note(ValueSource source) noexcept {
  switch (source) {
    case ValueSource::default_value:
      return " (default)";
    case ValueSource::flag:
      return " (from the command line)";
    case ValueSource::environment:
      return " (from the environment)";
    case ValueSource::file:
      break;
  }
  return "";
}

template <typename T, typename F>
std::string join(const std::vector<T>& items, F&& show, std::string_view none) {
  if (items.empty()) return std::string(none);
  std::string out;
  for (const T& item : items) {
    if (!out.empty()) out += ", ";
    out += show(item);
  }
  return out;
}

std::string password_line(const FaktoryConfig& f) {
  // Only ever where the password comes from; its value and length stay secret.
  switch (f.password_source) {
    case PasswordSource::none:
      return "none";
    case PasswordSource::url:
      return "set (in the URL)";
    case PasswordSource::config:
      return "set (from faktory.password)";
    case PasswordSource::file:
      return "set (from faktory.password_file " + f.password_file.string() + ")";
  }
  return "none";
}

std::string tls_line(const FaktoryConfig& f) {
  if (!f.url.tls) return "off (the URL is tcp://)";
  std::string out = f.tls.verify ? "on, server certificate verified" : "on, NOT VERIFIED";
  out += f.tls.ca_file.empty() ? ", system CA store" : ", CA " + f.tls.ca_file.string();
  if (!f.tls.cert_file.empty()) {
    out += ", client certificate " + f.tls.cert_file.string() + " (key " + f.tls.key_file.string() +
           ")";
  }
  return out;
}

}  // namespace

std::string describe(const Config& c) {
  std::string out;
  const auto line = [&out](std::string_view text) {
    out += text;
    out += '\n';
  };

  line("configuration: " + c.source.string());

  line("faktory:");
  line("  url: " + c.faktory.url.redacted() + " (" + c.faktory.url_origin + ")");
  line("  password: " + password_line(c.faktory));
  line("  tls: " + tls_line(c.faktory));
  line("  timeout: " + format_duration(c.faktory.timeout));

  const WorkerConfig& w = c.worker;
  line("worker:");
  line("  concurrency: " + std::to_string(w.concurrency) +
       std::string(source_note(w.concurrency_source)));
  if (w.queue_mode == QueueMode::weighted) {
    line("  queues (weighted): " +
         join(
             w.queues, [](const Queue& q) { return q.name + "=" + std::to_string(q.weight); }, ""));
  } else {
    line("  queues (strict order): " + join(
                                           w.queues, [](const Queue& q) { return q.name; }, ""));
  }
  line("  labels: " + join(
                          w.labels, [](const std::string& l) { return l; }, "(none)"));
  line("  shutdown_timeout: " + format_duration(w.shutdown_timeout));
  line("  heartbeat_interval: " + format_duration(w.heartbeat_interval));
  line("  wid: " + (w.wid.empty() ? std::string("(generated at start)") : w.wid));
  line("  cpu_scheduling: " + std::string(to_string(w.cpu_scheduling)));

  const PluginsConfig& p = c.plugins;
  line("plugins:");
  line("  directories: " +
       join(
           p.directories, [](const std::filesystem::path& d) { return d.string(); }, "(none)"));
  line(std::string("  strict_permissions: ") + (p.strict_permissions ? "true" : "false"));
  line(std::string("  fatal_errors: ") + (p.fatal_errors ? "true" : "false"));
  line(std::string("  watch: ") + (p.watch ? "true" : "false"));
  // Names only: plugin settings may hold API keys and the like.
  std::string settings;
  for (const auto& [name, s] : p.settings) {
    if (!settings.empty()) settings += ", ";
    settings += name;
  }
  line("  settings for: " + (settings.empty() ? std::string("(none)") : settings));

  if (c.jobtypes.empty()) {
    line("jobtypes: (no per-jobtype options)");
  } else {
    line("jobtypes:");
    for (const auto& [name, options] : c.jobtypes) {
      line("  " + name + ": timeout " +
           (options.timeout ? format_duration(*options.timeout) : std::string("(none)")));
    }
  }
  line("middleware: " + join(
                            c.middleware, [](const MiddlewareEntry& m) { return m.name; },
                            "(the order plugins registered them)"));
  line("logging: level " + std::string(to_string(c.logging.level)) +
       std::string(source_note(c.logging.level_source)) + ", format " +
       std::string(to_string(c.logging.format)));
  line("metrics: " + (c.metrics.enabled() ? "listen " + c.metrics.listen : std::string("off")));
  for (const std::string& warning : c.warnings) line("warning: " + warning);
  return out;
}

}  // namespace factotum::config
