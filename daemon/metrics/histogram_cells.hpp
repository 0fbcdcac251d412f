// A histogram's cells for the job path: per-bucket counts (not cumulative: one increment per
// observation) and the sum in nanoseconds, all relaxed atomics. A scrape adds up the cells of
// every processor and makes the counts cumulative (families.hpp).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace factotum::metrics {

// Job durations: 1 ms to 30 min.
inline constexpr std::array<double, 19> kDurationBounds = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
    2.5,   5,      10,    30,   60,    120,  300, 600,  1800};
// FETCH round trips: 100 µs to 2.5 s (an idle FETCH waits up to 2 s on the server).
inline constexpr std::array<double, 12> kFetchBounds = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 1, 2.5};

template <const auto& Bounds>
class HistogramCells {
 public:
  static constexpr std::size_t kBuckets = Bounds.size() + 1;  // the last one: +Inf

  void observe(std::chrono::nanoseconds value) noexcept {
    const double seconds = static_cast<double>(value.count()) * 1e-9;
    std::size_t bucket = 0;
    while (bucket < Bounds.size() && seconds > Bounds[bucket]) ++bucket;
    counts_[bucket].fetch_add(1, std::memory_order_relaxed);
    sum_ns_.fetch_add(static_cast<std::uint64_t>(value.count() > 0 ? value.count() : 0),
                      std::memory_order_relaxed);
  }

  std::uint64_t count(std::size_t bucket) const noexcept {
    return counts_[bucket].load(std::memory_order_relaxed);
  }
  std::uint64_t sum_ns() const noexcept { return sum_ns_.load(std::memory_order_relaxed); }

 private:
  std::array<std::atomic<std::uint64_t>, kBuckets> counts_{};
  std::atomic<std::uint64_t> sum_ns_{0};
};

using DurationCells = HistogramCells<kDurationBounds>;
using FetchCells = HistogramCells<kFetchBounds>;

}  // namespace factotum::metrics
