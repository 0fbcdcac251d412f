// The queue list sent with each FETCH. Faktory serves the listed queues in strict order
// (PROTOCOL.md §5), so weighted fairness is the client's job: like Sidekiq and the other
// Faktory workers, reshuffle the list per FETCH, each queue's chance to come first being
// proportional to its weight.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace factotum::worker {

struct QueueSelection {
  bool weighted = false;
  std::vector<std::string> names;  // strict: in priority order
  std::vector<unsigned> weights;   // weighted: one positive weight per name
  bool operator==(const QueueSelection&) const = default;
};

class QueueOrder {
 public:
  QueueOrder(QueueSelection selection, std::uint64_t seed);

  // The order for the next FETCH. Strict: always the configured list (no work, no copy).
  // Weighted: a weighted random permutation (sampling without replacement), every queue
  // present once so an empty favourite never starves the others.
  const std::vector<std::string>& next();

  const QueueSelection& selection() const noexcept { return selection_; }

 private:
  QueueSelection selection_;
  std::mt19937_64 rng_;
  std::vector<std::string> order_;
  std::vector<std::size_t> pool_;  // scratch, reused to keep FETCH allocation-free
};

}  // namespace factotum::worker
