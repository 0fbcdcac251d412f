// The metrics endpoint (metrics.listen): scrapes parsed by the Prometheus Python client's own
// exposition-format parser, counts compared with what the test server saw, /healthz through a
// wedged control loop and a stop, hostile clients that must not touch job processing, and no
// endpoint at all unless configured.
#include "config_edit.hpp"
#include "daemon_fixture.hpp"
#include "metrics_client.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

using namespace factotum;
using namespace factotum::testing;

namespace {

std::string metrics_config(unsigned short port, const std::string& more = "") {
  return "metrics:\n  listen: 127.0.0.1:" + std::to_string(port) + "\n" + more;
}

struct MetricsDaemon {
  TestServer server{quick_server_options()};
  unsigned short port = free_port();
  Daemon daemon;

  explicit MetricsDaemon(const std::string& extra = "", const std::string& metrics_more = "",
                         std::vector<std::string> env = {})
      : daemon(server, [&] {
          Daemon::Settings settings;
          settings.extra = extra + metrics_config(port, metrics_more);
          settings.env = std::move(env);
          return settings;
        }()) {}

  void start() { daemon.start(); }  // (the endpoint listens before the worker starts)

  Scrape scrape_now() {
    std::string error;
    auto result = scrape(port, &error);
    INFO(error);
    REQUIRE(result);
    return *result;
  }

  void stop() {
    daemon.process().signal(SIGTERM);
    CHECK(daemon.process().wait_exit(kDeadline) == 0);
  }
};

// The TCP sockets in LISTEN state that process `pid` holds (their inodes), from /proc.
std::set<std::string> listening_sockets(pid_t pid) {
  std::set<std::string> held;
  std::error_code ec;
  for (const auto& fd : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    const auto target = fs::read_symlink(fd.path(), ec).string();
    if (!ec && target.rfind("socket:[", 0) == 0) held.insert(target.substr(8, target.size() - 9));
  }
  std::set<std::string> listening;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
      fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
          timeout >> inode;
      if (state == "0A" && held.count(inode) != 0) listening.insert(inode);
    }
  }
  return listening;
}

// Those the daemon's processes opened: not the test server's, which they may inherit.
std::set<std::string> daemon_listening_sockets(Daemon& daemon) {
  auto sockets = listening_sockets(daemon.process().pid());
  sockets.merge(listening_sockets(daemon.worker_pid()));
  for (const auto& inode : listening_sockets(::getpid())) sockets.erase(inode);
  return sockets;
}

bool wait_health(MetricsDaemon& d, int status, const std::string& body_part) {
  return d.server.wait_for(
      [&](const TestServer::Stats&) {
        const auto reply = http_get(d.port, "/healthz");
        return reply.status == status && reply.body.find(body_part) != std::string::npos;
      },
      kDeadline);
}

}  // namespace

