#include "faktory/tls_context.hpp"

#include <boost/asio/ssl/context.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <fstream>

namespace factotum::faktory {

namespace ssl = boost::asio::ssl;

namespace {

Error file_error(std::string_view what, const std::string& path,
                 const boost::system::error_code& ec) {
  return Error(errc::tls_error,
               "cannot use " + std::string(what) + " '" + path + "': " + ec.message());
}

bool readable(const std::string& path) {
  return std::ifstream(path).good();
}

bool is_ip_literal(const std::string& host) {
  unsigned char address[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, host.c_str(), address) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), address) == 1;
}

}  // namespace

TlsContext::TlsContext(std::unique_ptr<ssl::context> ctx, bool verify)
    : ctx_(std::move(ctx)), verify_(verify) {}

TlsContext::~TlsContext() = default;

SSL_CTX* TlsContext::ssl_ctx() const noexcept {
  return ctx_->native_handle();
}

Result<std::shared_ptr<const TlsContext>> TlsContext::create(const TlsOptions& options) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  // Faktory's TLS listener requires TLS 1.2 or newer (PROTOCOL.md §1).
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression);

  boost::system::error_code ec;
  if (options.verify) {
    if (!options.ca_file.empty()) {
      if (!readable(options.ca_file)) {
        return Error(errc::tls_error, "cannot read CA file '" + options.ca_file + "'");
      }
      ctx->load_verify_file(options.ca_file, ec);
      if (ec) return file_error("CA file", options.ca_file, ec);
    } else {
      ctx->set_default_verify_paths(ec);
      if (ec) return Error(errc::tls_error, "cannot load the system CA store: " + ec.message());
    }
  }
  if (!options.cert_file.empty() || !options.key_file.empty()) {
    if (options.cert_file.empty() || options.key_file.empty()) {
      return Error(errc::tls_error,
                   "a client certificate needs both cert_file and key_file (got only " +
                       std::string(options.cert_file.empty() ? "key_file" : "cert_file") + ")");
    }
    if (!readable(options.cert_file)) {
      return Error(errc::tls_error, "cannot read certificate file '" + options.cert_file + "'");
    }
    if (!readable(options.key_file)) {
      return Error(errc::tls_error, "cannot read key file '" + options.key_file + "'");
    }
    ctx->use_certificate_chain_file(options.cert_file, ec);
    if (ec) return file_error("client certificate", options.cert_file, ec);
    ctx->use_private_key_file(options.key_file, ssl::context::pem, ec);
    const bool mismatch =
        ec ? ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH
           : SSL_CTX_check_private_key(ctx->native_handle()) != 1;
    if (ec && !mismatch) return file_error("client key", options.key_file, ec);
    if (mismatch) {
      return Error(errc::tls_error, "the key in '" + options.key_file +
                                        "' does not match the certificate in '" +
                                        options.cert_file + "'");
    }
  }
  return std::shared_ptr<const TlsContext>(new TlsContext(std::move(ctx), options.verify));
}

Result<void> TlsContext::prepare_session(SSL* ssl, const ServerUrl& url,
                                         const TlsOptions& tls) const {
  const std::string name = tls.server_name.empty() ? url.host : tls.server_name;
  // SNI carries host names only, never IP literals (RFC 6066 §3).
  // (SSL_set_tlsext_host_name is a macro with a C cast; this is the call it expands to.)
  if (!is_ip_literal(name)) {
    SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(name.c_str()));
  }
  if (!verify_) {
    SSL_set_verify(ssl, SSL_VERIFY_NONE, nullptr);
    return {};
  }
  SSL_set_verify(ssl, SSL_VERIFY_PEER, nullptr);
  // OpenSSL checks the name itself (RFC 6125) and so can say "hostname mismatch" when that is
  // what failed; a verify callback would only yield "certificate verify failed".
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  const int named = is_ip_literal(name)
                        ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                        : X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
  if (named != 1) {
    return Error(make_error_code(errc::tls_error),
                 "cannot verify the TLS server name '" + name + "'");
  }
  return {};
}

}  // namespace factotum::faktory
