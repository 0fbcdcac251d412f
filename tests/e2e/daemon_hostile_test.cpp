// Jobs a careless or hostile producer can push (the server accepts each of these): factotum
// FAILs what it cannot run with a clear reason, keeps its memory bounded, and goes on running
// the other jobs.
#include "daemon_fixture.hpp"

#include <csignal>
#include <fstream>

using namespace factotum::testing;

namespace {

// VmRSS or VmHWM (the peak) of `pid`, in kB.
std::uint64_t memory_kb(pid_t pid, std::string_view field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with(field)) return std::stoull(line.substr(field.size() + 1));
  }
  return 0;
}

std::string job_json(const std::string& jid, const std::string& jobtype,
                     const std::string& args_json, const std::string& extra = "") {
  return R"({"jid":")" + jid + R"(","jobtype":")" + jobtype + R"(","retry":3,"args":)" + args_json +
         extra + "}";
}

// A job that must still run normally next to the hostile one.
void check_still_serving(TestServer& server) {
  const std::string jid = "after-hostile-" + random_suffix();
  server.push_job(job_json(jid, "ok", "[]"));
  CHECK(server.wait_for([&](const TestServer::Stats&) { return server.ack_count(jid) == 1; },
                        kDeadline));
}

std::string failure_of_retry(const TestServer& server, const std::string& jid) {
  for (const auto& payload : server.retry_jobs()) {
    if (payload.find(jid) != std::string::npos) return payload;
  }
  return {};
}

}  // namespace

TEST_CASE("a 60 MiB payload runs with memory under three times its size above idle") {
  TestServer server(quick_server_options());
  Daemon::Settings settings;
  settings.concurrency = 2;
  Daemon daemon(server, settings);
  daemon.start();
  const pid_t worker = daemon.worker_pid();
  // Idle: every processor and the heartbeat connected.
  REQUIRE(
      server.wait_for([](const TestServer::Stats& s) { return s.connections >= 3; }, kDeadline));
  const std::uint64_t idle_kb = memory_kb(worker, "VmRSS:");
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // Under a sanitizer the job must run, but the memory figure would be the sanitizer's (ASan
  // holds freed memory in quarantine, TSan keeps shadow memory), and the in-process test
  // server takes longer than a FETCH's timeout just to encode 60 MiB: a tenth of it.
  constexpr bool kMeasured = false;
  constexpr std::uint64_t kPayload = 6u << 20;
#else
  constexpr bool kMeasured = true;
  constexpr std::uint64_t kPayload = 60u << 20;
#endif
  // "echo_args" reads its args, as most jobs do: the args are made into text for it.
  const std::string jid = "big-payload-0001";
  server.push_job(job_json(jid, "echo_args", "[\"" + std::string(kPayload, 'x') + "\"]"));
  const bool acked = server.wait_for(
      [&](const TestServer::Stats&) {
        daemon.process().poll_output();
        return server.ack_count(jid) == 1;
      },
      kDeadline);
  const std::string output = daemon.process().output();
  INFO(output.substr(output.size() > 4000 ? output.size() - 4000 : 0));
  REQUIRE(acked);
  const std::uint64_t peak_kb = memory_kb(worker, "VmHWM:");
  INFO("idle " << idle_kb << " kB, peak " << peak_kb << " kB");
  if (kMeasured) CHECK(peak_kb - idle_kb <= 3 * (kPayload >> 10));
  check_still_serving(server);
  daemon.process().signal(SIGTERM);
  CHECK(daemon.process().wait_exit(kDeadline) == 0);
}

