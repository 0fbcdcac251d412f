// Replies a healthy server never sends: a close in the middle of a reply, garbage, silence.
#include "client_test_support.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace factotum;
using namespace factotum::faktory;
using factotum::testing::ScriptedServer;
using factotum::testing::TestServer;

namespace {

// Greets, accepts HELLO, then answers the first command with `reply` and closes when
// `close_after` is set.
ScriptedServer answering(std::string reply, bool close_after) {
  return ScriptedServer([reply = std::move(reply), close_after](ScriptedServer::Peer& peer) {
    peer.send("+HI {\"v\":2}\r\n");
    if (peer.read_line().empty()) return;
    peer.send("+OK\r\n");
    if (peer.read_line().empty()) return;
    peer.send(reply);
    if (close_after) {
      peer.close();
    } else {
      peer.read_line();
    }
  });
}

Result<boost::json::object> info_from(
    const ScriptedServer& server, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto options = ClientOptions::for_url(parse_url(server.url()).value());
  options.command_timeout = timeout;
  BlockingClient client(options);
  REQUIRE(client.connect());
  auto info = client.info();
  CHECK_FALSE(client.is_connected());  // a broken stream is never reused
  return info;
}

}  // namespace

TEST_CASE("the server closing in the middle of a bulk reply is a connection error") {
  auto server = answering("$100\r\n{\"half\":", true);
  auto info = info_from(server);
  REQUIRE_FALSE(info);
  CHECK(info.error().is(errc::connection_closed));
  CHECK(info.error().message.find("middle of a reply") != std::string::npos);
}

TEST_CASE("a garbage reply is a malformed-reply error that says what was wrong") {
  auto server = answering("HTTP/1.1 400 Bad Request\r\n", false);
  auto info = info_from(server);
  REQUIRE_FALSE(info);
  CHECK(info.error().is(errc::malformed_reply));
  CHECK(info.error().message.find("INFO") != std::string::npos);
}

TEST_CASE("a reply that never comes times out and closes the connection") {
  auto server = answering("", false);
  auto info = info_from(server, std::chrono::milliseconds(300));
  REQUIRE_FALSE(info);
  CHECK(info.error().is(errc::timeout));
}

TEST_CASE("a reply that keeps arriving is waited for past the timeout, a silence is not") {
  // A large job on a slow link takes longer than the timeout to arrive: the timeout bounds a
  // silence, not the transfer. (The pauses stand for a slow link; 4x below the timeout.)
  // 256 KiB: each piece is larger than the most the client asks the kernel to gather before
  // waking it (SyncConnection's low-water mark), as pieces of a large reply are.
  const std::string body = "{\"faktory\":{},\"pad\":\"" + std::string(256 * 1024, 'x') + "\"}";
  const std::string reply = "$" + std::to_string(body.size()) + "\r\n" + body + "\r\n";
  for (const bool stall : {false, true}) {
    INFO((stall ? "stalls" : "trickles"));
    ScriptedServer server([&](ScriptedServer::Peer& peer) {
      peer.send("+HI {\"v\":2}\r\n");
      if (peer.read_line().empty()) return;
      peer.send("+OK\r\n");
      if (peer.read_line().empty()) return;
      // Eight pieces, 250 ms apart: 2 s in all, twice the 1 s timeout; or a first piece and
      // then 3 s of silence.
      const std::size_t piece = reply.size() / 8 + 1;
      for (std::size_t at = 0; at < reply.size(); at += piece) {
        peer.send(std::string_view(reply).substr(at, piece));
        if (stall) {
          std::this_thread::sleep_for(std::chrono::seconds(3));
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
      }
      peer.read_line();
    });
    auto options = ClientOptions::for_url(parse_url(server.url()).value());
    options.command_timeout = std::chrono::seconds(1);
    BlockingClient client(options);
    REQUIRE(client.connect());
    auto info = client.info();
    if (stall) {
      REQUIRE_FALSE(info);
      CHECK(info.error().is(errc::timeout));
    } else {
      REQUIRE(info);
      CHECK(info->contains("pad"));
    }
  }
}

TEST_CASE("a reply of the wrong kind is an unexpected-reply error") {
  auto server = answering("+OK\r\n", false);
  auto options = ClientOptions::for_url(parse_url(server.url()).value());
  BlockingClient client(options);
  REQUIRE(client.connect());
  auto info = client.info();
  REQUIRE_FALSE(info);
  CHECK(info.error().is(errc::unexpected_reply));
}

TEST_CASE("a dropped connection is reported and a new connect() recovers") {
  testing::TestServerOptions server_options;
  server_options.fetch_block = std::chrono::milliseconds(200);
  TestServer server(server_options);
  BlockingClient client(testing::options_for(server));
  REQUIRE(client.connect());
  server.drop_all_connections();
  auto info = client.info();
  REQUIRE_FALSE(info);
  CHECK_FALSE(client.is_connected());
  REQUIRE(client.connect());
  CHECK(client.info());
}

TEST_CASE("commands on a client that never connected say so") {
  BlockingClient client(ClientOptions::for_url(parse_url("tcp://127.0.0.1:1").value()));
  auto pushed = client.push(Job::create("T"));
  REQUIRE_FALSE(pushed);
  CHECK(pushed.error().is(errc::not_connected));
}

TEST_CASE("a shutdown-in-progress error closes the connection so callers reconnect and resend") {
  testing::TestServerOptions server_options;
  server_options.fetch_block = std::chrono::milliseconds(200);
  TestServer server(server_options);
  BlockingClient client(testing::options_for(server));
  REQUIRE(client.connect());
  server.begin_shutdown();
  auto acked = client.ack("0123456789abcdef");
  REQUIRE_FALSE(acked);
  CHECK(acked.error().is(errc::connection_closed));
  CHECK(acked.error().message.find("shutdown in progress") != std::string::npos);
  CHECK_FALSE(client.is_connected());
}
