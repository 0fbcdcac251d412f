// The .so drop-in workflow: plugins added, replaced, renamed and removed in the plugin
// directory, picked up by SIGHUP (or by plugins.watch without it), with jobs in flight. The
// test plugins ("versioned" 1.0.0 and 2.0.0, "dropin") say which build ran each job by
// pushing a follow-up job to the queue "ran": the test reads those PUSHes on the server.
#include "config_edit.hpp"
#include "daemon_fixture.hpp"

#include "faktory/job.hpp"

#include <csignal>
#include <optional>

using namespace factotum;
using namespace factotum::testing;

namespace {

// Which plugin build ran a job: (plugin, version) from its follow-up PUSH, if it ran.
using Ran = std::pair<std::string, std::string>;
std::optional<Ran> ran(const TestServer& server, const std::string& jid) {
  for (const auto& record : server.command_log()) {
    if (record.verb != "PUSH" || record.line.find(jid) == std::string::npos) continue;
    auto note = faktory::Job::parse(record.line.substr(5));
    if (!note || note->queue != "ran" || note->args.size() != 3) continue;
    if (note->args[2].as_string() != jid) continue;
    return Ran{std::string(note->args[0].as_string()), std::string(note->args[1].as_string())};
  }
  return std::nullopt;
}

bool wait_ran(const TestServer& server, const std::string& jid) {
  return server.wait_for([&](const TestServer::Stats&) { return ran(server, jid).has_value(); },
                         kDeadline);
}

// A daemon whose only plugin directory is `plugins` (a directory of the test's own).
struct PluginDaemon {
  TestServer server{quick_server_options()};
  TempDir plugins;
  Daemon daemon;

  explicit PluginDaemon(const std::string& plugins_yaml_extra = "")
      : daemon(server, [] {
          Daemon::Settings settings;
          settings.concurrency = 2;
          return settings;
        }()) {
    edit_config(daemon, "directories: [" FACTOTUM_BINARY_DIR "/tests/e2e-plugins]",
                "directories: [" + plugins.path.string() + "]" + plugins_yaml_extra);
  }

  void reload() {
    daemon.process().signal(SIGHUP);
    REQUIRE(daemon.wait_for_log("reload done"));
  }
};

}  // namespace

TEST_CASE("a plugin replaced by a new version: the job in flight finishes on the old code") {
  PluginDaemon d;
  publish_variant("versioned_v1.so", d.plugins.path, "versioned.so");
  d.daemon.start();
  auto producer = producer_for(d.server);
  Gate gate;
  auto first = job("versioned", gate.args());
  push_and_await_start(d.daemon, *producer, first);

  publish_variant("versioned_v2.so", d.plugins.path, "versioned.so");
  d.reload();
  auto second = job("versioned");
  REQUIRE(producer->push(second));
  REQUIRE(wait_ran(d.server, second.jid));
  CHECK(ran(d.server, second.jid) == Ran{"versioned", "2.0.0"});

  gate.open();
  REQUIRE(wait_ran(d.server, first.jid));
  CHECK(ran(d.server, first.jid) == Ran{"versioned", "1.0.0"});
  REQUIRE(d.server.wait_for(
      [&](const TestServer::Stats&) {
        return d.server.ack_count(first.jid) == 1 && d.server.ack_count(second.jid) == 1;
      },
      kDeadline));
  CHECK(d.server.fail_count(first.jid) == 0);

  d.daemon.process().signal(SIGTERM);
  CHECK(d.daemon.process().wait_exit(kDeadline) == 0);
}

TEST_CASE("a plugin dropped into the directory runs its jobtype after a reload") {
  PluginDaemon d;
  publish_variant("versioned_v1.so", d.plugins.path, "versioned.so");
  d.daemon.start();
  auto producer = producer_for(d.server);
  Gate gate;
  auto running = job("versioned", gate.args());
  push_and_await_start(d.daemon, *producer, running);

  publish_variant("dropin.so", d.plugins.path, "dropin.so");
  d.reload();
  auto dropped = job("dropin");
  REQUIRE(producer->push(dropped));
  REQUIRE(wait_ran(d.server, dropped.jid));
  CHECK(ran(d.server, dropped.jid) == Ran{"dropin", "1.0.0"});
  CHECK(d.server.fail_count(dropped.jid) == 0);

  // The plugin that was there keeps running its job, untouched.
  gate.open();
  REQUIRE(wait_ran(d.server, running.jid));
  CHECK(ran(d.server, running.jid) == Ran{"versioned", "1.0.0"});

  d.daemon.process().signal(SIGTERM);
  CHECK(d.daemon.process().wait_exit(kDeadline) == 0);
}

