// SIGHUP reloads the configuration the daemon was started with, jobs in flight each time
// (DESIGN.md §3): queues apply to each processor's next FETCH, concurrency starts or retires
// processors without interrupting a job, jobtype timeouts apply to jobs started afterwards, an
// invalid file changes nothing, and requests in a burst coalesce. Everything is checked on
// what the server saw; the log only tells the test when a reload has ended.
#include "daemon_fixture.hpp"

#include "faktory/job.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <csignal>
#include <functional>
#include <map>
#include <set>

using namespace factotum;
using namespace factotum::testing;

namespace {

// The FETCH lines the daemon `wid` sent from `from` on in the server's log, by connection, in
// order.
std::map<std::uint64_t, std::vector<std::string>> fetches_by_connection(const TestServer& server,
                                                                        std::string_view wid,
                                                                        std::size_t from = 0) {
  std::map<std::uint64_t, std::vector<std::string>> fetches;
  const auto log = server.command_log();
  for (std::size_t i = from; i < log.size(); ++i) {
    if (log[i].wid == wid && log[i].verb == "FETCH") {
      fetches[log[i].connection_id].push_back(log[i].line);
    }
  }
  return fetches;
}

// How many connections of `wid` sent at least `n` FETCHes from `from` on: processors that had
// the time to ask for work again (time passing as a condition, not a sleep).
std::size_t connections_fetching(const TestServer& server, std::string_view wid, std::size_t from,
                                 std::size_t n) {
  std::size_t connections = 0;
  for (const auto& [id, lines] : fetches_by_connection(server, wid, from)) {
    connections += lines.size() >= n;
  }
  return connections;
}

// The FETCH lines of `wid` from `from` on that are not `expected`.
std::vector<std::string> fetches_other_than(const TestServer& server, std::string_view wid,
                                            std::string_view expected, std::size_t from = 0) {
  std::vector<std::string> others;
  for (const auto& [id, lines] : fetches_by_connection(server, wid, from)) {
    for (const auto& line : lines) {
      if (line != expected) others.push_back(line);
    }
  }
  return others;
}

// A processor picks the new settings up once, before a FETCH, and never goes back: on each
// connection, no FETCH for `old_line` follows one for `new_line`.
void check_switched_once(const TestServer& server, std::string_view wid, std::string_view old_line,
                         std::string_view new_line) {
  for (const auto& [id, lines] : fetches_by_connection(server, wid)) {
    bool switched = false;
    for (const auto& line : lines) {
      INFO("connection " << id << ": " << line);
      if (switched) CHECK(line != old_line);
      switched = switched || line == new_line;
    }
  }
}

// The command the daemon sent right after the ACK of `jid`, on the same connection ("" when
// there is none yet).
std::string command_after_ack(const TestServer& server, std::string_view jid) {
  const auto log = server.command_log();
  for (std::size_t i = 0; i < log.size(); ++i) {
    if (log[i].verb != "ACK" || log[i].line.find(jid) == std::string::npos) continue;
    for (std::size_t k = i + 1; k < log.size(); ++k) {
      if (log[k].connection_id == log[i].connection_id) return log[k].line;
    }
  }
  return {};
}

// The only job in the retry set is `jid`, FAILed as `errtype`.
void check_failed_as(const TestServer& server, std::string_view jid, std::string_view errtype) {
  const auto retries = server.retry_jobs();
  REQUIRE(retries.size() == 1);
  const auto failed = faktory::Job::parse(retries.front());
  REQUIRE(failed);
  CHECK(failed->jid == jid);
  REQUIRE(failed->failure);
  CHECK(failed->failure->errtype == errtype);
}

bool wait_until(const TestServer& server, const std::function<bool()>& condition) {
  return server.wait_for([&](const TestServer::Stats&) { return condition(); }, kDeadline);
}

void stop_cleanly(Daemon& daemon) {
  daemon.process().signal(SIGTERM);
  const auto exit_code = daemon.process().wait_exit(kDeadline);
  INFO(daemon.process().output());
  CHECK(exit_code == std::optional<int>(0));
}

}  // namespace