TEST_CASE("a scrape counts every job by jobtype and outcome, as Prometheus's own parser reads it") {
  MetricsDaemon d("jobtypes:\n  stubborn:\n    timeout: 1s\n");
  d.start();
  auto producer = producer_for(d.server);

  // During a run: the job in flight shows.
  Gate gate;
  auto gated = job("gate", gate.args());
  push_and_await_start(d.daemon, *producer, gated);
  const Scrape during = d.scrape_now();
  CHECK(during.content_type.find("text/plain") == 0);
  CHECK(during.content_type.find("version=0.0.4") != std::string::npos);
  CHECK(during.value("factotum_jobs_in_flight") == 1.0);
  CHECK(during.value("factotum_processors", {{"state", "running"}}) == 1.0);
  CHECK(during.family_types.at("factotum_jobs_finished") == "counter");
  CHECK(during.family_types.at("factotum_job_duration_seconds") == "histogram");
  gate.open();

  std::vector<std::string> succeeded{gated.jid};
  std::vector<std::string> failed;
  for (int i = 0; i < 20; ++i) {
    auto j = job("ok", {i});
    succeeded.push_back(j.jid);
    REQUIRE(producer->push(j));
  }
  for (int i = 0; i < 5; ++i) {
    auto j = job("throw", {i});
    failed.push_back(j.jid);
    REQUIRE(producer->push(j));
  }
  // Jobtypes no plugin registered: one label value between them, however many there are.
  for (const char* name : {"no_such_jobtype", "random-a81f", "random-c3d0"}) {
    auto j = job(name);
    failed.push_back(j.jid);
    REQUIRE(producer->push(j));
  }
  auto late = job("stubborn", {3000});  // FAILed JobTimeout by the control thread after 1 s
  failed.push_back(late.jid);
  REQUIRE(producer->push(late));
  REQUIRE(d.server.wait_for(
      [&](const TestServer::Stats&) {
        return std::all_of(succeeded.begin(), succeeded.end(),
                           [&](const auto& jid) { return d.server.ack_count(jid) == 1; }) &&
               std::all_of(failed.begin(), failed.end(),
                           [&](const auto& jid) { return d.server.fail_count(jid) == 1; });
      },
      kDeadline));

  // Every count is taken before its ACK or FAIL goes out: what the server saw is all there.
  const Scrape after = d.scrape_now();
  const auto finished = [&](const char* jobtype, const char* outcome) {
    return after.value("factotum_jobs_finished_total",
                       {{"jobtype", jobtype}, {"outcome", outcome}});
  };
  CHECK(finished("ok", "succeeded") == 20.0);
  CHECK(finished("gate", "succeeded") == 1.0);
  CHECK(finished("throw", "failed") == 5.0);
  CHECK(finished("_unregistered", "unknown_jobtype") == 3.0);
  CHECK(finished("stubborn", "timeout") == 1.0);
  CHECK(finished("ok", "failed") == 0.0);
  CHECK(finished("ok", "crashed") == 0.0);
  const auto jobtypes = after.label_values("factotum_jobs_finished_total", "jobtype");
  CHECK(std::set<std::string>(jobtypes.begin(), jobtypes.end()) ==
        std::set<std::string>{"ok", "gate", "throw", "stubborn", "_unregistered"});
  CHECK(after.value("factotum_job_duration_seconds_count", {{"jobtype", "ok"}}) == 20.0);
  CHECK(after.value("factotum_job_duration_seconds_bucket",
                    {{"jobtype", "gate"}, {"le", "+Inf"}}) == 1.0);
  CHECK(after.value("factotum_job_duration_seconds_bucket", {{"jobtype", "ok"}, {"le", "1800"}}) ==
        20.0);
  CHECK(after.value("factotum_job_duration_seconds_count", {{"jobtype", "stubborn"}}) == 1.0);
  CHECK(after.value("factotum_jobs_in_flight") <= 1.0);  // the stubborn function may still run
  // Every job came by a FETCH whose round trip was measured.
  CHECK(after.value("factotum_fetch_duration_seconds_count") >= 30.0);
  CHECK(after.value("factotum_concurrency") == 4.0);
  CHECK(after.value("factotum_server_up") == 1.0);
  CHECK(after.value("factotum_build_info", {{"version", "0.1.0"}}) == 1.0);
  CHECK(after.value("factotum_plugin_info", {{"plugin", "e2e_jobs"}, {"version", "1.0.0"}}) == 1.0);
  CHECK(after.value("factotum_reloads_total", {{"result", "success"}}) == 0.0);
  CHECK(after.value("factotum_worker_crashes_total") == 0.0);
  CHECK(after.value("process_resident_memory_bytes") > 0.0);
  CHECK(after.value("process_open_fds") > 0.0);
  CHECK(after.value("process_start_time_seconds") > 1.7e9);
  CHECK(after.value("process_cpu_seconds_total").has_value());
  // Anything but /metrics and /healthz: 404.
  CHECK(http_get(d.port, "/").status == 404);
  CHECK(http_get(d.port, "/metrics/extra").status == 404);
  CHECK(daemon_listening_sockets(d.daemon).size() == 1);
  d.stop();
}

TEST_CASE("reloads are counted by result, with the time of the last good one") {
  MetricsDaemon d;
  d.start();
  const double loaded_at =
      d.scrape_now().value("factotum_reload_last_success_timestamp_seconds").value_or(0);
  CHECK(loaded_at > 1.7e9);
  const auto reloads = [&](const char* result) {
    return d.server.wait_for(
        [&](const TestServer::Stats&) {
          const auto now = scrape(d.port);
          return now && now->value("factotum_reloads_total", {{"result", result}}) == 1.0;
        },
        kDeadline);
  };
  d.daemon.process().signal(SIGHUP);
  REQUIRE(reloads("success"));
  const double reloaded_at =
      d.scrape_now().value("factotum_reload_last_success_timestamp_seconds").value_or(0);
  CHECK(reloaded_at > loaded_at);
  edit_config(d.daemon, "concurrency: 4", "concurrency: [not a number]");
  d.daemon.process().signal(SIGHUP);
  REQUIRE(reloads("failure"));
  const Scrape after = d.scrape_now();
  CHECK(after.value("factotum_reloads_total", {{"result", "success"}}) == 1.0);
  CHECK(after.value("factotum_reload_last_success_timestamp_seconds") == reloaded_at);
  d.stop();
}

