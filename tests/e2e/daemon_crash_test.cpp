// Crash containment: factotum runs its worker under a supervisor process. A plugin that
// crashes the worker (segfault, abort(), stack overflow; in a job, or while loading) never
// strands a job: the supervisor FAILs the crashing job as PluginCrashed naming the plugin, the
// other jobs in flight as WorkerCrashed, quarantines a plugin that crashed while loading, and
// starts a new worker. Everything is asserted on what the test server saw and on the
// processes and exit statuses, never on log text (log lines are waited on only to
// synchronise).
#include "config_edit.hpp"
#include "daemon_fixture.hpp"
#include "metrics_client.hpp"
#include "notify_socket.hpp"

#include "faktory/job.hpp"

#include <csignal>
#include <optional>

using namespace factotum;
using namespace factotum::testing;

namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
// The sanitizers handle a crash themselves (a report, then exit status 1 or 66) instead of
// letting the process die of the signal, and keep the crash handler from running.
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#define SKIP_UNDER_SANITIZER()                                                               \
  do {                                                                                       \
    if (kSanitized) {                                                                        \
      WARN(                                                                                  \
          "skipped under a sanitizer: it handles the deliberate crash itself (report, exit " \
          "status), so the worker does not die of the signal this test is about");           \
      return;                                                                                \
    }                                                                                        \
  } while (false)

// A plugin directory of the test's own, private as strict_permissions wants it.
fs::path plugin_directory(const TempDir& dir) {
  const fs::path plugins = dir.path / "plugins";
  fs::create_directory(plugins);
  fs::permissions(plugins, fs::perms::owner_all, fs::perm_options::replace);
  return plugins;
}

// A daemon with the e2e_jobs plugin and a plugin directory of the test's own.
struct CrashDaemon {
  TestServer server{quick_server_options()};
  TempDir dir;
  fs::path plugins = plugin_directory(dir);
  Daemon daemon;

  explicit CrashDaemon(unsigned concurrency = 4, const std::string& plugins_extra = "",
                       const std::string& extra = "")
      : daemon(server, [concurrency, &extra] {
          Daemon::Settings settings;
          settings.concurrency = concurrency;
          settings.extra = extra;
          return settings;
        }()) {
    edit_config(daemon, "directories: [" FACTOTUM_BINARY_DIR "/tests/e2e-plugins]",
                "directories: [" FACTOTUM_BINARY_DIR "/tests/e2e-plugins, " + plugins.string() +
                    "]" + plugins_extra);
  }

  pid_t worker_pid() { return daemon.worker_pid(); }
};

std::optional<faktory::Failure> failure_of(const TestServer& server, const std::string& jid) {
  for (const auto& payload : server.retry_jobs()) {
    auto parsed = faktory::Job::parse(payload);
    if (parsed && parsed->jid == jid && parsed->failure) return parsed->failure;
  }
  return std::nullopt;
}

bool wait_failed(const TestServer& server, const std::vector<std::string>& jids) {
  return server.wait_for(
      [&](const TestServer::Stats&) {
        for (const auto& jid : jids) {
          if (!failure_of(server, jid)) return false;
        }
        return true;
      },
      kDeadline);
}

bool wait_acked(const TestServer& server, const std::string& jid) {
  return server.wait_for([&](const TestServer::Stats&) { return server.ack_count(jid) == 1; },
                         kDeadline);
}

}  // namespace

