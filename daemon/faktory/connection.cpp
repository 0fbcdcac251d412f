#include "faktory/connection.hpp"

#include "faktory/connection_errors.hpp"
#include "faktory/socket_tuning.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <string>
#include <tuple>

namespace factotum::faktory {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
// Replies are read in chunks of this size; a 100 KB job arrives in a few reads.
constexpr std::size_t kReadChunk = 16 * 1024;

}  // namespace

// Arms the connection's timer for one operation. When it fires first, every pending
// operation on the connection is cancelled and the operation reports errc::timeout. The
// generation counter makes a late-firing timer harmless to the next operation.
struct Connection::Deadline {
  Connection& conn;

  Deadline(Connection& c, std::chrono::steady_clock::time_point at) : conn(c) {
    conn.timed_out_ = false;
    const auto generation = ++conn.generation_;
    conn.timer_.expires_at(at);
    conn.timer_.async_wait([alive = std::weak_ptr<int>(conn.alive_), &c,
                            generation](const boost::system::error_code& ec) {
      if (ec || alive.expired() || generation != c.generation_) return;
      c.timed_out_ = true;
      c.cancel_io();
    });
  }
  ~Deadline() { conn.timer_.cancel(); }
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;
};

Connection::Connection(asio::any_io_executor executor)
    : executor_(std::move(executor)), resolver_(executor_), timer_(executor_) {}

Connection::~Connection() {
  alive_.reset();
  close();
}

tcp::socket& Connection::tcp_socket() noexcept {
  return tls_ ? tls_->next_layer() : *plain_;
}

bool Connection::closed_by_peer() noexcept {
  return !open_ || peer_has_closed(tcp_socket().native_handle());
}

void Connection::cancel_io() noexcept {
  boost::system::error_code ignored;
  resolver_.cancel();
  if (plain_ || tls_) tcp_socket().cancel(ignored);
}

void Connection::close() noexcept {
  ++closes_;
  boost::system::error_code ignored;
  resolver_.cancel();
  if (plain_ || tls_) tcp_socket().close(ignored);
  open_ = false;
  reader_.reset();
}

Error Connection::io_error(const boost::system::error_code& ec, std::string_view during) {
  namespace errors = connection_errors;
  if (timed_out_) return errors::timed_out(peer_, during);
  if (ec == asio::error::eof || ec == asio::error::connection_reset ||
      ec == asio::error::broken_pipe || ec == asio::ssl::error::stream_truncated) {
    return errors::closed(peer_, during, reader_.buffered());
  }
  if (ec.category() == asio::error::get_ssl_category()) {
    return errors::tls(peer_, during, ec.message(), tls_ ? tls_->native_handle() : nullptr);
  }
  return errors::socket(ec, peer_, during);
}

asio::awaitable<Result<void>> Connection::open(const ServerUrl& url, const TlsOptions& tls,
                                               const std::shared_ptr<const TlsContext>& context,
                                               std::chrono::steady_clock::time_point deadline) {
  close();
  plain_.reset();
  tls_.reset();
  peer_ = url.host + ":" + std::to_string(url.port);
  const auto closes = closes_;
  const auto closed_meanwhile = [&] {
    return Error(errc::connection_closed, "connecting (" + peer_ + "): closed by the client");
  };

  Deadline guard(*this, deadline);
  auto [resolve_ec, endpoints] =
      co_await resolver_.async_resolve(url.host, std::to_string(url.port), kUseTuple);
  if (closes_ != closes) co_return closed_meanwhile();
  if (resolve_ec) co_return io_error(resolve_ec, "resolving the server's address");

  if (url.tls) {
    tls_context_ = context;
    tls_.emplace(executor_, context->native());
    if (auto prepared = context->prepare_session(tls_->native_handle(), url, tls); !prepared) {
      co_return prepared.error();
    }
  } else {
    plain_.emplace(executor_);
  }

  auto [connect_ec, endpoint] = co_await asio::async_connect(tcp_socket(), endpoints, kUseTuple);
  if (closes_ != closes) co_return closed_meanwhile();
  if (connect_ec) co_return io_error(connect_ec, "connecting");
  tune_socket(tcp_socket().native_handle());

  if (tls_) {
    auto [hs_ec] = co_await tls_->async_handshake(asio::ssl::stream_base::client, kUseTuple);
    if (closes_ != closes) co_return closed_meanwhile();
    if (hs_ec) {
      auto err = connection_errors::with_plain_tcp_hint(io_error(hs_ec, "in the TLS handshake"));
      close();
      co_return err;
    }
  }
  open_ = true;
  co_return Result<void>{};
}

asio::awaitable<Result<void>> Connection::write(std::string_view bytes, std::string_view what,
                                                std::chrono::steady_clock::time_point deadline) {
  if (!open_) co_return Error(errc::not_connected, "not connected to " + peer_);
  Deadline guard(*this, deadline);
  auto buffer = asio::buffer(bytes.data(), bytes.size());
  // Not `tls_ ? co_await … : co_await …`: GCC 12 mishandles co_await in a conditional.
  std::tuple<boost::system::error_code, std::size_t> written;
  if (tls_) {
    written = co_await asio::async_write(*tls_, buffer, kUseTuple);
  } else {
    written = co_await asio::async_write(*plain_, buffer, kUseTuple);
  }
  const auto& [ec, n] = written;
  if (ec) {
    auto err = io_error(ec, "sending " + std::string(what));
    close();
    co_return err;
  }
  co_return Result<void>{};
}

asio::awaitable<Result<Reply>> Connection::read_reply(
    std::string_view what, std::chrono::steady_clock::time_point deadline) {
  if (!open_) co_return Error(errc::not_connected, "not connected to " + peer_);
  for (;;) {
    auto next = reader_.next();
    if (!next) {
      close();  // the stream cannot be resynchronised
      co_return RespReader::named(next.error(), peer_, what);
    }
    if (*next) co_return std::move(**next);

    Deadline guard(*this, deadline);
    auto space = reader_.prepare(kReadChunk);
    auto buffer = asio::buffer(space.data(), space.size());
    std::tuple<boost::system::error_code, std::size_t> got;
    if (tls_) {
      got = co_await tls_->async_read_some(buffer, kUseTuple);
    } else {
      got = co_await plain_->async_read_some(buffer, kUseTuple);
    }
    const auto& [ec, n] = got;
    reader_.commit(n);
    if (ec) {
      auto err = io_error(ec, "waiting for the reply to " + std::string(what));
      close();
      co_return err;
    }
  }
}

}  // namespace factotum::faktory
