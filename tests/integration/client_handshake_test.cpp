// Connecting: the password challenge, and servers that answer the handshake badly.
#include "client_test_support.hpp"

#include <boost/asio/error.hpp>
#include <catch2/catch.hpp>

using namespace factotum;
using namespace factotum::faktory;
using factotum::testing::ScriptedServer;
using factotum::testing::TestServer;
using factotum::testing::TestServerOptions;

namespace {

TestServerOptions with_password(std::string password) {
  TestServerOptions options;
  options.password = std::move(password);
  return options;
}

}  // namespace

TEST_CASE("a producer and a worker connect to a server without a password") {
  TestServer server;
  BlockingClient producer(testing::options_for(server));
  REQUIRE(producer.connect());
  BlockingClient worker(testing::worker_options_for(server, "hs-wid"));
  REQUIRE(worker.connect());
  CHECK(server.worker_state("hs-wid") == std::optional<std::string>("running"));
  auto log = server.command_log();  // HELLO itself is not a command
  CHECK(log.empty());
}

TEST_CASE("the right password is accepted, from the options or the URL") {
  TestServer server(with_password("p@ss:w/rd é"));

  SECTION("configured password") {
    BlockingClient client(testing::options_for(server, "p@ss:w/rd é"));
    REQUIRE(client.connect());
    CHECK(client.info());
  }
  SECTION("URL-encoded password in the URL") {
    auto url =
        parse_url("tcp://:p%40ss%3Aw%2Frd%20%C3%A9@127.0.0.1:" + std::to_string(server.port()));
    REQUIRE(url);
    BlockingClient client(ClientOptions::for_url(*url));
    REQUIRE(client.connect());
    CHECK(client.info());
  }
}

TEST_CASE("a wrong password is a clear error") {
  TestServer server(with_password("s3cret"));
  BlockingClient client(testing::options_for(server, "wrong"));
  auto connected = client.connect();
  REQUIRE_FALSE(connected);
  CHECK(connected.error().is(errc::invalid_password));
  CHECK(connected.error().message.find("Invalid password") != std::string::npos);
  CHECK(connected.error().message.find("wrong") == std::string::npos);  // never echo it
  CHECK_FALSE(client.is_connected());
}

TEST_CASE("a server asking for a password when none is configured is a clear error") {
  TestServer server(with_password("s3cret"));
  BlockingClient client(testing::options_for(server));
  auto connected = client.connect();
  REQUIRE_FALSE(connected);
  CHECK(connected.error().is(errc::password_required));
  CHECK(connected.error().message.find("password") != std::string::npos);
}

TEST_CASE("nothing listening is a connection error, not a hang") {
  std::uint16_t port = 0;
  {
    TestServer server;
    port = server.port();
  }
  BlockingClient client(
      ClientOptions::for_url(parse_url("tcp://127.0.0.1:" + std::to_string(port)).value()));
  auto connected = client.connect();
  REQUIRE_FALSE(connected);
  CHECK(connected.error().code == boost::asio::error::connection_refused);
  CHECK(connected.error().message.find("127.0.0.1:" + std::to_string(port)) != std::string::npos);
}

TEST_CASE("a server that sends no greeting times out with a hint about TLS") {
  ScriptedServer silent([](ScriptedServer::Peer& peer) { peer.read_line(); });
  auto options = ClientOptions::for_url(parse_url(silent.url()).value());
  options.connect_timeout = std::chrono::milliseconds(300);
  BlockingClient client(options);
  auto connected = client.connect();
  REQUIRE_FALSE(connected);
  CHECK(connected.error().is(errc::timeout));
  CHECK(connected.error().message.find("tcp+tls://") != std::string::npos);
}

TEST_CASE("a greeting that is not +HI is a handshake error naming what arrived") {
  ScriptedServer odd([](ScriptedServer::Peer& peer) {
    peer.send("+HELLO THERE\r\n");
    peer.read_line();
  });
  BlockingClient client(ClientOptions::for_url(parse_url(odd.url()).value()));
  auto connected = client.connect();
  REQUIRE_FALSE(connected);
  CHECK(connected.error().is(errc::handshake_failed));
  CHECK(connected.error().message.find("HELLO THERE") != std::string::npos);
}

TEST_CASE("a server that closes after HELLO is a handshake error") {
  ScriptedServer closer([](ScriptedServer::Peer& peer) {
    peer.send("+HI {\"v\":2}\r\n");
    peer.read_line();
    peer.close();
  });
  BlockingClient client(ClientOptions::for_url(parse_url(closer.url()).value()));
  auto connected = client.connect();
  REQUIRE_FALSE(connected);
  CHECK(connected.error().is(errc::handshake_failed));
}