TEST_CASE("a job that crashes the worker is FAILed PluginCrashed, the others WorkerCrashed") {
  SKIP_UNDER_SANITIZER();
  const auto [jobtype, signal] =
      GENERATE(std::pair<std::string, std::string>{"segfault", "SIGSEGV"},
               std::pair<std::string, std::string>{"abort", "SIGABRT"},
               std::pair<std::string, std::string>{"overflow", "SIGSEGV"});
  CAPTURE(jobtype);
  // Every processor busy when the crash comes. (An idle processor's FETCH stays blocked on
  // the server after the process died, and a job pushed in that window, at most the server's
  // 2 s block, is reserved for the dead connection: PROTOCOL.md §0.15, README "When a plugin
  // crashes". The job pushed after the crash below must not race that.)
  CrashDaemon d(3);
  publish_variant("crash_jobs.so", d.plugins, "crash_jobs.so");
  d.daemon.start();
  const pid_t first_worker = d.worker_pid();
  auto producer = producer_for(d.server);

  // Two jobs in flight on the other processors when the crash comes.
  Gate gate;
  auto busy1 = job("gate", gate.args());
  auto busy2 = job("gate", gate.args());
  push_and_await_start(d.daemon, *producer, busy1);
  push_and_await_start(d.daemon, *producer, busy2);
  auto crashing = job(jobtype);
  REQUIRE(producer->push(crashing));

  REQUIRE(wait_failed(d.server, {crashing.jid, busy1.jid, busy2.jid}));
  const auto crashed = failure_of(d.server, crashing.jid);
  CHECK(crashed->errtype == "PluginCrashed");
  INFO(crashed->message);
  CHECK(crashed->message.find(signal) != std::string::npos);
  CHECK(crashed->message.find("jobtype '" + jobtype + "'") != std::string::npos);
  CHECK(crashed->message.find("plugin 'crash_jobs' 3.1.4") != std::string::npos);
  CHECK(crashed->message.find((d.plugins / "crash_jobs.so").string()) != std::string::npos);
  for (const auto& other : {busy1.jid, busy2.jid}) {
    const auto failure = failure_of(d.server, other);
    CHECK(failure->errtype == "WorkerCrashed");
    CHECK(failure->message.find(signal) != std::string::npos);
  }
  // Each reported exactly once, and nothing left reserved.
  for (const auto& jid : {crashing.jid, busy1.jid, busy2.jid}) CHECK(d.server.fail_count(jid) == 1);
  CHECK(d.server.working_jids().empty());

  // A new worker runs the next jobs.
  auto next = job("ok");
  REQUIRE(producer->push(next));
  const bool acked = wait_acked(d.server, next.jid);
  d.daemon.process().poll_output();
  INFO(d.daemon.process().output());
  REQUIRE(acked);
  CHECK(process_ended(first_worker));
  CHECK(d.worker_pid() != first_worker);

  d.daemon.process().signal(SIGTERM);
  CHECK(d.daemon.process().wait_exit(kDeadline) == 0);
}

TEST_CASE("a job FAILed at its deadline is not FAILed again when the worker crashes later") {
  SKIP_UNDER_SANITIZER();
  CrashDaemon d(2, "");
  edit_config(d.daemon, "logging:", "jobtypes:\n  stubborn:\n    timeout: 500ms\nlogging:");
  publish_variant("crash_jobs.so", d.plugins, "crash_jobs.so");
  d.daemon.start();
  auto producer = producer_for(d.server);
  // Its function ignores the cancellation and runs on after the control thread's JobTimeout.
  const auto stubborn = job("stubborn", {600000});
  push_and_await_start(d.daemon, *producer, stubborn);
  REQUIRE(wait_failed(d.server, {stubborn.jid}));
  CHECK(failure_of(d.server, stubborn.jid)->errtype == "JobTimeout");

  auto crashing = job("segfault");
  REQUIRE(producer->push(crashing));
  REQUIRE(wait_failed(d.server, {crashing.jid}));
  CHECK(failure_of(d.server, crashing.jid)->errtype == "PluginCrashed");
  // The worker is gone; its timed-out job was FAILed once, by the worker itself: a second FAIL
  // would reach the job's retry, which another worker may be running by then.
  d.daemon.process().signal(SIGTERM);
  CHECK(d.daemon.process().wait_exit(kDeadline) == 0);
  CHECK(d.server.fail_count(stubborn.jid) == 1);
}

TEST_CASE("a plugin that crashes while loading is quarantined and the others load") {
  SKIP_UNDER_SANITIZER();
  const auto variant =
      GENERATE(std::string("crash_in_init.so"), std::string("crash_in_constructor.so"));
  CAPTURE(variant);
  CrashDaemon d;
  publish_variant(variant, d.plugins, "crashing.so");
  d.daemon.start();  // "worker started": the second worker, without the crashing plugin
  const pid_t worker = d.worker_pid();

  auto ok = job("ok");
  auto producer = producer_for(d.server);
  REQUIRE(producer->push(ok));
  REQUIRE(wait_acked(d.server, ok.jid));

  // Reloads, then runs a job of `jobtype` on the same worker (no crash at load meanwhile).
  const auto reload_then_run = [&](const std::string& jobtype) {
    d.daemon.process().signal(SIGHUP);
    REQUIRE(d.daemon.wait_for_log("reload done"));
    auto after_reload = job(jobtype);
    REQUIRE(producer->push(after_reload));
    REQUIRE(wait_acked(d.server, after_reload.jid));
    CHECK(d.worker_pid() == worker);
  };
  // A reload does not try the quarantined file again: the same worker keeps running...
  reload_then_run("ok");
  // ...until the file changes: a fixed build in its place loads on the next reload.
  publish_variant("dropin.so", d.plugins, "crashing.so");
  reload_then_run("dropin");

  d.daemon.process().signal(SIGTERM);
  CHECK(d.daemon.process().wait_exit(kDeadline) == 0);
}