TEST_CASE(
    "/healthz is 200 while the worker runs, 503 while its control loop is wedged and when it "
    "stops") {
  TempDir dir;
  const fs::path wedge = dir.path / "wedge";
  MetricsDaemon d("", "", {"FACTOTUM_TEST_WEDGE_CONTROL=" + wedge.string()});
  d.start();
  const auto healthy = http_get(d.port, "/healthz");
  CHECK(healthy.status == 200);
  CHECK(healthy.body == "ok\n");

  // The control thread blocks in the test hook while the file exists (TTIN triggers it).
  std::ofstream(wedge) << "wedged\n";
  d.daemon.process().signal(SIGTTIN);
  CHECK(wait_health(d, 503, "control loop unresponsive"));
  fs::remove(wedge);
  CHECK(wait_health(d, 200, "ok"));

  // A stop: 503 "stopping" while the job in flight finishes.
  auto producer = producer_for(d.server);
  Gate gate;
  auto running = job("gate", gate.args());
  push_and_await_start(d.daemon, *producer, running);
  d.daemon.process().signal(SIGTERM);
  CHECK(wait_health(d, 503, "stopping"));
  gate.open();
  CHECK(d.daemon.process().wait_exit(kDeadline) == 0);
  CHECK(d.server.ack_count(running.jid) == 1);
}

TEST_CASE("oversized requests, slow clients and 1000 connections leave job processing alone") {
  MetricsDaemon d;
  d.start();
  auto producer = producer_for(d.server);

  // An oversized request is refused (and its connection closed).
  const std::string huge(64 * 1024, 'x');
  const std::string refused =
      http_exchange(d.port, "GET /metrics HTTP/1.1\r\nHost: h\r\nX-Big: " + huge + "\r\n\r\n");
  CHECK(refused.rfind("HTTP/1.1 431", 0) == 0);

  // As many connections as this process may open, up to 1000, half of them slow clients that
  // sent half a request (the endpoint holds at most 128 and closes the rest at once).
  rlimit saved{};
  ::getrlimit(RLIMIT_NOFILE, &saved);
  rlimit raised = saved;
  raised.rlim_cur = raised.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &raised);
  const auto wanted = static_cast<std::size_t>(
      std::min<rlim_t>(1000, raised.rlim_cur > 200 ? raised.rlim_cur - 100 : 100));
  const auto beats_before = count_commands(d.server, "BEAT");
  std::vector<int> clients;
  for (std::size_t i = 0; i < wanted; ++i) {
    const int fd = connect_local(d.port);
    if (fd < 0) break;
    if (i % 2 == 0) {
      const std::string half = "GET /metrics HTTP/1.1\r\nHo";
      (void)::send(fd, half.data(), half.size(), MSG_NOSIGNAL);
    }
    clients.push_back(fd);
  }

  // Meanwhile jobs run as ever, and so does the control thread (its heartbeat).
  std::vector<std::string> jids;
  for (int i = 0; i < 50; ++i) {
    auto j = job("ok", {i});
    jids.push_back(j.jid);
    REQUIRE(producer->push(j));
  }
  CHECK(d.server.wait_for(
      [&](const TestServer::Stats&) {
        return std::all_of(jids.begin(), jids.end(),
                           [&](const auto& jid) { return d.server.ack_count(jid) == 1; });
      },
      kDeadline));
  CHECK(d.server.wait_for(
      [&](const TestServer::Stats&) { return count_commands(d.server, "BEAT") > beats_before; },
      kDeadline));
  for (const int fd : clients) ::close(fd);
  ::setrlimit(RLIMIT_NOFILE, &saved);

  // And the endpoint serves again once they are gone.
  CHECK(d.server.wait_for(
      [&](const TestServer::Stats&) { return http_get(d.port, "/healthz").status == 200; },
      kDeadline));
  CHECK(d.scrape_now().value("factotum_jobs_finished_total",
                             {{"jobtype", "ok"}, {"outcome", "succeeded"}}) == 50.0);
  d.stop();
}