TEST_CASE(
    "a reload that adds a queue runs the job already waiting there, the job in flight finishes "
    "and its processor FETCHes the new queues next") {
  TestServer server(quick_server_options());
  auto producer = producer_for(server);
  const auto waiting = job("ok", {}, "added");
  REQUIRE(producer->push(waiting));
  Daemon::Settings settings;
  settings.concurrency = 2;
  settings.queues = "[default]";
  Daemon daemon(server, settings);
  daemon.start();
  Gate gate;
  const auto running = job("gate", gate.args());
  push_and_await_start(daemon, *producer, running);
  // The idle processor asks for work a few times and never for "added".
  const auto mark = server.command_log().size();
  REQUIRE(
      wait_until(server, [&] { return connections_fetching(server, daemon.wid(), mark, 2) == 1; }));
  CHECK(server.stats().queues.at("added") == 1);

  settings.queues = "[default, added]";
  daemon.write_config(settings);
  CHECK(check_config(daemon.config()).exit_code ==
        0);  // what --check-config says of the file a HUP will read
  daemon.process().signal(SIGHUP);
  REQUIRE(daemon.wait_for_log("reload done"));

  REQUIRE(wait_until(server, [&] { return server.ack_count(waiting.jid) == 1; }));
  CHECK(server.stats().queues.at("added") == 0);
  gate.open();
  REQUIRE(wait_until(server, [&] { return server.ack_count(running.jid) == 1; }));
  // The processor that ran through the reload asked for the new queues with its ACK.
  REQUIRE(wait_until(server, [&] { return !command_after_ack(server, running.jid).empty(); }));
  CHECK(command_after_ack(server, running.jid) == "FETCH default added");
  check_switched_once(server, daemon.wid(), "FETCH default", "FETCH default added");
  CHECK(server.ack_count(waiting.jid) == 1);
  CHECK(server.stats().failures == 0);
  stop_cleanly(daemon);
}

TEST_CASE(
    "a reload that removes a queue leaves its jobs queued while the other queues still run, "
    "and the job in flight from it finishes") {
  TestServer server(quick_server_options());
  Daemon::Settings settings;
  settings.concurrency = 2;
  settings.queues = "[default, removed]";
  Daemon daemon(server, settings);
  daemon.start();
  auto producer = producer_for(server);
  Gate gate;
  const auto running = job("gate", gate.args(), "removed");
  push_and_await_start(daemon, *producer, running);

  settings.queues = "[default]";
  daemon.write_config(settings);
  daemon.process().signal(SIGHUP);
  REQUIRE(daemon.wait_for_log("reload done"));
  gate.open();
  REQUIRE(wait_until(server, [&] { return server.ack_count(running.jid) == 1; }));
  // Once both processors' latest FETCH names only "default", none can still be waiting on
  // "removed" (a processor sends its next FETCH after the previous one returned).
  REQUIRE(wait_until(server, [&] {
    const auto fetches = fetches_by_connection(server, daemon.wid());
    return fetches.size() == 2 &&
           std::all_of(fetches.begin(), fetches.end(),
                       [](const auto& entry) { return entry.second.back() == "FETCH default"; });
  }));

  const auto left = job("ok", {}, "removed");
  REQUIRE(producer->push(left));
  std::vector<std::string> kept;
  for (int i = 0; i < 10; ++i) {
    auto j = job("ok", {i});
    kept.push_back(j.jid);
    REQUIRE(producer->push(j));
  }
  REQUIRE(wait_until(server, [&] {
    return std::all_of(kept.begin(), kept.end(),
                       [&](const std::string& jid) { return server.ack_count(jid) == 1; });
  }));
  // Both processors idle and asking again, twice each: still nobody FETCHes "removed".
  const auto mark = server.command_log().size();
  REQUIRE(
      wait_until(server, [&] { return connections_fetching(server, daemon.wid(), mark, 2) == 2; }));
  CHECK(server.ack_count(left.jid) == 0);
  CHECK(server.stats().queues.at("removed") == 1);
  CHECK(server.working_jids().empty());
  check_switched_once(server, daemon.wid(), "FETCH default removed", "FETCH default");
  CHECK(server.stats().failures == 0);
  stop_cleanly(daemon);
}

