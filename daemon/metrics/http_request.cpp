#include "metrics/http_request.hpp"

#include "service/log.hpp"

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

namespace factotum::metrics {
namespace {

namespace http = boost::beast::http;

constexpr std::string_view kTextPlain = "text/plain; charset=utf-8";

HttpReply text_response(unsigned status, std::string_view content_type, std::string body,
                        unsigned version) {
  HttpReply response;
  response.version(version);
  response.result(status);  // throws above 999
  response.set(http::field::server, "factotum");
  response.set(http::field::content_type, content_type);
  response.body() = std::move(body);
  response.prepare_payload();  // Content-Length; throws for a body on a 1xx, 204 or 304
  return response;
}

// The reply to a GET or a HEAD. A handler that throws gets 500 and the connection goes on:
// one failing collector must not take the endpoint down with it.
HttpReply handler_response(const HttpServer::Handler& handler, std::string_view target,
                           unsigned version) {
  try {
    HttpResponse reply = handler(target);
    return text_response(reply.status, reply.content_type, std::move(reply.body), version);
  } catch (const std::exception& e) {
    // The exception's text stays out of the reply (whoever can reach the port need not learn
    // the daemon's internals); the log has it.
    service::Log::error("the metrics endpoint could not answer a request",
                        {{"target", target}, {"error", e.what()}});
    return text_response(500, kTextPlain, "internal error\n", version);
  } catch (...) {
    return text_response(500, kTextPlain, "internal error\n", version);
  }
}

}  // namespace

void limit_request(HttpRequestParser& parser, std::size_t max_request_bytes) {
  parser.header_limit(static_cast<std::uint32_t>(
      std::min<std::size_t>(max_request_bytes, std::numeric_limits<std::uint32_t>::max())));
  // We take no bodies: a Content-Length > 0 fails here, before the body is read (413).
  parser.body_limit(0);
}

std::optional<HttpReply> rejection(const boost::beast::error_code& ec) {
  if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
    return text_response(431, kTextPlain, "request header too large\n", 11);
  }
  if (ec == http::error::body_limit) return body_refused();
  if (ec == http::error::end_of_stream || ec == http::error::partial_message) return {};
  if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
    return text_response(400, kTextPlain, "malformed request\n", 11);
  }
  return {};
}

HttpReply body_refused() {
  return text_response(413, kTextPlain, "this server takes no request bodies\n", 11);
}

HttpReply respond(const HttpRequest& request, const HttpServer::Handler& handler) {
  const bool head = request.method() == http::verb::head;
  HttpReply response;
  if (head || request.method() == http::verb::get) {
    const std::string_view target(request.target().data(), request.target().size());
    response = handler_response(handler, target, request.version());
    if (head) response.body().clear();  // Content-Length stays the GET's
  } else {
    response =
        text_response(405, kTextPlain, "only GET and HEAD are served here\n", request.version());
    response.set(http::field::allow, "GET, HEAD");
  }
  // Connection: close, or HTTP/1.0 without keep-alive, ends the connection after this.
  response.keep_alive(request.keep_alive());
  return response;
}

}  // namespace factotum::metrics
