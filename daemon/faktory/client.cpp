#include "faktory/client.hpp"

#include "faktory/connection.hpp"
#include "faktory/replies.hpp"
#include "faktory/tls_context.hpp"

namespace factotum::faktory {

namespace asio = boost::asio;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

using replies::expect_ok;

struct Client::Impl {
  asio::any_io_executor executor;
  ClientOptions options;
  Connection connection;
  bool busy = false;
  bool fetch_pending = false;  // report_then_fetch sent a FETCH whose reply is unread

  Impl(asio::any_io_executor ex, ClientOptions opts)
      : executor(ex), options(std::move(opts)), connection(ex) {}

  // Sends one command line and reads its single reply. The busy flag catches a second
  // command started before the first was awaited: Faktory replies strictly in order, so two
  // readers on one connection would take each other's replies.
  asio::awaitable<Result<Reply>> round_trip(const std::string& line, std::string_view verb,
                                            std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    if (auto sent = co_await send(line, verb, deadline); !sent) co_return sent.error();
    auto reply = co_await receive(verb, deadline);
    busy = false;
    co_return reply;
  }

  // Writes `bytes` (one or more command lines) and marks the connection busy until the
  // caller has read every reply.
  asio::awaitable<Result<void>> send(const std::string& bytes, std::string_view verb,
                                     Clock::time_point deadline) {
    if (busy) {
      co_return Error(
          errc::invalid_argument,
          std::string(verb) + " issued while another command is in flight on this connection");
    }
    if (!connection.is_open()) {
      co_return Error(errc::not_connected, "cannot send " + std::string(verb) +
                                               ": not connected to " + options.url.redacted());
    }
    busy = true;
    auto written = co_await connection.write(bytes, verb, deadline);
    if (!written) busy = false;
    co_return written;
  }

  // Reads the next reply; a reply after which the server hangs up becomes a closed connection.
  asio::awaitable<Result<Reply>> receive(std::string_view verb, Clock::time_point deadline) {
    auto reply = co_await connection.read_reply(verb, deadline);
    if (reply && replies::server_closes_after(*reply)) {
      // The server says this and hangs up: report a broken connection (callers reconnect and
      // resend, DESIGN.md §3), keeping the server's words.
      connection.close();
      co_return replies::closed_after(*reply, verb, options.url);
    }
    co_return reply;
  }

  // Runs a command that answers +OK. `line` is taken by value: callers return this awaitable
  // without awaiting it, so it must not refer to their temporaries.
  asio::awaitable<Result<void>> simple(Result<std::string> line, std::string_view verb) {
    if (!line) co_return line.error();
    auto reply = co_await round_trip(*line, verb, options.command_timeout);
    if (!reply) co_return reply.error();
    co_return expect_ok(verb, *reply);
  }

  asio::awaitable<Result<std::map<std::string, std::string>>> push_bulk(Result<std::string> line) {
    if (!line) co_return line.error();
    auto reply = co_await round_trip(*line, "PUSHB", options.command_timeout);
    if (!reply) co_return reply.error();
    co_return replies::pushb_refusals(*reply);
  }

  asio::awaitable<Result<std::optional<std::string>>> fetch_raw(Result<std::string> line) {
    if (!line) co_return line.error();
    auto reply = co_await round_trip(*line, "FETCH", options.fetch_timeout);
    co_return replies::fetched_payload(std::move(reply));
  }

  // A report and the next FETCH in one write; Faktory answers strictly in order (PROTOCOL.md
  // §2), so the report's reply comes first and the FETCH's is read by fetch_reply(). The
  // connection stays busy in between.
  asio::awaitable<Result<void>> report_then_fetch(Result<std::string> report, std::string_view verb,
                                                  Result<std::string> fetch_line) {
    if (!report) co_return report.error();
    if (!fetch_line) co_return fetch_line.error();
    std::string both = std::move(*report);
    both += *fetch_line;
    if (auto sent = co_await send(both, verb, Clock::now() + options.command_timeout); !sent) {
      co_return sent.error();
    }
    auto reply = co_await receive(verb, Clock::now() + options.command_timeout);
    if (!reply) {
      busy = false;  // the connection is gone, and the FETCH with it
      co_return reply.error();
    }
    fetch_pending = true;
    co_return expect_ok(verb, *reply);
  }

  asio::awaitable<Result<std::optional<std::string>>> fetch_reply() {
    if (!fetch_pending) {
      co_return Error(errc::invalid_argument,
                      "fetch_reply() without a FETCH sent by ack_then_fetch/fail_then_fetch");
    }
    fetch_pending = false;
    auto reply = co_await receive("FETCH", Clock::now() + options.fetch_timeout);
    busy = false;
    co_return replies::fetched_payload(std::move(reply));
  }

  asio::awaitable<Result<std::optional<Job>>> fetch(Result<std::string> line) {
    co_return replies::fetched_job(co_await fetch_raw(std::move(line)));
  }

