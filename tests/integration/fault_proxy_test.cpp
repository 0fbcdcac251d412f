// The fault-injecting proxy the reliability tests run factotum through: each fault does what
// it says to raw bytes between a client and the test server, schedules are reproducible, and
// a cut that loses a FETCH's reply is counted (the server then holds a job no one runs).
#include "fault_proxy.hpp"
#include "raw_client.hpp"
#include "test_server.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace factotum::testing;
using namespace std::chrono_literals;

namespace {

constexpr auto kTimeout = std::chrono::seconds(10);

FaultProxyOptions options_for(const TestServer& server, ConnectionPlan plan) {
  FaultProxyOptions options;
  options.upstream_port = server.port();
  options.every_connection = plan;
  return options;
}

ConnectionPlan plan(Fault fault, std::uint64_t at_byte = 0) {
  ConnectionPlan p;
  p.fault = fault;
  p.at_byte = at_byte;
  p.delay = 5ms;
  p.refuse_for = 60s;
  return p;
}

// Greeting, then HELLO as a producer: the connection is ready for commands.
void hello(RawClient& client) {
  const auto greeting = client.read_reply(kTimeout);
  REQUIRE(greeting);
  REQUIRE(*greeting == "+HI {\"v\":2}\r\n");
  client.send("HELLO {\"v\":2}\r\n");
  REQUIRE(client.read_reply(kTimeout) == std::optional<std::string>("+OK\r\n"));
}

const std::string kJob = R"({"jid":"proxy-job-1","jobtype":"t","args":[1]})";

}  // namespace

TEST_CASE("a seed names one schedule: the n-th connection's fault depends on nothing else") {
  FaultProxyOptions a;
  a.seed = 42;
  a.fault_percent = 50;
  FaultProxyOptions b = a;
  b.seed = 43;
  std::set<Fault> seen;
  bool differs = false;
  for (std::uint64_t n = 0; n < 200; ++n) {
    const ConnectionPlan first = plan_for(a, n);
    const ConnectionPlan again = plan_for(a, n);
    CHECK(first.describe() == again.describe());
    CHECK(first.at_byte <= a.max_fault_byte);
    differs = differs || first.describe() != plan_for(b, n).describe();
    seen.insert(first.fault);
  }
  CHECK(differs);
  CHECK(seen.size() == 7);  // every fault and none
  a.fault_percent = 0;
  for (std::uint64_t n = 0; n < 50; ++n) CHECK(plan_for(a, n).fault == Fault::none);
  a.fault_percent = 100;
  a.kinds = {Fault::black_hole};
  for (std::uint64_t n = 0; n < 50; ++n) CHECK(plan_for(a, n).fault == Fault::black_hole);
}

TEST_CASE("split and delayed replies arrive whole, and the commands take effect") {
  TestServer server;
  for (const Fault fault : {Fault::split_replies, Fault::delay}) {
    INFO(to_string(fault));
    FaultProxy proxy(options_for(server, plan(fault)));
    RawClient client("127.0.0.1", proxy.port());
    hello(client);
    client.send("PUSH " + kJob + "\r\nFETCH default\r\n");
    CHECK(client.read_reply(kTimeout) == std::optional<std::string>("+OK\r\n"));
    const auto job = client.read_reply(kTimeout);
    REQUIRE(job);
    CHECK(job->find("\"jid\":\"proxy-job-1\"") != std::string::npos);
    client.send("ACK {\"jid\":\"proxy-job-1\"}\r\n");
    CHECK(client.read_reply(kTimeout) == std::optional<std::string>("+OK\r\n"));
    CHECK(server.job_fates().at("proxy-job-1") == "acked");
    CHECK(proxy.stats().faults == 1);
    CHECK(proxy.stats().fetch_cuts == 0);
    server.flush();
  }
}

TEST_CASE("a reset in the middle of a command: the server never sees the command") {
  TestServer server;
  // The greeting is 13 bytes, HELLO {"v":2}\r\n 15: the cut falls 4 bytes into the PUSH.
  FaultProxy proxy(options_for(server, plan(Fault::reset_mid_command, 15 + 4)));
  RawClient client("127.0.0.1", proxy.port());
  hello(client);
  client.send("PUSH " + kJob + "\r\n");
  CHECK_FALSE(client.read_reply(kTimeout));  // closed (reset), no reply
  CHECK(server.pushed_jids().empty());
  CHECK(proxy.stats().faults == 1);
}

TEST_CASE("a reset in the middle of a FETCH reply is counted: the job stays reserved") {
  TestServer server;
  server.push_job(kJob);
  // 13 bytes of greeting, 5 of +OK, then 10 bytes into the job.
  FaultProxy proxy(options_for(server, plan(Fault::reset_mid_reply, 13 + 5 + 10)));
  RawClient client("127.0.0.1", proxy.port());
  hello(client);
  client.send("FETCH default\r\n");
  CHECK_THROWS_WITH(client.read_reply(kTimeout), Catch::Contains("closed mid-reply"));
  CHECK(server.job_fates().at("proxy-job-1") == "reserved");
  CHECK(proxy.stats().fetch_cuts == 1);
  CHECK(proxy.events() ==
        std::vector<std::string>{"connection 0: reset_mid_reply at byte 28 (FETCH reply lost)"});
}

TEST_CASE("a reset before a FETCH's reply counts as a cut, one after another command's does not") {
  TestServer server;
  FaultProxy proxy(options_for(server, plan(Fault::reset_mid_reply, 13 + 5 + 5)));
  RawClient client("127.0.0.1", proxy.port());
  hello(client);
  client.send("PUSH " + kJob + "\r\n");
  CHECK(client.read_reply(kTimeout) == std::optional<std::string>("+OK\r\n"));
  client.send("FETCH default\r\n");
  CHECK_FALSE(client.read_reply(kTimeout));  // cut before any byte of the FETCH's reply
  CHECK(proxy.stats().fetch_cuts == 1);
  // A cut that loses the reply of another command counts nothing.
  FaultProxy whole(options_for(server, plan(Fault::reset_mid_reply, 13 + 5 + 5)));
  RawClient other("127.0.0.1", whole.port());
  hello(other);
  other.send("ACK {\"jid\":\"none-such\"}\r\n");
  CHECK(other.read_reply(kTimeout) == std::optional<std::string>("+OK\r\n"));
  other.send("INFO\r\n");
  CHECK_FALSE(other.read_reply(kTimeout));
  CHECK(whole.stats().fetch_cuts == 0);
}

TEST_CASE("a black hole passes nothing and closes nothing") {
  TestServer server;
  FaultProxy proxy(options_for(server, plan(Fault::black_hole, 15)));
  RawClient client("127.0.0.1", proxy.port());
  hello(client);
  client.send("PUSH " + kJob + "\r\n");
  CHECK(client.silent_for(300ms));  // no reply, and still open
  CHECK(server.pushed_jids().empty());
  CHECK(proxy.stats().faults == 1);
}

TEST_CASE("a refusal closes that connection and every other one for a while") {
  TestServer server;
  FaultProxy proxy(options_for(server, plan(Fault::refuse)));
  RawClient first("127.0.0.1", proxy.port());
  CHECK(first.wait_eof(kTimeout));
  RawClient second("127.0.0.1", proxy.port());
  CHECK(second.wait_eof(kTimeout));
  CHECK(proxy.stats().refused == 2);
  CHECK(proxy.stats().faults == 1);
  // Faults off: the refusal ends, and new connections pass untouched.
  proxy.set_faults(false);
  RawClient third("127.0.0.1", proxy.port());
  hello(third);
  CHECK(proxy.stats().connections == 3);
}
