// Job ids: 24 lowercase hex characters from a per-thread CSPRNG-seeded generator
// (the server requires >= 8 characters; PROTOCOL.md §6).
#pragma once

#include <string>

namespace factotum::faktory {

std::string generate_jid();

}  // namespace factotum::faktory
