// The settings that more than the file can set (DESIGN.md §5): the Faktory URL, the log level
// and the concurrency. Run after the whole file is read, so a broken file is reported even when
// a flag overrides the key.
#pragma once

#include "config/config.hpp"
#include "config/file_facts.hpp"
#include "faktory/url.hpp"

namespace factotum::config {

// --concurrency over worker.concurrency, --log-level over logging.level. Errors name the flag.
void apply_flags(const ConfigOverrides& flags, Config& config);

// --url > FAKTORY_PROVIDER/FAKTORY_URL > faktory.url (`file.url`) > default; sets the URL, where
// it came from, and PasswordSource::url when the winning URL carries the only password.
void resolve_url(const ConfigOverrides& flags, const faktory::EnvLookup& env, const FileFacts& file,
                 FaktoryConfig& out);

}  // namespace factotum::config
