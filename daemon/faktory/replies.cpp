#include "faktory/replies.hpp"

#include "faktory/handshake.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace factotum::faktory {

namespace json = boost::json;

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

namespace replies {
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

bool server_closes_after(const Reply& reply) {
  if (reply.kind != Reply::Kind::error) return false;
  const auto message = reply.error_message();
  return message == "shutdown in progress" || message.starts_with("too many connections") ||
         message == "redis: client is closed";
}

Error closed_after(const Reply& reply, std::string_view verb, const ServerUrl& url) {
  return Error(errc::connection_closed, url.redacted() + " answered " + std::string(verb) +
                                            " with -" + reply.text + " and closed the connection");
}

Result<std::string> hello_for(Result<Reply> greeting, const ClientOptions& options) {
  if (!greeting) {
    auto err = greeting.error();
    if (!options.url.tls && (err.is(errc::connection_closed) || err.is(errc::timeout))) {
      err.message += " (no +HI greeting: if the server uses TLS, use a tcp+tls:// URL)";
    }
    return err;
  }
  auto parsed = parse_greeting(*greeting);
  if (!parsed) return parsed.error();
  const auto& password = options.password ? options.password : options.url.password;
  return hello_command(*parsed, options.identity, password);
}

Result<void> hello_accepted(Result<Reply> reply, const ClientOptions& options) {
  if (!reply) {
    auto err = reply.error();
    if (err.is(errc::connection_closed)) {
      // The server closes without a word on a HELLO it cannot decode (PROTOCOL.md §3.5).
      return Error(errc::handshake_failed, err.message + " (the server rejected HELLO)");
    }
    return err;
  }
  if (reply->is_ok()) return {};
  if (reply->kind == Reply::Kind::error && reply->error_message() == "Invalid password") {
    return Error(errc::invalid_password, "the Faktory server at " + options.url.redacted() +
                                             " rejected the password (-ERR Invalid password)");
  }
  if (reply->kind == Reply::Kind::error) return reply->to_error();
  return unexpected("HELLO", "+OK", *reply);
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

Result<std::optional<std::string>> fetched_payload(Result<Reply> reply) {
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

Result<std::optional<Job>> fetched_job(Result<std::optional<std::string>> payload) {
  if (!payload) return payload.error();
  if (!*payload) return std::optional<Job>();
  auto job = Job::parse(**payload);
  if (!job) {
    return Error(errc::invalid_job,
                 "FETCH returned a job that cannot be used: " + job.error().message);
  }
  return std::optional<Job>(std::move(*job));
}

Result<WorkerState> beat_state(const Reply& reply) {
  if (reply.is_ok()) return WorkerState::running;
  if (reply.kind == Reply::Kind::error) return reply.to_error();
  // A state change comes as a bulk string; accept a simple string too (PROTOCOL.md §0.2).
  if (reply.kind == Reply::Kind::null) return unexpected("BEAT", "+OK or a state", reply);
  auto object = parse_object("BEAT", reply.text);
  if (!object) return object.error();
  const auto* state = object->if_contains("state");
  if (state && state->is_string()) {
    if (state->get_string() == "quiet") return WorkerState::quiet;
    if (state->get_string() == "terminate") return WorkerState::terminate;
    if (state->get_string() == "running") return WorkerState::running;
  }
  return unexpected("BEAT", "{\"state\":\"quiet\"|\"terminate\"}", reply);
}

Result<std::map<std::string, std::string>> pushb_refusals(const Reply& reply) {
  if (reply.kind == Reply::Kind::error) return reply.to_error();
  if (reply.kind != Reply::Kind::bulk) return unexpected("PUSHB", "a JSON map", reply);
  auto object = parse_object("PUSHB", reply.text);
  if (!object) return object.error();
  std::map<std::string, std::string> refused;
  for (const auto& [jid, reason] : *object) {
    refused.emplace(std::string(jid), reason.is_string() ? std::string(reason.get_string())
                                                         : json::serialize(reason));
  }
  return refused;
}

Result<json::object> info_object(const Reply& reply) {
  if (reply.kind == Reply::Kind::error) return reply.to_error();
  if (reply.kind != Reply::Kind::bulk) return unexpected("INFO", "a JSON document", reply);
  return parse_object("INFO", reply.text);
}

}  // namespace replies
}  // namespace factotum::faktory
