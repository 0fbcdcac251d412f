// Reloads that change how the daemon reaches the server: labels (the server fixes them per wid
// until every connection of the wid has closed) and the server itself. Jobs in flight are
// never interrupted, and each is reported to the server it came from.
#include "config_edit.hpp"
#include "daemon_fixture.hpp"

#include <algorithm>
#include <csignal>

using namespace factotum;
using namespace factotum::testing;

namespace {

using Labels = std::optional<std::vector<std::string>>;

}  // namespace

TEST_CASE(
    "a labels change re-registers the same wid with the new labels while a job in flight "
    "finishes") {
  TestServer server(quick_server_options());
  Daemon::Settings settings;
  settings.concurrency = 2;
  settings.worker_extra = "  labels: [blue]\n";
  Daemon daemon(server, settings);
  daemon.start();
  REQUIRE(server.wait_for(
      [&](const TestServer::Stats&) {
        return server.worker_labels(daemon.wid()) == Labels(std::vector<std::string>{"blue"});
      },
      kDeadline));
  auto producer = producer_for(server);
  Gate gate;
  auto held = job("gate", gate.args());
  push_and_await_start(daemon, *producer, held);

  edit_config(daemon, "labels: [blue]", "labels: [green, canary]");
  daemon.process().signal(SIGHUP);
  // Jobs keep coming while the connections close and reopen: a FETCH abandoned on the way
  // would leave one reserved for a dead connection (PROTOCOL.md §0.15).
  std::vector<std::string> across;
  for (int i = 0; i < 20; ++i) {
    const auto j = job("ok");
    across.push_back(j.jid);
    REQUIRE(producer->push(j));
  }
  // The same wid, registered again: the server now shows the new labels.
  REQUIRE(server.wait_for(
      [&](const TestServer::Stats&) {
        return server.worker_labels(daemon.wid()) ==
               Labels(std::vector<std::string>{"green", "canary"});
      },
      kDeadline));

  REQUIRE(server.wait_for(
      [&](const TestServer::Stats&) {
        return std::all_of(across.begin(), across.end(),
                           [&](const std::string& jid) { return server.ack_count(jid) == 1; });
      },
      kDeadline));
  CHECK(server.working_jids() == std::vector<std::string>{held.jid});  // only the gated job

  // The job that ran through the re-registration finishes and is reported once.
  gate.open();
  REQUIRE(server.wait_for([&](const TestServer::Stats&) { return server.ack_count(held.jid) == 1; },
                          kDeadline));
  CHECK(server.fail_count(held.jid) == 0);
  // And the worker fetches again.
  auto after = job("ok");
  REQUIRE(producer->push(after));
  REQUIRE(server.wait_for(
      [&](const TestServer::Stats&) { return server.ack_count(after.jid) == 1; }, kDeadline));
  CHECK(server.worker_labels(daemon.wid()) == Labels(std::vector<std::string>{"green", "canary"}));

  daemon.process().signal(SIGTERM);
  CHECK(daemon.process().wait_exit(kDeadline) == 0);
  CHECK(server.ack_count(held.jid) == 1);
  CHECK(server.stats().working == 0);
}

