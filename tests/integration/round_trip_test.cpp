// The client against the factotum-testserver executable: one producer pushes 1000 jobs over
// one connection, ten consumers FETCH and ACK them over ten connections.
#include "catch_result.hpp"
#include "child_process.hpp"
#include "faktory/blocking_client.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <mutex>
#include <set>
#include <thread>

using namespace factotum;
using namespace factotum::faktory;
using factotum::testing::ChildProcess;

TEST_CASE("1000 jobs pushed over one connection are fetched and ACKed by ten connections") {
  ChildProcess server(
      {FACTOTUM_BINARY_DIR "/bin/factotum-testserver", "--port", "0", "--fetch-block", "200"});
  auto ready = server.wait_for_line(
      [](const std::string& line) { return line.find("listening on") != std::string::npos; },
      std::chrono::seconds(30));
  INFO(server.output());
  REQUIRE(ready);
  const auto port = ready->substr(ready->rfind(':') + 1);
  auto url = parse_url("tcp://127.0.0.1:" + port);
  REQUIRE(url);
  auto options = ClientOptions::for_url(*url);

  constexpr int kJobs = 1000;
  BlockingClient producer(options);
  REQUIRE(producer.connect());
  for (int i = 0; i < kJobs; ++i) {
    REQUIRE(producer.push(Job::create("RoundTrip", boost::json::array{i}, "rt")));
  }

  std::atomic<int> acked{0};
  std::mutex seen_mutex;
  std::set<std::string> seen;
  std::atomic<int> errors{0};
  std::vector<std::thread> consumers;
  for (int c = 0; c < 10; ++c) {
    consumers.emplace_back([&, c] {
      auto consumer_options = options;
      consumer_options.identity = process_identity("rt-worker-" + std::to_string(c), {});
      BlockingClient consumer(consumer_options);
      if (!consumer.connect()) {
        ++errors;
        return;
      }
      const std::vector<std::string> queues{"rt"};
      while (acked.load() < kJobs) {
        auto job = consumer.fetch(queues);
        if (!job) {
          ++errors;
          return;
        }
        if (!*job) continue;
        {
          std::lock_guard lock(seen_mutex);
          if (!seen.insert((*job)->jid).second) ++errors;  // delivered twice
        }
        if (!consumer.ack((*job)->jid)) ++errors;
        ++acked;
      }
      consumer.end();
    });
  }
  for (auto& t : consumers) t.join();
  CHECK(errors == 0);
  CHECK(acked == kJobs);
  CHECK(seen.size() == static_cast<std::size_t>(kJobs));

  auto info = producer.info();
  REQUIRE(info);
  const auto& faktory = info->at("faktory").as_object();
  CHECK(faktory.at("total_processed").to_number<int>() == kJobs);
  CHECK(faktory.at("sets").at("working").to_number<int>() == 0);
  CHECK(faktory.at("queues").at("rt").to_number<int>() == 0);
  producer.end();

  server.signal(SIGTERM);
  CHECK(server.wait_exit(std::chrono::seconds(30)) == 0);
}
