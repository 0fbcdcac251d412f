// Reconnect pacing when the server is down: capped exponential back-off with jitter, so
// twenty processors of one daemon (and many daemons) do not hammer a recovering server in
// lock-step, and a long outage costs one attempt every `cap` at most — never a busy loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace factotum::worker {

class Backoff {
 public:
  explicit Backoff(std::uint64_t seed,
                   std::chrono::milliseconds initial = std::chrono::milliseconds(250),
                   std::chrono::milliseconds cap = std::chrono::seconds(30));

  // The wait before the next attempt: a random value in [d/2, d] where d doubles from
  // `initial` up to `cap` with each consecutive failure ("equal jitter").
  std::chrono::milliseconds next();
  void reset() noexcept { attempts_ = 0; }
  unsigned attempts() const noexcept { return attempts_; }

 private:
  std::mt19937_64 rng_;
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds cap_;
  unsigned attempts_ = 0;
};

}  // namespace factotum::worker
