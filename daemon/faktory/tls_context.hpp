// A loaded TLS client context: trust store, optional client certificate, TLS >= 1.2.
// Built once and shared by every connection (loading the system CA store is not cheap).
#pragma once

#include "faktory/client_options.hpp"
#include "faktory/error.hpp"

#include <memory>

namespace boost::asio::ssl {
class context;
}
struct ssl_st;      // OpenSSL's SSL
struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace factotum::faktory {

class TlsContext {
 public:
  // Errors (errc::tls_error) name the file that could not be used and why.
  static Result<std::shared_ptr<const TlsContext>> create(const TlsOptions& options);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  boost::asio::ssl::context& native() const noexcept { return *ctx_; }
  // The OpenSSL context itself, for connections that do not use Asio.
  ssl_ctx_st* ssl_ctx() const noexcept;
  bool verify() const noexcept { return verify_; }

  // Sets up one session of a connection to `url` before its handshake: SNI and, unless
  // verification is off, peer verification with OpenSSL's own host-name check (RFC 6125, no
  // partial wildcards), so a wrong name is reported as "hostname mismatch". Shared by the
  // asynchronous and the blocking connection.
  Result<void> prepare_session(ssl_st* ssl, const ServerUrl& url, const TlsOptions& tls) const;

 private:
  TlsContext(std::unique_ptr<boost::asio::ssl::context> ctx, bool verify);
  std::unique_ptr<boost::asio::ssl::context> ctx_;
  bool verify_;
};

}  // namespace factotum::faktory
