// The metrics endpoint's HTTP server: an accept loop and one coroutine per connection, all on
// the server's own thread and its own io_context, so the server's state needs no lock; only
// the count of open connections is read from other threads (an atomic).
#include "metrics/http_server.hpp"
#include "metrics/http_request.hpp"

#include "service/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <fcntl.h>
#include <pthread.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <exception>
#include <limits>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

namespace factotum::metrics {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Response = HttpReply;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
// After an accept error (EMFILE, ENFILE, ENOBUFS: they clear as connections close) the
// acceptor waits this long and tries again; at once would spin on the still-readable listener.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};
// Bytes read at a time outside the parser: the start of the next request on a keep-alive
// connection, and what a refused client still sends.
constexpr std::size_t kReadChunk = 4096;
// What a refused client may still send after our reply that we read and throw away (see
// refuse()); past it, the connection is closed regardless.
constexpr std::size_t kMaxDiscardBytes = 1024 * 1024;

// "host:port" as a user writes it, an IPv6 address in brackets.
std::string address_text(const std::string& host, const std::string& port) {
  return host.find(':') == std::string::npos ? host + ":" + port : "[" + host + "]:" + port;
}

// Asio opens and accepts without SOCK_CLOEXEC: a process a plugin starts (the shell plugin's
// commands) must not inherit the listener, or it could keep the port from the next worker.
void close_on_exec(int fd) noexcept {
  const int flags = ::fcntl(fd, F_GETFD);
  if (flags >= 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

bool try_listen(tcp::acceptor& acceptor, const tcp::endpoint& endpoint, beast::error_code& ec) {
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) close_on_exec(acceptor.native_handle());
  // A restarted daemon must rebind at once, while its old connections sit in TIME_WAIT.
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) return true;
  beast::error_code ignored;
  acceptor.close(ignored);
  return false;
}

// Binds the first address of host that works. IPv4 first: "localhost" then means 127.0.0.1,
// as it does for Go's net.Listen, which is what a Prometheus user expects of an exporter.
tcp::acceptor listen(asio::io_context& io, const HttpServerOptions& options) {
  const std::string where = address_text(options.host, options.port);
  beast::error_code ec;
  tcp::resolver resolver(io);
  const auto results = resolver.resolve(options.host, options.port, tcp::resolver::passive, ec);
  if (ec) throw std::runtime_error("cannot listen on " + where + ": " + ec.message());
  std::vector<tcp::endpoint> endpoints;
  for (const auto& result : results) endpoints.push_back(result.endpoint());
  std::stable_partition(endpoints.begin(), endpoints.end(),
                        [](const tcp::endpoint& e) { return e.address().is_v4(); });

  beast::error_code first_error = asio::error::host_not_found;
  for (const auto& endpoint : endpoints) {
    tcp::acceptor acceptor(io);
    if (try_listen(acceptor, endpoint, ec)) return acceptor;
    if (&endpoint == &endpoints.front()) first_error = ec;
  }
  throw std::runtime_error("cannot listen on " + where + ": " + first_error.message());
}

}  // namespace

struct HttpServer::Impl {
  // One accepted connection, owned by its coroutine. Counted in open_connections() and listed
  // for stop() from accept until the coroutine's frame goes, even if it never ran.
  struct Connection {
    Connection(Impl& s, tcp::socket socket) : server(s), stream(std::move(socket)) {
      server.connections.insert(this);
      server.open.fetch_add(1, std::memory_order_relaxed);
    }
    ~Connection() {
      server.connections.erase(this);
      server.open.fetch_sub(1, std::memory_order_relaxed);
    }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    Impl& server;
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
  };

  Impl(const HttpServerOptions& o, Handler h)
      : options(o),
        handler(std::move(h)),
        acceptor(listen(io, options)),
        retry_timer(io),
        port(acceptor.local_endpoint().port()) {
    asio::co_spawn(io, accept_loop(), asio::detached);
    thread = std::thread([this] {
      ::pthread_setname_np(::pthread_self(), "factotum-http");  // top -H, core dumps
      io.run();  // returns once stop() has ended the accept loop and every connection
    });
  }

