// The daemon against a misbehaving server: dropped connections, refused reconnects, the
// server's quiet/terminate, being reaped; and job deadlines.
#include "daemon_fixture.hpp"

#include <algorithm>
#include <csignal>

using namespace factotum;
using namespace factotum::testing;

namespace {

bool server_reserved(const TestServer& server, const std::string& jid) {
  const auto reserved = server.working_jids();
  return std::find(reserved.begin(), reserved.end(), jid) != reserved.end();
}

}  // namespace

TEST_CASE("the server dropping every connection and refusing reconnects loses no job") {
  TestServer server(quick_server_options());
  Daemon daemon(server, {});
  daemon.start();
  auto producer = producer_for(server);
  constexpr int kJobs = 100;
  std::vector<std::string> jids;
  for (int i = 0; i < kJobs; ++i) {
    auto j = job("sleep", {20});
    jids.push_back(j.jid);
    REQUIRE(producer->push(j));
  }
  REQUIRE(server.wait_for([](const TestServer::Stats& s) { return s.processed >= 10; }, kDeadline));

  server.refuse_connections(true);
  server.drop_all_connections();
  // One line for the outage, however many connections and retries it takes.
  REQUIRE(daemon.wait_for_log("lost the connection to the Faktory server"));
  server.refuse_connections(false);
  REQUIRE(daemon.wait_for_log("connection to the Faktory server restored"));

  // Every job is eventually ACKed, except one the server popped for a FETCH whose reply the
  // drop cut off: the server keeps such a job reserved for the dead connection until its
  // reservation expires and then retries it (PROTOCOL.md §0.15, §8) — not lost, and never
  // seen by the daemon.
  const auto settled = [&] {
    if (server.stats().queues.at("default") != 0) return false;
    daemon.process().poll_output();
    const auto log = daemon.process().output();
    for (const auto& jid : jids) {
      if (server.ack_count(jid) > 0) continue;
      const bool started = log.find("job started jid=" + jid) != std::string::npos;
      if (started || !server_reserved(server, jid)) return false;  // running, or not yet fetched
    }
    return true;
  };
  // A job whose FETCH reply is still on its way to the daemon looks the same as a lost one for
  // a moment, so "settled" must still hold after time has passed: after one more heartbeat
  // (a condition on the server, not a sleep), anything in transit has long been started.
  const auto beats = [&] { return count_commands(server, "BEAT"); };
  bool all_settled =
      server.wait_for([&](const TestServer::Stats&) { return settled(); }, kDeadline);
  if (all_settled) {
    const auto seen = beats();
    all_settled = server.wait_for(
        [&](const TestServer::Stats&) { return beats() > seen && settled(); }, kDeadline);
  }
  if (!all_settled) {
    for (const auto& jid : jids) {
      if (server.ack_count(jid) == 0) UNSCOPED_INFO("not ACKed: " << jid);
    }
    UNSCOPED_INFO("daemon output:\n" << daemon.process().output());
  }
  REQUIRE(all_settled);
  const auto reserved = server.working_jids();
  CHECK(reserved.size() <= 4);  // at most one FETCH in flight per processor
  const auto log = daemon.process().output();
  for (const auto& jid : reserved) {
    INFO("reserved for a dropped connection: " << jid);
    CHECK(log.find("job started jid=" + jid) == std::string::npos);
  }
  for (const auto& jid : jids) {
    INFO(jid);
    if (server.ack_count(jid) == 0) continue;  // one of `reserved`
    CHECK(server.fail_count(jid) == 0);
  }
  CHECK(server.stats().retries == 0);
  std::size_t lost_lines = 0;
  for (std::size_t at = 0; (at = log.find("lost the connection", at)) != std::string::npos; ++at) {
    ++lost_lines;
  }
  INFO("daemon output:\n" << log);
  CHECK(lost_lines == 1);
  daemon.process().signal(SIGTERM);
  CHECK(daemon.process().wait_exit(kDeadline) == 0);
}

