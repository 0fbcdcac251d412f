// factotum-client: a small Faktory producer/admin tool built on the project's client, for
// the demo, benchmarks and manual testing.
//   factotum-client [--url URL] push --jobtype T [--args JSON] [--queue Q] [--in SECONDS] [--count
//   N] factotum-client [--url URL] info | summary factotum-client [--url URL] wait-processed N
//   [--timeout SECONDS]
// The URL comes from --url, else FAKTORY_PROVIDER / FAKTORY_URL, else tcp://localhost:7419.
#include "faktory/blocking_client.hpp"
#include "faktory/url.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <ctime>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace json = boost::json;
using namespace factotum::faktory;

int usage() {
  std::cerr << "usage: factotum-client [--url URL] push --jobtype T [--args JSON] [--queue Q]"
               " [--in SECONDS] [--count N]\n"
               "       factotum-client [--url URL] info | summary\n"
               "       factotum-client [--url URL] wait-processed N [--timeout SECONDS]\n";
  return 2;
}

std::string rfc3339_in(long seconds) {
  const std::time_t at = std::time(nullptr) + seconds;
  std::tm tm{};
  gmtime_r(&at, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::int64_t processed(const json::object& info) {
  return info.at("faktory").at("total_processed").to_number<std::int64_t>();
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::optional<std::string> url_flag;
  if (args.size() >= 2 && args[0] == "--url") {
    url_flag = args[1];
    args.erase(args.begin(), args.begin() + 2);
  }
  if (args.empty()) return usage();
  auto url = resolve_url(url_flag, process_environment(), std::nullopt);
  if (!url) {
    std::cerr << "factotum-client: " << url.error().what() << "\n";
    return 2;
  }
  BlockingClient client(ClientOptions::for_url(*url));
  if (auto connected = client.connect(); !connected) {
    std::cerr << "factotum-client: " << connected.error().what() << "\n";
    return 1;
  }

  const std::string command = args[0];
  auto option = [&](const std::string& name) -> std::optional<std::string> {
    for (std::size_t i = 1; i + 1 < args.size(); ++i) {
      if (args[i] == name) return args[i + 1];
    }
    return std::nullopt;
  };

  if (command == "push") {
    const auto jobtype = option("--jobtype");
    if (!jobtype) return usage();
    boost::system::error_code ec;
    auto parsed_args = json::parse(option("--args").value_or("[]"), ec);
    if (ec || !parsed_args.is_array()) {
      std::cerr << "factotum-client: --args must be a JSON array\n";
      return 2;
    }
    const long count = std::stol(option("--count").value_or("1"));
    for (long i = 0; i < count; ++i) {
      auto job =
          Job::create(*jobtype, parsed_args.as_array(), option("--queue").value_or("default"));
      if (auto in = option("--in")) job.at = rfc3339_in(std::stol(*in));
      if (auto pushed = client.push(job); !pushed) {
        std::cerr << "factotum-client: " << pushed.error().what() << "\n";
        return 1;
      }
      if (count == 1) std::cout << job.jid << "\n";
    }
  } else if (command == "info") {
    auto info = client.info();
    if (!info) {
      std::cerr << "factotum-client: " << info.error().what() << "\n";
      return 1;
    }
    std::cout << json::serialize(*info) << "\n";
  } else if (command == "summary") {
    auto info = client.info();
    if (!info) {
      std::cerr << "factotum-client: " << info.error().what() << "\n";
      return 1;
    }
    const auto& f = info->at("faktory").as_object();
    const auto& sets = f.at("sets").as_object();
    std::cout << "processed (ACKed + FAILed): " << f.at("total_processed") << "\n"
              << "failed:                     " << f.at("total_failures") << "\n"
              << "waiting in retries:         " << sets.at("retries") << "\n"
              << "still queued:               " << f.at("total_enqueued") << "\n"
              << "in work (reserved):         " << sets.at("working") << "\n";
  } else if (command == "wait-processed") {
    if (args.size() < 2) return usage();
    const std::int64_t wanted = std::stoll(args[1]);
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::seconds(std::stol(option("--timeout").value_or("60")));
    for (;;) {
      auto info = client.info();
      if (!info) {
        std::cerr << "factotum-client: " << info.error().what() << "\n";
        return 1;
      }
      if (processed(*info) >= wanted) break;
      if (std::chrono::steady_clock::now() > deadline) {
        std::cerr << "factotum-client: only " << processed(*info) << " of " << wanted
                  << " jobs processed before the timeout\n";
        return 1;
      }
      // Polling a remote counter: every 10 ms keeps a benchmark's timing to 1% of a 1 s drain.
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  } else {
    return usage();
  }
  client.end();
  return 0;
}