TEST_CASE(
    "reloads from concurrency 2 to 6 to 1 start and retire processors without interrupting a "
    "job") {
  TestServer server(quick_server_options());
  Daemon::Settings settings;
  settings.concurrency = 2;
  Daemon daemon(server, settings);
  daemon.start();
  auto producer = producer_for(server);
  const auto fetching = [&] { return connections_of(server, daemon.wid(), "FETCH"); };
  REQUIRE(wait_until(server, [&] { return fetching().size() == 2; }));
  Gate first;
  std::vector<std::string> jids;
  for (int i = 0; i < 2; ++i) {
    const auto j = job("gate", first.args());
    jids.push_back(j.jid);
    push_and_await_start(daemon, *producer, j);
  }

  // Up, both processors busy: four new ones connect and FETCH.
  settings.concurrency = 6;
  daemon.write_config(settings);
  daemon.process().signal(SIGHUP);
  REQUIRE(daemon.wait_for_log("reload done"));
  REQUIRE(wait_until(server, [&] { return fetching().size() == 6; }));
  Gate second;
  for (int i = 0; i < 4; ++i) {
    const auto j = job("gate", second.args());
    jids.push_back(j.jid);
    push_and_await_start(daemon, *producer, j);
  }
  CHECK(server.working_jids().size() == 6);

  // Down, all six busy: five finish their job, ACK it and END.
  settings.concurrency = 1;
  daemon.write_config(settings);
  daemon.process().signal(SIGHUP);
  REQUIRE(daemon.wait_for_log("reload done"));
  first.open();
  second.open();
  REQUIRE(wait_until(server, [&] {
    return std::all_of(jids.begin(), jids.end(),
                       [&](const std::string& jid) { return server.ack_count(jid) == 1; });
  }));
  const auto ended = [&] { return connections_of(server, daemon.wid(), "END"); };
  REQUIRE(wait_until(server, [&] { return ended().size() == 5; }));
  CHECK(fetching().size() == 6);

  // From then on a single connection, not one of those that ENDed, FETCHes and runs jobs.
  const auto mark = server.command_log().size();
  std::vector<std::string> later;
  for (int i = 0; i < 5; ++i) {
    const auto j = job("ok", {i});
    later.push_back(j.jid);
    REQUIRE(producer->push(j));
  }
  REQUIRE(wait_until(server, [&] {
    return std::all_of(later.begin(), later.end(),
                       [&](const std::string& jid) { return server.ack_count(jid) == 1; }) &&
           connections_fetching(server, daemon.wid(), mark, 3) == 1;
  }));
  const auto after = fetches_by_connection(server, daemon.wid(), mark);
  REQUIRE(after.size() == 1);
  CHECK(ended().count(after.begin()->first) == 0);
  std::set<std::uint64_t> acked_on;
  const auto log = server.command_log();
  for (std::size_t i = mark; i < log.size(); ++i) {
    if (log[i].wid == daemon.wid() && log[i].verb == "ACK") acked_on.insert(log[i].connection_id);
  }
  CHECK(acked_on == std::set<std::uint64_t>{after.begin()->first});

  for (const auto& jid : jids) {
    CHECK(server.ack_count(jid) == 1);
    CHECK(server.fail_count(jid) == 0);
  }
  CHECK(server.stats().failures == 0);
  CHECK(count_commands(server, "FAIL") == 0);
  stop_cleanly(daemon);
}

