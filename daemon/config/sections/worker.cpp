// worker: concurrency, queues (list = strict order, map = weights), labels, shutdown_timeout,
// heartbeat_interval, wid, cpu_scheduling.
#include "config/sections/sections.hpp"
#include "config/value_parsers.hpp"
#include "faktory/quote.hpp"

#include <yaml-cpp/node/iterator.h>

#include <map>
#include <optional>

namespace factotum::config {
namespace {

using faktory::quote;

constexpr std::string_view kWorkerKeys[] = {
    "concurrency",        "queues", "labels",        "shutdown_timeout",
    "heartbeat_interval", "wid",    "cpu_scheduling"};

void require_queue_name(const YamlReader& yaml, const YAML::Node& at, const std::string& name) {
  if (auto error = check_queue_name(name)) yaml.fail(at, "worker.queues", std::move(*error));
}

void read_queues(const YamlReader& yaml, const YAML::Node& k, const YAML::Node& v,
                 WorkerConfig& out) {
  const std::string path = "worker.queues";
  std::vector<Queue> queues;
  QueueMode mode = QueueMode::strict;
  if (v.IsSequence()) {
    std::map<std::string, unsigned, std::less<>> seen;
    for (const YAML::Node& item : v) {
      if (!item.IsScalar()) {
        yaml.fail(item, path, "expected a queue name, got " + describe_value(item));
      }
      const std::string& name = item.Scalar();
      require_queue_name(yaml, item, name);
      const unsigned line = yaml.where(item).line;
      if (const auto [first, inserted] = seen.emplace(name, line); !inserted) {
        yaml.fail(item, path,
                  "duplicate queue " + quote(name) + " (first at line " +
                      std::to_string(first->second) + ")");
      }
      queues.push_back(Queue{name, 1});
    }
  } else if (v.IsMap()) {
    // Duplicate names are caught by for_each_entry as duplicate keys.
    mode = QueueMode::weighted;
    yaml.entries(v, path, [&](const std::string& name, const YAML::Node& qk, const YAML::Node& qv) {
      require_queue_name(yaml, qk, name);
      queues.push_back(Queue{name, yaml.positive(qk, qv, join_key(path, name), kMaxQueueWeight,
                                                 "a positive integer weight")});
    });
  } else {
    yaml.fail(YamlReader::point(k, v), path,
              "expected a list of queue names (strict order) or a map of queue name to weight, "
              "got " +
                  describe_value(v));
  }
  // FETCH with no queue is an error on the server (PROTOCOL.md §0.3).
  if (queues.empty()) yaml.fail(v, path, "needs at least one queue");
  out.queues = std::move(queues);
  out.queue_mode = mode;
}

void read_labels(const YamlReader& yaml, const YAML::Node& v, WorkerConfig& out) {
  const std::string path = "worker.labels";
  std::vector<std::string> labels;
  if (!v.IsNull()) {  // an empty value (every label commented out): no labels
    if (!v.IsSequence()) {
      yaml.fail(v, path, "expected a list of strings, got " + describe_value(v));
    }
    std::map<std::string, unsigned, std::less<>> seen;
    for (const YAML::Node& item : v) {
      if (!item.IsScalar()) yaml.fail(item, path, "expected a label, got " + describe_value(item));
      const std::string& label = item.Scalar();
      if (label.empty()) yaml.fail(item, path, "a label cannot be empty");
      const unsigned line = yaml.where(item).line;
      if (const auto [first, inserted] = seen.emplace(label, line); !inserted) {
        yaml.fail(item, path,
                  "duplicate label " + quote(label) + " (first at line " +
                      std::to_string(first->second) + ")");
      }
      labels.push_back(label);
    }
  }
  out.labels = std::move(labels);
}

}  // namespace

void read_worker(const YamlReader& yaml, const YAML::Node& v, WorkerConfig& w) {
  yaml.section(v, "worker", kWorkerKeys,
               [&](const std::string& key, const YAML::Node& k, const YAML::Node& value) {
                 const std::string path = join_key("worker", key);
                 // Each value's own rule; the error points at the value.
                 const auto check = [&](std::optional<std::string> error) {
                   if (error) yaml.fail(value, path, std::move(*error));
                 };
                 if (key == "concurrency") {
                   w.concurrency = yaml.positive(k, value, path, kMaxConcurrency);
                   w.concurrency_source = ValueSource::file;
                 } else if (key == "queues") {
                   read_queues(yaml, k, value, w);
                 } else if (key == "labels") {
                   read_labels(yaml, value, w);
                 } else if (key == "shutdown_timeout") {
                   w.shutdown_timeout = yaml.duration(k, value, path);
                   check(check_shutdown_timeout(w.shutdown_timeout));
                 } else if (key == "heartbeat_interval") {
                   w.heartbeat_interval = yaml.duration(k, value, path);
                   check(check_heartbeat_interval(w.heartbeat_interval));
                 } else if (key == "wid") {
                   w.wid = yaml.string(k, value, path);
                   check(check_wid(w.wid));
                 } else if (key == "cpu_scheduling") {
                   check(cpu_scheduling_from_name(yaml.string(k, value, path), w.cpu_scheduling));
                 }
               });
}

}  // namespace factotum::config
