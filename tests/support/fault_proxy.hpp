// A fault-injecting TCP proxy for tests: it sits between factotum and the test server and
// gives each connection it accepts a fault drawn from a seed: delayed writes, replies split
// byte by byte, a reset in the middle of a command or of a reply, a black hole (nothing
// passes, nothing closes), or refused connections for a while. The n-th connection's fault
// depends only on (seed, n, options), so a seed names a schedule a failing run can replay.
//
// It watches the protocol just enough to tell when a cut lost a FETCH's reply: the server may
// then have reserved a job for a connection that is gone (PROTOCOL.md §0.15), which is why a
// job can stay reserved without having run. fetch_cuts() counts those.
//
// Runs its own io thread; every public member function is thread-safe. No Asio types leak.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace factotum::testing {

enum class Fault {
  none,
  delay,              // every write, either way, waits ConnectionPlan::delay
  split_replies,      // the server's bytes reach the client one write per byte
  reset_mid_command,  // after at_byte bytes from the client: both sides reset (RST)
  reset_mid_reply,    // after at_byte bytes from the server: both sides reset (RST)
  black_hole,         // after at_byte bytes from the client: nothing more passes, nothing closes
  refuse,             // closed at once, and so is every connection for refuse_for
};
std::string_view to_string(Fault fault);

// What one connection gets.
struct ConnectionPlan {
  Fault fault = Fault::none;
  std::uint64_t at_byte = 0;  // resets, black hole: bytes passed before the fault
  std::chrono::milliseconds delay{0};
  std::chrono::milliseconds refuse_for{0};
  std::string describe() const;  // "reset_mid_reply at byte 1234"
};

struct FaultProxyOptions {
  std::string upstream_host = "127.0.0.1";
  std::uint16_t upstream_port = 0;
  std::uint64_t seed = 1;
  unsigned fault_percent = 30;          // share of connections given a fault other than none
  std::uint64_t max_fault_byte = 8192;  // resets and black holes come within this many bytes
  std::chrono::milliseconds max_delay{20};
  std::chrono::milliseconds max_refusal{500};
  // The faults drawn from (none of them = every fault but none).
  std::vector<Fault> kinds;
  // For tests of the proxy itself: every connection gets this plan instead of a drawn one.
  std::optional<ConnectionPlan> every_connection;
};

// The plan of the `connection`-th connection accepted (0-based) under options.seed. Pure.
ConnectionPlan plan_for(const FaultProxyOptions& options, std::uint64_t connection);

class FaultProxy {
 public:
  // Listens on 127.0.0.1 at an ephemeral port.
  explicit FaultProxy(FaultProxyOptions options);
  ~FaultProxy();  // closes every connection and joins the io thread
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  std::uint16_t port() const;
  std::string url() const;  // tcp://127.0.0.1:PORT

  // Off: connections accepted from now on get no fault, faults not yet triggered on open
  // ones are dropped, refusals end. (Black holes already entered stay: the client's timeout
  // ends them.) On again: plans resume where the schedule was.
  void set_faults(bool on);

  struct Stats {
    std::uint64_t connections = 0;  // accepted (refused ones included)
    std::uint64_t refused = 0;
    std::uint64_t faults = 0;      // faults that took effect (delay and split: once per connection)
    std::uint64_t fetch_cuts = 0;  // cuts that lost the reply of a FETCH the server had received
  };
  Stats stats() const;
  // One line per fault that took effect, in order: "connection 7: reset_mid_reply at byte
  // 1234 (FETCH reply lost)".
  std::vector<std::string> events() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace factotum::testing