TEST_CASE("a plugin file renamed, and one removed, in one reload") {
  PluginDaemon d;
  publish_variant("versioned_v1.so", d.plugins.path, "versioned.so");
  publish_variant("dropin.so", d.plugins.path, "dropin.so");
  d.daemon.start();
  auto producer = producer_for(d.server);
  Gate gate;
  auto running = job("dropin", gate.args());
  REQUIRE(producer->push(running));
  // A job's plugin is fixed when the job starts, as its log line says: from then on the job is
  // in flight, and the reload below must not take its plugin away (even before the job
  // function is entered).
  REQUIRE(d.daemon.wait_for_log("job started jid=" + running.jid +
                                " jobtype=dropin queue=default plugin=dropin"));

  fs::rename(d.plugins.path / "versioned.so", d.plugins.path / "renamed.so");
  fs::remove(d.plugins.path / "dropin.so");
  d.reload();

  // The renamed file is the same plugin: its jobtype still runs.
  auto after_rename = job("versioned");
  REQUIRE(producer->push(after_rename));
  REQUIRE(wait_ran(d.server, after_rename.jid));
  CHECK(ran(d.server, after_rename.jid) == Ran{"versioned", "1.0.0"});
  // The removed plugin gets no new job (FAILed UnknownJobtype, so another worker may take it)...
  auto after_removal = job("dropin");
  REQUIRE(producer->push(after_removal));
  REQUIRE(d.server.wait_for(
      [&](const TestServer::Stats&) { return d.server.fail_count(after_removal.jid) == 1; },
      kDeadline));
  CHECK_FALSE(ran(d.server, after_removal.jid));
  // ...but the job it was running finishes on it.
  gate.open();
  REQUIRE(wait_ran(d.server, running.jid));
  CHECK(ran(d.server, running.jid) == Ran{"dropin", "1.0.0"});
  REQUIRE(d.server.wait_for(
      [&](const TestServer::Stats&) { return d.server.ack_count(running.jid) == 1; }, kDeadline));

  d.daemon.process().signal(SIGTERM);
  CHECK(d.daemon.process().wait_exit(kDeadline) == 0);
}

TEST_CASE("plugins.watch picks up a plugin moved in, replaced and removed, without SIGHUP") {
  PluginDaemon d("\n  watch: true");
  publish_variant("versioned_v1.so", d.plugins.path, "versioned.so");
  d.daemon.start();  // (the directories are watched from before "worker started")

  publish_variant("dropin.so", d.plugins.path, "dropin.so");
  // (The log says when the rescan loaded it; the job below shows that it did.)
  REQUIRE(d.daemon.wait_for_log("loaded plugin dropin"));
  auto producer = producer_for(d.server);
  auto dropped = job("dropin");
  REQUIRE(producer->push(dropped));
  REQUIRE(wait_ran(d.server, dropped.jid));
  CHECK(ran(d.server, dropped.jid) == Ran{"dropin", "1.0.0"});
  CHECK(d.server.fail_count(dropped.jid) == 0);

  // A new version renamed over the old file, and a removal, are picked up the same way.
  publish_variant("versioned_v2.so", d.plugins.path, "versioned.so");
  REQUIRE(d.daemon.wait_for_log("replaced plugin versioned"));
  auto replaced = job("versioned");
  REQUIRE(producer->push(replaced));
  REQUIRE(wait_ran(d.server, replaced.jid));
  CHECK(ran(d.server, replaced.jid) == Ran{"versioned", "2.0.0"});
  fs::remove(d.plugins.path / "dropin.so");
  REQUIRE(d.daemon.wait_for_log("removed plugin dropin"));
  auto orphan = job("dropin");
  REQUIRE(producer->push(orphan));
  REQUIRE(d.server.wait_for(
      [&](const TestServer::Stats&) { return d.server.fail_count(orphan.jid) == 1; }, kDeadline));
  CHECK_FALSE(ran(d.server, orphan.jid));

  d.daemon.process().signal(SIGTERM);
  CHECK(d.daemon.process().wait_exit(kDeadline) == 0);
}

TEST_CASE("with plugins.fatal_errors, a plugin that fails to load fails the whole reload") {
  PluginDaemon d("\n  fatal_errors: true");
  publish_variant("versioned_v1.so", d.plugins.path, "versioned.so");
  d.daemon.start();
  auto producer = producer_for(d.server);
  Gate gate;
  auto running = job("versioned", gate.args());
  push_and_await_start(d.daemon, *producer, running);

  // The same reload would add a queue and replace the plugin: none of it may happen.
  auto waiting = job("versioned", {}, "more");
  REQUIRE(producer->push(waiting));
  fs::copy_file(FACTOTUM_BINARY_DIR "/tests/abi-plugins/init_fails.so",
                d.plugins.path / "broken.so");
  publish_variant("versioned_v2.so", d.plugins.path, "versioned.so");
  edit_config(d.daemon, "queues: [default]", "queues: [default, more]");
  d.daemon.process().signal(SIGHUP);
  REQUIRE(d.daemon.wait_for_log("reload failed; still running the previous configuration"));

  auto after = job("versioned");
  REQUIRE(producer->push(after));
  REQUIRE(wait_ran(d.server, after.jid));
  CHECK(ran(d.server, after.jid) == Ran{"versioned", "1.0.0"});  // not the new file
  gate.open();
  REQUIRE(d.server.wait_for(
      [&](const TestServer::Stats&) { return d.server.ack_count(running.jid) == 1; }, kDeadline));
  CHECK(d.server.ack_count(waiting.jid) == 0);  // the queue was not added
  for (const auto& record : d.server.command_log()) {
    if (record.verb == "FETCH") CHECK(record.line.find("more") == std::string::npos);
  }

  d.daemon.process().signal(SIGTERM);
  CHECK(d.daemon.process().wait_exit(kDeadline) == 0);
}
