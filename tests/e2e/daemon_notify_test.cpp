// The systemd notification protocol as a service manager sees it: the test owns the datagram
// socket named by NOTIFY_SOCKET (and sets WATCHDOG_USEC), runs the real binary against the test
// server, and checks what arrives for start, reloads, quiet, a long job and stop.
#include "config_edit.hpp"
#include "daemon_fixture.hpp"
#include "notify_socket.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <sstream>

using namespace factotum;
using namespace factotum::testing;

TEST_CASE("systemd hears READY, RELOADING, READY, STATUS, WATCHDOG and STOPPING") {
  TestServer server(quick_server_options());
  NotifySocket systemd;
  Daemon::Settings settings;
  settings.concurrency = 2;
  // Pings every 150 ms: many while the job below runs.
  settings.env = {systemd.env(), "WATCHDOG_USEC=300000"};
  Daemon daemon(server, settings);
  daemon.start();

  const auto ready = systemd.wait_for("READY=1");
  REQUIRE(ready);
  CHECK(systemd.messages[*ready].find("STATUS=") != std::string::npos);

  // A job far longer than WATCHDOG_USEC: the pings keep coming while it runs.
  auto producer = producer_for(server);
  Gate gate;
  const auto long_job = job("gate", gate.args());
  push_and_await_start(daemon, *producer, long_job);
  const auto job_started = systemd.messages.size();
  auto ping = systemd.wait_for("WATCHDOG=1", job_started);
  for (int i = 0; ping && i < 4; ++i) ping = systemd.wait_for("WATCHDOG=1", *ping + 1);
  REQUIRE(ping);
  REQUIRE(systemd.wait_for("STATUS=busy 1/2", job_started));
  CHECK(server.ack_count(long_job.jid) == 0);  // still running all along
  gate.open();
  REQUIRE(server.wait_for(
      [&](const TestServer::Stats&) { return server.ack_count(long_job.jid) == 1; }, kDeadline));

  // A reload: RELOADING=1 with the monotonic time, then READY=1.
  const auto before_reload = systemd.messages.size();
  daemon.process().signal(SIGHUP);
  const auto reloading = systemd.wait_for("RELOADING=1", before_reload);
  REQUIRE(reloading);
  CHECK(systemd.messages[*reloading].find("MONOTONIC_USEC=") != std::string::npos);
  const auto reloaded = systemd.wait_for("READY=1", *reloading + 1);
  REQUIRE(reloaded);
  CHECK(systemd.messages[*reloaded].find("reload failed") == std::string::npos);

  // A reload that fails: READY=1 all the same (the old configuration runs), STATUS says so.
  std::ofstream(daemon.config(), std::ios::app) << "worker:\n  concurency: 3\n";
  const auto before_bad = systemd.messages.size();
  daemon.process().signal(SIGHUP);
  const auto bad_reloading = systemd.wait_for("RELOADING=1", before_bad);
  REQUIRE(bad_reloading);
  const auto bad_ready = systemd.wait_for("READY=1", *bad_reloading + 1);
  REQUIRE(bad_ready);
  CHECK(systemd.messages[*bad_ready].find("last reload failed") != std::string::npos);

  // Quiet shows in STATUS.
  const auto before_quiet = systemd.messages.size();
  daemon.process().signal(SIGTSTP);
  REQUIRE(systemd.wait_for("STATUS=quiet", before_quiet));

  // Stop: STOPPING=1 with the time the stop may take (shutdown_timeout 10 s + 20 s), then a
  // clean exit.
  const auto before_stop = systemd.messages.size();
  daemon.process().signal(SIGTERM);
  const auto stopping = systemd.wait_for("STOPPING=1", before_stop);
  REQUIRE(stopping);
  CHECK(systemd.messages[*stopping].find("EXTEND_TIMEOUT_USEC=30000000") != std::string::npos);
  const auto exit_code = daemon.process().wait_exit(kDeadline);
  INFO(daemon.process().output());
  CHECK(exit_code == std::optional<int>(0));
  // Nothing claims readiness again while stopping (everything it sent is read by now).
  systemd.drain();
  CHECK(systemd.count("READY=1", *stopping) == 0);
}

TEST_CASE("a job's child process does not inherit NOTIFY_SOCKET or WATCHDOG_USEC") {
  TestServer server(quick_server_options());
  NotifySocket systemd;
  Daemon::Settings settings;
  settings.env = {systemd.env(), "WATCHDOG_USEC=300000"};
  // The shipped shell plugin runs a command per jobtype: it succeeds only when neither
  // variable reached it (NotifyAccess=main would ignore a child, but it must not even try).
  settings.extra =
      "  config:\n    shell:\n      jobtypes:\n        clean_env:\n          command: "
      "[/bin/sh, -c, 'test -z \"$NOTIFY_SOCKET$WATCHDOG_USEC\"']\n";
  Daemon daemon(server, settings);
  std::stringstream text;
  text << std::ifstream(daemon.config()).rdbuf();
  std::string yaml = text.str();
  // The shell plugin's directory too, and its settings under plugins (not at the top level).
  const std::string dirs = "directories: [" FACTOTUM_BINARY_DIR "/tests/e2e-plugins";
  yaml.replace(yaml.find(dirs), dirs.size(), dirs + ", " FACTOTUM_BINARY_DIR "/plugins");
  const auto config_at = yaml.find("  config:\n    shell:");
  std::string shell = yaml.substr(config_at);
  yaml.erase(config_at);
  yaml.insert(yaml.find("logging:"), shell);
  std::ofstream(daemon.config()) << yaml;
  daemon.start();
  REQUIRE(systemd.wait_for("READY=1"));

  auto producer = producer_for(server);
  const auto j = job("clean_env");
  REQUIRE(producer->push(j));
  REQUIRE(server.wait_for(
      [&](const TestServer::Stats&) {
        return server.ack_count(j.jid) + server.fail_count(j.jid) == 1;
      },
      kDeadline));
  INFO(daemon.process().output());
  CHECK(server.ack_count(j.jid) == 1);
  daemon.process().signal(SIGTERM);
  CHECK(daemon.process().wait_exit(kDeadline) == std::optional<int>(0));
}

TEST_CASE("READY comes with the server unreachable, over an abstract socket, STATUS saying so") {
  // A server that is down is retried, not waited for: the service is up, and says why it idles.
  std::uint16_t closed_port = 0;
  {
    TestServer gone(quick_server_options());
    closed_port = gone.port();
  }
  TestServer server(quick_server_options());  // only for the fixture's configuration
  NotifySocket systemd(true);
  Daemon::Settings settings;
  settings.env = {systemd.env()};
  Daemon daemon(server, settings);
  edit_config(daemon, "url: " + server.url(),
              "url: tcp://127.0.0.1:" + std::to_string(closed_port));
  daemon.start();
  const auto ready = systemd.wait_for("READY=1");
  REQUIRE(ready);
  REQUIRE(systemd.wait_for("server down for"));
  CHECK(connections_of(server, daemon.wid()).empty());
  daemon.process().signal(SIGTERM);
  CHECK(daemon.process().wait_exit(kDeadline) == std::optional<int>(0));
}
