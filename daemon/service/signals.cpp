#include "service/signals.hpp"

#include "service/log.hpp"
#include "service/signal_text.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <string>
#include <system_error>

namespace factotum::service {

namespace {

constexpr int kHandled[] = {SIGTERM, SIGINT, SIGTSTP, SIGTTIN, SIGHUP};

// What the raw handler notes: at most PIPE_BUF bytes, so each write is atomic.
struct Noted {
  int signal = 0;  // TERM, INT, TSTP, TTIN or HUP, also when forwarded
  pid_t sender = 0;
  bool forwarded = false;  // by a supervisor, or its death
};

bool is_handled(int signal) noexcept {
  for (const int handled : kHandled) {
    if (signal == handled) return true;
  }
  return false;
}

// What a forwarded signal carries; 0 for none.
int forwarded_original(int signal, const siginfo_t& info) noexcept {
  if (info.si_code == SI_QUEUE) {
    const int original = info.si_value.sival_int;
    return is_handled(original) ? original : 0;
  }
  // PR_SET_PDEATHSIG: the kernel sends the bare signal as the supervisor dies.
  return signal == forwarded_stop_signal() ? SIGTERM : 0;
}

// Open for the life of the process: the handler may run at any moment, on any thread.
int g_write_fd = -1;
int g_read_fd = -1;

void note_signal(int signal, siginfo_t* info, void* /*context*/) {
  const int saved = errno;
  Noted noted{signal, info != nullptr ? info->si_pid : 0, false};
  if (signal == forwarded_stop_signal() || signal == forwarded_other_signal()) {
    noted.signal = info != nullptr ? forwarded_original(signal, *info) : 0;
    noted.forwarded = true;
  }
  // Non-blocking: with nobody reading (after close()) a full pipe drops the signal.
  [[maybe_unused]] const auto written = ::write(g_write_fd, &noted, sizeof(noted));
  errno = saved;
}

}  // namespace

int forwarded_stop_signal() noexcept {
  return SIGRTMIN + 5;
}
int forwarded_other_signal() noexcept {
  return SIGRTMIN + 6;
}

bool forward_signal(pid_t worker, int signal) noexcept {
  const bool stop = signal == SIGTERM || signal == SIGINT;
  sigval value{};
  value.sival_int = signal;
  return ::sigqueue(worker, stop ? forwarded_stop_signal() : forwarded_other_signal(), value) == 0;
}

void SignalHandler::catch_signals() {
  if (g_write_fd >= 0) return;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    throw std::system_error(errno, std::generic_category(), "signal pipe");
  }
  g_read_fd = fds[0];
  g_write_fd = fds[1];
  struct sigaction action {};
  action.sa_sigaction = note_signal;
  action.sa_flags = static_cast<int>(SA_SIGINFO | SA_RESTART);
  ::sigemptyset(&action.sa_mask);
  for (const int signal : kHandled) ::sigaction(signal, &action, nullptr);
  ::sigaction(forwarded_stop_signal(), &action, nullptr);
  ::sigaction(forwarded_other_signal(), &action, nullptr);
}

struct SignalHandler::Impl {
  boost::asio::posix::stream_descriptor pipe;
  SignalActions actions;
  Noted noted;

  Impl(boost::asio::io_context& io, SignalActions a)
      : pipe(io, ::fcntl(g_read_fd, F_DUPFD_CLOEXEC, 0)), actions(std::move(a)) {}

  void wait() {
    boost::asio::async_read(pipe, boost::asio::buffer(&noted, sizeof(noted)),
                            [this](const boost::system::error_code& ec, std::size_t) {
                              if (ec) return;  // closed
                              dispatch(noted);
                              wait();
                            });
  }

  bool accepted(const Noted& signal) const {
    if (signal.signal == 0) return false;  // a stray real-time signal
    if (signal.forwarded) {
      // (The death signal comes from the dying supervisor; should its pid not show, the parent
      // has changed all the same.)
      if (actions.only_from != 0 &&
          (signal.sender == actions.only_from || ::getppid() != actions.only_from)) {
        return true;
      }
      Log::warning("ignored a forwarded " + signal_text(signal.signal) + " from process " +
                   std::to_string(signal.sender) + ": it is not this worker's supervisor");
      return false;
    }
    if (actions.only_from == 0 || signal.sender == ::getpid()) return true;
    Log::warning("ignored " + signal_text(signal.signal) + " from process " +
                 std::to_string(signal.sender) +
                 ": this worker takes signals from its supervisor only (process " +
                 std::to_string(actions.only_from) + "), which passes on what it gets");
    return false;
  }

  void dispatch(const Noted& signal) {
    if (!accepted(signal)) return;
    switch (signal.signal) {
      case SIGTERM:
      case SIGINT:
        Log::info(signal.signal == SIGTERM ? "received SIGTERM" : "received SIGINT");
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

SignalHandler::SignalHandler(boost::asio::io_context& io, SignalActions actions) {
  catch_signals();
  impl_ = std::make_unique<Impl>(io, std::move(actions));
  impl_->wait();
}

SignalHandler::~SignalHandler() = default;

void SignalHandler::close() {
  boost::system::error_code ignored;
  impl_->pipe.cancel(ignored);
}

}  // namespace factotum::service
