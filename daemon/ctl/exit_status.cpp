#include "ctl/exit_status.hpp"

#include <ostream>

namespace factotum::ctl {

int fail(std::ostream& err, const Failure& failure) {
  err << "factotum ctl: " << failure.message << "\n";
  return failure.status;
}

Failure server_failure(std::string_view doing, const faktory::Error& error) {
  using faktory::errc;
  int status = kExitUnavailable;  // socket errors (refused, unreachable, reset) and the like
  if (error.code.category() == faktory::faktory_category()) {
    switch (static_cast<errc>(error.code.value())) {
      case errc::server_error:
      case errc::malformed_reply:
      case errc::unexpected_reply:
        status = kExitProtocol;
        break;
      case errc::password_required:
      case errc::invalid_password:
        status = kExitNoPerm;
        break;
      case errc::invalid_url:
        status = kExitConfig;
        break;
      case errc::invalid_argument:
      case errc::invalid_job:
        status = kExitUsage;
        break;
      case errc::connection_closed:
      case errc::timeout:
      case errc::handshake_failed:
      case errc::tls_error:
      case errc::not_connected:
        break;
    }
  }
  // A -ERR reply is the server's own words ("ERR jobs must have ..."): shown as they came.
  // Other errors' own text already says what failed ("connecting (host:port): Connection
  // refused"); the kind ("system error") only when there is no text.
  const std::string detail = error.is(errc::server_error)
                                 ? "the server answered: " + error.server_code + " " + error.message
                             : error.message.empty() ? error.code.message()
                                                     : error.message;
  return {status, std::string(doing) + ": " + detail};
}

}  // namespace factotum::ctl
