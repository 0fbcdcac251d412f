#include "faktory/blocking_client.hpp"

#include "faktory/replies.hpp"
#include "faktory/sync_connection.hpp"
#include "faktory/tls_context.hpp"

#include <algorithm>

namespace factotum::faktory {

using Clock = std::chrono::steady_clock;

// The shortest reply a command can get: "+OK\r\n", "$-1\r\n".
constexpr std::size_t kShortestReply = 5;

// How long a report_then_fetch waits for a reply as long as the smallest job so far before it
// settles for the shortest possible one (LikelyReply): a few times the usual wait
// for a job, so a busy server's slower answers still come in one wake-up, within bounds that
// keep a reply shorter than the guess (the first of a smaller jobtype, an error) from being
// late by more than a moment. An empty queue's "$-1" comes after the server's 2 s FETCH block,
// long after the guess was given up.
constexpr auto kGuessAtLeast = std::chrono::milliseconds(2);
constexpr auto kGuessAtMost = std::chrono::milliseconds(50);
constexpr int kGuessPerUsualWait = 8;

namespace {

// The bytes a bulk reply of `payload` bytes takes on the wire up to its payload's end, which
// is when the reader returns it (RespReader::BulkEnd::before_crlf): "$N\r\n" and payload.
std::size_t bulk_reply_size(std::size_t payload) {
  std::size_t digits = 1;
  for (std::size_t n = payload; n >= 10; n /= 10) ++digits;
  return 1 + digits + 2 + payload;
}

// A job is run as soon as its payload is in (SyncConnection::read_reply).
constexpr auto kJobEnd = RespReader::BulkEnd::before_crlf;

}  // namespace

struct BlockingClient::Impl {
  ClientOptions options;
  SyncConnection connection;
  bool fetch_pending = false;  // report_then_fetch sent a FETCH whose reply is unread
  // What report_then_fetch expects, learned from the jobs this client fetched: the bytes of
  // the smallest job reply (0: none yet), and a moving average of how long the reply took.
  std::size_t smallest_job_reply = 0;
  Clock::duration usual_wait{};
  Clock::time_point fetch_sent;

  explicit Impl(ClientOptions opts) : options(std::move(opts)) {}

  Result<void> send(const std::string& bytes, std::string_view verb, Clock::time_point deadline) {
    if (fetch_pending) {
      return Error(errc::invalid_argument,
                   std::string(verb) + " issued before the reply to the pipelined FETCH was read");
    }
    if (!connection.is_open()) {
      return Error(errc::not_connected, "cannot send " + std::string(verb) + ": not connected to " +
                                            options.url.redacted());
    }
    return connection.write(bytes, verb, deadline);
  }

  // Reads the next reply; a reply after which the server hangs up becomes a closed connection.
  // `at_least`: see SyncConnection::read_reply.
  Result<Reply> receive(std::string_view verb, Clock::time_point deadline, std::size_t at_least = 1,
                        LikelyReply likely = {},
                        RespReader::BulkEnd bulk_end = RespReader::BulkEnd::with_crlf) {
    auto reply = connection.read_reply(verb, deadline, at_least, likely, bulk_end);
    if (reply && replies::server_closes_after(*reply)) {
      // Callers reconnect and resend (DESIGN.md §3); the server's words are kept.
      connection.close();
      return replies::closed_after(*reply, verb, options.url);
    }
    return reply;
  }

  Result<Reply> round_trip(const Result<std::string>& line, std::string_view verb,
                           std::chrono::milliseconds timeout) {
    if (!line) return line.error();
    const auto deadline = Clock::now() + timeout;
    if (auto sent = send(*line, verb, deadline); !sent) return sent.error();
    return receive(verb, deadline);
  }

  Result<void> simple(const Result<std::string>& line, std::string_view verb) {
    auto reply = round_trip(line, verb, options.command_timeout);
    if (!reply) return reply.error();
    return replies::expect_ok(verb, *reply);
  }

  // A report and the next FETCH in one write; Faktory answers strictly in order (PROTOCOL.md
  // §2), so the report's reply comes first and the FETCH's is read by fetch_reply().
  Result<void> report_then_fetch(const Result<std::string>& report, std::string_view verb,
                                 const Result<std::string>& fetch_line) {
    if (!report) return report.error();
    if (!fetch_line) return fetch_line.error();
    std::string both;
    both.reserve(report->size() + fetch_line->size());
    both += *report;
    both += *fetch_line;
    const auto now = Clock::now();
    if (auto sent = send(both, verb, now + options.command_timeout); !sent) return sent.error();
    fetch_sent = now;
    // Wake once for the report's reply and the start of the FETCH's: at least "+OK\r\n"
    // and "$-1\r\n" (an error reply is longer), 10 bytes. But Faktory writes a job's "$N\r\n"
    // before its payload, so a wake-up for 10 bytes is often followed by a second one for the
    // payload: while it is worth it, wait for "+OK\r\n" and a job as long as the smallest so
    // far. That wait includes the server's FETCH block, so it gets the FETCH's deadline.
    const auto deadline = now + std::max(options.command_timeout, options.fetch_timeout);
    LikelyReply likely;
    if (smallest_job_reply > 0) {
      likely.bytes = kShortestReply + smallest_job_reply;
      likely.within =
          std::clamp<Clock::duration>(usual_wait * kGuessPerUsualWait, kGuessAtLeast, kGuessAtMost);
    }
    auto reply = receive(verb, deadline, kShortestReply * 2, likely);
    if (!reply) return reply.error();  // the connection is gone, and the FETCH with it
    fetch_pending = true;
    return replies::expect_ok(verb, *reply);
  }

