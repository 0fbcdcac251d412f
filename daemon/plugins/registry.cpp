#include "plugins/registry.hpp"

#include "plugins/generation.hpp"

#include <utility>

namespace factotum::plugins {

Registry::Registry(std::vector<std::shared_ptr<Generation>> generations,
                   const std::vector<std::string>& chain_order)
    : generations_(std::move(generations)) {
  std::vector<MiddlewareEntry> all;
  for (const auto& generation : generations_) {
    for (const auto& jobtype : generation->jobtypes()) {
      // The loader refuses duplicates, so emplace never finds an existing entry.
      jobtypes_.emplace(jobtype.name, JobtypeEntry{jobtype.name, jobtype.fn, jobtype.user_data,
                                                   generation.get()});
    }
    for (const auto& middleware : generation->middleware()) {
      all.push_back(MiddlewareEntry{generation->name() + "." + middleware.name, middleware.fn,
                                    middleware.user_data, generation.get()});
    }
  }
  if (chain_order.empty()) {
    chain_ = std::move(all);
    return;
  }
  // Only the configured middleware run, in the configured order; a name that is no longer
  // registered was reported by the host when it built this snapshot.
  for (const auto& name : chain_order) {
    for (const auto& entry : all) {
      if (entry.qualified_name == name) {
        chain_.push_back(entry);
        break;
      }
    }
  }
}

const JobtypeEntry* Registry::find(std::string_view jobtype) const noexcept {
  const auto it = jobtypes_.find(jobtype);
  return it == jobtypes_.end() ? nullptr : &it->second;
}

std::optional<std::string> resolve_middleware_order(
    const std::vector<std::string>& order,
    const std::vector<std::shared_ptr<Generation>>& generations,
    std::vector<std::string>& qualified) {
  qualified.clear();
  std::string errors;
  auto add_error = [&errors](const std::string& text) {
    if (!errors.empty()) errors += "; ";
    errors += text;
  };
  for (const auto& wanted : order) {
    std::vector<std::string> matches;
    for (const auto& generation : generations) {
      for (const auto& middleware : generation->middleware()) {
        const std::string full = generation->name() + "." + middleware.name;
        if (full == wanted) {
          matches.assign(1, full);  // an exact qualified name wins over any plain match
          break;
        }
        if (middleware.name == wanted) matches.push_back(full);
      }
      if (matches.size() == 1 && matches.front() == wanted) break;
    }
    if (matches.empty()) {
      add_error("unknown middleware '" + wanted + "' (no loaded plugin registered it)");
    } else if (matches.size() > 1) {
      std::string options;
      for (const auto& match : matches) options += (options.empty() ? "" : " or ") + match;
      add_error("middleware name '" + wanted + "' is ambiguous: write " + options);
    } else {
      qualified.push_back(matches.front());
    }
  }
  if (errors.empty()) return std::nullopt;
  return errors;
}

}  // namespace factotum::plugins
