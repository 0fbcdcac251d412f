// An asynchronous Faktory client: one connection, every command a worker or producer sends
// (PROTOCOL.md §5), C++20 coroutines on Boost.Asio. Commands return Result<T>: a `-ERR` reply
// is an Error carrying the server's code and text, never an exception.
//
// Threading: a Client belongs to one executor (strand); issue one command at a time and await
// it before the next (Faktory answers strictly in order, PROTOCOL.md §2). It does not
// reconnect by itself: after an error, is_connected() tells whether the connection survived,
// and connect() opens a new one (the worker decides when; DESIGN.md §3).
#pragma once

#include "faktory/client_options.hpp"
#include "faktory/commands.hpp"
#include "faktory/error.hpp"
#include "faktory/job.hpp"
#include "faktory/replies.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace factotum::faktory {

class Client {
 public:
  Client(boost::asio::any_io_executor executor, ClientOptions options);
  ~Client();
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;

  const ClientOptions& options() const noexcept;

  // Connects and completes the handshake (greeting, HELLO with password hash). Closes any
  // previous connection first.
  boost::asio::awaitable<Result<void>> connect();
  bool is_connected() const noexcept;
  // Whether the server closed or reset the connection while it sat idle (no command under
  // way): then connect() again before sending a command that must not be sent twice (PUSH).
  bool closed_by_peer() const noexcept;

  boost::asio::awaitable<Result<void>> push(const Job& job);
  // Jobs the server refused, by jid, with its reason; empty when all were accepted.
  boost::asio::awaitable<Result<std::map<std::string, std::string>>> push_bulk(
      std::span<const Job> jobs);
  // A job, or std::nullopt when the queues stayed empty for the server's block time.
  boost::asio::awaitable<Result<std::optional<Job>>> fetch(std::span<const std::string> queues);
  // The raw job payload of a FETCH (std::nullopt when empty): lets the caller parse it once.
  boost::asio::awaitable<Result<std::optional<std::string>>> fetch_raw(
      std::span<const std::string> queues);
  boost::asio::awaitable<Result<void>> ack(std::string_view jid);
  boost::asio::awaitable<Result<void>> fail(const commands::FailArgs& failure);
  // ACK (or FAIL) sent in one write with the next FETCH: what a worker does after every
  // job, for one write and one round trip less. Returns the report's reply; when
  // fetch_pending() then says so, the FETCH's reply must be read with fetch_reply() before
  // any other command.
  boost::asio::awaitable<Result<void>> ack_then_fetch(std::string_view jid,
                                                      std::span<const std::string> queues);
  boost::asio::awaitable<Result<void>> fail_then_fetch(const commands::FailArgs& failure,
                                                       std::span<const std::string> queues);
  // The reply to the FETCH sent by ack_then_fetch/fail_then_fetch, as fetch_raw() returns it.
  boost::asio::awaitable<Result<std::optional<std::string>>> fetch_reply();
  // True when such a FETCH was sent and its reply is still to be read (not when the report
  // could not be sent at all, e.g. a command that could not be encoded).
  bool fetch_pending() const noexcept;
  boost::asio::awaitable<Result<WorkerState>> beat(const commands::BeatArgs& beat);
  boost::asio::awaitable<Result<boost::json::object>> info();
  boost::asio::awaitable<Result<void>> flush();
  boost::asio::awaitable<Result<void>> queue(commands::QueueAction action,
                                             std::span<const std::string> names);
  boost::asio::awaitable<Result<void>> mutate(const boost::json::object& operation);
  // Sends END and closes. Faktory never answers END (PROTOCOL.md §0.1), so nothing is read.
  boost::asio::awaitable<void> end();

  // Abrupt close; a pending command completes with an error.
  void close() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace factotum::faktory
