// Signals: graceful stop with jobs in flight, the shutdown timeout, quiet.
#include "daemon_fixture.hpp"

#include <csignal>

using namespace factotum;
using namespace factotum::testing;

TEST_CASE("TERM with a job in flight lets it finish and ACKs it, then exits 0") {
  TestServer server(quick_server_options());
  Daemon daemon(server, {});
  daemon.start();
  auto producer = producer_for(server);
  auto j = job("sleep", {1500});
  REQUIRE(producer->push(j));
  REQUIRE(server.wait_for([](const TestServer::Stats& s) { return s.working == 1; }, kDeadline));
  daemon.process().signal(SIGTERM);
  CHECK(daemon.process().wait_exit(kDeadline) == 0);
  CHECK(server.ack_count(j.jid) == 1);
  CHECK(server.stats().working == 0);
}

TEST_CASE("TERM with a job that outlives shutdown_timeout FAILs it and exits 0") {
  TestServer server(quick_server_options());
  TempDir runtime;  // where the daemon stages plugin copies (as under systemd)
  Daemon::Settings settings;
  settings.shutdown_timeout = "1s";
  settings.env = {"RUNTIME_DIRECTORY=" + runtime.path.string()};
  Daemon daemon(server, settings);
  daemon.start();
  auto producer = producer_for(server);
  auto j = job("stubborn", {600000});
  REQUIRE(producer->push(j));
  REQUIRE(server.wait_for([](const TestServer::Stats& s) { return s.working == 1; }, kDeadline));
  daemon.process().signal(SIGTERM);
  CHECK(daemon.process().wait_exit(kDeadline) == 0);
  CHECK(server.ack_count(j.jid) == 0);
  CHECK(server.fail_count(j.jid) == 1);
  auto failed = faktory::Job::parse(server.retry_jobs().at(0));
  REQUIRE(failed);
  CHECK(failed->failure->errtype == "WorkerShutdown");
  // The process ended with the job's thread still running (no destructors), yet removed its
  // staged plugin copies.
  CHECK(daemon.process().output().find("exiting with job functions still running") !=
        std::string::npos);
  CHECK(fs::is_empty(runtime.path));
}

TEST_CASE("a job pushed just after TERM to an idle daemon is run or left queued, never reserved") {
  TestServer server(quick_server_options());
  Daemon daemon(server, {});
  daemon.start();
  auto producer = producer_for(server);
  // Every processor is blocked in FETCH on the empty queue when TERM arrives.
  REQUIRE(
      server.wait_for([](const TestServer::Stats& s) { return s.connections >= 5; }, kDeadline));
  daemon.process().signal(SIGTERM);
  auto j = job("ok");
  REQUIRE(producer->push(j));
  CHECK(daemon.process().wait_exit(kDeadline) == 0);
  const auto stats = server.stats();
  CHECK(stats.working == 0);
  const bool acked = server.ack_count(j.jid) == 1;
  const bool queued = stats.queues.count("default") && stats.queues.at("default") == 1;
  CHECK((acked || queued));
}

TEST_CASE("TSTP stops fetching, the job in flight finishes, the worker keeps heartbeating") {
  TestServer server(quick_server_options());
  Daemon daemon(server, {});
  daemon.start();
  auto producer = producer_for(server);
  auto j = job("sleep", {1500});
  REQUIRE(producer->push(j));
  REQUIRE(server.wait_for([](const TestServer::Stats& s) { return s.working == 1; }, kDeadline));
  daemon.process().signal(SIGTSTP);
  REQUIRE(daemon.wait_for_log("quiet"));
  // The job in flight is finished and ACKed; then only the heartbeat connection stays open.
  REQUIRE(server.wait_for(
      [&](const TestServer::Stats& s) { return s.processed == 1 && s.connections == 2; },
      kDeadline));  // heartbeat + our producer
  CHECK(server.ack_count(j.jid) == 1);
  const auto fetches_before = server.command_log().size();
  auto later = job("ok");
  REQUIRE(producer->push(later));
  // Time passes: wait for two more heartbeats; the pushed job must still be queued.
  const auto beats = [&] { return count_commands(server, "BEAT"); };
  const auto beats_before = beats();
  REQUIRE(server.wait_for([&](const TestServer::Stats&) { return beats() >= beats_before + 2; },
                          kDeadline));
  for (std::size_t i = fetches_before; i < server.command_log().size(); ++i) {
    CHECK(server.command_log()[i].verb != "FETCH");
  }
  CHECK(server.stats().queues.at("default") == 1);
  CHECK(server.worker_state(daemon.wid()) == std::optional<std::string>("quiet"));
  daemon.process().signal(SIGTERM);
  CHECK(daemon.process().wait_exit(kDeadline) == 0);
}

TEST_CASE("TTIN logs every job in flight and the connection states") {
  TestServer server(quick_server_options());
  Daemon daemon(server, {});
  daemon.start();
  auto producer = producer_for(server);
  auto j = job("sleep", {3000});
  REQUIRE(producer->push(j));
  // The daemon's own word that the job runs (the server reserves it a moment earlier).
  REQUIRE(daemon.wait_for_log("job started jid=" + j.jid));
  daemon.process().signal(SIGTTIN);
  REQUIRE(daemon.wait_for_log("job in flight jid=" + j.jid));
  CHECK(daemon.wait_for_log("processor index="));
  daemon.process().signal(SIGTERM);
  CHECK(daemon.process().wait_exit(kDeadline) == 0);
  CHECK(server.ack_count(j.jid) == 1);
}
