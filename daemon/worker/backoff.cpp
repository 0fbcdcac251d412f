#include "worker/backoff.hpp"

#include <algorithm>

namespace factotum::worker {

Backoff::Backoff(std::uint64_t seed, std::chrono::milliseconds initial,
                 std::chrono::milliseconds cap)
    : rng_(seed), initial_(initial), cap_(cap) {}

std::chrono::milliseconds Backoff::next() {
  const unsigned shift = std::min(attempts_, 20u);
  ++attempts_;
  const auto ceiling = std::min<std::int64_t>(cap_.count(), initial_.count() << shift);
  std::uniform_int_distribution<std::int64_t> jitter(ceiling / 2, ceiling);
  return std::chrono::milliseconds(jitter(rng_));
}

}  // namespace factotum::worker
