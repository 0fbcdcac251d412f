#include "faktory/jid.hpp"

#include <pthread.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <random>

#include <sys/random.h>

namespace factotum::faktory {
namespace {

// Bumped in a forked child so every thread's generator there reseeds: otherwise parent and
// child would continue the same sequence and hand out the same jids.
std::atomic<std::uint64_t> g_fork_generation{0};

void on_fork_child() noexcept {
  g_fork_generation.fetch_add(1, std::memory_order_relaxed);
}

[[maybe_unused]] const bool g_atfork_registered = [] {
  return pthread_atfork(nullptr, nullptr, &on_fork_child) == 0;
}();

// xoshiro256** (Blackman & Vigna): fast, 256-bit state, excellent statistical quality. Not
// cryptographic, and need not be: jids must be unique, not secret. Seeded from the OS CSPRNG
// once per thread (and again after fork), so no syscall is made per jid.
class JidGenerator {
 public:
  std::uint64_t next() {
    const std::uint64_t generation = g_fork_generation.load(std::memory_order_relaxed);
    if (!seeded_ || generation != generation_) seed(generation);
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  void seed(std::uint64_t generation) {
    // The kernel's CSPRNG directly: OpenSSL's RAND_bytes would initialise its whole provider
    // machinery (megabytes of resident libcrypto) in a daemon that may never use TLS.
    if (::getrandom(state_.data(), sizeof(state_), 0) != static_cast<ssize_t>(sizeof(state_))) {
      std::random_device device;
      for (auto& word : state_) {
        word = (static_cast<std::uint64_t>(device()) << 32) ^ device();
      }
    }
    if ((state_[0] | state_[1] | state_[2] | state_[3]) == 0)
      state_[0] = 1;  // all-zero is a fixed point
    seeded_ = true;
    generation_ = generation;
  }

  std::array<std::uint64_t, 4> state_{};
  bool seeded_ = false;
  std::uint64_t generation_ = 0;
};

}  // namespace

std::string generate_jid() {
  thread_local JidGenerator generator;
  static constexpr char kHex[] = "0123456789abcdef";
  // 96 random bits as 24 lowercase hex digits (PROTOCOL.md §6: >= 8 characters required).
  const std::uint64_t high = generator.next();
  const std::uint64_t low = generator.next();
  std::string jid(24, '0');
  for (std::size_t i = 0; i < 16; ++i) jid[i] = kHex[(high >> (60 - 4 * i)) & 0xf];
  for (std::size_t i = 0; i < 8; ++i) jid[16 + i] = kHex[(low >> (28 - 4 * i)) & 0xf];
  return jid;
}

}  // namespace factotum::faktory
