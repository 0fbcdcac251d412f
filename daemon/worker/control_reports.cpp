#include "worker/control_reports.hpp"

#include "faktory/client.hpp"
#include "metrics/job_metrics.hpp"
#include "service/log.hpp"
#include "worker/backoff.hpp"
#include "worker/spawn.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <deque>
#include <optional>
#include <random>
#include <utility>

namespace factotum::worker {

namespace asio = boost::asio;
using service::Log;

struct ControlReports::Impl : std::enable_shared_from_this<Impl> {
  struct Pending {
    faktory::commands::FailArgs failure;
    std::string jobtype;
    Clock::time_point give_up_at;
    std::shared_ptr<const faktory::ClientOptions> origin;  // never null once queued
    std::function<void()> on_answered;
  };

  asio::io_context& io;
  WorkerContext& context;
  std::deque<Pending> queue;
  bool sending = false;  // the coroutine below is draining the queue
  std::optional<faktory::Client> client;
  // The connection settings `client` was built from: new ones (a reload) mean a new connection.
  std::shared_ptr<const faktory::ClientOptions> built_from;
  Backoff backoff{std::random_device{}()};
  asio::steady_timer timer;
  Clock::time_point connected_since{};
  bool ever_connected = false;  // a later connection counts as a reconnect (metrics)
  std::function<void()> on_idle;

  Impl(asio::io_context& io_context, WorkerContext& worker)
      : io(io_context), context(worker), timer(io_context) {}

  asio::awaitable<void> drain() {
    auto self = shared_from_this();
    try {
      while (!queue.empty()) {
        co_await send(queue.front());
        queue.pop_front();
      }
    } catch (...) {
      // A bug, not a job failure (see spawn.hpp). What is still queued is given up, so that
      // stopping does not wait for it; the server retries those jobs when their reservations
      // expire.
      for (const auto& pending : queue) {
        Log::error("could not FAIL the job; the server will retry it when its reservation expires",
                   {{"jid", pending.failure.jid}, {"jobtype", pending.jobtype}});
      }
      queue.clear();
      sending = false;
      if (on_idle) on_idle();
      throw;
    }
    sending = false;
    if (on_idle) on_idle();
  }

  asio::awaitable<bool> connect(const Pending& pending) {
    // To the server the job came from, as a producer: the server takes FAIL by jid from any
    // connection, and a connection without the wid does not keep the worker's registration
    // alive while it re-registers with new labels (PROTOCOL.md §4).
    built_from = pending.origin;
    faktory::ClientOptions options = *built_from;
    options.identity = faktory::Identity{};
    client.emplace(io.get_executor(), std::move(options));
    const auto attempt = Clock::now();
    auto connected = co_await client->connect();
    if (connected) {
      backoff.reset();
      connected_since = Clock::now();
      context.status.connected();
      if (std::exchange(ever_connected, true) && context.job_metrics != nullptr) {
        context.job_metrics->control_reconnected();
      }
      co_return true;
    }
    context.status.failed(connected.error().what(), attempt);
    timer.expires_at(std::min(Clock::now() + backoff.next(), pending.give_up_at));
    (void)co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return false;
  }

  asio::awaitable<void> send(const Pending& pending) {
    const auto& jid = pending.failure.jid;
    if (client && client->is_connected() && built_from != pending.origin) {
      co_await client->end();  // another server or other credentials (a reload)
    }
    bool sent_before = false;
    for (;;) {
      if (client && client->is_connected()) {
        if (std::exchange(sent_before, true) && context.job_metrics != nullptr) {
          context.job_metrics->control_resent();
        }
        auto sent = co_await client->fail(pending.failure);
        if (sent) {
          if (pending.on_answered) pending.on_answered();
          co_return;
        }
        if (client->is_connected()) {
          // E.g. "Job not found": its reservation expired already; resending cannot help.
          Log::warning("the server refused FAIL", {{"jid", jid}, {"error", sent.error().what()}});
          if (pending.on_answered) pending.on_answered();
          co_return;
        }
        context.status.failed(sent.error().what(), connected_since);
      }
      if (Clock::now() >= pending.give_up_at) {
        Log::error(
            "could not FAIL the job in time; the server will retry it when its reservation "
            "expires",
            {{"jid", jid}, {"jobtype", pending.jobtype}, {"errtype", pending.failure.errtype}});
        co_return;
      }
      (void)co_await connect(pending);
    }
  }
};

ControlReports::ControlReports(asio::io_context& io, WorkerContext& context)
    : impl_(std::make_shared<Impl>(io, context)) {}

ControlReports::~ControlReports() {
  if (impl_->client) impl_->client->close();
  impl_->timer.cancel();
}

void ControlReports::fail(faktory::commands::FailArgs failure, std::string jobtype,
                          Clock::time_point give_up_at,
                          std::shared_ptr<const faktory::ClientOptions> origin,
                          std::function<void()> on_answered) {
  if (!origin) origin = impl_->context.settings.current()->connection;
  impl_->queue.push_back({std::move(failure), std::move(jobtype), give_up_at, std::move(origin),
                          std::move(on_answered)});
  if (impl_->sending) return;
  impl_->sending = true;
  spawn(impl_->io, impl_->drain(), "reporter of the control thread");
}

void ControlReports::hurry(Clock::time_point by) {
  for (auto& pending : impl_->queue) pending.give_up_at = std::min(pending.give_up_at, by);
  impl_->timer.cancel();  // a back-off sleep re-checks its give-up time
}

bool ControlReports::idle() const noexcept {
  return !impl_->sending;
}

void ControlReports::set_on_idle(std::function<void()> callback) {
  impl_->on_idle = std::move(callback);
}

void ControlReports::finish() {
  if (!impl_->client || !impl_->client->is_connected()) return;
  spawn(
      impl_->io,
      [](std::shared_ptr<Impl> impl) -> asio::awaitable<void> {
        co_await impl->client->end();
      }(impl_),
      "reporter of the control thread");
}

}  // namespace factotum::worker