TEST_CASE(
    "a reload of an invalid configuration changes nothing, the previous queues and "
    "concurrency keep running") {
  TestServer server(quick_server_options());
  Daemon::Settings settings;
  settings.concurrency = 3;
  settings.queues = "[default]";
  Daemon daemon(server, settings);
  daemon.start();
  auto producer = producer_for(server);
  const auto fetching = [&] { return connections_of(server, daemon.wid(), "FETCH"); };
  REQUIRE(wait_until(server, [&] { return fetching().size() == 3; }));
  const auto processors = fetching();
  Gate gate;
  const auto running = job("gate", gate.args());
  push_and_await_start(daemon, *producer, running);
  // Waits on a queue each invalid file names: running it would mean the file was applied.
  const auto other = job("ok", {}, "other");
  REQUIRE(producer->push(other));

  struct Invalid {
    const char* what;
    Daemon::Settings settings;
  };
  // Each also asks for 5 processors and the "other" queue, which must not take effect.
  Daemon::Settings changed = settings;
  changed.concurrency = 5;
  changed.queues = "[default, other]";
  std::vector<Invalid> cases;
  cases.push_back({"a YAML syntax error", changed});
  cases.back().settings.extra = "jobtypes: [ok\n";
  cases.push_back({"an unknown key", changed});
  cases.back().settings.worker_extra = "  concurency: 5\n";
  cases.push_back({"a bad value", changed});
  cases.back().settings.shutdown_timeout = "25";
  cases.push_back({"an unknown middleware", changed});
  cases.back().settings.extra = "middleware: [no_such_middleware]\n";

  for (const auto& invalid : cases) {
    INFO("a configuration with " << invalid.what);
    daemon.write_config(invalid.settings);
    CHECK(check_config(daemon.config()).exit_code ==
          78);  // --check-config rejects what the reload rejects
    daemon.process().signal(SIGHUP);
    REQUIRE(daemon.wait_for_log("reload failed"));

    // Jobs on the previous queues still run...
    const auto j = job("ok");
    REQUIRE(producer->push(j));
    REQUIRE(wait_until(server, [&] { return server.ack_count(j.jid) == 1; }));
    // ...on the same three processors, the two idle ones asking again and again, never for
    // "other".
    const auto mark = server.command_log().size();
    REQUIRE(wait_until(server,
                       [&] { return connections_fetching(server, daemon.wid(), mark, 2) >= 2; }));
    CHECK(fetching() == processors);
    CHECK(fetches_other_than(server, daemon.wid(), "FETCH default").empty());
    CHECK(server.ack_count(other.jid) == 0);
    CHECK(server.stats().queues.at("other") == 1);
  }

  gate.open();
  REQUIRE(wait_until(server, [&] { return server.ack_count(running.jid) == 1; }));
  CHECK(server.stats().failures == 0);
  CHECK(connections_of(server, daemon.wid(), "END").empty());
  stop_cleanly(daemon);
}

TEST_CASE(
    "a jobtype timeout added by a reload applies to a job fetched after it, not to one started "
    "before") {
  TestServer server(quick_server_options());
  Daemon::Settings settings;
  settings.concurrency = 2;
  settings.queues = "[default]";
  Daemon daemon(server, settings);
  daemon.start();
  auto producer = producer_for(server);
  Gate before_gate;
  const auto before = job("gate", before_gate.args());
  push_and_await_start(daemon, *producer, before);

  // The same reload adds a queue: a job there is fetched only by a FETCH sent with the new
  // settings, whatever FETCH was waiting on the server when the reload came.
  settings.queues = "[default, timed]";
  settings.extra = "jobtypes:\n  gate:\n    timeout: 500ms\n";
  daemon.write_config(settings);
  daemon.process().signal(SIGHUP);
  REQUIRE(daemon.wait_for_log("reload done"));

  Gate never_opened;
  const auto after = job("gate", never_opened.args(), "timed");
  REQUIRE(producer->push(after));
  REQUIRE(wait_until(server, [&] { return server.fail_count(after.jid) == 1; }));
  check_failed_as(server, after.jid, "JobTimeout");
  // `before` has by now run longer since the reload than `after` ran in all: the new timeout
  // would have FAILed it first.
  CHECK(server.fail_count(before.jid) == 0);

  before_gate.open();
  REQUIRE(wait_until(server, [&] { return server.ack_count(before.jid) == 1; }));
  CHECK(server.fail_count(before.jid) == 0);
  CHECK(server.ack_count(after.jid) == 0);
  stop_cleanly(daemon);
}

