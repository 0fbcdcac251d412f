// The blocking client's pipelined report (ACK/FAIL with the next FETCH), as a processor uses
// it: both replies in order, and replies split across TCP segments every which way are read as
// soon as they are complete (the low-water marks it sets never wait for bytes that are not
// coming: with deadlines shorter than the socket's own timeout, such a wait would time out).
#include "client_test_support.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

using namespace factotum;
using namespace factotum::faktory;
using factotum::testing::ScriptedServer;
using factotum::testing::TestServer;
using factotum::testing::TestServerOptions;

namespace {

const std::vector<std::string> kQueues{"pipeq"};

// Greets, accepts HELLO, and reads the report and the FETCH sent with it; false when the
// client hung up first.
bool greet_and_read_report(ScriptedServer::Peer& peer) {
  peer.send("+HI {\"v\":2}\r\n");
  if (peer.read_line().empty()) return false;  // HELLO
  peer.send("+OK\r\n");
  return !peer.read_line().empty() && !peer.read_line().empty();  // ACK or FAIL, FETCH
}

// A server that answers the report and its FETCH with `pieces`, each sent on its own after a
// short gap (so each is a TCP segment of its own), and waits for the client to hang up.
ScriptedServer answering_in_pieces(std::vector<std::string> pieces,
                                   std::chrono::milliseconds gap = std::chrono::milliseconds(20)) {
  return ScriptedServer([pieces = std::move(pieces), gap](ScriptedServer::Peer& peer) {
    if (!greet_and_read_report(peer)) return;
    for (const auto& piece : pieces) {
      std::this_thread::sleep_for(gap);  // shapes the byte stream; nothing waits on it
      peer.send(piece);
    }
    peer.read_line();
  });
}

// Deadlines shorter than SyncConnection::kSocketTimeout: a read that waited for more bytes
// than the replies hold would run into them.
ClientOptions short_deadlines(const ScriptedServer& server) {
  auto options = ClientOptions::for_url(parse_url(server.url()).value());
  options.command_timeout = std::chrono::milliseconds(800);
  options.fetch_timeout = std::chrono::milliseconds(800);
  return options;
}

std::vector<std::string> bytes_of(std::string_view text) {
  std::vector<std::string> out;
  for (char c : text) out.emplace_back(1, c);
  return out;
}

}  // namespace

TEST_CASE("blocking: ACK goes out with the next FETCH and both replies come back in order") {
  TestServerOptions server_options;
  server_options.fetch_block = std::chrono::milliseconds(200);
  TestServer server(server_options);
  auto first = Job::create("T", {1}, "pipeq");
  auto second = Job::create("T", {2}, "pipeq");
  server.push_job(first.serialize());
  server.push_job(second.serialize());

  BlockingClient client(testing::options_for(server));
  REQUIRE(client.connect());
  auto fetched = client.fetch_raw(kQueues);
  REQUIRE(fetched);
  REQUIRE(*fetched);
  CHECK(Job::parse(**fetched)->jid == first.jid);

  CHECK(client.ack_then_fetch(first.jid, kQueues));
  CHECK(client.fetch_pending());
  // Until the FETCH's reply is read, no other command may go out on this connection.
  auto info = client.info();
  REQUIRE_FALSE(info);
  CHECK(info.error().is(errc::invalid_argument));
  auto next = client.fetch_reply();
  REQUIRE(next);
  REQUIRE(*next);
  CHECK(Job::parse(**next)->jid == second.jid);

  // The queue is empty now: the FETCH waits out the server's block and says so.
  CHECK(client.fail_then_fetch({second.jid, "Boom", "failed", {"at line 1"}}, kQueues));
  auto empty = client.fetch_reply();
  REQUIRE(empty);
  CHECK_FALSE(*empty);
  auto stray = client.fetch_reply();
  REQUIRE_FALSE(stray);
  CHECK(stray.error().is(errc::invalid_argument));
  CHECK(client.info());
  CHECK(server.ack_count(first.jid) == 1);
  CHECK(server.fail_count(second.jid) == 1);
}

TEST_CASE("blocking: replies split across segments are read as soon as they are complete") {
  struct Case {
    const char* name;
    std::vector<std::string> pieces;
    bool report_ok;
    std::optional<std::string> job;
  };
  const std::string job = "{\"jid\":\"0123456789abcdef\"}";
  const std::string bulk = "$" + std::to_string(job.size()) + "\r\n";
  const Case cases[] = {
      {"report and FETCH together", {"+OK\r\n" + bulk + job + "\r\n"}, true, job},
      {"as Faktory writes them", {"+OK\r\n", bulk, job, "\r\n"}, true, job},
      {"an empty queue", {"+OK\r\n", "$-1\r\n"}, true, std::nullopt},
      {"an empty queue in one segment", {"+OK\r\n$-1\r\n"}, true, std::nullopt},
      {"a refused report",
       {"-ERR Job not found 0123456789abcdef\r\n", "$-1\r\n"},
       false,
       std::nullopt},
      {"byte by byte", bytes_of("+OK\r\n" + bulk + job + "\r\n"), true, job},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const auto gap =
        c.pieces.size() > 10 ? std::chrono::milliseconds(2) : std::chrono::milliseconds(20);
    auto server = answering_in_pieces(c.pieces, gap);
    BlockingClient client(short_deadlines(server));
    REQUIRE(client.connect());
    auto reported = client.ack_then_fetch("0123456789abcdef", kQueues);
    CHECK(static_cast<bool>(reported) == c.report_ok);
    REQUIRE(client.fetch_pending());
    auto fetched = client.fetch_reply();
    INFO((fetched ? "" : fetched.error().what()));
    REQUIRE(fetched);
    CHECK(*fetched == c.job);
    CHECK(client.is_connected());
  }
}

TEST_CASE("blocking: a server that closes after the report's reply ends the FETCH at once") {
  auto server = ScriptedServer([](ScriptedServer::Peer& peer) {
    if (!greet_and_read_report(peer)) return;
    peer.send("+OK\r\n");
    peer.close();
  });
  BlockingClient client(short_deadlines(server));
  REQUIRE(client.connect());
  // The report's reply is shorter than the two replies the client waits for together; the
  // close still ends the wait, and the report's reply is not lost.
  CHECK(client.ack_then_fetch("0123456789abcdef", kQueues));
  auto fetched = client.fetch_reply();
  REQUIRE_FALSE(fetched);
  CHECK(fetched.error().is(errc::connection_closed));
  CHECK_FALSE(client.is_connected());
}

TEST_CASE("blocking: a report's reply is not timed out while its FETCH waits for a job") {
  // The server answers the ACK at once and the FETCH only after longer than the command
  // timeout (but within the FETCH's): as a real server does when a job arrives during its
  // FETCH block.
  auto server = ScriptedServer([](ScriptedServer::Peer& peer) {
    if (!greet_and_read_report(peer)) return;
    peer.send("+OK\r\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(700));  // the FETCH block
    peer.send("$-1\r\n");
    peer.read_line();
  });
  auto options = ClientOptions::for_url(parse_url(server.url()).value());
  options.command_timeout = std::chrono::milliseconds(300);
  options.fetch_timeout = std::chrono::seconds(30);
  BlockingClient client(options);
  REQUIRE(client.connect());
  auto reported = client.ack_then_fetch("0123456789abcdef", kQueues);
  INFO((reported ? "" : reported.error().what()));
  REQUIRE(reported);
  auto fetched = client.fetch_reply();
  REQUIRE(fetched);
  CHECK_FALSE(*fetched);
  CHECK(client.is_connected());
}
