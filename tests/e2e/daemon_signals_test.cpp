// Signals beyond a single TERM: a second TERM hurries the shutdown; HUP with an unchanged
// configuration keeps every connection (reloads that change things: daemon_reload_test.cpp).
#include "daemon_fixture.hpp"

#include "faktory/job.hpp"

#include <csignal>
#include <set>

using namespace factotum;
using namespace factotum::testing;

TEST_CASE(
    "a second TERM FAILs the jobs in flight as WorkerShutdown without waiting for the "
    "shutdown timeout") {
  TestServer server(quick_server_options());
  Daemon::Settings settings;
  // Far longer than the exit deadline below: exiting in time proves the wait was skipped.
  settings.shutdown_timeout = "300s";
  Daemon daemon(server, settings);
  daemon.start();
  auto producer = producer_for(server);
  auto j = job("stubborn", {600000});
  push_and_await_start(daemon, *producer, j);

  daemon.process().signal(SIGTERM);
  REQUIRE(daemon.wait_for_log("stopping: no new FETCH; waiting for jobs in flight"));
  // The first TERM alone waits for the job: it is still held, neither ACKed nor FAILed.
  CHECK(server.fail_count(j.jid) == 0);
  CHECK(server.ack_count(j.jid) == 0);

  daemon.process().signal(SIGTERM);
  REQUIRE(daemon.wait_for_log("second stop signal: not waiting for jobs in flight"));
  const auto exit_code = daemon.process().wait_exit(kDeadline);
  INFO(daemon.process().output());
  REQUIRE(exit_code.has_value());
  CHECK(*exit_code == 0);
  CHECK(server.ack_count(j.jid) == 0);
  CHECK(server.fail_count(j.jid) == 1);
  const auto retries = server.retry_jobs();
  REQUIRE(retries.size() == 1);
  auto failed = faktory::Job::parse(retries.front());
  REQUIRE(failed);
  REQUIRE(failed->failure);
  CHECK(failed->failure->errtype == "WorkerShutdown");
  CHECK(server.stats().working == 0);
}

TEST_CASE("HUP with an unchanged configuration keeps every connection and the worker running") {
  TestServer server(quick_server_options());
  Daemon daemon(server, {});  // concurrency 4
  daemon.start();
  // Every daemon connection has been used once: four processors FETCHing, one heartbeat.
  const auto daemon_connections = [&](std::string_view verb) {
    return connections_of(server, daemon.wid(), verb);
  };
  REQUIRE(server.wait_for(
      [&](const TestServer::Stats&) {
        return daemon_connections("FETCH").size() == 4 && daemon_connections("BEAT").size() == 1;
      },
      kDeadline));
  const auto before = daemon_connections("");
  REQUIRE(before.size() == 5);

  daemon.process().signal(SIGHUP);
  REQUIRE(daemon.wait_for_log("reload done"));

  // Still fetching and running jobs, on the same connections, as a running worker.
  auto producer = producer_for(server);
  auto j = job("ok");
  REQUIRE(producer->push(j));
  REQUIRE(server.wait_for([&](const TestServer::Stats&) { return server.ack_count(j.jid) == 1; },
                          kDeadline));
  CHECK(!daemon.process().wait_exit(std::chrono::milliseconds(0)));
  CHECK(daemon_connections("") == before);
  CHECK(server.worker_state(daemon.wid()) == std::optional<std::string>("running"));
  daemon.process().poll_output();
  const auto log = daemon.process().output();
  INFO(log);
  CHECK(log.find("stopping") == std::string::npos);
  CHECK(log.find("quiet") == std::string::npos);
  CHECK(count_of(log, "factotum starting") == 1);
  CHECK(count_of(log, "worker started") == 1);

  daemon.process().signal(SIGTERM);
  CHECK(daemon.process().wait_exit(kDeadline) == 0);
  CHECK(server.ack_count(j.jid) == 1);
}
