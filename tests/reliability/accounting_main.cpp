// factotum-accounting: one seeded accounting run. N ledger jobs (succeed, fail, slow, push a
// follow-up) are pushed to the test server; factotum drains them through the fault proxy
// under the seed's schedule; then it is stopped and every jid is accounted for (accounting.hpp).
// Exit status 0 when every job is, 1 (with the problems and the replay command) otherwise.
//
//   factotum-accounting --seed 17 [--jobs 300] [--concurrency 4] [--fault-percent 25]
#include "accounting.hpp"
#include "command_line.hpp"
#include "fault_proxy.hpp"
#include "scenario.hpp"
#include "test_jobs.hpp"
#include "test_server.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/program_options.hpp>

#include <csignal>
#include <iostream>
#include <random>

namespace po = boost::program_options;
using namespace factotum::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::uint64_t seed = 1;
  std::size_t jobs = 300;
  unsigned concurrency = 4;
  unsigned fault_percent = 40;
  unsigned drain_seconds = 120;
};

// "ok", "fail", "sleep:MS" or "push", drawn from the seed: a mix of outcomes and durations.
std::string action_for(std::mt19937_64& rng) {
  const auto roll = rng() % 100;
  if (roll < 45) return "ok";
  if (roll < 60) return "fail";
  if (roll < 85) return "sleep:" + std::to_string(5 + rng() % 46);
  return "push";
}

// The failure the server recorded for each job in the retry and dead sets.
std::map<std::string, std::string> recorded_errtypes(const TestServer& server) {
  std::map<std::string, std::string> errtypes;
  auto payloads = server.retry_jobs();
  const auto dead = server.dead_jobs();
  payloads.insert(payloads.end(), dead.begin(), dead.end());
  for (const auto& payload : payloads) {
    const auto job = boost::json::parse(payload).as_object();
    const auto* failure = job.if_contains("failure");
    const auto* errtype = failure != nullptr && failure->is_object()
                              ? failure->as_object().if_contains("errtype")
                              : nullptr;
    errtypes[std::string(job.at("jid").as_string())] =
        errtype != nullptr && errtype->is_string() ? std::string(errtype->as_string()) : "";
  }
  return errtypes;
}

// "delay 2, black_hole 1" from the proxy's events ("connection 7: black_hole at byte 12").
std::string faults_by_kind(const std::vector<std::string>& events) {
  std::map<std::string, unsigned> counts;
  for (const auto& event : events) {
    const auto from = event.find(": ") + 2;
    ++counts[event.substr(from, event.find(' ', from) - from)];
  }
  std::string text;
  for (const auto& [kind, count] : counts) {
    text += (text.empty() ? "" : ", ") + kind + " " + std::to_string(count);
  }
  return text.empty() ? "no faults" : text;
}

// Drained: nothing queued, every function that started has ended, and every job whose
// function ended is ACKed or FAILed on the server. (Jobs whose FETCH reply was cut off stay
// reserved without running: they do not hold this up.)
bool drained(const TestServer& server, const std::filesystem::path& ledger_file) {
  if (server.stats().enqueued != 0) return false;
  const Ledger ledger = read_ledger(ledger_file);
  const auto fates = server.job_fates();
  for (const auto& [jid, entry] : ledger) {
    if (entry.oks + entry.fails != entry.starts) return false;
    const auto fate = fates.find(jid);
    if (fate == fates.end() || fate->second == "reserved" || fate->second == "queued") {
      return false;
    }
  }
  return true;
}

