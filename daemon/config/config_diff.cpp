#include "config/config_diff.hpp"
#include "config/duration.hpp"

#include <set>
#include <string_view>

namespace factotum::config {
namespace {

namespace fs = std::filesystem;

// The lines, in the order the settings are compared.
class Changes {
 public:
  // "KEY: BEFORE → AFTER" when the two differ. Every value is compared as it is shown, so a
  // line never reads "x → x".
  void compare(std::string_view key, const std::string& before, const std::string& after) {
    if (before != after) lines_.push_back(std::string(key) + ": " + before + " → " + after);
  }
  // "KEY: WHAT" for a value that must not be shown (a password, plugin settings).
  void note(std::string_view key, std::string_view what) {
    lines_.push_back(std::string(key) + ": " + std::string(what));
  }
  std::vector<std::string> take() { return std::move(lines_); }

 private:
  std::vector<std::string> lines_;
};

// "[a, b]"
template <typename T, typename Show>
std::string list_text(const std::vector<T>& items, Show&& show) {
  std::string out = "[";
  for (const T& item : items) {
    if (out.size() > 1) out += ", ";
    out += show(item);
  }
  return out + "]";
}

std::string queues_text(const WorkerConfig& w) {
  if (w.queue_mode == QueueMode::strict) {
    return list_text(w.queues, [](const Queue& q) { return q.name; });
  }
  std::string out = "{";
  for (const Queue& q : w.queues) {
    if (out.size() > 1) out += ", ";
    out += q.name + ": " + std::to_string(q.weight);
  }
  return out + "}";
}

std::string path_text(const fs::path& path) {
  return path.empty() ? "(none)" : path.string();
}

std::string bool_text(bool value) {
  return value ? "true" : "false";
}

std::string timeout_text(const JobtypeOptions* options) {
  if (options == nullptr || !options->timeout) return "(none)";
  return format_duration(*options->timeout);
}

std::string middleware_text(const std::vector<MiddlewareEntry>& chain) {
  if (chain.empty()) return "(the order plugins registered them)";
  return list_text(chain, [](const MiddlewareEntry& m) { return m.name; });
}

// The password the client sends: faktory.password (or password_file's contents) overrides the
// URL's.
const std::optional<std::string>& password_in_use(const FaktoryConfig& f) {
  return f.password ? f.password : f.url.password;
}

// Calls fn(name, before or nullptr, after or nullptr) for each name in either map, in order.
template <typename Map, typename Fn>
void for_each_name(const Map& before, const Map& after, Fn&& fn) {
  std::set<std::string_view> names;
  for (const auto& entry : before) names.insert(entry.first);
  for (const auto& entry : after) names.insert(entry.first);
  for (const std::string_view name : names) {
    const auto b = before.find(name);
    const auto a = after.find(name);
    fn(name, b == before.end() ? nullptr : &b->second, a == after.end() ? nullptr : &a->second);
  }
}

void compare_faktory(const FaktoryConfig& b, const FaktoryConfig& a, Changes& out) {
  out.compare("faktory.url", b.url.redacted(), a.url.redacted());
  const auto& old_password = password_in_use(b);
  const auto& new_password = password_in_use(a);
  if (!old_password && new_password) out.note("faktory.password", "set");
  if (old_password && !new_password) out.note("faktory.password", "removed");
  if (old_password && new_password && *old_password != *new_password) {
    out.note("faktory.password", "changed");
  }
  out.compare("faktory.password_file", path_text(b.password_file), path_text(a.password_file));
  out.compare("faktory.tls.ca_file", path_text(b.tls.ca_file), path_text(a.tls.ca_file));
  out.compare("faktory.tls.cert_file", path_text(b.tls.cert_file), path_text(a.tls.cert_file));
  out.compare("faktory.tls.key_file", path_text(b.tls.key_file), path_text(a.tls.key_file));
  out.compare("faktory.tls.verify", bool_text(b.tls.verify), bool_text(a.tls.verify));
  out.compare("faktory.timeout", format_duration(b.timeout), format_duration(a.timeout));
}

void compare_worker(const WorkerConfig& b, const WorkerConfig& a, Changes& out) {
  out.compare("worker.concurrency", std::to_string(b.concurrency), std::to_string(a.concurrency));
  out.compare("worker.queues", queues_text(b), queues_text(a));
  const auto same = [](const std::string& label) { return label; };
  out.compare("worker.labels", list_text(b.labels, same), list_text(a.labels, same));
  out.compare("worker.shutdown_timeout", format_duration(b.shutdown_timeout),
              format_duration(a.shutdown_timeout));
  out.compare("worker.heartbeat_interval", format_duration(b.heartbeat_interval),
              format_duration(a.heartbeat_interval));
  const auto wid = [](const std::string& w) { return w.empty() ? std::string("(generated)") : w; };
  out.compare("worker.wid", wid(b.wid), wid(a.wid));
  out.compare("worker.cpu_scheduling", std::string(to_string(b.cpu_scheduling)),
              std::string(to_string(a.cpu_scheduling)));
}

void compare_plugins(const PluginsConfig& b, const PluginsConfig& a, Changes& out) {
  const auto dir = [](const fs::path& d) { return d.string(); };
  out.compare("plugins.directories", list_text(b.directories, dir), list_text(a.directories, dir));
  out.compare("plugins.strict_permissions", bool_text(b.strict_permissions),
              bool_text(a.strict_permissions));
  out.compare("plugins.fatal_errors", bool_text(b.fatal_errors), bool_text(a.fatal_errors));
  out.compare("plugins.watch", bool_text(b.watch), bool_text(a.watch));
  // Never the settings themselves: they may hold API keys and the like.
  for_each_name(b.settings, a.settings,
                [&](std::string_view name, const PluginSettings* old, const PluginSettings* now) {
                  const std::string key = "plugins.config." + std::string(name);
                  if (old == nullptr) {
                    out.note(key, "added");
                  } else if (now == nullptr) {
                    out.note(key, "removed");
                  } else if (old->json != now->json) {
                    out.note(key, "changed");
                  }
                });
}

}  // namespace

std::vector<std::string> describe_changes(const Config& before, const Config& after) {
  Changes out;
  compare_faktory(before.faktory, after.faktory, out);
  compare_worker(before.worker, after.worker, out);
  compare_plugins(before.plugins, after.plugins, out);
  for_each_name(before.jobtypes, after.jobtypes,
                [&](std::string_view name, const JobtypeOptions* old, const JobtypeOptions* now) {
                  out.compare("jobtypes." + std::string(name) + ".timeout", timeout_text(old),
                              timeout_text(now));
                });
  out.compare("middleware", middleware_text(before.middleware), middleware_text(after.middleware));
  out.compare("logging.level", std::string(to_string(before.logging.level)),
              std::string(to_string(after.logging.level)));
  out.compare("logging.format", std::string(to_string(before.logging.format)),
              std::string(to_string(after.logging.format)));
  const auto listen = [](const MetricsConfig& m) { return m.enabled() ? m.listen : "off"; };
  out.compare("metrics.listen", listen(before.metrics), listen(after.metrics));
  out.compare("metrics.queue_sizes", before.metrics.queue_sizes ? "true" : "false",
              after.metrics.queue_sizes ? "true" : "false");
  return out.take();
}

}  // namespace factotum::config
