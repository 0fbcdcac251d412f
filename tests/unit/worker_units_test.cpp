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
  constexpr auto kInitial = 100ms;
  constexpr auto kCap = 2s;
  Backoff backoff(7, kInitial, kCap);

  // Doubling: attempt k waits in [d/2, d] with d = 100 ms << k, until d reaches the cap
  // (100, 200, 400, 800, 1600 ms).
  std::chrono::milliseconds d = kInitial;
  int attempt = 0;
  for (; d < kCap; ++attempt, d *= 2) {
    INFO("attempt " << attempt);
    const auto wait = backoff.next();
    CHECK(wait >= d / 2);
    CHECK(wait <= d);
  }

  // Past the cap (d would be 3.2 s, 6.4 s, ... and beyond any shift limit) every wait lands in
  // [cap/2, cap]: the cap replaces d, it does not merely clip the wait (clipping would give
  // exactly the cap almost every time), and jitter keeps the waits apart.
  std::set<std::chrono::milliseconds::rep> capped_waits;
  for (; attempt < 80; ++attempt) {
    INFO("attempt " << attempt);
    const auto wait = backoff.next();
    CHECK(wait >= kCap / 2);
    CHECK(wait <= kCap);
    capped_waits.insert(wait.count());
  }
  CHECK(capped_waits.size() > 10);
  CHECK(backoff.attempts() == 80);

  // reset(): the next wait is back in the first attempt's range.
  backoff.reset();
  CHECK(backoff.attempts() == 0);
  const auto first = backoff.next();
  CHECK(first >= kInitial / 2);
  CHECK(first <= kInitial);
}

TEST_CASE("VmRSS is read as a number of kB") {
  CHECK(parse_vmrss_kb("Name:\tfactotum\nVmPeak:\t 9000 kB\nVmRSS:\t    8123 kB\n") == 8123);
  CHECK_FALSE(parse_vmrss_kb("Name:\tfactotum\n"));
  CHECK(current_rss_kb().value_or(0) > 0);
}