int run(const Options& o, const std::string& replay) {
  const auto began = Clock::now();
  TestServerOptions server_options;
  // Time stands still for the server: no reservation expires and no retry comes due, so
  // nothing but factotum can make a job run twice.
  server_options.manual_clock = true;
  server_options.fetch_block = 500ms;
  TestServer server(server_options);
  FaultProxyOptions proxy_options;
  proxy_options.upstream_port = server.port();
  proxy_options.seed = o.seed;
  proxy_options.fault_percent = o.fault_percent;
  proxy_options.max_fault_byte = 4096;  // a fault within a few dozen jobs of a connection
  FaultProxy proxy(proxy_options);

  TempDir dir;
  const auto ledger_file = dir.path / "ledger";
  auto daemon = start_daemon(dir.path, {proxy.url(), o.concurrency});

  std::mt19937_64 rng(o.seed);
  for (std::size_t i = 0; i < o.jobs; ++i) {
    const std::string jid = "acct-" + std::to_string(o.seed) + "-" + std::to_string(i);
    server.push_job(R"({"jid":")" + jid + R"(","jobtype":"ledger","retry":3,"args":[")" +
                    ledger_file.string() + R"(",")" + action_for(rng) + R"("]})");
  }

  std::vector<std::string> problems;
  if (!wait_until([&] { return drained(server, ledger_file); },
                  std::chrono::seconds(o.drain_seconds))) {
    problems.push_back("not drained within " + std::to_string(o.drain_seconds) + " s");
  }
  proxy.set_faults(false);
  std::size_t lines_at_stop = 0;
  read_ledger(ledger_file, &lines_at_stop);
  daemon->signal(SIGTERM);
  const auto code = daemon->wait_exit(60s);
  if (code != 0) {
    problems.push_back("factotum exited with " + (code ? std::to_string(*code) : "no exit"));
  }

  AccountingInput input;
  input.pushed = server.pushed_jids();
  input.fates = server.job_fates();
  for (const auto& jid : input.pushed) input.fails_received[jid] = server.fail_count(jid);
  input.errtypes = recorded_errtypes(server);
  input.ledger = read_ledger(ledger_file);
  for (const auto& [jid, entry] : input.ledger) {
    if (!entry.pushed.empty() && entry.pushed_at_line > lines_at_stop) {
      input.late_followups.insert(entry.pushed);
    }
  }
  const auto stats = proxy.stats();
  input.fetch_cuts = stats.fetch_cuts;
  Accounting result = account(input);
  problems.insert(problems.end(), result.problems.begin(), result.problems.end());

  const auto seconds = std::chrono::duration<double>(Clock::now() - began).count();
  std::cout << "seed " << o.seed << ": " << input.pushed.size() << " jobs (" << o.jobs
            << " pushed, " << input.pushed.size() - o.jobs << " follow-ups): " << result.acked
            << " ACKed, " << result.failed << " FAILed, " << result.stranded
            << " reserved without running (" << stats.fetch_cuts << " FETCH replies cut), "
            << result.queued << " queued; " << stats.faults << " faults over " << stats.connections
            << " connections (" << faults_by_kind(proxy.events()) << "); " << seconds << " s\n";
  if (problems.empty()) return 0;
  std::cout << "\nPROBLEMS:\n";
  for (const auto& p : problems) std::cout << "  " << p << "\n";
  std::cout << "\nfaults, in order:\n";
  for (const auto& e : proxy.events()) std::cout << "  " << e << "\n";
  std::cout << "\nfactotum's output:\n" << daemon->output() << "\nreplay: " << replay << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  po::options_description flags("factotum-accounting");
  flags.add_options()("seed", po::value(&o.seed)->default_value(o.seed),
                      "the fault schedule and the job mix")(
      "jobs", po::value(&o.jobs)->default_value(o.jobs), "jobs pushed")(
      "concurrency", po::value(&o.concurrency)->default_value(o.concurrency), "processors")(
      "fault-percent", po::value(&o.fault_percent)->default_value(o.fault_percent),
      "share of connections given a fault")(
      "drain-seconds", po::value(&o.drain_seconds)->default_value(o.drain_seconds),
      "how long the jobs may take");
  if (const auto stop = parse_command_line(argc, argv, flags)) return *stop;
  const std::string replay = std::string(argv[0]) + " --seed " + std::to_string(o.seed) +
                             " --jobs " + std::to_string(o.jobs) + " --concurrency " +
                             std::to_string(o.concurrency) + " --fault-percent " +
                             std::to_string(o.fault_percent);
  try {
    return run(o, replay);
  } catch (const std::exception& e) {
    std::cout << "seed " << o.seed << ": " << e.what() << "\nreplay: " << replay << "\n";
    return 1;
  }
}
