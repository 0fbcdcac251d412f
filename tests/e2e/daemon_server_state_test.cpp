// The daemon and the server's state: a server that is not there at start, the server's
// quiet and terminate while jobs run, an ACK whose reply is lost.
#include "daemon_fixture.hpp"

#include "faktory/job.hpp"

#include <csignal>

using namespace factotum;
using namespace factotum::testing;

TEST_CASE("a server unreachable at start is retried with one log line, then used") {
  TestServer server(quick_server_options());
  server.refuse_connections(true);  // accepts and closes at once: no Faktory server there
  Daemon::Settings settings;
  settings.concurrency = 2;
  Daemon daemon(server, settings);
  daemon.start();  // the worker starts; the server being down is not fatal
  REQUIRE(daemon.wait_for_log("cannot reach the Faktory server; retrying with back-off"));
  // Several attempts from each of the three connections (two processors, the heartbeat).
  REQUIRE(server.wait_for(
      [&](const TestServer::Stats&) { return server.refused_connections() >= 12; }, kDeadline));
  CHECK(!daemon.process().wait_exit(std::chrono::milliseconds(0)));
  daemon.process().poll_output();
  {
    const auto log = daemon.process().output();
    INFO(log);
    CHECK(count_of(log, "cannot reach the Faktory server") == 1);
    CHECK(count_of(log, "Faktory server") == 1);  // nothing per attempt
  }

  server.refuse_connections(false);
  auto producer = producer_for(server);
  auto j = job("ok");
  REQUIRE(producer->push(j));
  REQUIRE(server.wait_for([&](const TestServer::Stats&) { return server.ack_count(j.jid) == 1; },
                          kDeadline));
  CHECK(daemon.wait_for_log("connection to the Faktory server restored"));
  daemon.process().signal(SIGTERM);
  CHECK(daemon.process().wait_exit(kDeadline) == 0);
  const auto log = daemon.process().output();
  INFO(log);
  CHECK(count_of(log, "cannot reach the Faktory server") == 1);
  CHECK(count_of(log, "connection to the Faktory server restored") == 1);
  CHECK(count_of(log, "lost the connection") == 0);
  CHECK(server.stats().processed == 1);
}

TEST_CASE("the server's quiet with a job in flight lets it finish and ACKs it, then no FETCH") {
  TestServer server(quick_server_options());
  Daemon daemon(server, {});
  daemon.start();
  auto producer = producer_for(server);
  Gate gate;
  auto j = job("gate", gate.args());
  push_and_await_start(daemon, *producer, j);

  server.set_worker_state(daemon.wid(), "quiet");
  REQUIRE(daemon.wait_for_log("the Faktory server asked this worker to be quiet"));
  const auto quiet_at = server.command_log().size();
  CHECK(server.ack_count(j.jid) == 0);  // quiet does not cut the job short
  gate.open();
  // The job finishes and is ACKed; then each processor ENDs its connection, and only the
  // heartbeat's (and our producer's) stay open.
  REQUIRE(server.wait_for(
      [&](const TestServer::Stats& s) { return s.processed == 1 && s.connections == 2; },
      kDeadline));
  CHECK(server.ack_count(j.jid) == 1);
  CHECK(server.fail_count(j.jid) == 0);

  // A FETCH already sent when quiet came is not abandoned (DESIGN.md §3): at most that one per
  // connection after that moment, and nothing but END after it; the job's ACK but no FETCH.
  check_no_new_fetch(server.command_log(), quiet_at, daemon.wid());

  // From now on not a single FETCH: a job pushed stays queued while the worker heartbeats.
  const auto idle_at = server.command_log().size();
  auto later = job("ok");
  REQUIRE(producer->push(later));
  const auto beats_before = count_commands(server, "BEAT");
  REQUIRE(server.wait_for(
      [&](const TestServer::Stats&) { return count_commands(server, "BEAT") >= beats_before + 2; },
      kDeadline));
  const auto log = server.command_log();
  for (std::size_t i = idle_at; i < log.size(); ++i) CHECK(log[i].verb != "FETCH");
  CHECK(server.stats().queues.at("default") == 1);
  CHECK(!daemon.process().wait_exit(std::chrono::milliseconds(0)));
  CHECK(server.worker_state(daemon.wid()) == std::optional<std::string>("quiet"));

  daemon.process().signal(SIGTERM);
  CHECK(daemon.process().wait_exit(kDeadline) == 0);
  CHECK(server.ack_count(later.jid) == 0);
}

