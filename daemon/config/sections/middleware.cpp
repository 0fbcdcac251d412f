// middleware: [name, ...], the chain's order, outermost first.
#include "config/sections/sections.hpp"
#include "faktory/quote.hpp"

#include <yaml-cpp/node/iterator.h>

#include <algorithm>

namespace factotum::config {

void read_middleware(const YamlReader& yaml, const YAML::Node& k, const YAML::Node& v,
                     std::vector<MiddlewareEntry>& out) {
  const std::string path = "middleware";
  std::vector<MiddlewareEntry> chain;
  if (!v.IsNull()) {  // empty: the order plugins registered them, the default
    if (!v.IsSequence()) {
      yaml.fail(YamlReader::point(k, v), path,
                "expected a list of middleware names, got " + describe_value(v));
    }
    for (const YAML::Node& item : v) {
      if (!item.IsScalar()) {
        yaml.fail(item, path, "expected a middleware name, got " + describe_value(item));
      }
      const std::string& name = item.Scalar();
      if (name.empty()) yaml.fail(item, path, "a middleware name cannot be empty");
      const auto same = std::find_if(chain.begin(), chain.end(),
                                     [&](const MiddlewareEntry& e) { return e.name == name; });
      if (same != chain.end()) {
        yaml.fail(item, path,
                  "duplicate middleware " + faktory::quote(name) + " (first at line " +
                      std::to_string(same->where.line) + ")");
      }
      chain.push_back(MiddlewareEntry{name, yaml.where(item)});
    }
  }
  out = std::move(chain);
}

}  // namespace factotum::config
