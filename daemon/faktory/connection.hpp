// One byte stream to a Faktory server (plain TCP or TLS) with deadlines and RESP framing.
// Internal to the client: Client turns commands into lines and replies into results; this
// class only moves bytes. Not thread-safe: one operation at a time, on its executor.
#pragma once

#include "faktory/client_options.hpp"
#include "faktory/error.hpp"
#include "faktory/resp_reader.hpp"
#include "faktory/tls_context.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

namespace factotum::faktory {

class Connection {
 public:
  explicit Connection(boost::asio::any_io_executor executor);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Resolves, connects (TCP keep-alive and no-delay on), and for TLS handshakes with SNI and
  // peer verification. The whole sequence shares one deadline.
  boost::asio::awaitable<Result<void>> open(const ServerUrl& url, const TlsOptions& tls,
                                            const std::shared_ptr<const TlsContext>& tls_context,
                                            std::chrono::steady_clock::time_point deadline);

  // `what` names the command for error messages ("FETCH").
  boost::asio::awaitable<Result<void>> write(std::string_view bytes, std::string_view what,
                                             std::chrono::steady_clock::time_point deadline);
  boost::asio::awaitable<Result<Reply>> read_reply(std::string_view what,
                                                   std::chrono::steady_clock::time_point deadline);

  bool is_open() const noexcept { return open_; }
  // Whether the server closed or reset the connection while it sat idle (no operation under
  // way): then open() again before sending a command that must not be sent twice (PUSH).
  bool closed_by_peer() noexcept;
  // Closes at once; pending operations complete with an error. Safe to call twice.
  void close() noexcept;

 private:
  struct Deadline;
  boost::asio::ip::tcp::socket& tcp_socket() noexcept;
  void cancel_io() noexcept;
  Error io_error(const boost::system::error_code& ec, std::string_view during);

  boost::asio::any_io_executor executor_;
  std::shared_ptr<const TlsContext> tls_context_;
  // Exactly one of these carries the bytes; the TLS stream owns its own TCP socket.
  std::optional<boost::asio::ip::tcp::socket> plain_;
  std::optional<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>> tls_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::steady_timer timer_;
  std::uint64_t generation_ = 0;
  // Expires with the connection so a timer handler that runs late touches nothing.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  RespReader reader_;
  bool open_ = false;
  // Counts close() calls: open() notices one made while it waited (between its steps there is
  // no socket or resolve for close() to cancel) and gives up instead of connecting anyway.
  std::uint64_t closes_ = 0;
  bool timed_out_ = false;
  std::string peer_;  // "host:port" for error messages
};

}  // namespace factotum::faktory
