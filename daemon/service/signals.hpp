// Signals, handled on the control thread — a raw signal handler only notes them: TERM/INT stop
// (a second one hurries), TSTP quiet, TTIN dumps the state, HUP reloads. The handler writes
// each signal and its sender's pid into a pipe that the control thread reads.
//
// A supervised worker takes them from its supervisor only: `pkill factotum`,
// `kill $(pidof factotum)` or `systemctl kill` reach both processes, and the supervisor passes
// each on once (a TERM taken twice would mean "hurry"). It passes them on as queued real-time
// signals carrying the original number (forward_signal), not as the signal itself: standard
// signals do not queue, so the supervisor's TERM, arriving while the one `pkill` sent the
// worker is still pending, would merge into it and be lost with it.
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
  // Non-zero: a supervised worker, which acts on the signals this process (its supervisor)
  // forwards and on its death (PR_SET_PDEATHSIG with forwarded_stop_signal(): a stop). The
  // standard signals others send it are logged and ignored.
  pid_t only_from = 0;
};

// The real-time signals a supervisor forwards with (SIGRTMIN+5 and +6: clear of the ones
// libraries take first). Until a worker has caught its signals, the stop signal ends it as TERM
// would; the other one must stay blocked, like TSTP, TTIN and HUP.
int forwarded_stop_signal() noexcept;   // carries TERM or INT
int forwarded_other_signal() noexcept;  // carries TSTP, TTIN or HUP

// Passes `signal` (TERM, INT, TSTP, TTIN or HUP) on to a supervised worker. False (errno set)
// if it could not be sent.
bool forward_signal(pid_t worker, int signal) noexcept;

class SignalHandler {
 public:
  // Catches TERM, INT, TSTP, TTIN and HUP (and the forwarded ones) from now on, for the life
  // of the process: each is kept until a SignalHandler reads it. Idempotent. Throws
  // std::system_error if no pipe can be made.
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
