// Signals, handled on the control thread through asio::signal_set — never inside a raw signal
// handler (issue #4): TERM/INT stop (a second one hurries), TSTP quiet, TTIN dumps the state,
// HUP reloads.
#pragma once

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
};

class SignalHandler {
 public:
  SignalHandler(boost::asio::io_context& io, SignalActions actions);
  ~SignalHandler();
  SignalHandler(const SignalHandler&) = delete;
  SignalHandler& operator=(const SignalHandler&) = delete;

  // Stops listening (so the io_context can run out of work at the end of shutdown).
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace factotum::service
