// The worker's sans-io pieces: queue order per FETCH, reconnect back-off, RSS parsing.
#include "worker/backoff.hpp"
#include "worker/queue_order.hpp"
#include "worker/rss.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <set>

using namespace factotum::worker;
using namespace std::chrono_literals;

TEST_CASE("strict queues are fetched in the configured order, every time") {
  QueueOrder order({false, {"critical", "default", "bulk"}, {}}, 1);
  for (int i = 0; i < 5; ++i) {
    CHECK(order.next() == std::vector<std::string>{"critical", "default", "bulk"});
  }
}

TEST_CASE("weighted queues come first in proportion to their weight, all listed each time") {
  QueueOrder order({true, {"a", "b", "c"}, {6, 3, 1}}, 42);
  std::map<std::string, int> first;
  constexpr int kRounds = 20000;
  for (int i = 0; i < kRounds; ++i) {
    const auto& queues = order.next();
    REQUIRE(queues.size() == 3);
    CHECK(std::set<std::string>(queues.begin(), queues.end()) ==
          std::set<std::string>{"a", "b", "c"});
    ++first[queues.front()];
  }
  // Expected shares 60% / 30% / 10%; a seeded generator makes this deterministic.
  CHECK(first["a"] == Approx(0.6 * kRounds).epsilon(0.05));
  CHECK(first["b"] == Approx(0.3 * kRounds).epsilon(0.08));
  CHECK(first["c"] == Approx(0.1 * kRounds).epsilon(0.15));
}

TEST_CASE("back-off grows exponentially with jitter up to its cap and resets") {
  Backoff backoff(7, 100ms, 2s);
  std::chrono::milliseconds previous_ceiling = 100ms;
  for (int attempt = 0; attempt < 12; ++attempt) {
    const auto ceiling = std::min<std::chrono::milliseconds>(2000ms, 100ms * (1 << attempt));
    const auto wait = backoff.next();
    CHECK(wait >= ceiling / 2);
    CHECK(wait <= ceiling);
    previous_ceiling = ceiling;
  }
  CHECK(previous_ceiling == 2s);
  CHECK(backoff.attempts() == 12);
  backoff.reset();
  CHECK(backoff.next() <= 100ms);
}

TEST_CASE("VmRSS is read as a number of kB") {
  CHECK(parse_vmrss_kb("Name:\tfactotum\nVmPeak:\t 9000 kB\nVmRSS:\t    8123 kB\n") == 8123);
  CHECK_FALSE(parse_vmrss_kb("Name:\tfactotum\n"));
  CHECK(current_rss_kb().value_or(0) > 0);
}
