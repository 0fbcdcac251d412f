// ACK/FAIL pipelined with the next FETCH (Client::ack_and_fetch, fail_and_fetch): both
// commands in one write, both replies read in order, and each failure reported where it
// happened.
#include "client_test_support.hpp"
#include "faktory/client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>

using namespace factotum;
using namespace factotum::faktory;
using factotum::testing::ScriptedServer;
using factotum::testing::TestServer;
using factotum::testing::TestServerOptions;

namespace {

TestServerOptions quick_server() {
  TestServerOptions options;
  options.fetch_block = std::chrono::milliseconds(200);
  return options;
}

// Runs `body` as a coroutine on a fresh io_context with a connected client; returns when it
// completes (rethrowing what it threw, so REQUIREs inside it work).
void with_client(const ClientOptions& options,
                 std::function<boost::asio::awaitable<void>(Client&)> body) {
  boost::asio::io_context io;
  auto done = boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        Client client(io.get_executor(), options);
        auto connected = co_await client.connect();
        REQUIRE(connected);
        co_await body(client);
      },
      boost::asio::use_future);
  io.run();
  done.get();
}

const std::vector<std::string> kQueues{"pipeq"};

}  // namespace

TEST_CASE("ACK goes out with the next FETCH and both replies come back in order") {
  TestServer server(quick_server());
  auto first = Job::create("T", {1}, "pipeq");
  auto second = Job::create("T", {2}, "pipeq");
  server.push_job(first.serialize());
  server.push_job(second.serialize());

  with_client(testing::options_for(server), [&](Client& client) -> boost::asio::awaitable<void> {
    auto fetched = co_await client.fetch_raw(kQueues);
    REQUIRE(fetched);
    REQUIRE(*fetched);
    auto job = Job::parse(**fetched);
    REQUIRE(job);
    CHECK(job->jid == first.jid);

    auto both = co_await client.ack_and_fetch(first.jid, kQueues);
    CHECK(both.report);
    REQUIRE(both.fetched);
    REQUIRE(*both.fetched);
    auto next = Job::parse(**both.fetched);
    REQUIRE(next);
    CHECK(next->jid == second.jid);

    // The queue is empty now: the FETCH half waits out the server's block and says so.
    both = co_await client.ack_and_fetch(second.jid, kQueues);
    CHECK(both.report);
    REQUIRE(both.fetched);
    CHECK_FALSE(*both.fetched);
    CHECK(client.is_connected());
  });
  CHECK(server.ack_count(first.jid) == 1);
  CHECK(server.ack_count(second.jid) == 1);
  CHECK(server.stats().processed == 2);
  CHECK(server.stats().working == 0);
}

TEST_CASE("a FAIL the server refuses still gets its FETCH answered") {
  TestServer server(quick_server());
  auto queued = Job::create("T", {}, "pipeq");
  server.push_job(queued.serialize());

  with_client(testing::options_for(server), [&](Client& client) -> boost::asio::awaitable<void> {
    const commands::FailArgs failure{"0123456789abcdef", "Boom", "never fetched", {}};
    auto both = co_await client.fail_and_fetch(failure, kQueues);
    REQUIRE_FALSE(both.report);
    CHECK(both.report.error().is(errc::server_error));
    CHECK(both.report.error().message.find("Job not found") != std::string::npos);
    CHECK(client.is_connected());
    REQUIRE(both.fetched);
    REQUIRE(*both.fetched);
    auto job = Job::parse(**both.fetched);
    REQUIRE(job);
    CHECK(job->jid == queued.jid);
  });
}

TEST_CASE("a connection closed before the report is answered fails both halves") {
  ScriptedServer server([](ScriptedServer::Peer& peer) {
    peer.send("+HI {\"v\":2}\r\n");
    if (peer.read_line().empty()) return;  // HELLO
    peer.send("+OK\r\n");
    peer.read_line();  // ACK
    peer.close();
  });
  with_client(ClientOptions::for_url(parse_url(server.url()).value()),
              [&](Client& client) -> boost::asio::awaitable<void> {
                auto both = co_await client.ack_and_fetch("0123456789abcdef", kQueues);
                REQUIRE_FALSE(both.report);
                CHECK(both.report.error().is(errc::connection_closed));
                REQUIRE_FALSE(both.fetched);
                CHECK(both.fetched.error().is(errc::connection_closed));
                CHECK_FALSE(client.is_connected());
              });
}

TEST_CASE("a connection closed after the report's reply loses only the FETCH") {
  ScriptedServer server([](ScriptedServer::Peer& peer) {
    peer.send("+HI {\"v\":2}\r\n");
    if (peer.read_line().empty()) return;  // HELLO
    peer.send("+OK\r\n");
    if (peer.read_line().empty()) return;  // ACK
    if (peer.read_line().empty()) return;  // FETCH, sent with it
    peer.send("+OK\r\n");
    peer.close();
  });
  with_client(ClientOptions::for_url(parse_url(server.url()).value()),
              [&](Client& client) -> boost::asio::awaitable<void> {
                auto both = co_await client.ack_and_fetch("0123456789abcdef", kQueues);
                CHECK(both.report);
                REQUIRE_FALSE(both.fetched);
                CHECK(both.fetched.error().is(errc::connection_closed));
                CHECK_FALSE(client.is_connected());
              });
}