  asio::awaitable<Result<WorkerState>> beat(Result<std::string> line) {
    if (!line) co_return line.error();
    auto reply = co_await round_trip(*line, "BEAT", options.command_timeout);
    if (!reply) co_return reply.error();
    co_return replies::beat_state(*reply);
  }

  asio::awaitable<Result<void>> connect() {
    connection.close();
    busy = false;
    fetch_pending = false;
    const auto deadline = Clock::now() + options.connect_timeout;
    if (options.url.tls && !options.tls_context) {
      // A client given no shared context builds its own once (the daemon shares one).
      auto context = TlsContext::create(options.tls);
      if (!context) co_return context.error();
      options.tls_context = *context;
    }
    auto opened = co_await connection.open(options.url, options.tls, options.tls_context, deadline);
    if (!opened) co_return opened.error();

    auto hello =
        replies::hello_for(co_await connection.read_reply("the greeting", deadline), options);
    if (!hello) {
      connection.close();
      co_return hello.error();
    }
    auto written = co_await connection.write(*hello, "HELLO", deadline);
    if (!written) co_return written.error();
    auto accepted =
        replies::hello_accepted(co_await connection.read_reply("HELLO", deadline), options);
    if (!accepted) connection.close();
    co_return accepted;
  }
};

Client::Client(asio::any_io_executor executor, ClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(executor), std::move(options))) {}
Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

const ClientOptions& Client::options() const noexcept {
  return impl_->options;
}
bool Client::is_connected() const noexcept {
  return impl_->connection.is_open();
}
bool Client::closed_by_peer() const noexcept {
  return impl_->connection.closed_by_peer();
}
void Client::close() noexcept {
  impl_->connection.close();
}

asio::awaitable<Result<void>> Client::connect() {
  return impl_->connect();
}

asio::awaitable<Result<void>> Client::push(const Job& job) {
  return impl_->simple(commands::push(job), "PUSH");
}

// The public commands format their line before returning the awaitable: a caller may
// co_spawn it or await it later, after the arguments (spans, temporaries) are gone.
asio::awaitable<Result<std::map<std::string, std::string>>> Client::push_bulk(
    std::span<const Job> jobs) {
  return impl_->push_bulk(commands::pushb(jobs));
}

asio::awaitable<Result<std::optional<std::string>>> Client::fetch_raw(
    std::span<const std::string> queues) {
  return impl_->fetch_raw(commands::fetch(queues));
}

asio::awaitable<Result<std::optional<Job>>> Client::fetch(std::span<const std::string> queues) {
  return impl_->fetch(commands::fetch(queues));
}

asio::awaitable<Result<void>> Client::ack(std::string_view jid) {
  return impl_->simple(commands::ack(jid), "ACK");
}

asio::awaitable<Result<void>> Client::fail(const commands::FailArgs& failure) {
  return impl_->simple(commands::fail(failure), "FAIL");
}

asio::awaitable<Result<void>> Client::ack_then_fetch(std::string_view jid,
                                                     std::span<const std::string> queues) {
  return impl_->report_then_fetch(commands::ack(jid), "ACK", commands::fetch(queues));
}

asio::awaitable<Result<void>> Client::fail_then_fetch(const commands::FailArgs& failure,
                                                      std::span<const std::string> queues) {
  return impl_->report_then_fetch(commands::fail(failure), "FAIL", commands::fetch(queues));
}

asio::awaitable<Result<std::optional<std::string>>> Client::fetch_reply() {
  return impl_->fetch_reply();
}

bool Client::fetch_pending() const noexcept {
  return impl_->fetch_pending;
}

asio::awaitable<Result<WorkerState>> Client::beat(const commands::BeatArgs& beat) {
  return impl_->beat(commands::beat(beat));
}

asio::awaitable<Result<json::object>> Client::info() {
  auto reply = co_await impl_->round_trip(commands::info(), "INFO", impl_->options.command_timeout);
  if (!reply) co_return reply.error();
  co_return replies::info_object(*reply);
}

asio::awaitable<Result<void>> Client::flush() {
  return impl_->simple(commands::flush(), "FLUSH");
}

asio::awaitable<Result<void>> Client::queue(commands::QueueAction action,
                                            std::span<const std::string> names) {
  return impl_->simple(commands::queue(action, names), "QUEUE");
}

asio::awaitable<Result<void>> Client::mutate(const json::object& operation) {
  return impl_->simple(commands::mutate(operation), "MUTATE");
}

asio::awaitable<void> Client::end() {
  if (!impl_->connection.is_open() || impl_->busy) {
    impl_->connection.close();
    co_return;
  }
  // No reply comes: the server just closes (PROTOCOL.md §0.1). Write, then close our side.
  (void)co_await impl_->connection.write(commands::end(), "END",
                                         Clock::now() + impl_->options.command_timeout);
  impl_->connection.close();
}

}  // namespace factotum::faktory