TEST_CASE(
    "a jobtype timeout added by a reload applies to a job started after it, also one that an "
    "idle processor's FETCH sent before the reload receives") {
  // A real server's FETCH wait (2 s): the idle processor is almost always waiting in a FETCH
  // sent before the reload when the job below is pushed. The job still starts after the reload.
  auto options = quick_server_options();
  options.fetch_block = std::chrono::seconds(2);
  TestServer server(options);
  Daemon::Settings settings;
  settings.concurrency = 2;
  Daemon daemon(server, settings);
  daemon.start();
  auto producer = producer_for(server);
  Gate before_gate;
  const auto before = job("gate", before_gate.args());
  push_and_await_start(daemon, *producer, before);

  settings.extra = "jobtypes:\n  gate:\n    timeout: 500ms\n";
  daemon.write_config(settings);
  const auto mark = server.command_log().size();
  daemon.process().signal(SIGHUP);
  REQUIRE(daemon.wait_for_log("reload done"));

  Gate never_opened;
  const auto after = job("gate", never_opened.args());
  REQUIRE(producer->push(after));
  REQUIRE(daemon.wait_for_log("job started jid=" + after.jid));
  {
    // Which FETCH handed the job over, for the report should this fail: none since the HUP
    // means the idle processor's FETCH sent before the reload.
    const auto since = fetches_by_connection(server, daemon.wid(), mark);
    std::size_t fetches_since = 0;
    for (const auto& [id, lines] : since) fetches_since += lines.size();
    UNSCOPED_INFO("FETCHes by the daemon between the HUP and the job's start: " << fetches_since);
  }
  REQUIRE(wait_until(server, [&] { return server.fail_count(after.jid) == 1; }));
  check_failed_as(server, after.jid, "JobTimeout");
  CHECK(server.fail_count(before.jid) == 0);

  before_gate.open();
  REQUIRE(wait_until(server, [&] { return server.ack_count(before.jid) == 1; }));
  CHECK(server.fail_count(before.jid) == 0);
  CHECK(server.ack_count(after.jid) == 0);
  stop_cleanly(daemon);
}

