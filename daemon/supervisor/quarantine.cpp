#include "supervisor/quarantine.hpp"

#include <algorithm>

namespace factotum::supervisor {

void Quarantine::add(const std::filesystem::path& file, const service::FileIdentity& identity,
                     std::string how) {
  // One entry per file: an older version's is no longer of use.
  std::erase_if(entries_, [&](const Entry& entry) { return entry.file == file; });
  entries_.push_back({file, identity, std::move(how)});
}

std::optional<std::string> Quarantine::refuse(const std::filesystem::path& file,
                                              const service::FileIdentity& identity) const {
  const auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& entry) {
    return entry.file == file && entry.identity == identity;
  });
  if (it == entries_.end()) return std::nullopt;
  return "quarantined: it crashed the worker while loading (" + it->how +
         "); it is loaded again once the file changes";
}

}  // namespace factotum::supervisor
