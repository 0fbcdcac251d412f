// The connection handshake (PROTOCOL.md §3), sans-io: read the `+HI {...}` greeting,
// build the `HELLO {...}` line with identity and password hash.
#pragma once

#include "faktory/error.hpp"
#include "faktory/resp_reader.hpp"

#include <optional>
#include <string>
#include <vector>

namespace factotum::faktory {

struct Greeting {
  int version = 2;
  std::optional<int> iterations;    // "i": present when the server wants a password
  std::optional<std::string> salt;  // "s"
  bool wants_password() const noexcept { return salt.has_value(); }
};

// Parses the greeting reply. A reply that is not `+HI {json}` is errc::handshake_failed;
// `-ERR ...` becomes the server error.
Result<Greeting> parse_greeting(const Reply& reply);

// Who we are. A non-empty wid makes the connection a worker (PROTOCOL.md §3.3).
struct Identity {
  std::string hostname;
  std::string wid;
  int pid = 0;
  std::vector<std::string> labels;
  std::string username;  // only sent when non-empty
};

// The HELLO command line (with CRLF). A greeting that asks for a password when `password`
// is empty is errc::password_required, with a message that says how to configure one.
Result<std::string> hello_command(const Greeting& greeting, const Identity& identity,
                                  const std::optional<std::string>& password);

// Identity for this process: gethostname(), getpid(), the given wid and labels.
Identity process_identity(std::string wid, std::vector<std::string> labels);

}  // namespace factotum::faktory
