// jobtypes: <name>: {timeout}.
#include "config/sections/sections.hpp"
#include "config/value_parsers.hpp"

namespace factotum::config {
namespace {

constexpr std::string_view kJobtypeKeys[] = {"timeout"};

}  // namespace

void read_jobtypes(const YamlReader& yaml, const YAML::Node& v,
                   std::map<std::string, JobtypeOptions, std::less<>>& out) {
  if (v.IsNull()) return;
  if (!v.IsMap()) yaml.fail(v, "jobtypes", "expected a map, got " + describe_value(v));
  yaml.entries(
      v, "jobtypes", [&](const std::string& name, const YAML::Node& k, const YAML::Node& value) {
        const std::string path = join_key("jobtypes", name);
        if (name.empty()) yaml.fail(k, "jobtypes", "a jobtype name cannot be empty");
        if (!value.IsNull() && !value.IsMap()) {
          yaml.fail(value, path,
                    "expected a map of options (timeout), got " + describe_value(value));
        }
        JobtypeOptions options;
        options.where = yaml.where(k);
        yaml.section(value, path, kJobtypeKeys,
                     [&](const std::string& key, const YAML::Node& ok, const YAML::Node& ov) {
                       const std::string option = join_key(path, key);
                       if (key == "timeout") {
                         const std::chrono::milliseconds timeout = yaml.duration(ok, ov, option);
                         if (auto error = check_jobtype_timeout(timeout)) {
                           yaml.fail(ov, option, std::move(*error));
                         }
                         options.timeout = timeout;
                       }
                     });
        out.emplace(name, std::move(options));
      });
}

}  // namespace factotum::config