  // A job reply of `payload` bytes came in answer to report_then_fetch. A wait longer than
  // any guess is given (a job that came during the server's FETCH block) says nothing about
  // how long a busy server takes, so it is not learned from.
  void learn_from_job(std::size_t payload) {
    const std::size_t bytes = bulk_reply_size(payload);
    if (smallest_job_reply == 0 || bytes < smallest_job_reply) smallest_job_reply = bytes;
    const auto waited = Clock::now() - fetch_sent;
    if (waited <= kGuessAtMost) usual_wait += (waited - usual_wait) / 8;
  }

  Result<void> connect() {
    connection.close();
    fetch_pending = false;
    const auto deadline = Clock::now() + options.connect_timeout;
    if (options.url.tls && !options.tls_context) {
      // A client given no shared context builds its own once (the daemon shares one).
      auto context = TlsContext::create(options.tls);
      if (!context) return context.error();
      options.tls_context = *context;
    }
    if (auto opened = connection.open(options.url, options.tls, options.tls_context, deadline);
        !opened) {
      return opened.error();
    }
    auto hello = replies::hello_for(connection.read_reply("the greeting", deadline), options);
    if (!hello) {
      connection.close();
      return hello.error();
    }
    if (auto written = connection.write(*hello, "HELLO", deadline); !written) {
      return written.error();
    }
    auto accepted = replies::hello_accepted(connection.read_reply("HELLO", deadline), options);
    if (!accepted) connection.close();
    return accepted;
  }
};

BlockingClient::BlockingClient(ClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
BlockingClient::~BlockingClient() = default;

const ClientOptions& BlockingClient::options() const noexcept {
  return impl_->options;
}
Result<void> BlockingClient::connect() {
  return impl_->connect();
}
bool BlockingClient::is_connected() const noexcept {
  return impl_->connection.is_open();
}

bool BlockingClient::closed_by_peer() const noexcept {
  return impl_->connection.closed_by_peer();
}
Result<void> BlockingClient::push(const Job& job) {
  return impl_->simple(commands::push(job), "PUSH");
}
Result<std::map<std::string, std::string>> BlockingClient::push_bulk(std::span<const Job> jobs) {
  auto reply = impl_->round_trip(commands::pushb(jobs), "PUSHB", impl_->options.command_timeout);
  if (!reply) return reply.error();
  return replies::pushb_refusals(*reply);
}
Result<std::optional<std::string>> BlockingClient::fetch_raw(std::span<const std::string> queues) {
  return replies::fetched_payload(
      impl_->round_trip(commands::fetch(queues), "FETCH", impl_->options.fetch_timeout));
}
Result<std::optional<Job>> BlockingClient::fetch(std::span<const std::string> queues) {
  return replies::fetched_job(fetch_raw(queues));
}
Result<void> BlockingClient::ack(std::string_view jid) {
  return impl_->simple(commands::ack(jid), "ACK");
}
Result<void> BlockingClient::fail(const commands::FailArgs& failure) {
  return impl_->simple(commands::fail(failure), "FAIL");
}
Result<void> BlockingClient::ack_then_fetch(std::string_view jid,
                                            std::span<const std::string> queues) {
  return impl_->report_then_fetch(commands::ack(jid), "ACK", commands::fetch(queues));
}
Result<void> BlockingClient::fail_then_fetch(const commands::FailArgs& failure,
                                             std::span<const std::string> queues) {
  return impl_->report_then_fetch(commands::fail(failure), "FAIL", commands::fetch(queues));
}
Result<std::optional<std::string>> BlockingClient::fetch_reply() {
  if (!impl_->fetch_pending) {
    return Error(errc::invalid_argument,
                 "fetch_reply() without a FETCH sent by ack_then_fetch/fail_then_fetch");
  }
  impl_->fetch_pending = false;
  auto payload = replies::fetched_payload(impl_->receive(
      "FETCH", Clock::now() + impl_->options.fetch_timeout, kShortestReply, {}, kJobEnd));
  if (payload && *payload) impl_->learn_from_job((*payload)->size());
  return payload;
}
bool BlockingClient::fetch_pending() const noexcept {
  return impl_->fetch_pending;
}
Result<WorkerState> BlockingClient::beat(const commands::BeatArgs& beat) {
  auto reply = impl_->round_trip(commands::beat(beat), "BEAT", impl_->options.command_timeout);
  if (!reply) return reply.error();
  return replies::beat_state(*reply);
}
Result<boost::json::object> BlockingClient::info() {
  auto reply = impl_->round_trip(commands::info(), "INFO", impl_->options.command_timeout);
  if (!reply) return reply.error();
  return replies::info_object(*reply);
}
Result<void> BlockingClient::flush() {
  return impl_->simple(commands::flush(), "FLUSH");
}
Result<void> BlockingClient::queue(commands::QueueAction action,
                                   std::span<const std::string> names) {
  return impl_->simple(commands::queue(action, names), "QUEUE");
}
Result<void> BlockingClient::mutate(const boost::json::object& operation) {
  return impl_->simple(commands::mutate(operation), "MUTATE");
}
void BlockingClient::end() {
  if (impl_->connection.is_open() && !impl_->fetch_pending) {
    // No reply comes: the server just closes (PROTOCOL.md §0.1). Write, then close our side.
    (void)impl_->connection.write(commands::end(), "END",
                                  Clock::now() + impl_->options.command_timeout);
  }
  impl_->connection.close();
}
void BlockingClient::close() noexcept {
  impl_->connection.close();
}
void BlockingClient::interrupt() const noexcept {
  impl_->connection.interrupt();
}

}  // namespace factotum::faktory
