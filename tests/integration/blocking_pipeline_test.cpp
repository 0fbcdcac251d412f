// The blocking client's pipelined report (ACK/FAIL with the next FETCH), as a processor uses
// it: both replies in order, and replies split across TCP segments every which way are read as
// soon as they are complete (the low-water marks it sets never wait for bytes that are not
// coming, and a guessed mark only for a moment: with deadlines shorter than the socket's own
// timeout, such a wait would time out).
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

// A job payload of `size` bytes as Faktory would send it (the jid is all a test reads).
std::string job_of_size(std::size_t size) {
  std::string job = "{\"jid\":\"0123456789abcdef\",\"pad\":\"\"}";
  job.insert(job.size() - 2, size - job.size(), 'x');
  return job;
}

// "$N\r\n" for a bulk reply of `payload`.
std::string bulk_header(std::string_view payload) {
  return "$" + std::to_string(payload.size()) + "\r\n";
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
  const std::string bulk = bulk_header(job);
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

TEST_CASE("blocking: after a large job, shorter replies than it are still read") {
  // After a job, the client first waits for as many bytes as its smallest job took, a short
  // while only (SyncConnection::read_reply's `likely`). Every reply here is shorter: each must
  // come back within deadlines far shorter than the socket's own timeout.
  const std::string large = job_of_size(4000);
  const std::string small = job_of_size(60);
  auto server = ScriptedServer([&](ScriptedServer::Peer& peer) {
    if (!greet_and_read_report(peer)) return;
    peer.send("+OK\r\n");  // Faktory's pieces: header, payload, CRLF
    peer.send(bulk_header(large));
    peer.send(large);
    peer.send("\r\n");
    const std::vector<std::string> answers{
        "+OK\r\n$-1\r\n",                                  // an empty queue
        "-ERR Job not found 0123456789abcdef\r\n$-1\r\n",  // a refused report, no job
        "+OK\r\n" + bulk_header(small) + small + "\r\n",   // a job smaller than any before
    };
    for (const auto& answer : answers) {
      if (peer.read_line().empty() || peer.read_line().empty()) return;  // report, FETCH
      peer.send(answer);
    }
    peer.read_line();
  });
  BlockingClient client(short_deadlines(server));
  REQUIRE(client.connect());
  // One report and its FETCH: whether the report was accepted, and the FETCH's reply.
  const auto exchange = [&client](bool report_accepted) {
    auto reported = client.ack_then_fetch("0123456789abcdef", kQueues);
    REQUIRE(static_cast<bool>(reported) == report_accepted);
    if (!reported) CHECK(reported.error().is(errc::server_error));
    auto fetched = client.fetch_reply();
    INFO((fetched ? "" : fetched.error().what()));
    REQUIRE(fetched);
    return *fetched;
  };
  CHECK(exchange(true) == large);
  CHECK(exchange(true) == std::nullopt);
  CHECK(exchange(false) == std::nullopt);
  CHECK(exchange(true) == small);
  CHECK(client.is_connected());
}

TEST_CASE("blocking: a job is returned before its CRLF, which is checked before the next reply") {
  // The server holds the job's CRLF back until the client's next command: a client that
  // waited for it would time out. A wrong byte in its place fails the next read instead.
  const std::string job = job_of_size(200);
  for (const bool good_crlf : {true, false}) {
    INFO((good_crlf ? "the CRLF comes late" : "a wrong byte comes in its place"));
    auto server = ScriptedServer([&](ScriptedServer::Peer& peer) {
      if (!greet_and_read_report(peer)) return;
      peer.send("+OK\r\n" + bulk_header(job) + job);
      if (peer.read_line().empty() || peer.read_line().empty()) return;
      peer.send(good_crlf ? "\r\n" : "\rX");
      peer.send("+OK\r\n$-1\r\n");
      peer.read_line();
    });
    BlockingClient client(short_deadlines(server));
    REQUIRE(client.connect());
    REQUIRE(client.ack_then_fetch("0123456789abcdef", kQueues));
    auto fetched = client.fetch_reply();
    INFO((fetched ? "" : fetched.error().what()));
    REQUIRE(fetched);
    CHECK(*fetched == job);

    auto reported = client.ack_then_fetch("0123456789abcdef", kQueues);
    if (good_crlf) {
      INFO((reported ? "" : reported.error().what()));
      REQUIRE(reported);
      auto empty = client.fetch_reply();
      REQUIRE(empty);
      CHECK_FALSE(*empty);
      CHECK(client.is_connected());
    } else {
      REQUIRE_FALSE(reported);
      CHECK(reported.error().is(errc::malformed_reply));
      // Named as a bad reply to the FETCH it ended, quoted as the strict reader quotes it.
      CHECK_THAT(reported.error().what(),
                 Catch::Contains(
                     "to FETCH: bulk payload of 200 bytes is not followed by CRLF: got '\\rX'"));
      CHECK_FALSE(client.is_connected());
    }
  }
}