TEST_CASE(
    "a storm of HUPs while jobs run ends in the final configuration, every job ACKed once, "
    "and TERM still exits 0") {
  TestServer server(quick_server_options());
  Daemon::Settings settings;
  settings.concurrency = 2;
  settings.queues = "[default]";
  Daemon daemon(server, settings);
  daemon.start();
  auto producer = producer_for(server);
  Gate gate;
  std::vector<std::string> jids;
  const auto held = job("gate", gate.args());
  jids.push_back(held.jid);
  push_and_await_start(daemon, *producer, held);
  for (int i = 0; i < 30; ++i) {
    const auto j = job("sleep", {20});
    jids.push_back(j.jid);
    REQUIRE(producer->push(j));
  }
  const auto storm_job = job("ok", {}, "storm");
  jids.push_back(storm_job.jid);
  REQUIRE(producer->push(storm_job));

  // The file changes before each HUP (concurrency only ever up, so no processor retires);
  // only the last one adds the queue "storm". A HUP lost or a reload that read the file
  // before the last write would leave the storm job unfetched.
  for (int i = 0; i < 20; ++i) {
    settings.concurrency = std::min(2 + static_cast<unsigned>(i) / 6, 4u);
    settings.queues = i == 19 ? "[default, storm]" : "[default]";
    daemon.write_config(settings);
    daemon.process().signal(SIGHUP);
  }
  REQUIRE(daemon.wait_for_log("reload done"));

  const auto fetching = [&] { return connections_of(server, daemon.wid(), "FETCH"); };
  REQUIRE(wait_until(server, [&] { return server.ack_count(storm_job.jid) == 1; }));
  gate.open();
  REQUIRE(wait_until(server, [&] {
    return std::all_of(jids.begin(), jids.end(),
                       [&](const std::string& jid) { return server.ack_count(jid) == 1; });
  }));
  // All idle now: four processors, each asking for the final queues.
  const auto mark = server.command_log().size();
  REQUIRE(
      wait_until(server, [&] { return connections_fetching(server, daemon.wid(), mark, 2) == 4; }));
  CHECK(fetches_other_than(server, daemon.wid(), "FETCH default storm", mark).empty());
  // No processor came and went on the way: two at start, two more once.
  CHECK(fetching().size() == 4);
  CHECK(connections_of(server, daemon.wid(), "END").empty());
  check_switched_once(server, daemon.wid(), "FETCH default", "FETCH default storm");

  for (const auto& jid : jids) CHECK(server.ack_count(jid) == 1);
  const auto stats = server.stats();
  CHECK(stats.processed == jids.size());
  CHECK(stats.failures == 0);
  CHECK(stats.working == 0);
  stop_cleanly(daemon);
}

TEST_CASE("a shutdown_timeout lowered by a reload is the one the next stop waits") {
  TestServer server(quick_server_options());
  Daemon::Settings settings;
  settings.concurrency = 1;
  // Far longer than the exit deadline below: exiting in time proves the new value was used.
  settings.shutdown_timeout = "300s";
  Daemon daemon(server, settings);
  daemon.start();
  auto producer = producer_for(server);
  const auto held = job("stubborn", {600000});  // ignores cancellation
  push_and_await_start(daemon, *producer, held);

  settings.shutdown_timeout = "1s";
  daemon.write_config(settings);
  daemon.process().signal(SIGHUP);
  REQUIRE(daemon.wait_for_log("reload done"));
  daemon.process().signal(SIGTERM);
  const auto exit_code = daemon.process().wait_exit(kDeadline);
  INFO(daemon.process().output());
  REQUIRE(exit_code.has_value());
  CHECK(*exit_code == 0);
  CHECK(server.fail_count(held.jid) == 1);
  check_failed_as(server, held.jid, "WorkerShutdown");
}

TEST_CASE("a reload switches the log to JSON lines and to debug level at once") {
  TestServer server(quick_server_options());
  Daemon::Settings settings;
  settings.log_level = "info";
  settings.log_format = "text";
  Daemon daemon(server, settings);
  daemon.start();

  settings.log_level = "debug";
  settings.log_format = "json";
  daemon.write_config(settings);
  daemon.process().signal(SIGHUP);
  REQUIRE(daemon.wait_for_log("reload done"));
  // A job's start is logged at debug: with the new settings, as a JSON object.
  auto producer = producer_for(server);
  const auto j = job("ok");
  REQUIRE(producer->push(j));
  REQUIRE(wait_until(server, [&] { return server.ack_count(j.jid) == 1; }));
  REQUIRE(daemon.wait_for_log(j.jid));
  daemon.process().poll_output();
  std::optional<boost::json::object> started;
  for (const auto& line : lines_of(daemon.process().output())) {
    if (line.find(j.jid) == std::string::npos) continue;
    boost::system::error_code ec;
    auto value = boost::json::parse(line, ec);
    INFO(line);
    REQUIRE(!ec);
    REQUIRE(value.is_object());
    started = value.as_object();
    break;
  }
  REQUIRE(started);
  CHECK(started->at("jid") == boost::json::value(j.jid));
  stop_cleanly(daemon);
}
