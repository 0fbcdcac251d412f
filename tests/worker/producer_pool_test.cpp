// The producer pool that plugins push follow-up jobs through: a PUSH is sent at most once (a
// second one after a lost reply would enqueue the job twice under one jid), while a pooled
// connection the server closed as it sat idle is replaced before anything is sent.
#include "worker/producer_pool.hpp"
#include "faktory/url.hpp"
#include "test_server.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace factotum;
using factotum::testing::TestServer;
using namespace std::chrono_literals;

namespace {

faktory::ClientOptions options_for(const TestServer& server) {
  return faktory::ClientOptions::for_url(faktory::parse_url(server.url()).value());
}

std::size_t times_pushed(const TestServer& server, const std::string& jid) {
  const auto jids = server.pushed_jids();
  return static_cast<std::size_t>(std::count(jids.begin(), jids.end(), jid));
}

}  // namespace

TEST_CASE("a push whose reply is lost fails and is not sent again") {
  TestServer server;
  worker::ProducerPool pool(options_for(server), 1);
  std::string jid;
  REQUIRE(pool.push(R"({"jobtype":"first"})", jid));  // the pool's connection is up
  server.lose_next_reply("PUSH");
  std::string error;
  CHECK_FALSE(pool.push(R"({"jid":"lost-reply-1","jobtype":"next"})", error));
  CHECK(error.find("PUSH") != std::string::npos);
  CHECK(times_pushed(server, "lost-reply-1") == 1);  // it did arrive, once
  // The pool goes on with a new connection.
  CHECK(pool.push(R"({"jid":"after-loss-1","jobtype":"next"})", jid));
  CHECK(jid == "after-loss-1");
  CHECK(times_pushed(server, "after-loss-1") == 1);
}

TEST_CASE("a pooled connection the server closed while idle is replaced before the push") {
  TestServer server;
  worker::ProducerPool pool(options_for(server), 1);
  std::string jid;
  REQUIRE(pool.push(R"({"jobtype":"first"})", jid));
  server.drop_all_connections();
  REQUIRE(server.wait_for([](const TestServer::Stats& s) { return s.connections == 0; }, 10s));
  CHECK(pool.push(R"({"jid":"after-drop-1","jobtype":"next"})", jid));
  CHECK(jid == "after-drop-1");
  CHECK(times_pushed(server, "after-drop-1") == 1);
}

TEST_CASE("a push that cannot connect fails with the reason, having sent nothing") {
  TestServer server;
  server.refuse_connections(true);
  worker::ProducerPool pool(options_for(server), 1);
  std::string error;
  CHECK_FALSE(pool.push(R"({"jid":"refused-1","jobtype":"next"})", error));
  CHECK_FALSE(error.empty());
  CHECK(server.refused_connections() == 2);  // tried twice: nothing had been sent
  CHECK(times_pushed(server, "refused-1") == 0);
}
