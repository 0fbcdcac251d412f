// Faktory's password hash (PROTOCOL.md §3.4): SHA-256 applied `iterations` times to
// password ++ salt (the salt as its hex text), sent as 64 lowercase hex characters.
#pragma once

#include <string>
#include <string_view>

namespace factotum::faktory {

// iterations < 1 is treated as 1 (what the server does for v < 2).
std::string password_hash(std::string_view password, std::string_view salt, int iterations);

}  // namespace factotum::faktory
