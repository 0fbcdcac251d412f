// metrics: listen, queue_sizes.
#include "config/sections/sections.hpp"
#include "config/value_parsers.hpp"

namespace factotum::config {
namespace {

constexpr std::string_view kMetricsKeys[] = {"listen", "queue_sizes"};

}  // namespace

void read_metrics(const YamlReader& yaml, const YAML::Node& v, MetricsConfig& out) {
  yaml.section(v, "metrics", kMetricsKeys,
               [&](const std::string& key, const YAML::Node& k, const YAML::Node& value) {
                 const std::string path = join_key("metrics", key);
                 if (key == "queue_sizes") {
                   out.queue_sizes = yaml.boolean(k, value, path);
                   return;
                 }
                 const std::string text = yaml.string(k, value, path);
                 out.listen.clear();
                 out.host.clear();
                 out.port = 0;
                 if (text.empty()) return;  // explicitly off
                 if (auto error = parse_listen(text, out)) {
                   yaml.fail(value, path, std::move(*error));
                 }
               });
}

}  // namespace factotum::config
