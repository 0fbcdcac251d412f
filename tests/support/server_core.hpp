// Internals of the test server shared by the listener (test_server.cpp) and the
// per-connection protocol (server_connection.cpp). Everything here lives on the server's io
// thread; nothing is locked.
#pragma once

#include "server_state.hpp"
#include "test_server.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace factotum::testing::detail {

namespace asio = boost::asio;

// A byte stream, plain TCP or TLS, so one protocol coroutine serves both.
class Stream {
 public:
  virtual ~Stream() = default;
  virtual asio::awaitable<void> handshake() = 0;  // TLS server handshake; no-op for TCP
  virtual asio::awaitable<std::size_t> read_some(asio::mutable_buffer b) = 0;
  virtual asio::awaitable<void> write(asio::const_buffer b) = 0;
  // FIN (shutdown) then close; cancels pending operations. Idempotent.
  virtual void close() = 0;
};
std::unique_ptr<Stream> make_tcp_stream(asio::ip::tcp::socket s);
std::unique_ptr<Stream> make_tls_stream(asio::ip::tcp::socket s, asio::ssl::context& ctx);

class Connection;

struct Core {
  Core(asio::io_context& io_context, TestServerOptions opts, StateOptions state_options)
      : io(io_context),
        options(std::move(opts)),
        state(state_options),
        salt(options.salt),
        iterations(options.iterations),
        rng(options.seed != 0 ? options.seed + 1 : std::random_device{}()) {}

  asio::io_context& io;
  TestServerOptions options;
  ServerState state;
  std::map<std::uint64_t, std::shared_ptr<Connection>> connections;
  std::vector<TestServer::CommandRecord> log;
  bool shutting_down = false;
  std::optional<std::string> lose_reply_to;  // TestServer::lose_next_reply()
  std::optional<std::string> salt;
  std::optional<int> iterations;
  std::mt19937_64 rng;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Core& core, std::uint64_t id, std::unique_ptr<Stream> stream);

  // The whole life of the connection: greeting, HELLO, then one command at a time.
  asio::awaitable<void> run();

  // Abrupt close (heartbeat reaper, drop_all_connections, end of shutdown grace). A FETCH
  // blocked at that moment keeps waiting, exactly like the server's BRPOP does
  // (PROTOCOL.md §0.15): a job arriving meanwhile is reserved for the dead connection.
  void force_close();
  // begin_shutdown(): a FETCH blocked now is answered "-ERR redis: client is closed".
  void on_shutdown();
  // Server teardown: close and cancel every wait.
  void stop();

 private:
  asio::awaitable<bool> handshake();
  asio::awaitable<std::optional<std::string>> read_line();
  asio::awaitable<void> send(const Reply& reply);
  asio::awaitable<Reply> dispatch(std::string_view verb, std::string_view line);
  asio::awaitable<Reply> fetch(std::string_view line);
  asio::awaitable<void> block();  // waits fetch_block unless woken or stopped
  void finish();                  // state clean-up; idempotent

  Core& core_;
  std::uint64_t id_;
  std::unique_ptr<Stream> stream_;
  std::string buf_;
  asio::steady_timer deadline_;  // handshake deadline
  asio::steady_timer wait_;      // FETCH block
  std::shared_ptr<FetchWaiter> waiter_;
  bool hello_done_ = false;
  bool finished_ = false;
  bool primary_ = false;  // this connection registered the wid first (PROTOCOL.md §0.9)
  bool in_fetch_ = false;
  bool fetch_shutdown_ = false;
  bool stopped_ = false;
  std::string wid_;
};

}  // namespace factotum::testing::detail