TEST_CASE("a plugin that crashes while loading, under plugins.fatal_errors: exit 78") {
  SKIP_UNDER_SANITIZER();
  CrashDaemon d(4, "\n  fatal_errors: true");
  publish_variant("crash_in_init.so", d.plugins, "crashing.so");
  const auto run = run_factotum({"--config", d.daemon.config().string()});
  CHECK(run.exit_code == 78);
}

TEST_CASE("TERM during a crash loop stops everything cleanly") {
  SKIP_UNDER_SANITIZER();
  CrashDaemon d(1);
  publish_variant("crash_jobs.so", d.plugins, "crash_jobs.so");
  d.daemon.start();
  auto producer = producer_for(d.server);
  std::vector<std::string> jids;
  std::vector<pid_t> workers;
  for (int i = 0; i < 5; ++i) {
    auto crashing = job("segfault");
    // Not retried: a retry coming back before the TERM would crash the worker while it
    // stops (exit 70, as it should) and this test is about a TERM between crashes.
    crashing.retry = 0;
    jids.push_back(crashing.jid);
    REQUIRE(producer->push(crashing));
  }
  // Each crash takes one job; the workers are restarted with a growing delay.
  for (const auto& jid : jids) {
    workers.push_back(d.worker_pid());
    // (With retry 0 the server drops a FAILed job: its FAIL is read from the command log.)
    REQUIRE(d.server.wait_for(
        [&](const TestServer::Stats&) { return d.server.fail_count(jid) == 1; }, kDeadline));
    std::string fail_line;
    for (const auto& record : d.server.command_log()) {
      if (record.verb == "FAIL" && record.line.find(jid) != std::string::npos)
        fail_line = record.line;
    }
    CHECK(fail_line.find(R"("errtype":"PluginCrashed")") != std::string::npos);
  }
  REQUIRE(d.daemon.wait_for_log("CRASH LOOP"));
  d.daemon.process().signal(SIGTERM);
  const auto exit_code = d.daemon.process().wait_exit(kDeadline);
  INFO(d.daemon.process().output());
  CHECK(exit_code == std::optional<int>(0));
  for (const pid_t worker : workers) CHECK(process_ended(worker));
  CHECK(d.server.working_jids().empty());
}

TEST_CASE("a worker whose supervisor is killed stops too") {
  CrashDaemon d;
  d.daemon.start();
  const pid_t worker = d.worker_pid();
  d.daemon.process().signal(SIGKILL);
  CHECK(d.daemon.process().wait_exit(kDeadline).has_value());
  // PR_SET_PDEATHSIG: the worker got a TERM and stopped, ENDing its connections.
  CHECK(d.server.wait_for([&](const TestServer::Stats&) { return process_ended(worker); },
                          kDeadline));
}

TEST_CASE("with --no-supervisor the worker runs alone in the process") {
  TestServer server(quick_server_options());
  Daemon::Settings settings;
  settings.args = {"--no-supervisor"};
  Daemon daemon(server, settings);
  daemon.start();
  CHECK(children_of(daemon.process().pid()).empty());
  auto producer = producer_for(server);
  auto ok = job("ok");
  REQUIRE(producer->push(ok));
  REQUIRE(wait_acked(server, ok.jid));
  daemon.process().signal(SIGTERM);
  CHECK(daemon.process().wait_exit(kDeadline) == 0);
}