TEST_CASE("the server's quiet stops fetching and its terminate stops the daemon") {
  TestServer server(quick_server_options());
  Daemon daemon(server, {});  // concurrency 4
  daemon.start();
  // Fetching before the quiet: each processor has sent FETCHes on its own connection.
  REQUIRE(server.wait_for(
      [&](const TestServer::Stats&) {
        return connections_of(server, daemon.wid(), "FETCH").size() == 4;
      },
      kDeadline));

  server.set_worker_state(daemon.wid(), "quiet");
  // Only a synchronisation point: from here on the daemon knows it is quiet.
  REQUIRE(daemon.wait_for_log("the Faktory server asked this worker to be quiet"));
  const auto quiet_at = server.command_log().size();
  // The processors END their connections once their last FETCH has returned, so the
  // heartbeat's is the only one left and no FETCH of this worker is pending any more.
  REQUIRE(
      server.wait_for([](const TestServer::Stats& s) { return s.connections == 1; }, kDeadline));
  check_no_new_fetch(server.command_log(), quiet_at, daemon.wid());

  // A job pushed while quiet stays queued across two more heartbeats: not a single FETCH.
  const auto idle_at = server.command_log().size();
  auto later = job("ok");
  server.push_job(later.serialize());
  const auto beats_before = count_commands(server, "BEAT");
  REQUIRE(server.wait_for(
      [&](const TestServer::Stats&) { return count_commands(server, "BEAT") >= beats_before + 2; },
      kDeadline));
  {
    const auto log = server.command_log();
    for (std::size_t i = idle_at; i < log.size(); ++i) {
      INFO(log[i].line);
      CHECK(log[i].verb != "FETCH");
    }
  }
  CHECK(server.stats().queues.at("default") == 1);
  CHECK(!daemon.process().wait_exit(std::chrono::milliseconds(0)));

  server.set_worker_state(daemon.wid(), "terminate");
  CHECK(daemon.process().wait_exit(kDeadline) == 0);
  const auto log = server.command_log();
  for (std::size_t i = idle_at; i < log.size(); ++i) {
    INFO(log[i].line);
    CHECK(log[i].verb != "FETCH");
  }
  CHECK(server.stats().queues.at("default") == 1);
  CHECK(server.ack_count(later.jid) == 0);
  CHECK(server.working_jids().empty());
}

TEST_CASE("a reaped worker registers again and keeps working") {
  TestServerOptions options = quick_server_options();
  options.heartbeat_timeout = std::chrono::seconds(8);  // BEATs come every 5 s
  options.task_interval = std::chrono::milliseconds(200);
  TestServer server(options);
  Daemon daemon(server, {});
  daemon.start();
  const auto registered = [&] { return server.worker_state(daemon.wid()).has_value(); };
  REQUIRE(server.wait_for([&](const TestServer::Stats&) { return registered(); }, kDeadline));
  // A paused worker process misses its BEATs: the server reaps it and closes its connections.
  const pid_t worker = daemon.worker_pid();
  ::kill(worker, SIGSTOP);
  REQUIRE(server.wait_for([&](const TestServer::Stats&) { return !registered(); }, kDeadline));
  ::kill(worker, SIGCONT);
  REQUIRE(server.wait_for([&](const TestServer::Stats&) { return registered(); }, kDeadline));
  auto producer = producer_for(server);
  auto j = job("ok");
  REQUIRE(producer->push(j));
  REQUIRE(server.wait_for([&](const TestServer::Stats&) { return server.ack_count(j.jid) == 1; },
                          kDeadline));
  daemon.process().signal(SIGTERM);
  CHECK(daemon.process().wait_exit(kDeadline) == 0);
}

TEST_CASE("a job past its jobtype timeout is FAILed as JobTimeout and its late result dropped") {
  TestServer server(quick_server_options());
  Daemon::Settings settings;
  settings.extra = "jobtypes:\n  stubborn:\n    timeout: 500ms\n";
  Daemon daemon(server, settings);
  daemon.start();
  auto producer = producer_for(server);
  auto j = job("stubborn", {2000});
  REQUIRE(producer->push(j));
  REQUIRE(server.wait_for([&](const TestServer::Stats&) { return server.fail_count(j.jid) == 1; },
                          kDeadline));
  auto failed = faktory::Job::parse(server.retry_jobs().at(0));
  REQUIRE(failed);
  CHECK(failed->failure->errtype == "JobTimeout");
  REQUIRE(daemon.wait_for_log("a timed-out job returned; its result is dropped"));
  CHECK(server.ack_count(j.jid) == 0);
  daemon.process().signal(SIGTERM);
  CHECK(daemon.process().wait_exit(kDeadline) == 0);
}
