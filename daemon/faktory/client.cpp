#include "faktory/client.hpp"

#include "faktory/connection.hpp"
#include "faktory/handshake.hpp"
#include "faktory/tls_context.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace factotum::faktory {

namespace asio = boost::asio;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

ClientOptions ClientOptions::for_url(ServerUrl url) {
  ClientOptions options;
  options.url = std::move(url);
  return options;
}

std::string_view to_string(WorkerState state) noexcept {
  switch (state) {
    case WorkerState::running:
      return "running";
    case WorkerState::quiet:
      return "quiet";
    case WorkerState::terminate:
      return "terminate";
  }
  return "running";
}

bool is_unknown_worker(const Error& error) noexcept {
  // The server says "unknown worker <wid>" since 2022 and "Unknown worker" before; compare
  // without case (faktory_worker_go's case-sensitive check never matches; PROTOCOL.md §4).
  if (!error.is(errc::server_error)) return false;
  constexpr std::string_view kPrefix = "unknown worker";
  if (error.message.size() < kPrefix.size()) return false;
  for (std::size_t i = 0; i < kPrefix.size(); ++i) {
    const char c = error.message[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != kPrefix[i]) return false;
  }
  return true;
}

namespace {

std::string describe(const Reply& reply) {
  switch (reply.kind) {
    case Reply::Kind::simple:
      return "+" + reply.text.substr(0, 80);
    case Reply::Kind::error:
      return "-" + reply.text.substr(0, 80);
    case Reply::Kind::bulk:
      return "a bulk string of " + std::to_string(reply.text.size()) + " bytes";
    case Reply::Kind::null:
      return "a null bulk string";
  }
  return "?";
}

Error unexpected(std::string_view command, std::string_view expected, const Reply& reply) {
  return Error(errc::unexpected_reply, "unexpected reply to " + std::string(command) +
                                           ": expected " + std::string(expected) + ", got " +
                                           describe(reply));
}

Result<void> expect_ok(std::string_view command, const Reply& reply) {
  if (reply.is_ok()) return {};
  if (reply.kind == Reply::Kind::error) return reply.to_error();
  return unexpected(command, "+OK", reply);
}

Result<json::object> parse_object(std::string_view command, std::string_view text) {
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec || !value.is_object()) {
    return Error(errc::unexpected_reply, "the reply to " + std::string(command) +
                                             " is not a JSON object" +
                                             (ec ? ": " + ec.message() : std::string()));
  }
  return std::move(value.as_object());
}

}  // namespace

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
    if (reply && reply->kind == Reply::Kind::error && server_closes_after(*reply)) {
      // The server says this and hangs up: report a broken connection (callers reconnect and
      // resend, DESIGN.md §3), keeping the server's words.
      connection.close();
      co_return Error(errc::connection_closed, options.url.redacted() + " answered " +
                                                   std::string(verb) + " with -" + reply->text +
                                                   " and closed the connection");
    }
    co_return reply;
  }

  // -ERR replies after which the server closes the connection (PROTOCOL.md §3.6-7,
  // transcript 14).
  static bool server_closes_after(const Reply& reply) {
    const auto message = reply.error_message();
    return message == "shutdown in progress" || message.starts_with("too many connections") ||
           message == "redis: client is closed";
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
    if (reply->kind == Reply::Kind::error) co_return reply->to_error();
    if (reply->kind != Reply::Kind::bulk) co_return unexpected("PUSHB", "a JSON map", *reply);
    auto object = parse_object("PUSHB", reply->text);
    if (!object) co_return object.error();
    std::map<std::string, std::string> refused;
    for (const auto& [jid, reason] : *object) {
      refused.emplace(std::string(jid), reason.is_string() ? std::string(reason.get_string())
                                                           : json::serialize(reason));
    }
    co_return refused;
  }

  asio::awaitable<Result<std::optional<std::string>>> fetch_raw(Result<std::string> line) {
    if (!line) co_return line.error();
    auto reply = co_await round_trip(*line, "FETCH", options.fetch_timeout);
    co_return fetched_payload(std::move(reply));
  }

  static Result<std::optional<std::string>> fetched_payload(Result<Reply> reply) {
    if (!reply) return reply.error();
    switch (reply->kind) {
      case Reply::Kind::bulk:
        return std::optional<std::string>(std::move(reply->text));
      case Reply::Kind::null:
        return std::optional<std::string>();
      case Reply::Kind::error:
        return reply->to_error();
      case Reply::Kind::simple:
        break;
    }
    return unexpected("FETCH", "a job or $-1", *reply);
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
    co_return fetched_payload(std::move(reply));
  }

  asio::awaitable<Result<std::optional<Job>>> fetch(Result<std::string> line) {
    auto raw = co_await fetch_raw(std::move(line));
    if (!raw) co_return raw.error();
    if (!*raw) co_return std::optional<Job>();
    auto job = Job::parse(**raw);
    if (!job) {
      co_return Error(errc::invalid_job,
                      "FETCH returned a job that cannot be used: " + job.error().message);
    }
    co_return std::optional<Job>(std::move(*job));
  }

  asio::awaitable<Result<WorkerState>> beat(Result<std::string> line) {
    if (!line) co_return line.error();
    auto reply = co_await round_trip(*line, "BEAT", options.command_timeout);
    if (!reply) co_return reply.error();
    if (reply->is_ok()) co_return WorkerState::running;
    if (reply->kind == Reply::Kind::error) co_return reply->to_error();
    // A state change comes as a bulk string; accept a simple string too (PROTOCOL.md §0.2).
    if (reply->kind == Reply::Kind::null) co_return unexpected("BEAT", "+OK or a state", *reply);
    auto object = parse_object("BEAT", reply->text);
    if (!object) co_return object.error();
    const auto* state = object->if_contains("state");
    if (state && state->is_string()) {
      if (state->get_string() == "quiet") co_return WorkerState::quiet;
      if (state->get_string() == "terminate") co_return WorkerState::terminate;
      if (state->get_string() == "running") co_return WorkerState::running;
    }
    co_return unexpected("BEAT", "{\"state\":\"quiet\"|\"terminate\"}", *reply);
  }

  asio::awaitable<Result<void>> connect() {
    connection.close();
    busy = false;
    fetch_pending = false;
    const auto deadline = Clock::now() + options.connect_timeout;
    if (options.url.tls && !options.tls_context) {
      auto context = TlsContext::create(options.tls);
      if (!context) co_return context.error();
      options.tls_context = *context;
    }
    auto opened = co_await connection.open(options.url, options.tls, options.tls_context, deadline);
    if (!opened) co_return opened.error();

    auto greeting_reply = co_await connection.read_reply("the greeting", deadline);
    if (!greeting_reply) {
      auto err = greeting_reply.error();
      if (!options.url.tls && (err.is(errc::connection_closed) || err.is(errc::timeout))) {
        err.message += " (no +HI greeting: if the server uses TLS, use a tcp+tls:// URL)";
      }
      co_return err;
    }
    auto greeting = parse_greeting(*greeting_reply);
    if (!greeting) {
      connection.close();
      co_return greeting.error();
    }

    const auto& password = options.password ? options.password : options.url.password;
    auto hello = hello_command(*greeting, options.identity, password);
    if (!hello) {
      connection.close();
      co_return hello.error();
    }
    auto written = co_await connection.write(*hello, "HELLO", deadline);
    if (!written) co_return written.error();
    auto reply = co_await connection.read_reply("HELLO", deadline);
    if (!reply) {
      auto err = reply.error();
      if (err.is(errc::connection_closed)) {
        // The server closes without a word on a HELLO it cannot decode (PROTOCOL.md §3.5).
        co_return Error(errc::handshake_failed, err.message + " (the server rejected HELLO)");
      }
      co_return err;
    }
    if (reply->is_ok()) co_return Result<void>{};
    connection.close();
    if (reply->kind == Reply::Kind::error && reply->error_message() == "Invalid password") {
      co_return Error(errc::invalid_password, "the Faktory server at " + options.url.redacted() +
                                                  " rejected the password (-ERR Invalid password)");
    }
    if (reply->kind == Reply::Kind::error) co_return reply->to_error();
    co_return unexpected("HELLO", "+OK", *reply);
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
  if (reply->kind == Reply::Kind::error) co_return reply->to_error();
  if (reply->kind != Reply::Kind::bulk) co_return unexpected("INFO", "a JSON document", *reply);
  co_return parse_object("INFO", reply->text);
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
