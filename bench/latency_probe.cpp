// latency_probe: push → start latency of an idle worker. Pushes `stamp` jobs one at a time,
// each carrying the CLOCK_MONOTONIC time of its PUSH, and reads from a FIFO how long after that
// the worker started it (the `latency` bench plugin writes it). Between jobs it waits until the
// worker is idle again (blocked in FETCH), so every sample is a job meeting an idle worker.
//   latency_probe [--url URL] [--queue Q] [--count N] [--warmup W]
// The first W jobs (default 20) only warm up (a worker just started may still be connecting);
// then N are measured. Prints p50, p99 and max in microseconds.
#include "faktory/blocking_client.hpp"
#include "faktory/url.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

using namespace factotum::faktory;

namespace {

long long now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<std::string> url_flag;
  std::string queue = "bench";
  int count = 300;
  int warmup = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--url") url_flag = argv[i + 1];
    if (flag == "--queue") queue = argv[i + 1];
    if (flag == "--count") count = std::stoi(argv[i + 1]);
    if (flag == "--warmup") warmup = std::stoi(argv[i + 1]);
  }
  auto url = resolve_url(url_flag, process_environment(), std::nullopt);
  if (!url) {
    std::cerr << "latency_probe: " << url.error().what() << "\n";
    return 2;
  }
  char dir_template[] = "/tmp/factotum-latency-XXXXXX";
  const char* dir = ::mkdtemp(dir_template);
  if (dir == nullptr) return 2;
  const std::string fifo = std::string(dir) + "/stamps";
  if (::mkfifo(fifo.c_str(), 0600) != 0) return 2;
  // Read-write: opening does not wait for a writer, and a job closing its end is no EOF.
  const int fd = ::open(fifo.c_str(), O_RDWR);
  if (fd < 0) return 2;

  BlockingClient client(ClientOptions::for_url(*url));
  if (auto connected = client.connect(); !connected) {
    std::cerr << "latency_probe: " << connected.error().what() << "\n";
    return 1;
  }
  std::vector<double> micros;
  std::string pending;
  for (int i = 0; i < warmup + count; ++i) {
    // Idle again: every processor is back in its FETCH (an ACK+FETCH goes out right after a
    // job, and a bench job takes microseconds).
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto job = Job::create("stamp", {now_ns(), fifo}, queue);
    job.args.at(0) = now_ns();  // as late as possible before the PUSH
    if (auto pushed = client.push(job); !pushed) {
      std::cerr << "latency_probe: " << pushed.error().what() << "\n";
      return 1;
    }
    for (;;) {
      const auto newline = pending.find('\n');
      if (newline != std::string::npos) {
        if (i >= warmup) micros.push_back(std::stod(pending.substr(0, newline)) / 1000.0);
        pending.erase(0, newline + 1);
        break;
      }
      char buffer[64];
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n <= 0) return 1;
      pending.append(buffer, static_cast<std::size_t>(n));
    }
  }
  client.end();
  ::close(fd);
  ::unlink(fifo.c_str());
  ::rmdir(dir);
  std::sort(micros.begin(), micros.end());
  const auto at = [&](double q) {
    return micros[std::min(micros.size() - 1,
                           static_cast<std::size_t>(q * static_cast<double>(micros.size())))];
  };
  std::printf("%zu samples: p50 %.0f us, p99 %.0f us, max %.0f us\n", micros.size(), at(0.5),
              at(0.99), micros.back());
  return 0;
}
