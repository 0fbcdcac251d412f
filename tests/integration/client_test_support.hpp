// Shared helpers for the client integration tests: options that point a client at a
// TestServer, and a one-connection scripted server for replies the real server never sends.
#pragma once

#include "catch_result.hpp"
#include "faktory/blocking_client.hpp"
#include "faktory/client_options.hpp"
#include "faktory/tls_context.hpp"
#include "faktory/url.hpp"
#include "test_server.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace factotum::testing {

inline faktory::ClientOptions options_for(const TestServer& server,
                                          std::optional<std::string> password = std::nullopt) {
  auto options = faktory::ClientOptions::for_url(faktory::parse_url(server.url()).value());
  options.password = std::move(password);
  options.connect_timeout = std::chrono::seconds(10);
  options.command_timeout = std::chrono::seconds(10);
  options.fetch_timeout = std::chrono::seconds(15);
  return options;
}

inline faktory::ClientOptions worker_options_for(const TestServer& server, std::string wid) {
  auto options = options_for(server);
  options.identity = faktory::process_identity(std::move(wid), {"test"});
  return options;
}

// Accepts connections on 127.0.0.1 and hands each to `script`, which talks raw bytes over
// the blocking helpers below. For replies a real server never sends (garbage, a close in the
// middle of a bulk string).
class ScriptedServer {
 public:
  struct Peer {
    virtual ~Peer() = default;
    virtual void send(std::string_view bytes) = 0;
    virtual std::string read_line() = 0;  // up to and including "\n"; "" on EOF
    virtual void close() = 0;
  };
  explicit ScriptedServer(std::function<void(Peer&)> script);
  ~ScriptedServer();
  std::uint16_t port() const;
  std::string url() const { return "tcp://127.0.0.1:" + std::to_string(port()); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace factotum::testing