  ~Impl() {
    asio::post(io, [this] { stop(); });
    thread.join();
  }

  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(kUseTuple);
      if (stopping) co_return;
      if (ec) {
        // Never give up on the listener: out of descriptors now is not out of them for good.
        // Said once per streak of failures.
        if (!accept_failing) {
          service::Log::warning("the metrics endpoint cannot accept connections; retrying",
                                {{"error", ec.message()}});
        }
        accept_failing = true;
        retry_timer.expires_after(kAcceptRetryDelay);
        (void)co_await retry_timer.async_wait(kUseTuple);
        if (stopping) co_return;
        continue;
      }
      accept_failing = false;
      close_on_exec(socket.native_handle());
      // Over the cap: accepted and closed at once, so the backlog cannot fill with clients
      // that wait for nothing.
      if (open.load(std::memory_order_relaxed) >= options.max_connections) continue;
      auto connection = std::make_unique<Connection>(*this, std::move(socket));
      // An unexpected exception (bad_alloc) ends only its own connection.
      asio::co_spawn(io, serve(std::move(connection)), [](const std::exception_ptr&) {});
    }
  }

  // One connection: requests one after another until either side closes, a limit is hit or
  // a deadline passes.
  asio::awaitable<void> serve(std::unique_ptr<Connection> connection) {
    auto& stream = connection->stream;
    auto& buffer = connection->buffer;
    // The first request's clock starts at accept: a client that connects and says nothing is
    // held no longer than one that sends half a request.
    stream.expires_after(options.request_timeout);
    for (;;) {
      HttpRequestParser parser;
      limit_request(parser, options.max_request_bytes);
      // One deadline for the whole header, however many reads it takes (a trickle of bytes
      // does not renew it).
      const auto [ec, bytes] = co_await http::async_read_header(stream, buffer, parser, kUseTuple);
      if (ec) {
        if (auto response = rejection(ec)) co_await refuse(stream, *response);
        co_return;
      }
      if (!parser.is_done()) {  // chunked: a body of unknown length
        auto response = body_refused();
        co_await refuse(stream, response);
        co_return;
      }

      Response response = respond(parser.get(), handler);
      const bool keep_alive = parser.get().keep_alive();
      if (!co_await write(stream, response)) co_return;
      if (!keep_alive) {
        beast::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
        co_return;
      }

      // Between requests: idle_timeout until the next one begins, then request_timeout for it
      // to arrive whole. A pipelined request is already in the buffer.
      if (buffer.size() == 0) {
        stream.expires_after(options.idle_timeout);
        const auto [read_ec, n] =
            co_await stream.async_read_some(buffer.prepare(kReadChunk), kUseTuple);
        if (read_ec) co_return;
        buffer.commit(n);
      }
      stream.expires_after(options.request_timeout);
    }
  }

  asio::awaitable<bool> write(beast::tcp_stream& stream, Response& response) {
    stream.expires_after(options.write_timeout);
    const auto [ec, bytes] = co_await http::async_write(stream, response, kUseTuple);
    co_return !ec;
  }

  // Answers a request we will not serve, then closes the connection. Closing a socket with
  // unread bytes makes the kernel send RST, and a client that is still sending (the rest of a
  // huge header, a body) would lose our reply; so: reply, FIN, then read and discard what
  // still comes, within request_timeout and up to kMaxDiscardBytes (a lingering close).
  asio::awaitable<void> refuse(beast::tcp_stream& stream, Response& response) {
    response.keep_alive(false);
    if (!co_await write(stream, response)) co_return;
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.expires_after(options.request_timeout);
    std::array<char, kReadChunk> discard;
    for (std::size_t total = 0; total < kMaxDiscardBytes;) {
      const auto [ec, n] = co_await stream.async_read_some(asio::buffer(discard), kUseTuple);
      if (ec) co_return;
      total += n;
    }
  }

  // On the server's thread. Ends the accept loop and every connection's operations, so that
  // io.run() returns when their coroutines have finished.
  void stop() {
    stopping = true;
    beast::error_code ignored;
    acceptor.close(ignored);
    retry_timer.cancel();
    for (Connection* connection : connections) connection->stream.close();
  }

  // First: destroyed last, after the I/O objects and any coroutine frames that use it.
  asio::io_context io{1};
  const HttpServerOptions options;
  const Handler handler;
  tcp::acceptor acceptor;
  bool accept_failing = false;  // the last accept failed (its warning was logged)
  asio::steady_timer retry_timer;
  const unsigned short port;
  std::atomic<std::size_t> open{0};
  // The server's thread only.
  bool stopping = false;
  std::unordered_set<Connection*> connections;
  std::thread thread;  // last: started once everything it uses exists
};

HttpServer::HttpServer(const HttpServerOptions& options, Handler handler)
    : impl_(std::make_unique<Impl>(options, std::move(handler))) {}

HttpServer::~HttpServer() = default;

unsigned short HttpServer::port() const noexcept {
  return impl_->port;
}

std::size_t HttpServer::open_connections() const noexcept {
  return impl_->open.load(std::memory_order_relaxed);
}

}  // namespace factotum::metrics