TEST_CASE("a worker that stops answering the watchdog is replaced and its jobs FAILed") {
  // Not a crash of the test's making: a stopped process, which no sanitizer intercepts.
  TestServer server(quick_server_options());
  NotifySocket systemd;
  Daemon::Settings settings;
  settings.concurrency = 2;
  settings.env = {systemd.env(), "WATCHDOG_USEC=1000000"};  // the supervisor pings every 0.5 s
  Daemon daemon(server, settings);
  daemon.start();
  REQUIRE(systemd.wait_for("READY=1"));
  const pid_t wedged = daemon.worker_pid();
  auto producer = producer_for(server);
  Gate gate;
  auto busy = job("gate", gate.args());
  push_and_await_start(daemon, *producer, busy);

  // A worker whose control thread no longer runs: it stops pinging. The supervisor kills it
  // (after its silence limit, 10 s at least) and FAILs its job, while systemd goes on hearing
  // the supervisor's own pings.
  ::kill(wedged, SIGSTOP);
  const auto stopped_at = systemd.messages.size();
  const bool failed = server.wait_for(
      [&](const TestServer::Stats&) { return server.fail_count(busy.jid) == 1; }, kDeadline);
  daemon.process().poll_output();
  INFO(daemon.process().output());
  REQUIRE(failed);
  const auto failure = failure_of(server, busy.jid);
  REQUIRE(failure);
  CHECK(failure->errtype == "WorkerCrashed");
  CHECK(failure->message.find("stopped responding") != std::string::npos);
  CHECK(
      server.wait_for([&](const TestServer::Stats&) { return process_ended(wedged); }, kDeadline));
  CHECK(systemd.wait_for("WATCHDOG=1", stopped_at));
  // A new worker takes the next job; the service never stopped.
  auto next = job("ok");
  REQUIRE(producer->push(next));
  REQUIRE(wait_acked(server, next.jid));
  CHECK(daemon.worker_pid() != wedged);
  daemon.process().signal(SIGTERM);
  CHECK(daemon.process().wait_exit(kDeadline) == 0);
}

TEST_CASE("a TERM sent to both processes (pkill, systemctl kill) is taken once, not as hurry") {
  CrashDaemon d;
  d.daemon.start();
  const pid_t worker = d.worker_pid();
  auto producer = producer_for(d.server);
  Gate gate;
  auto running = job("gate", gate.args());
  push_and_await_start(d.daemon, *producer, running);
  // As `kill $(pidof factotum)` does: the worker first, then the supervisor, which passes it
  // on. The worker is stopped meanwhile, so that the TERM sent to it is still pending when the
  // supervisor's arrives (as a busy machine may have it): the two must not merge into one.
  const pid_t supervisor = d.daemon.process().pid();
  ::kill(worker, SIGSTOP);
  REQUIRE(d.server.wait_for(
      [&](const TestServer::Stats&) { return process_state(worker).state == 'T'; }, kDeadline));
  ::kill(worker, SIGTERM);
  d.daemon.process().signal(SIGTERM);
  // The supervisor has taken its TERM and waits again: it has passed it on.
  const bool passed_on = d.server.wait_for(
      [&](const TestServer::Stats&) {
        return !signal_pending(supervisor, SIGTERM) && process_state(supervisor).state == 'S';
      },
      kDeadline);
  ::kill(worker, SIGCONT);
  REQUIRE(passed_on);
  REQUIRE(d.daemon.wait_for_log("received SIGTERM"));
  // One TERM: the job in flight gets shutdown_timeout (10 s) to finish; two would cancel it.
  gate.open();
  CHECK(d.daemon.process().wait_exit(kDeadline) == 0);
  CHECK(d.server.ack_count(running.jid) == 1);
  CHECK(d.server.fail_count(running.jid) == 0);
}

TEST_CASE("the next worker's metrics count the jobs the dead worker was running, by jobtype") {
  // (Killed from outside rather than by a plugin's crash: this runs under the sanitizers too.)
  const unsigned short port = free_port();
  CrashDaemon d(2, "", "metrics:\n  listen: 127.0.0.1:" + std::to_string(port) + "\n");
  d.daemon.start();
  const pid_t first_worker = d.worker_pid();
  auto producer = producer_for(d.server);
  Gate gate;
  auto busy = job("gate", gate.args());
  push_and_await_start(d.daemon, *producer, busy);
  // Inside the plugin's function: a job killed before its plugin was looked up is counted
  // under the unregistered label, as the worker's own counters would.
  REQUIRE(d.server.wait_for([&](const TestServer::Stats&) { return gate.entered(); }, kDeadline));
  ::kill(first_worker, SIGKILL);
  REQUIRE(wait_failed(d.server, {busy.jid}));

  // The new worker serves the endpoint, with the supervisor's tally.
  std::optional<Scrape> after;
  CHECK(d.server.wait_for(
      [&](const TestServer::Stats&) {
        after = scrape(port);
        return after && after->value("factotum_worker_crashes_total") == 1.0;
      },
      kDeadline));
  REQUIRE(after);
  CHECK(after->value("factotum_jobs_finished_total",
                     {{"jobtype", "gate"}, {"outcome", "crashed"}}) == 1.0);
  CHECK(d.worker_pid() != first_worker);
  d.daemon.process().signal(SIGTERM);
  CHECK(d.daemon.process().wait_exit(kDeadline) == 0);
}