TEST_CASE("hostile jobs are FAILed with a clear reason, and the others still run") {
  TestServer server(quick_server_options());
  Daemon::Settings settings;
  settings.concurrency = 2;
  Daemon daemon(server, settings);
  daemon.start();
  struct Case {
    std::string name, payload, errtype, says;
  };
  const std::string huge_jobtype(1u << 20, 'j');
  const std::vector<Case> cases = {
      {"a 1 MiB jobtype", job_json("hostile-jobtype-1", huge_jobtype, "[]"), "UnknownJobtype",
       "no plugin"},
      {"args nested 9000 levels",
       job_json("hostile-nested-1", "ok", std::string(9000, '[') + std::string(9000, ']')),
       "InvalidJob", "nests deeper than"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const auto jid = c.payload.substr(8, c.payload.find('"', 8) - 8);
    server.push_job(c.payload);
    // (Reading the daemon's output meanwhile, as journald would: it never blocks on a pipe.)
    const bool failed = server.wait_for(
        [&](const TestServer::Stats&) {
          daemon.process().poll_output();
          return server.fail_count(jid) == 1;
        },
        kDeadline);
    const std::string output = daemon.process().output();
    INFO(output.substr(output.size() > 3000 ? output.size() - 3000 : 0));
    REQUIRE(failed);
    CHECK(server.ack_count(jid) == 0);
    const std::string failure = failure_of_retry(server, jid);
    CHECK(failure.find("\"errtype\":\"" + c.errtype + "\"") != std::string::npos);
    CHECK(failure.find(c.says) != std::string::npos);
    check_still_serving(server);
  }
  CHECK(server.working_jids().empty());
  // Log lines stay readable, and whole in the journal (which splits lines past 48 KiB): the
  // 1 MiB jobtype is cut, with its size.
  daemon.process().poll_output();
  std::size_t longest = 0;
  for (const auto& line : lines_of(daemon.process().output())) {
    longest = std::max(longest, line.size());
  }
  CHECK(longest <= 24 * 1024);
  CHECK(daemon.process().output().find("\xE2\x80\xA6 (1.0 MiB)") != std::string::npos);
  daemon.process().signal(SIGTERM);
  CHECK(daemon.process().wait_exit(kDeadline) == 0);
}

TEST_CASE("invalid UTF-8 from a producer reaches the job as U+FFFD, as the server stores it") {
  // Faktory decodes a PUSH with Go's encoding/json, which replaces invalid bytes; a server
  // that passed them on raw would have the job FAILed as InvalidJob
  // (tests/unit/job_salvage_test.cpp).
  TestServer server(quick_server_options());
  Daemon daemon(server, {});
  daemon.start();
  const std::string jid = "hostile-utf8-001";
  server.push_job(job_json(jid, "ok", "[\"\xff\xfe\"]"));
  CHECK(server.wait_for([&](const TestServer::Stats&) { return server.ack_count(jid) == 1; },
                        kDeadline));
  daemon.process().signal(SIGTERM);
  CHECK(daemon.process().wait_exit(kDeadline) == 0);
}

TEST_CASE("a reservation that is negative or a day long runs the job as any other") {
  TestServer server(quick_server_options());
  Daemon daemon(server, {});
  daemon.start();
  for (const std::string reserve : {"-5", "0", "86400"}) {
    INFO("reserve_for " << reserve);
    const std::string jid = "reserve-" + random_suffix();
    server.push_job(job_json(jid, "ok", "[]", ",\"reserve_for\":" + reserve));
    CHECK(server.wait_for([&](const TestServer::Stats&) { return server.ack_count(jid) == 1; },
                          kDeadline));
  }
  daemon.process().signal(SIGTERM);
  CHECK(daemon.process().wait_exit(kDeadline) == 0);
}

TEST_CASE("what the server refuses never reaches factotum: its reason is the producer's error") {
  TestServer server(quick_server_options());
  const std::vector<std::pair<std::string, std::string>> refused = {
      {job_json("refused-args-obj", "ok", "{}"), "args"},
      {R"({"jid":"refused-nojobtype","args":[]})", "jobtype"},
      {R"({"jid":"refused-jobtype-num","jobtype":7,"args":[]})", "jobtype"},
      {job_json("refused-reserve-1", "ok", "[]", ",\"reserve_for\":86401"), "one day"},
      // Go's decoder (so the server) stops at 10 000 levels; factotum's own parser stops at 256
      // (the 9000-level case above).
      {job_json("refused-deep-0001", "ok", std::string(100000, '[') + std::string(100000, ']')),
       "exceeded max depth"},
  };
  for (const auto& [payload, says] : refused) {
    INFO(payload);
    CHECK_THROWS_WITH(server.push_job(payload), Catch::Contains(says));
  }
  CHECK(server.pushed_jids().empty());
}
