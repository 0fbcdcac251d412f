#include "plugins/failed_loads.hpp"

#include <utility>

namespace factotum::plugins {

const FailedLoad* FailedLoads::find(const std::filesystem::path& file, const FileIdentity& identity,
                                    const LoadOptions& options) const {
  const auto it = failures_.find(file);
  if (it == failures_.end() || it->second.identity != identity) return nullptr;
  const FailedLoad& failure = it->second;
  if (!failure.plugin.empty() && config_for(options, failure.plugin) != failure.config) {
    return nullptr;
  }
  return &failure;
}

void FailedLoads::remember(const std::filesystem::path& file, FailedLoad failure) {
  failures_.insert_or_assign(file, std::move(failure));
}

void FailedLoads::keep_only(const std::function<bool(const std::filesystem::path&)>& keep) {
  std::erase_if(failures_, [&](const auto& entry) { return !keep(entry.first); });
}

std::string not_retried(const std::string& reason) {
  return reason + " (unchanged since it failed; not retried)";
}

}  // namespace factotum::plugins
