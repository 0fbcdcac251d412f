// FaultProxy: the listener, one session per connection (two pumps, one per direction, that
// apply the connection's plan), and the reply tracker that tells whether a cut lost a FETCH's
// reply.
#include "fault_proxy.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <deque>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>

namespace factotum::testing {

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

std::string_view to_string(Fault fault) {
  switch (fault) {
    case Fault::none:
      return "none";
    case Fault::delay:
      return "delay";
    case Fault::split_replies:
      return "split_replies";
    case Fault::reset_mid_command:
      return "reset_mid_command";
    case Fault::reset_mid_reply:
      return "reset_mid_reply";
    case Fault::black_hole:
      return "black_hole";
    case Fault::refuse:
      return "refuse";
  }
  return "?";
}

std::string ConnectionPlan::describe() const {
  std::string text(to_string(fault));
  switch (fault) {
    case Fault::delay:
      return text + " of " + std::to_string(delay.count()) + " ms per write";
    case Fault::reset_mid_command:
    case Fault::reset_mid_reply:
    case Fault::black_hole:
      return text + " at byte " + std::to_string(at_byte);
    case Fault::refuse:
      return text + " for " + std::to_string(refuse_for.count()) + " ms";
    case Fault::none:
    case Fault::split_replies:
      return text;
  }
  return text;
}

ConnectionPlan plan_for(const FaultProxyOptions& options, std::uint64_t connection) {
  if (options.every_connection) return *options.every_connection;
  // One generator per connection, so the n-th plan does not depend on how many draws the
  // others took. (Modulo rather than std:: distributions: those differ between libraries.)
  std::mt19937_64 rng(options.seed * 0x9E3779B97F4A7C15ULL + connection);
  ConnectionPlan plan;
  if (rng() % 100 >= options.fault_percent) return plan;
  static const std::vector<Fault> kEvery = {
      Fault::delay,           Fault::split_replies, Fault::reset_mid_command,
      Fault::reset_mid_reply, Fault::black_hole,    Fault::refuse};
  const auto& kinds = options.kinds.empty() ? kEvery : options.kinds;
  plan.fault = kinds[rng() % kinds.size()];
  plan.at_byte = rng() % (options.max_fault_byte + 1);
  // A number of milliseconds in [1, most].
  const auto up_to = [&rng](std::chrono::milliseconds most) {
    const auto span = static_cast<std::uint64_t>(std::max<std::int64_t>(1, most.count()));
    return std::chrono::milliseconds(static_cast<std::int64_t>(1 + rng() % span));
  };
  plan.delay = up_to(options.max_delay);
  plan.refuse_for = up_to(options.max_refusal);
  return plan;
}

namespace {

// Which replies the client still waits for, from the bytes that passed each way: a command is
// one line (END has no reply), a reply one RESP value (PROTOCOL.md §2), the greeting first.
class ReplyTracker {
 public:
  void client_bytes(std::string_view bytes) {
    for (const char c : bytes) {
      if (c == '\n') {
        if (!verb_.empty() && verb_ != "END") outstanding_.push_back(verb_);
        verb_.clear();
        in_verb_ = true;
      } else if (in_verb_) {
        if (c == ' ' || c == '\r' || verb_.size() == 16) {
          in_verb_ = false;
        } else {
          verb_ += c;
        }
      }
    }
  }

  void server_bytes(std::string_view bytes) {
    while (!bytes.empty()) {
      if (bulk_left_ > 0) {
        const auto n = std::min<std::uint64_t>(bulk_left_, bytes.size());
        bulk_left_ -= n;
        bytes.remove_prefix(n);
        if (bulk_left_ == 0) reply_done();
        continue;
      }
      const char c = bytes.front();
      bytes.remove_prefix(1);
      if (c != '\n') {
        if (line_.size() < 32) line_ += c;
        continue;
      }
      // A whole line: a bulk length announces a payload and its CRLF; anything else is a reply.
      if (line_.size() > 1 && line_[0] == '$' && line_[1] != '-') {
        bulk_left_ = std::strtoull(line_.c_str() + 1, nullptr, 10) + 2;
      } else {
        reply_done();
      }
      line_.clear();
    }
  }