TEST_CASE("the server's terminate with a job in flight lets it finish, ACKs it and exits 0") {
  TestServer server(quick_server_options());
  Daemon::Settings settings;
  settings.shutdown_timeout = "300s";
  Daemon daemon(server, settings);
  daemon.start();
  auto producer = producer_for(server);
  Gate gate;
  auto j = job("gate", gate.args());
  push_and_await_start(daemon, *producer, j);

  server.set_worker_state(daemon.wid(), "terminate");
  REQUIRE(daemon.wait_for_log("the Faktory server asked this worker to stop"));
  REQUIRE(daemon.wait_for_log("stopping: no new FETCH; waiting for jobs in flight"));
  CHECK(!daemon.process().wait_exit(std::chrono::milliseconds(0)));  // waiting for the job
  CHECK(server.ack_count(j.jid) == 0);
  gate.open();
  CHECK(daemon.process().wait_exit(kDeadline) == 0);
  CHECK(server.ack_count(j.jid) == 1);
  CHECK(server.fail_count(j.jid) == 0);
  CHECK(server.stats().working == 0);
}

TEST_CASE("the server's terminate with a job outliving shutdown_timeout FAILs it and exits 0") {
  TestServer server(quick_server_options());
  Daemon::Settings settings;
  settings.shutdown_timeout = "1s";
  Daemon daemon(server, settings);
  daemon.start();
  auto producer = producer_for(server);
  auto j = job("stubborn", {600000});
  push_and_await_start(daemon, *producer, j);

  server.set_worker_state(daemon.wid(), "terminate");
  REQUIRE(daemon.wait_for_log("the Faktory server asked this worker to stop"));
  CHECK(daemon.process().wait_exit(kDeadline) == 0);
  CHECK(server.ack_count(j.jid) == 0);
  CHECK(server.fail_count(j.jid) == 1);
  const auto retries = server.retry_jobs();
  REQUIRE(retries.size() == 1);
  auto failed = faktory::Job::parse(retries.front());
  REQUIRE(failed);
  REQUIRE(failed->failure);
  CHECK(failed->failure->errtype == "WorkerShutdown");
}

TEST_CASE("an ACK whose reply is lost is sent again after reconnecting and counted once") {
  TestServer server(quick_server_options());
  Daemon::Settings settings;
  settings.concurrency = 1;
  Daemon daemon(server, settings);
  daemon.start();
  server.lose_next_reply("ACK");  // applied by the server, then the connection closes
  auto producer = producer_for(server);
  auto j = job("ok");
  REQUIRE(producer->push(j));
  REQUIRE(server.wait_for([&](const TestServer::Stats&) { return server.ack_count(j.jid) == 2; },
                          kDeadline));
  REQUIRE(daemon.wait_for_log("connection to the Faktory server restored"));
  const auto stats = server.stats();
  CHECK(stats.processed == 1);
  CHECK(stats.failures == 0);
  CHECK(stats.working == 0);
  CHECK(server.fail_count(j.jid) == 0);

  // The job keeps working afterwards on the new connection.
  auto next = job("ok");
  REQUIRE(producer->push(next));
  REQUIRE(server.wait_for([&](const TestServer::Stats&) { return server.ack_count(next.jid) == 1; },
                          kDeadline));
  daemon.process().signal(SIGTERM);
  CHECK(daemon.process().wait_exit(kDeadline) == 0);
  CHECK(server.ack_count(j.jid) == 2);
  const auto log = daemon.process().output();
  INFO(log);
  CHECK(count_of(log, "lost the connection to the Faktory server") == 1);
  CHECK(log.find("refused ACK") == std::string::npos);
  CHECK(log.find("could not ACK") == std::string::npos);
  CHECK(log.find("gave up") == std::string::npos);
  for (const auto& line : lines_of(log)) {
    // "<timestamp> <level> <message>": nothing at error level.
    CHECK(line.substr(line.find(' ') + 1).rfind("error ", 0) != 0);
  }
}
