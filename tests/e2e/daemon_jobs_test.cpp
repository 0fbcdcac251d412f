// The daemon processing jobs: every job ACKed exactly once, failures FAILed with their
// details, queue order honoured.
#include "daemon_fixture.hpp"

#include "faktory/job.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <csignal>
#include <set>

using namespace factotum;
using namespace factotum::testing;

TEST_CASE("N jobs pushed are processed and ACKed exactly once") {
  TestServer server(quick_server_options());
  Daemon daemon(server, {});
  daemon.start();
  auto producer = producer_for(server);
  constexpr int kJobs = 200;
  std::vector<std::string> jids;
  for (int i = 0; i < kJobs; ++i) {
    auto j = job("ok", {i});
    jids.push_back(j.jid);
    REQUIRE(producer->push(j));
  }
  REQUIRE(
      server.wait_for([](const TestServer::Stats& s) { return s.processed >= kJobs; }, kDeadline));
  const auto stats = server.stats();
  CHECK(stats.processed == kJobs);
  CHECK(stats.failures == 0);
  CHECK(stats.working == 0);
  for (const auto& jid : jids) CHECK(server.ack_count(jid) == 1);

  daemon.process().signal(SIGTERM);
  CHECK(daemon.process().wait_exit(kDeadline) == 0);
}

TEST_CASE("a throwing job is FAILed with the exception's type, message and a retry") {
  TestServer server(quick_server_options());
  Daemon daemon(server, {});
  daemon.start();
  auto producer = producer_for(server);
  auto j = job("throw", {"x"});
  REQUIRE(producer->push(j));
  REQUIRE(server.wait_for([](const TestServer::Stats& s) { return s.failures >= 1; }, kDeadline));
  for (const auto& record : server.command_log()) {
    if (record.verb == "FAIL") UNSCOPED_INFO("the daemon sent: " << record.line);
  }
  auto retries = server.retry_jobs();
  REQUIRE(retries.size() == 1);
  auto failed = faktory::Job::parse(retries.front());
  REQUIRE(failed);
  REQUIRE(failed->failure);
  CHECK(failed->failure->errtype == "std::runtime_error");
  CHECK(failed->failure->message == "boom: [\"x\"]");
  // README "Jobs": failure → FAIL with errtype, message and backtrace. A C++ exception carries
  // no stack, so the host sends one line naming the jobtype, the plugin and its file.
  const auto plugin_file =
      fs::path(FACTOTUM_BINARY_DIR "/tests/e2e-plugins/e2e_jobs.so").lexically_normal();
  CHECK(failed->failure->backtrace ==
        std::vector<std::string>{"in jobtype 'throw' of plugin 'e2e_jobs' 1.0.0 (" +
                                 plugin_file.string() + ")"});
  CHECK(server.ack_count(j.jid) == 0);
  CHECK(server.fail_count(j.jid) == 1);
  daemon.process().signal(SIGTERM);
  CHECK(daemon.process().wait_exit(kDeadline) == 0);
}

TEST_CASE("a job failing with JobFailure is FAILed with its errtype, message and backtrace") {
  TestServer server(quick_server_options());
  Daemon daemon(server, {});
  daemon.start();
  auto producer = producer_for(server);
  auto j = job("fail_with_details", {7});
  REQUIRE(producer->push(j));
  REQUIRE(server.wait_for([](const TestServer::Stats& s) { return s.failures >= 1; }, kDeadline));
  for (const auto& record : server.command_log()) {
    if (record.verb == "FAIL") UNSCOPED_INFO("the daemon sent: " << record.line);
  }
  auto retries = server.retry_jobs();
  REQUIRE(retries.size() == 1);
  auto failed = faktory::Job::parse(retries.front());
  REQUIRE(failed);
  CHECK(failed->jid == j.jid);
  REQUIRE(failed->failure);
  CHECK(failed->failure->errtype == "CardDeclined");
  CHECK(failed->failure->message == "card declined: [7]");
  // The plugin's own lines, in order and unchanged (the leading spaces too): no fallback line.
  CHECK(failed->failure->backtrace == std::vector<std::string>{"at charge (billing.cpp:42)",
                                                               "  at checkout (shop.cpp:7)",
                                                               "at main (main.cpp:3)"});
  CHECK(server.ack_count(j.jid) == 0);
  CHECK(server.fail_count(j.jid) == 1);
  daemon.process().signal(SIGTERM);
  CHECK(daemon.process().wait_exit(kDeadline) == 0);
}

TEST_CASE("a job whose jobtype no plugin handles is FAILed as UnknownJobtype") {
  TestServer server(quick_server_options());
  Daemon daemon(server, {});
  daemon.start();
  auto producer = producer_for(server);
  auto j = job("NoSuchJobtype");
  REQUIRE(producer->push(j));
  REQUIRE(server.wait_for([](const TestServer::Stats& s) { return s.failures >= 1; }, kDeadline));
  auto failed = faktory::Job::parse(server.retry_jobs().at(0));
  REQUIRE(failed);
  CHECK(failed->failure->errtype == "UnknownJobtype");
  CHECK(server.ack_count(j.jid) == 0);
  daemon.process().signal(SIGTERM);
  CHECK(daemon.process().wait_exit(kDeadline) == 0);
}