  std::size_t fetches_outstanding() const {
    return static_cast<std::size_t>(std::count(outstanding_.begin(), outstanding_.end(), "FETCH"));
  }

 private:
  void reply_done() {
    if (!outstanding_.empty()) outstanding_.pop_front();
  }

  std::deque<std::string> outstanding_{"HI"};
  std::string verb_;
  bool in_verb_ = true;
  std::string line_;
  std::uint64_t bulk_left_ = 0;
};

}  // namespace

struct FaultProxy::Impl {
  struct Session {
    Session(tcp::socket c, asio::io_context& io, std::uint64_t n, ConnectionPlan p)
        : client(std::move(c)), upstream(io), id(n), plan(p) {}
    tcp::socket client;
    tcp::socket upstream;
    std::uint64_t id;
    ConnectionPlan plan;
    std::uint64_t client_bytes = 0, server_bytes = 0;
    bool triggered = false;  // the plan's fault took effect
    bool holed = false;
    bool closed = false;
    ReplyTracker tracker;

    void close(bool reset) {
      if (closed) return;
      closed = true;
      boost::system::error_code ec;
      for (tcp::socket* s : {&client, &upstream}) {
        if (reset && s->is_open()) s->set_option(asio::socket_base::linger(true, 0), ec);
        s->close(ec);
      }
    }
  };

  explicit Impl(FaultProxyOptions o)
      : options(std::move(o)), work(asio::make_work_guard(io)), acceptor(io) {
    const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
    port = acceptor.local_endpoint().port();
    upstream_endpoint =
        tcp::endpoint(asio::ip::make_address(options.upstream_host), options.upstream_port);
    asio::co_spawn(io, accept_loop(), asio::detached);
    thread = std::thread([this] { io.run(); });
  }

  ~Impl() {
    asio::post(io, [this] {
      boost::system::error_code ec;
      acceptor.close(ec);
      for (auto& weak : sessions) {
        if (auto session = weak.lock()) session->close(false);
      }
      work.reset();
    });
    thread.join();
  }

