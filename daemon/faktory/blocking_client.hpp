// A synchronous Faktory client: the same commands as Client, each a blocking call on the
// calling thread, bounded by the options' timeouts. A processor runs its whole loop on one
// (DESIGN.md §3); tools, tests and the producer pool use it too. Commands return Result<T>:
// a `-ERR` reply is an Error carrying the server's code and text, never an exception.
//
// Threading: one thread at a time per object; issue one command at a time (Faktory answers
// strictly in order, PROTOCOL.md §2). It does not reconnect by itself: after an error,
// is_connected() tells whether the connection survived, and connect() opens a new one.
#pragma once

#include "faktory/client_options.hpp"
#include "faktory/commands.hpp"
#include "faktory/error.hpp"
#include "faktory/job.hpp"

#include <boost/json/object.hpp>

#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace factotum::faktory {

enum class WorkerState;

class BlockingClient {
 public:
  explicit BlockingClient(ClientOptions options);
  ~BlockingClient();
  BlockingClient(const BlockingClient&) = delete;
  BlockingClient& operator=(const BlockingClient&) = delete;

  const ClientOptions& options() const noexcept;

  // Connects and completes the handshake (greeting, HELLO with password hash). Closes any
  // previous connection first.
  Result<void> connect();
  bool is_connected() const noexcept;
  // Whether the server closed or reset the connection while it sat idle (no call under way):
  // then connect() again before sending a command that must not be sent twice (PUSH).
  bool closed_by_peer() const noexcept;

  Result<void> push(const Job& job);
  // Jobs the server refused, by jid, with its reason; empty when all were accepted.
  Result<std::map<std::string, std::string>> push_bulk(std::span<const Job> jobs);
  // A job, or std::nullopt when the queues stayed empty for the server's block time.
  Result<std::optional<Job>> fetch(std::span<const std::string> queues);
  // The raw job payload of a FETCH (std::nullopt when empty): lets the caller parse it once.
  Result<std::optional<std::string>> fetch_raw(std::span<const std::string> queues);
  Result<void> ack(std::string_view jid);
  Result<void> fail(const commands::FailArgs& failure);
  // ACK (or FAIL) sent in one write with the next FETCH: what a worker does after every job,
  // for one write and one round trip less. Returns the report's reply; when fetch_pending()
  // then says so, the FETCH's reply must be read with fetch_reply() before any other command.
  Result<void> ack_then_fetch(std::string_view jid, std::span<const std::string> queues);
  Result<void> fail_then_fetch(const commands::FailArgs& failure,
                               std::span<const std::string> queues);
  // The reply to the FETCH sent by ack_then_fetch/fail_then_fetch, as fetch_raw() returns it.
  Result<std::optional<std::string>> fetch_reply();
  // True when such a FETCH was sent and its reply is still to be read (not when the report
  // could not be sent at all, e.g. a command that could not be encoded).
  bool fetch_pending() const noexcept;
  Result<WorkerState> beat(const commands::BeatArgs& beat);
  Result<boost::json::object> info();
  Result<void> flush();
  Result<void> queue(commands::QueueAction action, std::span<const std::string> names);
  Result<void> mutate(const boost::json::object& operation);
  // Sends END and closes. Faktory never answers END (PROTOCOL.md §0.1), so nothing is read.
  void end();
  // Abrupt close.
  void close() noexcept;
  // Closes the connection for the server from another thread, while this client is idle (no
  // call under way, no FETCH pending): SyncConnection::interrupt(). The owner's next call
  // fails as on a dropped connection; it should close() it first when it knows.
  void interrupt() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace factotum::faktory