TEST_CASE("strict queues are drained in order") {
  TestServer server(quick_server_options());
  auto producer = producer_for(server);
  std::set<std::string> low_jids;
  std::set<std::string> high_jids;
  for (int i = 0; i < 20; ++i) {
    auto j = job("ok", {i}, "low");
    low_jids.insert(j.jid);
    REQUIRE(producer->push(j));
  }
  for (int i = 0; i < 20; ++i) {
    auto j = job("ok", {i}, "high");
    high_jids.insert(j.jid);
    REQUIRE(producer->push(j));
  }
  Daemon::Settings settings;
  settings.concurrency = 1;
  settings.queues = "[high, low]";
  Daemon daemon(server, settings);
  daemon.start();
  REQUIRE(server.wait_for([](const TestServer::Stats& s) { return s.processed >= 40; }, kDeadline));
  const auto log = server.command_log();
  // One processor, asking for high before low every time.
  std::vector<std::string> fetched;
  for (const auto& record : log) {
    if (record.verb == "FETCH") fetched.push_back(record.line);
  }
  REQUIRE(fetched.size() >= 40);
  for (const auto& line : fetched) CHECK(line == "FETCH high low");
  // What the server saw finish: every high job ACKed before any low one.
  std::vector<std::string> acked;  // "high" / "low", in the order of the ACKs
  for (const auto& record : log) {
    if (record.verb != "ACK") continue;
    const auto body = boost::json::parse(std::string_view(record.line).substr(4));
    const std::string jid(body.at("jid").as_string());
    INFO(record.line);
    REQUIRE((high_jids.count(jid) + low_jids.count(jid)) == 1);
    acked.push_back(high_jids.count(jid) ? "high" : "low");
  }
  REQUIRE(acked.size() == 40);
  const auto first_low = std::find(acked.begin(), acked.end(), "low");
  CHECK(first_low - acked.begin() == 20);
  CHECK(std::count(first_low, acked.end(), "high") == 0);
  daemon.process().signal(SIGTERM);
  CHECK(daemon.process().wait_exit(kDeadline) == 0);
}

TEST_CASE("weighted queues are reshuffled per FETCH, the heavier one first more often") {
  TestServer server(quick_server_options());
  Daemon::Settings settings;
  settings.concurrency = 1;
  settings.queues = "{heavy: 9, light: 1}";
  Daemon daemon(server, settings);
  daemon.start();
  auto producer = producer_for(server);
  for (int i = 0; i < 60; ++i) REQUIRE(producer->push(job("ok", {i}, i % 2 ? "heavy" : "light")));
  REQUIRE(server.wait_for([](const TestServer::Stats& s) { return s.processed >= 60; }, kDeadline));
  int heavy_first = 0;
  int light_first = 0;
  for (const auto& record : server.command_log()) {
    if (record.line == "FETCH heavy light") ++heavy_first;
    if (record.line == "FETCH light heavy") ++light_first;
  }
  CHECK(heavy_first + light_first >= 60);
  CHECK(heavy_first > light_first);
  daemon.process().signal(SIGTERM);
  CHECK(daemon.process().wait_exit(kDeadline) == 0);
}

TEST_CASE("a job can push a follow-up job through the daemon") {
  TestServer server(quick_server_options());
  Daemon::Settings settings;
  settings.queues = "[default, followup]";
  Daemon daemon(server, settings);
  daemon.start();
  auto producer = producer_for(server);
  auto j = job("chain");
  REQUIRE(producer->push(j));
  REQUIRE(server.wait_for([](const TestServer::Stats& s) { return s.processed >= 2; }, kDeadline));
  CHECK(server.ack_count(j.jid) == 1);
  CHECK(daemon.wait_for_log("pushed follow-up"));
  CHECK(server.stats().queues.at("followup") == 0);
  daemon.process().signal(SIGTERM);
  CHECK(daemon.process().wait_exit(kDeadline) == 0);
}

TEST_CASE("a job the daemon cannot parse is FAILed as InvalidJob saying why, not left reserved") {
  // A real Faktory accepts args nested up to 10000 levels (Go's decoder); factotum's job
  // parser stops at 256.
  TestServer server(quick_server_options());
  Daemon daemon(server, {});
  daemon.start();
  const std::string deep = std::string(5000, '[') + std::string(5000, ']');
  const std::string jid = "deep0123456789ab";
  server.push_job(R"({"jid":")" + jid + R"(","jobtype":"ok","queue":"default","retry":3,"args":[)" +
                  deep + "]}");
  REQUIRE(server.wait_for([&](const TestServer::Stats&) { return server.fail_count(jid) == 1; },
                          kDeadline));
  CHECK(server.ack_count(jid) == 0);
  const auto stats = server.stats();
  CHECK(stats.working == 0);
  const auto retries = server.retry_jobs();
  REQUIRE(retries.size() == 1);
  // The retry entry itself is as deep: find the failure's fields by text.
  CHECK(retries.front().find(R"("errtype":"InvalidJob")") != std::string::npos);
  CHECK(retries.front().find("nests deeper than 256 levels") != std::string::npos);
  daemon.process().signal(SIGTERM);
  CHECK(daemon.process().wait_exit(kDeadline) == 0);
}
