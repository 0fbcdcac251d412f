// Signals, handled on the control thread — a raw signal handler only notes them: TERM/INT stop
// (a second one hurries), TSTP quiet, TTIN dumps the state, HUP reloads. The handler writes
// each signal and its sender's pid into a pipe that the control thread reads, so a supervised
// worker can take them only from its supervisor: `pkill factotum`, `kill $(pidof factotum)`
// or `systemctl kill` reach both processes, and the supervisor passes each on once (a TERM
// taken twice would mean "hurry").
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>

namespace boost::asio {
class io_context;
}

namespace factotum::service {

struct SignalActions {
  std::function<void()> stop;    // TERM, INT
  std::function<void()> quiet;   // TSTP
  std::function<void()> dump;    // TTIN
  std::function<void()> reload;  // HUP
  // Non-zero: act only on signals sent by this process (the supervisor) or by this one; others
  // are logged and ignored.
  pid_t only_from = 0;
};

class SignalHandler {
 public:
  // Catches TERM, INT, TSTP, TTIN and HUP from now on, for the life of the process: each is
  // kept until a SignalHandler reads it. Idempotent. Throws std::system_error if no pipe can be
  // made.
  static void catch_signals();

  // Calls catch_signals() and handles them on `io`.
  SignalHandler(boost::asio::io_context& io, SignalActions actions);
  ~SignalHandler();
  SignalHandler(const SignalHandler&) = delete;
  SignalHandler& operator=(const SignalHandler&) = delete;

  // Stops listening (so the io_context can run out of work at the end of shutdown). The
  // signals stay caught and are ignored: a TSTP while the last END goes out must not stop the
  // process, nor a TERM kill it.
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace factotum::service
