// The connection `factotum ctl` opens: the one the daemon would open (its configuration file:
// URL, password, TLS settings and timeout), made by the daemon's own code, as a producer that
// registers no worker. Or, when --url or the environment (FAKTORY_URL, FAKTORY_PROVIDER) names
// the server, that URL alone: no configuration file is read, so neither the daemon's password
// nor its TLS client key ever goes to a server someone named by hand.
#pragma once

#include "config/config.hpp"
#include "ctl/command_line.hpp"
#include "ctl/exit_status.hpp"
#include "faktory/blocking_client.hpp"
#include "faktory/url.hpp"

#include <memory>
#include <variant>

namespace factotum::ctl {

// Where the packaged unit's LoadCredential= takes faktory-password from.
inline constexpr const char* kCredentialsFallback = "/etc/factotum";

struct CtlEnvironment {
  // The process environment, with one difference: an unset CREDENTIALS_DIRECTORY reads as
  // kCredentialsFallback, so `faktory.password_file: ${CREDENTIALS_DIRECTORY}/...` works for
  // an operator (as root) outside the unit.
  faktory::EnvLookup lookup;
  bool credentials_fallback = false;  // CREDENTIALS_DIRECTORY was unset
};
CtlEnvironment ctl_environment();

// The configuration to connect with: with --url or a URL in the environment, the defaults and
// that URL (--config with a URL from the environment is a usage error, 64); otherwise the
// daemon's file, --config or the default one, which must exist and be readable. Errors are
// the daemon's ("FILE:LINE:COL: KEY: ..."), status 78.
std::variant<config::Config, Failure> load_configuration(const ConnectionArgs& args,
                                                         const CtlEnvironment& env);

// Connected, or why not (status 69 unreachable, 77 password, with where the password came
// from, 78 configuration).
std::variant<std::unique_ptr<faktory::BlockingClient>, Failure> connect_to_server(
    const ConnectionArgs& args, const CtlEnvironment& env);

}  // namespace factotum::ctl
