// ACK/FAIL pipelined with the next FETCH (Client::ack_then_fetch, fail_then_fetch, then
// fetch_reply): both commands in one write, both replies read in order, and each failure
// reported where it happened.
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

    // (Awaited outside CHECK: GCC 12 evaluates a co_await inside Catch's macros twice.)
    auto reported = co_await client.ack_then_fetch(first.jid, kQueues);
    CHECK(reported);
    // Until the FETCH's reply is read, no other command may go out on this connection.
    auto info = co_await client.info();
    REQUIRE_FALSE(info);
    CHECK(info.error().is(errc::invalid_argument));
    auto fetched_next = co_await client.fetch_reply();
    REQUIRE(fetched_next);
    REQUIRE(*fetched_next);
    auto next = Job::parse(**fetched_next);
    REQUIRE(next);
    CHECK(next->jid == second.jid);

    // The queue is empty now: the FETCH waits out the server's block and says so.
    reported = co_await client.ack_then_fetch(second.jid, kQueues);
    CHECK(reported);
    fetched_next = co_await client.fetch_reply();
    REQUIRE(fetched_next);
    CHECK_FALSE(*fetched_next);
    CHECK(client.is_connected());
    // Nothing is pending any more.
    auto stray = co_await client.fetch_reply();
    REQUIRE_FALSE(stray);
    CHECK(stray.error().is(errc::invalid_argument));
    info = co_await client.info();
    CHECK(info);
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
    auto reported = co_await client.fail_then_fetch(failure, kQueues);
    REQUIRE_FALSE(reported);
    CHECK(reported.error().is(errc::server_error));
    CHECK(reported.error().message.find("Job not found") != std::string::npos);
    CHECK(client.is_connected());
    auto fetched = co_await client.fetch_reply();
    REQUIRE(fetched);
    REQUIRE(*fetched);
    auto job = Job::parse(**fetched);
    REQUIRE(job);
    CHECK(job->jid == queued.jid);
  });
}

TEST_CASE(
    "a connection closed before the report is answered fails it and leaves no FETCH pending") {
  ScriptedServer server([](ScriptedServer::Peer& peer) {
    peer.send("+HI {\"v\":2}\r\n");
    if (peer.read_line().empty()) return;  // HELLO
    peer.send("+OK\r\n");
    peer.read_line();  // ACK
    peer.close();
  });
  with_client(ClientOptions::for_url(parse_url(server.url()).value()),
              [&](Client& client) -> boost::asio::awaitable<void> {
                auto reported = co_await client.ack_then_fetch("0123456789abcdef", kQueues);
                REQUIRE_FALSE(reported);
                CHECK(reported.error().is(errc::connection_closed));
                CHECK_FALSE(client.is_connected());
                // The FETCH went with the connection: there is no reply to wait for.
                auto fetched = co_await client.fetch_reply();
                REQUIRE_FALSE(fetched);
                CHECK(fetched.error().is(errc::invalid_argument));
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
                auto reported = co_await client.ack_then_fetch("0123456789abcdef", kQueues);
                CHECK(reported);
                auto fetched = co_await client.fetch_reply();
                REQUIRE_FALSE(fetched);
                CHECK(fetched.error().is(errc::connection_closed));
                CHECK_FALSE(client.is_connected());
              });
}
