// How a Client reaches and identifies itself to a Faktory server. Plain data, no Asio.
#pragma once

#include "faktory/handshake.hpp"
#include "faktory/url.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace factotum::faktory {

class TlsContext;

struct TlsOptions {
  std::string ca_file;      // PEM bundle to trust; empty = the system CA store
  std::string cert_file;    // client certificate (PEM chain), optional
  std::string key_file;     // its private key (PEM); required with cert_file
  bool verify = true;       // peer verification; turning it off is an explicit, logged choice
  std::string server_name;  // name to verify and send as SNI; empty = the URL's host
};

struct ClientOptions {
  ServerUrl url;
  // Overrides url.password when set (faktory.password / password_file).
  std::optional<std::string> password;
  TlsOptions tls;
  // Shared, already-loaded TLS context (loading the CA store is costly; many connections share
  // one). Null: the client builds one from `tls` on first connect.
  std::shared_ptr<const TlsContext> tls_context;
  // Empty wid: a producer connection. A worker sets wid, hostname, pid, labels.
  Identity identity;

  // Name resolution + TCP connect + TLS handshake + greeting + HELLO, all together.
  std::chrono::milliseconds connect_timeout{5000};
  // Any command but FETCH: write and read the reply.
  std::chrono::milliseconds command_timeout{5000};
  // FETCH blocks up to 2 s on the server (PROTOCOL.md §5), so its read deadline is longer.
  std::chrono::milliseconds fetch_timeout{10000};

  // Options for a URL, keeping the defaults for everything else.
  static ClientOptions for_url(ServerUrl url);
};

}  // namespace factotum::faktory
