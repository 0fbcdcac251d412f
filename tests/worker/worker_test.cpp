// The worker runtime in-process against the test server: settings snapshots swapped live,
// processors added and retired, the control thread's FAILs, the edges of shutdown.
#include "worker_harness.hpp"

#include "faktory/job.hpp"
#include "test_jobs.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>

using namespace factotum;
using namespace factotum::testing;
namespace fs = std::filesystem;

namespace {

bool waited(const TestServer& server, const std::function<bool()>& condition) {
  return server.wait_for([&](const TestServer::Stats&) { return condition(); }, kDeadline);
}

}  // namespace

TEST_CASE("a published settings snapshot sets the queues of the next FETCH") {
  TestServer server(quick_server());
  auto first = settings_for(server, 1, {"alpha"});
  RunningWorker running(first);
  REQUIRE(
      waited(server, [&] { return ServerView(server, running.wid()).count("FETCH alpha") > 0; }));

  auto next = copy_of(*first);
  next->queues = {false, {"beta", "alpha"}, {}};
  running.worker().apply(next);
  running.sync();
  const auto published_at = ServerView(server, running.wid()).log.size();
  REQUIRE(waited(server,
                 [&] { return ServerView(server, running.wid()).count("FETCH beta alpha") > 0; }));

  // At most the one FETCH that was being sent as the snapshot was published carries the old
  // queues; from the first FETCH with the new ones on, none does.
  const auto log = ServerView(server, running.wid()).log;
  std::size_t old_after_publish = 0;
  bool seen_new = false;
  for (std::size_t i = published_at; i < log.size(); ++i) {
    if (log[i].line == "FETCH beta alpha") seen_new = true;
    if (log[i].line == "FETCH alpha") {
      ++old_after_publish;
      CHECK_FALSE(seen_new);
    }
  }
  CHECK(old_after_publish <= 1);

  // And the new queue is served.
  auto j = job("ok", {}, "beta");
  server.push_job(j.serialize());
  REQUIRE(waited(server, [&] { return server.ack_count(j.jid) == 1; }));
  running.worker().stop();
  CHECK(running.wait_stopped());
}

TEST_CASE("concurrency 2 → 5 → 1 starts processors and retires them without losing a job") {
  TestServer server(quick_server());
  auto settings = settings_for(server, 2, {"default"});
  RunningWorker running(settings);
  const auto live = [&] { return ServerView(server, running.wid()).live_processors().size(); };
  // Processors, plus the heartbeat's connection.
  REQUIRE(waited(server, [&] { return live() == 2 && server.stats().connections == 3; }));

  auto five = copy_of(*settings);
  five->concurrency = 5;
  running.worker().apply(five);
  REQUIRE(waited(server, [&] { return live() == 5 && server.stats().connections == 6; }));

  // Two jobs in flight, then down to one processor: the three idle processors retire after
  // their FETCH, and so does the newest busy one, once its job is done.
  Gate gate_a;
  Gate gate_b;
  auto a = job("gate", gate_a.args());
  auto b = job("gate", gate_b.args());
  server.push_job(a.serialize());
  server.push_job(b.serialize());
  REQUIRE(waited(server, [&] { return server.stats().working == 2; }));
  const auto before_retiring = ServerView(server, running.wid()).live_processors();

  auto one = copy_of(*settings);
  one->concurrency = 1;
  running.worker().apply(one);
  // The idle ones END; two connections run the jobs, one more is the heartbeat.
  REQUIRE(waited(server, [&] { return live() == 2 && server.stats().connections == 3; }));
  CHECK(server.ack_count(a.jid) + server.ack_count(b.jid) == 0);  // nothing cut short

  gate_a.open();
  gate_b.open();
  REQUIRE(waited(server, [&] {
    return server.ack_count(a.jid) == 1 && server.ack_count(b.jid) == 1 && live() == 1 &&
           server.stats().connections == 2;
  }));

  // Each retired processor finished what it had (its FETCH, its job), sent nothing after it
  // but END, and closed.
  const ServerView view(server, running.wid());
  const auto remaining = view.live_processors();
  REQUIRE(remaining.size() == 1);
  std::size_t retired = 0;
  for (auto id : before_retiring) {
    if (remaining.count(id)) continue;
    ++retired;
    const auto commands = view.of(id);
    REQUIRE(!commands.empty());
    CHECK(commands.back().verb == "END");
    // A processor retired with a job ACKs it alone: no FETCH rides with that report.
    for (std::size_t i = 0; i + 1 < commands.size(); ++i) {
      if (commands[i].verb == "ACK") CHECK(commands[i + 1].verb == "END");
    }
  }
  CHECK(retired == 4);
  const auto stats = server.stats();
  CHECK(stats.processed == 2);
  CHECK(stats.failures == 0);
  CHECK(stats.working == 0);

  // The one left keeps working.
  auto later = job("ok");
  server.push_job(later.serialize());
  REQUIRE(waited(server, [&] { return server.ack_count(later.jid) == 1; }));
  running.worker().stop();
  CHECK(running.wait_stopped());
}

