// An immutable snapshot of what the loaded plugins registered: jobtype → handler and the
// middleware chain in order. A reload builds a new snapshot beside the old one and publishes
// it atomically; each job takes one snapshot (one shared_ptr copy) and uses it to the end, so
// the job path takes no lock and a job never sees half a reload (DESIGN.md §4.7).
#pragma once

#include "factotum/sdk.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace factotum::plugins {

class Generation;

struct JobtypeEntry {
  std::string name;
  factotum_job_fn fn = nullptr;
  void* user_data = nullptr;
  const Generation* generation = nullptr;  // kept alive by the snapshot
};

struct MiddlewareEntry {
  std::string qualified_name;  // "<plugin>.<name>"
  factotum_middleware_fn fn = nullptr;
  void* user_data = nullptr;
  const Generation* generation = nullptr;
};

class Registry {
 public:
  // `generations` in plugin load order. `chain_order` lists qualified middleware names (see
  // resolve_middleware_order); empty means every middleware in load order.
  Registry(std::vector<std::shared_ptr<Generation>> generations,
           const std::vector<std::string>& chain_order);

  const JobtypeEntry* find(std::string_view jobtype) const noexcept;
  const std::map<std::string, JobtypeEntry, std::less<>>& jobtypes() const noexcept {
    return jobtypes_;
  }
  const std::vector<MiddlewareEntry>& chain() const noexcept { return chain_; }
  // In plugin load order.
  const std::vector<std::shared_ptr<Generation>>& generations() const noexcept {
    return generations_;
  }

 private:
  // Owning references: a generation stays alive (and is not shut down) while any snapshot
  // that can route a job to it is alive.
  std::vector<std::shared_ptr<Generation>> generations_;
  std::map<std::string, JobtypeEntry, std::less<>> jobtypes_;
  std::vector<MiddlewareEntry> chain_;
};

// Resolves configured middleware names ("<plugin>.<name>" or a plain "<name>" that only one
// plugin registered) to qualified names. Returns the error naming every unknown or ambiguous
// name, or nothing when all resolved.
std::optional<std::string> resolve_middleware_order(
    const std::vector<std::string>& order,
    const std::vector<std::shared_ptr<Generation>>& generations,
    std::vector<std::string>& qualified);

}  // namespace factotum::plugins
