/// @file
/// How a client reaches a Faktory server: URL, password, TLS and timeout.
#pragma once

#include "factotum/faktory/result.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace faktory {

/// Connection settings, built with chained setters:
/// @code
///   auto options = faktory::Options().url("tcp+tls://jobs.example.com:7419").password(secret);
/// @endcode
/// Without url(), the server is found as every Faktory client finds it: the variable named by
/// FAKTORY_PROVIDER, else FAKTORY_URL, else tcp://localhost:7419. A URL has the form
/// `tcp://[:password@]host[:port]` or `tcp+tls://...` (port 7419 by default).
///
/// Thread safety: a value type; distinct objects may be used concurrently, and one object may
/// be read (copied, used to connect) from several threads at once.
class FACTOTUM_FAKTORY_API Options {
 public:
  /// The defaults: the server from the environment, no password, system CAs, 5 s timeout.
  Options();
  /// Destroys the settings.
  ~Options();
  /// Copies the settings.
  Options(const Options& other);
  /// Copies the settings.
  Options& operator=(const Options& other);
  /// Moves the settings.
  Options(Options&& other) noexcept;
  /// Moves the settings.
  Options& operator=(Options&& other) noexcept;

  /// The server's URL; takes precedence over FAKTORY_PROVIDER / FAKTORY_URL. It is checked
  /// when the client connects (ErrorCode::invalid_url).
  Options& url(std::string_view url);
  /// The server password; takes precedence over one in the URL. It is never logged or put in
  /// an error message.
  Options& password(std::string_view password);
  /// A PEM bundle of the CAs to trust for tcp+tls:// (default: the system's CA store).
  Options& tls_ca_file(std::string_view path);
  /// A client certificate (PEM chain) and its private key, for servers that ask for one.
  Options& tls_client_certificate(std::string_view cert_file, std::string_view key_file);
  /// The name to verify in the server's certificate and send as SNI (default: the URL's host).
  Options& tls_server_name(std::string_view name);
  /// Turns certificate verification off. Only for tests: anyone on the path can then read
  /// the password and the jobs.
  Options& tls_insecure_skip_verify();
  /// How long connecting may take in all (name resolution, TCP, TLS and the handshake), and
  /// the longest silence allowed while a command is sent or its reply awaited (each chunk of
  /// a large reply that keeps arriving renews it). Default 5 s.
  Options& timeout(std::chrono::milliseconds timeout);

  /// Implementation details (the library's own).
  struct Impl;
  /// Implementation details (the library's own).
  const Impl& impl() const noexcept { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace faktory
