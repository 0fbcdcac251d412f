#include "worker/heartbeat.hpp"

#include "service/log.hpp"
#include "worker/rss.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <random>

namespace factotum::worker {

namespace asio = boost::asio;
using service::Log;

Heartbeat::Heartbeat(asio::io_context& io, WorkerContext& context,
                     std::function<void(faktory::WorkerState)> on_state)
    : io_(io),
      context_(context),
      on_state_(std::move(on_state)),
      backoff_(std::random_device{}()),
      timer_(io) {}

void Heartbeat::finish() {
  finishing_ = true;
  timer_.cancel();
}

void Heartbeat::poke() {
  poked_ = true;
  timer_.cancel();  // a wait under way ends at once; one not yet begun is skipped (run())
}

void Heartbeat::settings_changed() {
  poke();
}

void Heartbeat::hold() {
  held_ = true;
  poke();
}

void Heartbeat::release() {
  held_ = false;
  poke();
}

bool Heartbeat::disconnected() const noexcept {
  return !connecting_ && (!client_ || !client_->is_connected());
}

std::string Heartbeat::describe() const {
  return client_ && client_->is_connected() ? "connected" : "reconnecting";
}

asio::awaitable<void> Heartbeat::beat_once() {
  faktory::commands::BeatArgs beat;
  beat.wid = client_->options().identity.wid;
  // Tell the server what we are doing (shown on its Busy page); it echoes it back.
  if (context_.phase() == Phase::quiet) beat.current_state = "quiet";
  if (context_.phase() == Phase::stopping) beat.current_state = "terminate";
  beat.rss_kb = current_rss_kb();

  auto state = co_await client_->beat(beat);
  if (state) {
    if (*state != faktory::WorkerState::running) on_state_(*state);
    co_return;
  }
  if (faktory::is_unknown_worker(state.error())) {
    // Reaped (no BEAT for 60 s, e.g. after a long pause): a fresh HELLO registers us again.
    Log::warning("the Faktory server had forgotten this worker; registering again",
                 {{"wid", beat.wid}});
    client_->close();
    co_return;
  }
  if (client_->is_connected()) {
    Log::warning("BEAT failed", {{"error", state.error().what()}});
  } else {
    context_.status.failed(state.error().what(), connected_since_);
  }
}

asio::awaitable<void> Heartbeat::run() {
  auto self = shared_from_this();
  while (!finishing_) {
    // Whatever hold(), release() or settings_changed() asked for is looked at below; one that
    // comes while a connect or a BEAT is under way skips the next wait.
    poked_ = false;
    const auto newest = context_.settings.current()->connection;
    if (client_ && client_->is_connected() && (held_ || built_from_ != newest)) {
      co_await client_->end();  // (then look again: finish() or release() may have come)
      continue;
    }
    if (held_) {
      timer_.expires_at(asio::steady_timer::time_point::max());  // until release()
      (void)co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    if (!client_ || !client_->is_connected()) {
      // Each connection on the newest settings (the wid never changes).
      built_from_ = newest;
      client_.emplace(io_.get_executor(), *newest);
      const auto attempt = std::chrono::steady_clock::now();
      connecting_ = true;
      auto connected = co_await client_->connect();
      connecting_ = false;
      if (!connected) {
        context_.status.failed(connected.error().what(), attempt);
        if (finishing_) break;
        if (poked_) continue;
        timer_.expires_after(backoff_.next());
        (void)co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      backoff_.reset();
      connected_since_ = std::chrono::steady_clock::now();
      context_.status.connected();
    }
    co_await beat_once();
    // finish() may have come during the BEAT (the server's "terminate" stops the worker from
    // inside beat_once): END now rather than after another interval.
    if (finishing_) break;
    if (!client_->is_connected() || poked_) continue;  // reconnect (re-HELLO) at once
    timer_.expires_after(context_.settings.current()->heartbeat_interval);
    (void)co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  if (client_) co_await client_->end();
}

}  // namespace factotum::worker
