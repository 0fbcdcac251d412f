#include "worker/deadline_watch.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace factotum::worker {

namespace {
constexpr auto kNever = DeadlineWatch::Clock::time_point::max();
}

struct DeadlineWatch::Impl {
  boost::asio::io_context& io;
  Scan scan;
  boost::asio::steady_timer timer;
  bool stopped = false;

  Impl(boost::asio::io_context& io_context, Scan s)
      : io(io_context), scan(std::move(s)), timer(io_context) {}
};

DeadlineWatch::DeadlineWatch(boost::asio::io_context& io, Scan scan)
    : impl_(std::make_unique<Impl>(io, std::move(scan))) {}

DeadlineWatch::~DeadlineWatch() = default;

void DeadlineWatch::request_scan() {
  // From a processor thread: the timer belongs to the control thread. `this` outlives every
  // processor thread (the Worker joins them first) and the io_context's run.
  boost::asio::post(impl_->io, [this] { scan_now(); });
}

void DeadlineWatch::scan_now() {
  if (impl_->stopped) return;
  armed_.store(kNever.time_since_epoch().count(), std::memory_order_seq_cst);
  const auto next = impl_->scan(Clock::now());
  armed_.store(next.time_since_epoch().count(), std::memory_order_seq_cst);
  impl_->timer.expires_at(next);
  if (next == kNever) return;
  impl_->timer.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) scan_now();  // cancelled: a newer scan re-armed the timer, or shutting down
  });
}

void DeadlineWatch::stop() {
  impl_->stopped = true;
  impl_->timer.cancel();
}

}  // namespace factotum::worker
