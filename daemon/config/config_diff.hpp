// What a reload changes, in words for the log (DESIGN.md §5: a reload builds a new Config beside
// the old one; this says how they differ before the daemon swaps them).
#pragma once

#include "config/config.hpp"

#include <string>
#include <vector>

namespace factotum::config {

// One line per setting whose value differs, "KEY: BEFORE → AFTER" with KEY the dotted key as
// written in the file ("worker.concurrency: 10 → 20", "worker.queues: [a, b] → {a: 3, b: 1}",
// "jobtypes.email.timeout: (none) → 30s"), in the order of Config's fields; names within a map
// (plugins.config, jobtypes) in name order. Empty when nothing changed.
//
// Secrets never appear: the URL only as ServerUrl::redacted(); the password (the one in use:
// faktory.password or password_file's contents, else the URL's) only as "faktory.password:
// set | changed | removed"; plugin settings only as "plugins.config.<name>: added | changed |
// removed". Where each value came from (flag, environment, file) and the warnings are not
// settings and are not compared.
std::vector<std::string> describe_changes(const Config& before, const Config& after);

}  // namespace factotum::config