  void note(const Session& session, std::string what) {
    std::lock_guard lock(mutex);
    ++stats.faults;
    events.push_back("connection " + std::to_string(session.id) + ": " + std::move(what));
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket =
          co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !acceptor.is_open()) {
        // (Accepted in the turn the destructor closed everything: not served.)
        if (!acceptor.is_open()) {
          socket.close(ec);
          co_return;
        }
        continue;
      }
      const bool on = faults_on.load();
      {
        std::lock_guard lock(mutex);
        ++stats.connections;
        if (on && Clock::now() < refuse_until) {
          ++stats.refused;
          socket.close(ec);
          continue;
        }
      }
      const std::uint64_t n = next_plan++;
      const ConnectionPlan plan = on ? plan_for(options, n) : ConnectionPlan{};
      auto session = std::make_shared<Session>(std::move(socket), io, n, plan);
      if (plan.fault == Fault::refuse) {
        {
          std::lock_guard lock(mutex);
          ++stats.refused;
          refuse_until = Clock::now() + plan.refuse_for;
        }
        note(*session, plan.describe());
        session->close(false);
        continue;
      }
      session->client.set_option(tcp::no_delay(true), ec);
      if (plan.fault == Fault::delay || plan.fault == Fault::split_replies) {
        session->triggered = true;
        note(*session, plan.describe());
      }
      sessions.push_back(session);
      std::erase_if(sessions, [](const auto& weak) { return weak.expired(); });
      asio::co_spawn(io, run(session), asio::detached);
    }
  }

  asio::awaitable<void> run(std::shared_ptr<Session> session) {
    boost::system::error_code ec;
    co_await session->upstream.async_connect(upstream_endpoint,
                                             asio::redirect_error(asio::use_awaitable, ec));
    if (ec || session->closed) {
      session->close(false);
      co_return;
    }
    session->upstream.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(io, pump(session, true), asio::detached);
    co_await pump(session, false);
  }

  // Cuts the connection now: a reset, or a black hole (it stays open, nothing passes).
  void cut(Session& session, bool hole) {
    session.triggered = true;
    const std::size_t lost = session.tracker.fetches_outstanding();
    {
      std::lock_guard lock(mutex);
      stats.fetch_cuts += lost;
    }
    note(session, session.plan.describe() + (lost > 0 ? " (FETCH reply lost)" : ""));
    if (hole) {
      session.holed = true;
    } else {
      session.close(true);
    }
  }

  // Where the plan's fault falls in `n` more bytes from this side: how many pass first, or
  // nullopt when it does not fall in them.
  std::optional<std::size_t> fault_within(Session& session, bool from_client, std::size_t n) {
    if (session.triggered || !faults_on.load()) return std::nullopt;
    const Fault f = session.plan.fault;
    const bool here = from_client ? (f == Fault::reset_mid_command || f == Fault::black_hole)
                                  : f == Fault::reset_mid_reply;
    const std::uint64_t passed = from_client ? session.client_bytes : session.server_bytes;
    if (!here || passed + n <= session.plan.at_byte) return std::nullopt;
    return static_cast<std::size_t>(session.plan.at_byte - passed);
  }

  asio::awaitable<void> pump(std::shared_ptr<Session> session, bool from_client) {
    tcp::socket& from = from_client ? session->client : session->upstream;
    tcp::socket& to = from_client ? session->upstream : session->client;
    asio::steady_timer timer(io);
    std::array<char, 65536> buffer{};
    for (;;) {
      boost::system::error_code ec;
      std::size_t n = co_await from.async_read_some(asio::buffer(buffer),
                                                    asio::redirect_error(asio::use_awaitable, ec));
      if (ec || session->closed) {
        // In a black hole the client never hears that the server went away.
        if (!session->holed || from_client) session->close(false);
        co_return;
      }
      if (session->holed) continue;
      const auto fault_at = fault_within(*session, from_client, n);
      if (fault_at) n = *fault_at;
      const std::string_view bytes(buffer.data(), n);
      if (session->plan.fault == Fault::delay && faults_on.load()) {
        timer.expires_after(session->plan.delay);
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
      if (!from_client && session->plan.fault == Fault::split_replies && faults_on.load()) {
        for (std::size_t i = 0; i < n && !ec; ++i) {
          co_await asio::async_write(to, asio::buffer(bytes.data() + i, 1),
                                     asio::redirect_error(asio::use_awaitable, ec));
        }
      } else if (n > 0) {
        co_await asio::async_write(to, asio::buffer(bytes),
                                   asio::redirect_error(asio::use_awaitable, ec));
      }
      if (ec || session->closed) {
        session->close(false);
        co_return;
      }
      if (from_client) {
        session->client_bytes += n;
        session->tracker.client_bytes(bytes);
      } else {
        session->server_bytes += n;
        session->tracker.server_bytes(bytes);
      }
      if (fault_at) {
        cut(*session, session->plan.fault == Fault::black_hole);
        if (!session->holed) co_return;
      }
    }
  }

  FaultProxyOptions options;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  tcp::acceptor acceptor;
  tcp::endpoint upstream_endpoint;
  std::uint16_t port = 0;
  std::thread thread;
  std::atomic<bool> faults_on{true};
  std::uint64_t next_plan = 0;                   // io thread
  std::vector<std::weak_ptr<Session>> sessions;  // io thread

  mutable std::mutex mutex;  // guards what other threads read
  Stats stats;
  std::vector<std::string> events;
  Clock::time_point refuse_until{};
};

FaultProxy::FaultProxy(FaultProxyOptions options)
    : impl_(std::make_shared<Impl>(std::move(options))) {}

FaultProxy::~FaultProxy() = default;

std::uint16_t FaultProxy::port() const {
  return impl_->port;
}

std::string FaultProxy::url() const {
  return "tcp://127.0.0.1:" + std::to_string(impl_->port);
}

void FaultProxy::set_faults(bool on) {
  impl_->faults_on.store(on);
  if (!on) {
    std::lock_guard lock(impl_->mutex);
    impl_->refuse_until = {};
  }
}

FaultProxy::Stats FaultProxy::stats() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->stats;
}

std::vector<std::string> FaultProxy::events() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->events;
}

}  // namespace factotum::testing