TEST_CASE("metrics.queue_sizes exports the size of each configured queue from INFO") {
  MetricsDaemon d("", "  queue_sizes: true\n");
  d.start();
  // Quiet: once every processor has stopped (its blocked FETCH returned), the jobs pushed stay
  // in the queue.
  d.daemon.process().signal(SIGTSTP);
  REQUIRE(d.server.wait_for(
      [&](const TestServer::Stats&) {
        const auto now = scrape(d.port);
        return now && now->value("factotum_processors", {{"state", "quiet"}}) == 4.0;
      },
      kDeadline));
  auto producer = producer_for(d.server);
  for (int i = 0; i < 3; ++i) REQUIRE(producer->push(job("ok", {i})));
  // The next poll (at most 15 s away) sees them.
  const bool seen = d.server.wait_for(
      [&](const TestServer::Stats&) {
        const auto result = scrape(d.port);
        return result && result->value("factotum_queue_size", {{"queue", "default"}}) == 3.0;
      },
      kDeadline);
  d.daemon.process().poll_output();
  INFO(d.daemon.process().output());
  CHECK(seen);
  // At most one INFO per 15 s: the test ran well under 60 s.
  CHECK(count_commands(d.server, "INFO") <= 1 + 60 / 15);
  d.stop();
}

TEST_CASE("an outage shows in server_up, and the reconnects after it are counted") {
  MetricsDaemon d;
  d.start();
  // Every processor connected (blocked in a FETCH) before the outage.
  REQUIRE(d.server.wait_for(
      [&](const TestServer::Stats&) {
        const auto now = scrape(d.port);
        return now && now->value("factotum_processors", {{"state", "fetching"}}) == 4.0;
      },
      kDeadline));
  // Every connection dropped and refused for a while: the processors reconnect when it ends.
  d.server.refuse_connections(true);
  d.server.drop_all_connections();
  CHECK(d.server.wait_for(
      [&](const TestServer::Stats&) {
        const auto now = scrape(d.port);
        return now && now->value("factotum_server_up") == 0.0;
      },
      kDeadline));
  d.server.refuse_connections(false);
  CHECK(d.server.wait_for(
      [&](const TestServer::Stats&) {
        const auto now = scrape(d.port);
        return now && now->value("factotum_server_up") == 1.0 &&
               now->value("factotum_server_reconnects_total") >= 4.0;
      },
      kDeadline));

  d.stop();
}

TEST_CASE("an ACK whose reply was lost is counted as resent") {
  MetricsDaemon d;
  d.start();
  auto producer = producer_for(d.server);
  d.server.lose_next_reply("ACK");  // applied, then the connection closes without the reply
  auto lost = job("ok");
  REQUIRE(producer->push(lost));
  CHECK(d.server.wait_for(
      [&](const TestServer::Stats&) {
        const auto now = scrape(d.port);
        return now && now->value("factotum_report_resends_total", {{"command", "ACK"}}) == 1.0;
      },
      kDeadline));
  CHECK(d.server.ack_count(lost.jid) == 2);
  const Scrape after = d.scrape_now();
  CHECK(after.value("factotum_report_resends_total", {{"command", "FAIL"}}) == 0.0);
  CHECK(after.value("factotum_server_reconnects_total") == 1.0);
  CHECK(after.value("factotum_jobs_finished_total",
                    {{"jobtype", "ok"}, {"outcome", "succeeded"}}) == 1.0);
  d.stop();
}

TEST_CASE("without metrics.listen no port is opened") {
  TestServer server(quick_server_options());
  Daemon daemon(server, {});
  daemon.start();
  CHECK(daemon_listening_sockets(daemon).empty());
  daemon.process().signal(SIGTERM);
  CHECK(daemon.process().wait_exit(kDeadline) == 0);
}

TEST_CASE("a metrics address already in use stops the start with exit status 78") {
  TestServer server(quick_server_options());
  const unsigned short port = free_port();
  // Someone else listens there.
  const int taken = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  REQUIRE(::bind(taken, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  REQUIRE(::listen(taken, 1) == 0);
  Daemon::Settings settings;
  settings.extra = metrics_config(port);
  Daemon daemon(server, settings);
  const Run run = run_factotum({"--config", daemon.config().string()});
  ::close(taken);
  INFO(run.output);
  CHECK(run.exit_code == 78);
  CHECK(run.output.find("metrics.listen") != std::string::npos);
  CHECK(run.output.find("127.0.0.1:" + std::to_string(port)) != std::string::npos);
}
