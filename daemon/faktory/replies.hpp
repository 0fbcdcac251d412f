// What each reply means, sans-io: the steps of the handshake and the result of every command,
// decided from the Reply alone. The asynchronous Client (control thread) and the BlockingClient
// (a processor's own thread) only move bytes; both interpret replies here, so they cannot
// disagree about what the server said (PROTOCOL.md §2-§5).
#pragma once

#include "faktory/client_options.hpp"
#include "faktory/error.hpp"
#include "faktory/job.hpp"
#include "faktory/resp_reader.hpp"

#include <boost/json/object.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace factotum::faktory {

// What the server said to a BEAT (PROTOCOL.md §4).
enum class WorkerState { running, quiet, terminate };
std::string_view to_string(WorkerState state) noexcept;

// True for `-ERR unknown worker <wid>`: the server reaped this worker; HELLO again.
bool is_unknown_worker(const Error& error) noexcept;

namespace replies {

// -ERR replies after which the server closes the connection (PROTOCOL.md §3.6-7,
// transcript 14). Callers report a broken connection so the worker reconnects and resends.
bool server_closes_after(const Reply& reply);
// The error for such a reply: a closed connection that keeps the server's words.
Error closed_after(const Reply& reply, std::string_view verb, const ServerUrl& url);

// Handshake step 1: the greeting (or the error that replaced it) → the HELLO line to send.
// `tls` adds the hint that a silent plain-TCP connection is probably talking to a TLS server.
Result<std::string> hello_for(Result<Reply> greeting, const ClientOptions& options);
// Handshake step 2: the reply to HELLO. A close without a reply is the server rejecting HELLO
// (PROTOCOL.md §3.5); `-ERR Invalid password` gets a message that names the server.
Result<void> hello_accepted(Result<Reply> reply, const ClientOptions& options);

Error unexpected(std::string_view command, std::string_view expected, const Reply& reply);
// +OK, or the server's error.
Result<void> expect_ok(std::string_view command, const Reply& reply);
// FETCH: the job payload, std::nullopt for `$-1`.
Result<std::optional<std::string>> fetched_payload(Result<Reply> reply);
// FETCH, parsed: the job, or errc::invalid_job saying why it cannot be used.
Result<std::optional<Job>> fetched_job(Result<std::optional<std::string>> payload);
// BEAT: +OK or a state as a bulk (or simple) JSON string (PROTOCOL.md §0.2).
Result<WorkerState> beat_state(const Reply& reply);
// PUSHB: the jobs the server refused, by jid, with its reason.
Result<std::map<std::string, std::string>> pushb_refusals(const Reply& reply);
// INFO: the bulk JSON document.
Result<boost::json::object> info_object(const Reply& reply);

}  // namespace replies
}  // namespace factotum::faktory