TEST_CASE("a job past its deadline is FAILed from the control thread's own connection") {
  TestServer server(quick_server());
  auto settings = settings_for(server, 1, {"default"});
  settings->jobtype_timeouts.emplace("stubborn", std::chrono::milliseconds(300));
  RunningWorker running(settings);
  auto j = job("stubborn", {1500});  // ignores cancellation, returns after 1.5 s
  server.push_job(j.serialize());
  REQUIRE(waited(server, [&] { return server.fail_count(j.jid) == 1; }));

  const auto processor = [&] {
    return *ServerView(server, running.wid()).live_processors().begin();
  }();
  const auto log = server.command_log();
  const auto fail =
      std::find_if(log.begin(), log.end(), [](const auto& r) { return r.verb == "FAIL"; });
  REQUIRE(fail != log.end());
  CHECK(fail->line.find("\"errtype\":\"JobTimeout\"") != std::string::npos);
  // Not the processor's connection (its thread is still inside the job), not the heartbeat's:
  // a connection that only reports, and without the wid (so it never keeps the worker's
  // registration alive when it re-registers with new labels).
  CHECK(fail->connection_id != processor);
  CHECK(fail->wid.empty());
  for (const auto& r : log) {
    if (r.connection_id != fail->connection_id) continue;
    CHECK(r.verb != "FETCH");
    CHECK(r.verb != "BEAT");
  }

  // When the job function returns, its result is dropped: the processor FETCHes again and
  // never reports the job.
  const auto fetches = [&] {
    std::size_t n = 0;
    for (const auto& r : ServerView(server, running.wid()).of(processor)) n += r.verb == "FETCH";
    return n;
  };
  const auto before = fetches();
  REQUIRE(waited(server, [&] { return fetches() > before; }));
  CHECK(server.ack_count(j.jid) == 0);
  CHECK(server.fail_count(j.jid) == 1);
  const auto failed = faktory::Job::parse(server.retry_jobs().at(0));
  REQUIRE(failed);
  CHECK(failed->failure->errtype == "JobTimeout");
  running.worker().stop();
  CHECK(running.wait_stopped());
}

TEST_CASE("a job delivered after the shutdown deadline is FAILed at once without running") {
  // The FETCH blocks long enough to still be waiting when shutdown gives up.
  TestServer server(quick_server(std::chrono::seconds(30)));
  auto settings = settings_for(server, 1, {"default", "followup"});
  RunningWorker running(settings);
  REQUIRE(
      waited(server, [&] { return !ServerView(server, running.wid()).live_processors().empty(); }));

  running.worker().stop();
  running.worker().stop();  // a second TERM: the shutdown deadline is now
  running.sync();
  // "chain" would push a follow-up job if it ran.
  auto j = job("chain");
  server.push_job(j.serialize());
  REQUIRE(running.wait_stopped());
  CHECK(server.ack_count(j.jid) == 0);
  CHECK(server.fail_count(j.jid) == 1);
  const auto retries = server.retry_jobs();
  REQUIRE(retries.size() == 1);
  const auto failed = faktory::Job::parse(retries.front());
  REQUIRE(failed);
  CHECK(failed->failure->errtype == "WorkerShutdown");
  // The job function never ran: no follow-up job was pushed.
  const auto stats = server.stats();
  CHECK((stats.queues.count("followup") == 0 || stats.queues.at("followup") == 0));
  CHECK(stats.working == 0);
}

TEST_CASE("once the worker has stopped, a plugin's push is refused, also after it is gone") {
  TestServer server(quick_server());
  auto settings = settings_for(server, 1, {"default"});
  auto running = std::make_unique<RunningWorker>(settings);
  running->worker().stop();
  REQUIRE(running->wait_stopped());

  // A "chain" job pushes a follow-up job through the host, as a plugin thread could at any
  // time. The same as the daemon's main: the push service holds the producer pool.
  plugins::JobInput input;
  input.jid = "0123456789abcdef";
  input.jobtype = "chain";
  input.args_json = "[]";
  input.custom_json = "{}";
  const auto refused = [&] {
    const auto outcome = running->host().run(input);
    CHECK_FALSE(outcome.succeeded());
    CHECK(outcome.message.rfind("pushing a follow-up job failed: FACTOTUM_EUNAVAILABLE", 0) == 0);
    std::string jid_or_error;
    CHECK_FALSE(running->producers().push(R"({"jobtype":"ok"})", jid_or_error));
    CHECK(jid_or_error == "the worker has stopped: no more jobs can be pushed");
  };
  refused();
  running->destroy_worker();
  refused();  // (under ASan, a push reaching a destroyed worker would be a use after free)
  CHECK(server.stats().enqueued == 0);
}

TEST_CASE("new connection settings reconnect each processor after its job, never during it") {
  TestServer server(quick_server());
  auto settings = settings_for(server, 1, {"default"});
  RunningWorker running(settings);
  Gate gate;
  auto j = job("gate", gate.args());
  server.push_job(j.serialize());
  REQUIRE(waited(server, [&] { return server.stats().working == 1; }));
  const auto first = ServerView(server, running.wid()).live_processors();
  REQUIRE(first.size() == 1);

  // The same server and wid, but a new connection object: what a reload publishes when the
  // URL, the password or TLS changed.
  auto next = copy_of(*settings);
  next->connection = std::make_shared<faktory::ClientOptions>(*settings->connection);
  running.worker().apply(next);
  running.sync();
  CHECK(server.ack_count(j.jid) == 0);  // the job runs on
  gate.open();
  REQUIRE(waited(server, [&] {
    const auto live = ServerView(server, running.wid()).live_processors();
    return server.ack_count(j.jid) == 1 && live.size() == 1 && live != first;
  }));
  // The old connection reported the job alone and ended; the new one fetches.
  const ServerView view(server, running.wid());
  const auto old_commands = view.of(*first.begin());
  REQUIRE(old_commands.size() >= 2);
  CHECK(old_commands[old_commands.size() - 2].verb == "ACK");
  CHECK(old_commands.back().verb == "END");
  CHECK(server.fail_count(j.jid) == 0);
  running.worker().stop();
  CHECK(running.wait_stopped());
}
