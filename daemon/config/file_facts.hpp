// What the file said beyond the Config's own fields, for the steps that run once the whole file
// is read: faktory.url still competes with the flags and the environment (precedence.cpp), and
// whether some settings deserve a warning depends on the URL that wins (warnings.cpp).
#pragma once

#include "config/config.hpp"
#include "faktory/url.hpp"

#include <optional>

namespace factotum::config {

struct FileFacts {
  std::optional<faktory::ServerUrl> url;  // faktory.url, already validated where it stands
  SourceLocation url_where;
  std::optional<SourceLocation> tls_where;                   // a non-empty faktory.tls section
  std::optional<SourceLocation> verify_off_where;            // faktory.tls.verify: false
  std::optional<SourceLocation> shared_password_file_where;  // readable by every user
};

}  // namespace factotum::config
