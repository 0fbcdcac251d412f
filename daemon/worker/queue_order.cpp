#include "worker/queue_order.hpp"

#include <numeric>

namespace factotum::worker {

QueueOrder::QueueOrder(QueueSelection selection, std::uint64_t seed)
    : selection_(std::move(selection)), rng_(seed), order_(selection_.names) {
  pool_.reserve(selection_.names.size());
}

const std::vector<std::string>& QueueOrder::next() {
  if (!selection_.weighted || selection_.names.size() < 2) return order_;
  pool_.resize(selection_.names.size());
  std::iota(pool_.begin(), pool_.end(), std::size_t{0});
  unsigned long total = 0;
  for (unsigned w : selection_.weights) total += w;
  for (std::size_t slot = 0; slot < order_.size(); ++slot) {
    std::uniform_int_distribution<unsigned long> pick(0, total - 1);
    unsigned long ticket = pick(rng_);
    std::size_t chosen = 0;
    for (std::size_t i = 0; i < pool_.size(); ++i) {
      const unsigned w = selection_.weights[pool_[i]];
      if (ticket < w) {
        chosen = i;
        break;
      }
      ticket -= w;
    }
    const std::size_t queue = pool_[chosen];
    // Assigning into the existing strings reuses their buffers: no allocation per FETCH.
    order_[slot].assign(selection_.names[queue]);
    total -= selection_.weights[queue];
    pool_.erase(pool_.begin() + static_cast<std::ptrdiff_t>(chosen));
  }
  return order_;
}

}  // namespace factotum::worker
