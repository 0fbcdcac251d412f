// factotum-soak: drains many jobs (1 000 000 by default) at high concurrency through the fault
// proxy and samples the daemon's memory and file descriptors every second. After warm-up its
// resident memory must not grow, and once the faults stop its descriptors must come back to
// what they were before them. Prints the figures bench/README.md records and a CSV of the
// samples; exit status 1 when a check fails.
//
//   factotum-soak [--jobs 1000000] [--concurrency 50] [--seed 1] [--fault-percent 10]
//                 [--csv FILE]
#include "command_line.hpp"
#include "fault_proxy.hpp"
#include "scenario.hpp"
#include "test_jobs.hpp"
#include "test_server.hpp"

#include <boost/program_options.hpp>

#include <csignal>
#include <fstream>
#include <iomanip>
#include <iostream>

namespace po = boost::program_options;
using namespace factotum::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::uint64_t jobs = 1'000'000;
  unsigned concurrency = 50;
  std::uint64_t seed = 1;
  unsigned fault_percent = 10;
  std::string csv = "soak.csv";
};

struct Sample {
  double seconds = 0;
  std::uint64_t processed = 0;
  ProcessSample worker, supervisor;
};

// Least-squares slope of worker RSS (kB) per second over samples[from..].
double rss_slope(const std::vector<Sample>& samples, std::size_t from) {
  double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (std::size_t i = from; i < samples.size(); ++i) {
    const double x = samples[i].seconds;
    const double y = static_cast<double>(samples[i].worker.rss_kb);
    n += 1;
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  const double d = n * sxx - sx * sx;
  return n < 2 || d == 0 ? 0 : (n * sxy - sx * sy) / d;
}

int run(const Options& o) {
  TestServerOptions server_options;
  server_options.fetch_block = 500ms;
  server_options.record_history = false;  // a million jobs: keep no history
  TestServer server(server_options);
  FaultProxyOptions proxy_options;
  proxy_options.upstream_port = server.port();
  proxy_options.seed = o.seed;
  proxy_options.fault_percent = o.fault_percent;
  FaultProxy proxy(proxy_options);
  proxy.set_faults(false);  // the baseline first

  TempDir dir;
  DaemonOptions daemon_options{proxy.url(), o.concurrency};
  daemon_options.queues = "[default]";
  auto daemon = start_daemon(dir.path, daemon_options);
  const pid_t supervisor = daemon->pid();
  // Every processor and the heartbeat connected: the descriptors a steady worker holds.
  if (!wait_until([&] { return server.stats().connections >= o.concurrency + 1; }, 60s)) {
    std::cout << "factotum did not connect:\n" << daemon->output();
    return 1;
  }
  const pid_t first_worker = worker_of(supervisor);
  const ProcessSample baseline = sample_process(first_worker);
  proxy.set_faults(true);
  // Connections draw their fault when they are made: every few seconds they are all dropped
  // (as a server restart would), so faults keep coming for the whole run.
  server.drop_all_connections();
  auto next_drop = Clock::now() + 5s;

  const auto began = Clock::now();
  std::vector<Sample> samples;
  std::uint64_t pushed = 0;
  auto next_sample = began;
  const std::string job_tail = R"(","jobtype":"ok","args":[]})";
  // Done when every job is pushed, none is queued, and each is ACKed or reserved: a connection
  // cut while its FETCH was answered leaves a job reserved for no one (PROTOCOL.md §0.15) until
  // the server's reservation expires; those are counted, not waited for.
  std::size_t stranded = 0;
  for (;;) {
    const auto now_stats = server.stats();
    if (pushed == o.jobs && now_stats.enqueued == 0 &&
        now_stats.processed + now_stats.working >= o.jobs) {
      stranded = now_stats.working;
      break;
    }
    // Keep the queue topped up rather than holding a million jobs in the server at once.
    const auto stats = server.stats();
    while (pushed < o.jobs && pushed - stats.processed < 20'000) {
      server.push_job(R"({"jid":"soak-job-)" + std::to_string(pushed++) + job_tail);
    }
    const auto now = Clock::now();
    if (now >= next_drop) {
      server.drop_all_connections();
      next_drop += 5s;
    }
    if (now >= next_sample) {
      Sample s;
      s.seconds = std::chrono::duration<double>(now - began).count();
      s.processed = stats.processed;
      s.worker = sample_process(worker_of(supervisor));
      s.supervisor = sample_process(supervisor);
      samples.push_back(s);
      next_sample += 1s;
      if (samples.size() % 10 == 0) {
        std::cout << std::fixed << std::setprecision(0) << s.seconds << " s: " << s.processed
                  << " jobs, worker RSS " << s.worker.rss_kb << " kB, " << s.worker.fds << " fds"
                  << std::endl;
      }
    }
    std::this_thread::sleep_for(5ms);  // pacing the producer and the sampler, not a sync
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - began).count();

  // Faults off: every processor reconnects, and the descriptors come back to the baseline.
  proxy.set_faults(false);
  ProcessSample after;
  const bool fds_back = wait_until(
      [&] {
        after = sample_process(worker_of(supervisor));
        return after.fds == baseline.fds;
      },
      60s);
  const bool restarted = worker_of(supervisor) != first_worker;
  daemon->signal(SIGTERM);
  const auto code = daemon->wait_exit(60s);

  std::ofstream csv(o.csv);
  csv << "seconds,processed,worker_rss_kb,worker_fds,supervisor_rss_kb,supervisor_fds\n";
  for (const auto& s : samples) {
    csv << s.seconds << ',' << s.processed << ',' << s.worker.rss_kb << ',' << s.worker.fds << ','
        << s.supervisor.rss_kb << ',' << s.supervisor.fds << '\n';
  }
  // Warm-up: the first fifth of the run (allocator arenas and buffers reach their size).
  const std::size_t warm = samples.size() / 5;
  std::uint64_t max_rss = 0, warm_rss = samples.empty() ? 0 : samples[warm].worker.rss_kb;
  for (std::size_t i = warm; i < samples.size(); ++i) {
    max_rss = std::max(max_rss, samples[i].worker.rss_kb);
  }
  const double slope_kb_per_min = rss_slope(samples, warm) * 60;
  const auto proxy_stats = proxy.stats();
  std::cout << std::fixed << std::setprecision(1) << "\n"
            << o.jobs << " jobs at concurrency " << o.concurrency << " in " << seconds << " s ("
            << static_cast<double>(o.jobs) / seconds << " jobs/s), " << proxy_stats.faults
            << " faults over " << proxy_stats.connections << " connections; " << stranded
            << " jobs left reserved by cut connections\n"
            << "worker RSS after warm-up: " << warm_rss << " kB, max " << max_rss << " kB, slope "
            << slope_kb_per_min << " kB/min (baseline " << baseline.rss_kb << " kB)\n"
            << "worker fds: baseline " << baseline.fds << ", after the faults " << after.fds
            << (fds_back ? " (back to baseline)" : " (NOT back to baseline)") << "\n"
            << "worker restarted: " << (restarted ? "yes" : "no") << "\n"
            << "samples: " << o.csv << "\n";
  // Growth allowed after warm-up: within 1 MiB over the run, i.e. noise, not a leak.
  const double growth_kb =
      slope_kb_per_min * (seconds - (samples.empty() ? 0 : samples[warm].seconds)) / 60;
  const bool rss_flat = growth_kb < 1024;
  std::cout << "RSS growth over the run after warm-up: " << growth_kb << " kB ("
            << (rss_flat ? "flat" : "GROWING") << ")\n";
  if (code != 0) std::cout << "factotum exited with " << (code ? *code : -1) << "\n";
  return rss_flat && fds_back && !restarted && code == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  po::options_description flags("factotum-soak");
  flags.add_options()("jobs", po::value(&o.jobs)->default_value(o.jobs), "jobs drained")(
      "concurrency", po::value(&o.concurrency)->default_value(o.concurrency), "processors")(
      "seed", po::value(&o.seed)->default_value(o.seed), "the fault schedule")(
      "fault-percent", po::value(&o.fault_percent)->default_value(o.fault_percent),
      "share of connections given a fault")("csv", po::value(&o.csv)->default_value(o.csv),
                                            "where the samples go");
  if (const auto stop = parse_command_line(argc, argv, flags)) return *stop;
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::cout << "factotum-soak: " << e.what() << "\n";
    return 1;
  }
}
