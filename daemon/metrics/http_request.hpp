// How the metrics server reads and answers one request, without a socket: the parser's limits,
// the reply to a request the parser refused, and the reply to one it read. http_server.cpp
// runs it on connections; the fuzz target (tests/fuzz/fuzz_http_request.cpp) on bytes.
// Internal to the metrics module: includes Beast.
#pragma once

#include "metrics/http_server.hpp"

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <optional>

namespace factotum::metrics {

using HttpRequestParser = boost::beast::http::request_parser<boost::beast::http::empty_body>;
using HttpRequest = boost::beast::http::request<boost::beast::http::empty_body>;
using HttpReply = boost::beast::http::response<boost::beast::http::string_body>;

// Limits a fresh parser as the server does: `max_request_bytes` for the request line and the
// headers (431 past it), and no body at all (a Content-Length > 0 fails before the body is
// read: 413).
void limit_request(HttpRequestParser& parser, std::size_t max_request_bytes);

// The reply to a request the parser refused with `ec` (431, 413 or 400); none when there is no
// one to answer (the peer closed, the request timed out, the server is stopping).
std::optional<HttpReply> rejection(const boost::beast::error_code& ec);

// The reply to a request whose header was read but whose body is still to come (chunked: a
// body of unknown length): 413.
HttpReply body_refused();

// The reply to a request read whole: the handler's for GET and HEAD (HEAD without the body but
// with the GET's Content-Length; 500 when the handler throws), 405 with Allow for any other
// method. Keep-alive as the request asks.
HttpReply respond(const HttpRequest& request, const HttpServer::Handler& handler);

}  // namespace factotum::metrics
