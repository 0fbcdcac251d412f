#include "faktory/tls_context.hpp"

#include <boost/asio/ssl/context.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

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

}  // namespace

TlsContext::TlsContext(std::unique_ptr<ssl::context> ctx, bool verify)
    : ctx_(std::move(ctx)), verify_(verify) {}

TlsContext::~TlsContext() = default;

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

}  // namespace factotum::faktory
