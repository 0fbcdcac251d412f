#include "service/signals.hpp"

#include "service/log.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>

namespace factotum::service {

struct SignalHandler::Impl {
  boost::asio::signal_set signals;
  SignalActions actions;

  Impl(boost::asio::io_context& io, SignalActions a)
      : signals(io, SIGTERM, SIGINT, SIGTSTP), actions(std::move(a)) {
    signals.add(SIGTTIN);
    signals.add(SIGHUP);
  }

  void wait() {
    signals.async_wait([this](const boost::system::error_code& ec, int signo) {
      if (ec) return;  // closed
      dispatch(signo);
      wait();
    });
  }

  void dispatch(int signo) {
    switch (signo) {
      case SIGTERM:
      case SIGINT:
        Log::info(signo == SIGTERM ? "received SIGTERM" : "received SIGINT");
        if (actions.stop) actions.stop();
        break;
      case SIGTSTP:
        Log::info("received SIGTSTP");
        if (actions.quiet) actions.quiet();
        break;
      case SIGTTIN:
        if (actions.dump) actions.dump();
        break;
      case SIGHUP:
        Log::info("received SIGHUP");
        if (actions.reload) actions.reload();
        break;
      default:
        break;
    }
  }
};

SignalHandler::SignalHandler(boost::asio::io_context& io, SignalActions actions)
    : impl_(std::make_unique<Impl>(io, std::move(actions))) {
  impl_->wait();
}

SignalHandler::~SignalHandler() = default;

void SignalHandler::close() {
  // Only stop waiting: the signals stay caught (and ignored) until the process exits. clear()
  // would restore their default actions while the last END is still being sent, and a TSTP
  // then would stop the process, a TERM kill it.
  boost::system::error_code ignored;
  impl_->signals.cancel(ignored);
}

}  // namespace factotum::service
