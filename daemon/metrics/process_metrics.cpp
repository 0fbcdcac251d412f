#include "metrics/process_metrics.hpp"

#include "metrics/families.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

namespace factotum::metrics {

namespace {

// /proc/self/stat, the fields after the command name: utime (14), stime (15), starttime (22),
// vsize (23), rss (24), counted from 1 as proc(5) does.
struct Stat {
  double cpu_seconds = 0;
  double start_ticks = 0;
  double virtual_bytes = 0;
  double resident_pages = 0;
  bool ok = false;
};

Stat read_stat() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  std::getline(in, line);
  Stat stat;
  const auto close = line.rfind(')');  // the command name may hold spaces and parentheses
  if (close == std::string::npos) return stat;
  std::istringstream fields(line.substr(close + 2));
  std::string field;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  for (int number = 3; fields >> field; ++number) {
    if (number == 14 || number == 15) stat.cpu_seconds += std::stod(field) / ticks;
    if (number == 22) stat.start_ticks = std::stod(field);
    if (number == 23) stat.virtual_bytes = std::stod(field);
    if (number == 24) {
      stat.resident_pages = std::stod(field);
      stat.ok = true;
      break;
    }
  }
  return stat;
}

// Seconds since the epoch at boot (/proc/stat "btime"), to turn the start time into a date.
double boot_time() {
  std::ifstream in("/proc/stat");
  for (std::string key; in >> key;) {
    if (key == "btime") {
      double seconds = 0;
      in >> seconds;
      return seconds;
    }
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return 0;
}

double open_fds() {
  std::error_code ec;
  double count = -1;  // the directory iterator's own descriptor is not the process's
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++count;
  }
  return count;
}

void add_gauge(std::vector<prometheus::MetricFamily>& out, const char* name, const char* help,
               double value, prometheus::MetricType type = prometheus::MetricType::Gauge) {
  auto family = make_family(name, help, type);
  add_sample(family, {}, value);
  out.push_back(std::move(family));
}

}  // namespace

void collect_process_metrics(std::vector<prometheus::MetricFamily>& out) {
  const Stat stat = read_stat();
  if (stat.ok) {
    add_gauge(out, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
              stat.cpu_seconds, prometheus::MetricType::Counter);
    add_gauge(out, "process_resident_memory_bytes", "Resident memory size in bytes.",
              stat.resident_pages * static_cast<double>(::sysconf(_SC_PAGESIZE)));
    add_gauge(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.",
              stat.virtual_bytes);
    add_gauge(out, "process_start_time_seconds",
              "Start time of the process since unix epoch in seconds.",
              boot_time() + stat.start_ticks / static_cast<double>(::sysconf(_SC_CLK_TCK)));
  }
  add_gauge(out, "process_open_fds", "Number of open file descriptors.", open_fds());
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    add_gauge(out, "process_max_fds", "Maximum number of open file descriptors.",
              static_cast<double>(limit.rlim_cur));
  }
}

}  // namespace factotum::metrics