TEST_CASE(
    "a url change moves the worker to the new server while a job in flight is ACKed where it came "
    "from") {
  TestServer old_server(quick_server_options());
  TestServer new_server(quick_server_options());
  Daemon::Settings settings;
  settings.concurrency = 2;
  Daemon daemon(old_server, settings);
  daemon.start();
  auto old_producer = producer_for(old_server);
  Gate gate;
  auto held = job("gate", gate.args());
  push_and_await_start(daemon, *old_producer, held);

  edit_config(daemon, "url: " + old_server.url(), "url: " + new_server.url());
  daemon.process().signal(SIGHUP);
  // The idle processor and the heartbeat move at once (after the FETCH they had sent).
  REQUIRE(new_server.wait_for(
      [&](const TestServer::Stats&) {
        return !connections_of(new_server, daemon.wid(), "FETCH").empty() &&
               !connections_of(new_server, daemon.wid(), "BEAT").empty();
      },
      kDeadline));
  auto new_producer = producer_for(new_server);
  auto moved = job("ok");
  REQUIRE(new_producer->push(moved));
  REQUIRE(new_server.wait_for(
      [&](const TestServer::Stats&) { return new_server.ack_count(moved.jid) == 1; }, kDeadline));

  // The job that was running is reported to the server that handed it out, then its processor
  // moves too: the old server forgets the worker once its last connection has closed.
  gate.open();
  REQUIRE(old_server.wait_for(
      [&](const TestServer::Stats&) {
        return old_server.ack_count(held.jid) == 1 && !old_server.worker_state(daemon.wid());
      },
      kDeadline));
  CHECK(old_server.stats().working == 0);
  CHECK(new_server.ack_count(held.jid) == 0);
  REQUIRE(new_server.wait_for(
      [&](const TestServer::Stats&) {
        return connections_of(new_server, daemon.wid(), "FETCH").size() == 2;
      },
      kDeadline));

  daemon.process().signal(SIGTERM);
  CHECK(daemon.process().wait_exit(kDeadline) == 0);
}

TEST_CASE("after a url change, a job given up at shutdown is FAILed on the server it came from") {
  TestServer old_server(quick_server_options());
  TestServer new_server(quick_server_options());
  Daemon::Settings settings;
  settings.concurrency = 1;
  settings.shutdown_timeout = "1s";
  Daemon daemon(old_server, settings);
  daemon.start();
  auto old_producer = producer_for(old_server);
  const auto stubborn = job("stubborn", {600000});  // ignores cancellation
  push_and_await_start(daemon, *old_producer, stubborn);

  edit_config(daemon, "url: " + old_server.url(), "url: " + new_server.url());
  daemon.process().signal(SIGHUP);
  REQUIRE(new_server.wait_for(
      [&](const TestServer::Stats&) {
        return !connections_of(new_server, daemon.wid(), "BEAT").empty();
      },
      kDeadline));
  // The control thread FAILs the job it gives up on from its own connection: to the old server,
  // where the job is reserved; the new one has never heard of it.
  daemon.process().signal(SIGTERM);
  const auto exit_code = daemon.process().wait_exit(kDeadline);
  INFO(daemon.process().output());
  CHECK(exit_code == std::optional<int>(0));
  CHECK(old_server.fail_count(stubborn.jid) == 1);
  CHECK(new_server.fail_count(stubborn.jid) == 0);
  CHECK(old_server.stats().working == 0);
}

TEST_CASE("a reload keeps the precedence of the environment over the file") {
  TestServer server(quick_server_options());
  Daemon::Settings settings;
  settings.concurrency = 2;
  // The server comes from FAKTORY_URL; the file names one where nothing listens.
  settings.env = {"FAKTORY_URL=" + server.url()};
  Daemon daemon(server, settings);
  edit_config(daemon, "url: " + server.url(), "url: tcp://127.0.0.1:1");
  daemon.start();
  auto producer = producer_for(server);
  REQUIRE(server.wait_for(
      [&](const TestServer::Stats&) {
        return connections_of(server, daemon.wid(), "FETCH").size() == 2;
      },
      kDeadline));

  // The file changes (another unreachable url, more processors); the environment still wins.
  edit_config(daemon, "url: tcp://127.0.0.1:1", "url: tcp://127.0.0.1:2");
  edit_config(daemon, "concurrency: 2", "concurrency: 3");
  daemon.process().signal(SIGHUP);
  REQUIRE(daemon.wait_for_log("reload done"));
  REQUIRE(server.wait_for(
      [&](const TestServer::Stats&) {
        return connections_of(server, daemon.wid(), "FETCH").size() == 3;
      },
      kDeadline));
  const auto j = job("ok");
  REQUIRE(producer->push(j));
  REQUIRE(server.wait_for([&](const TestServer::Stats&) { return server.ack_count(j.jid) == 1; },
                          kDeadline));
  daemon.process().signal(SIGTERM);
  CHECK(daemon.process().wait_exit(kDeadline) == std::optional<int>(0));
}
