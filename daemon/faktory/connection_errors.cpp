#include "faktory/connection_errors.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <string>

namespace factotum::faktory::connection_errors {

Error timed_out(std::string_view peer, std::string_view during) {
  return Error(errc::timeout, "timed out " + std::string(during) + " (" + std::string(peer) + ")");
}

Error closed(std::string_view peer, std::string_view during, std::size_t buffered) {
  std::string msg = std::string(peer) + " closed the connection while " + std::string(during);
  if (buffered > 0) {
    msg += " (in the middle of a reply, " + std::to_string(buffered) + " bytes of it received)";
  }
  return Error(errc::connection_closed, msg);
}

Error tls(std::string_view peer, std::string_view during, std::string_view reason,
          const ssl_st* ssl) {
  std::string msg = "TLS error with " + std::string(peer) + " while " + std::string(during);
  if (!reason.empty()) {
    msg += ": ";
    msg += reason;
  }
  if (ssl != nullptr) {
    const long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) {
      msg += " (certificate: ";
      msg += X509_verify_cert_error_string(verify);
      msg += ")";
    }
  }
  return Error(make_error_code(errc::tls_error), msg);
}

Error with_plain_tcp_hint(Error handshake_error) {
  handshake_error.message += " (is the server plain TCP? then use tcp:// instead of tcp+tls://)";
  return handshake_error;
}

Error socket(const boost::system::error_code& ec, std::string_view peer, std::string_view during) {
  return Error(ec, std::string(during) + " (" + std::string(peer) + "): " + ec.message());
}

}  // namespace factotum::faktory::connection_errors
