// Reads requests from the input the way the metrics server reads them from a connection: a
// parser limited by limit_request() (the server's 8 KiB of request line and headers, or 64 bytes
// so the limit is easy to reach), Beast's read_header loop over chunks whose sizes come from the
// input; then answers each as HttpServer's serve() does: rejection() for a parse error,
// body_refused() for a chunked body, respond() for a request read whole, with a handler that
// routes like Endpoint. Keep-alive requests follow one another; pipelined ones come from the
// same bytes. Any crash, any exception out of the server's code, or a reply other than the
// documented one is a bug.
#include "metrics/http_request.hpp"
#include "service/log.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using namespace factotum::metrics;

// A connection's reading side (Beast's SyncReadStream): the input in chunks, then EOF.
class Chunks {
 public:
  Chunks(std::string_view input, unsigned chunking) : input_(input), chunking_(chunking) {}

  template <class MutableBuffers>
  std::size_t read_some(const MutableBuffers& buffers, boost::system::error_code& ec) {
    if (offset_ == input_.size()) {
      ec = asio::error::eof;
      return 0;
    }
    ec = {};
    seed_ = seed_ * 1103515245u + 12345u;
    std::size_t chunk = input_.size();  // chunking 0: all there is at once
    if (chunking_ == 1) chunk = 1 + (seed_ >> 8) % 17;
    if (chunking_ == 2) chunk = 1 + (seed_ >> 8) % 512;
    if (chunking_ == 3) chunk = 4096;  // the server's read size between requests
    chunk = std::min({chunk, input_.size() - offset_, asio::buffer_size(buffers)});
    const std::size_t n = asio::buffer_copy(buffers, asio::buffer(input_.data() + offset_, chunk));
    offset_ += n;
    return n;
  }
  template <class MutableBuffers>
  std::size_t read_some(const MutableBuffers& buffers) {
    boost::system::error_code ec;
    const std::size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

 private:
  std::string_view input_;
  unsigned chunking_;
  std::size_t offset_ = 0;
  std::uint32_t seed_ = 1;
};

// Endpoint's routes (endpoint.cpp), and a collector that fails.
HttpResponse route(std::string_view target) {
  const std::string_view path = target.substr(0, target.find_first_of("?#"));
  if (path == "/metrics") {
    return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", "factotum_up 1\n"};
  }
  if (path == "/healthz") return HttpResponse{200, "text/plain; charset=utf-8", "ok\n"};
  if (path == "/boom") throw std::runtime_error("a collector failed");
  return HttpResponse{404, "text/plain; charset=utf-8",
                      "not found: this endpoint serves /metrics and /healthz\n"};
}

// The status and body a GET of `target` gets.
HttpResponse expected(std::string_view target) {
  try {
    return route(target);
  } catch (const std::exception&) {
    return HttpResponse{500, "", "internal error\n"};
  }
}

std::string serialized(const HttpReply& reply) {
  std::ostringstream out;
  out << reply;
  return out.str();
}

// A reply with the status wanted, that serializes to a status line and headers.
void check_reply(const HttpReply& reply, unsigned status) {
  if (reply.result_int() != status) std::abort();
  const std::string text = serialized(reply);
  if (text.rfind("HTTP/", 0) != 0 || text.find("\r\n\r\n") == std::string::npos) std::abort();
}

// A refusal: its status, its whole body announced, and the connection closed after it (refuse()
// sets keep-alive off before it writes).
void check_refusal(const std::optional<HttpReply>& reply, unsigned status) {
  if (!reply) std::abort();
  check_reply(*reply, status);
  if (reply->at(http::field::content_length) != std::to_string(reply->body().size())) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Below error: the 500 path's log line would flood the fuzzer's output.
  factotum::service::Log::set_level(static_cast<factotum::service::LogLevel>(0));
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  const std::size_t limit = (mode & 1) != 0 ? 64 : HttpServerOptions{}.max_request_bytes;
  Chunks connection(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1),
                    (mode >> 1) & 3u);
  beast::flat_buffer buffer;  // one per connection, as the server's

  for (int requests = 0; requests < 32; ++requests) {
    HttpRequestParser parser;
    limit_request(parser, limit);
    beast::error_code ec;
    http::read_header(connection, buffer, parser, ec);
    if (ec) {
      const auto reply = rejection(ec);
      if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
        check_refusal(reply, 431);
      } else if (ec == http::error::body_limit) {
        check_refusal(reply, 413);
      } else if (ec == http::error::end_of_stream || ec == http::error::partial_message) {
        if (reply) std::abort();  // the peer is gone: no one to answer
      } else {
        check_refusal(reply, 400);  // every other parse error is the client's
      }
      return 0;
    }
    if (!parser.is_header_done()) std::abort();
    if (!parser.is_done()) {  // chunked
      check_refusal(body_refused(), 413);
      return 0;
    }

    const HttpRequest& request = parser.get();
    const HttpReply reply = respond(request, route);
    const bool head = request.method() == http::verb::head;
    if (head || request.method() == http::verb::get) {
      const std::string_view target(request.target().data(), request.target().size());
      const HttpResponse want = expected(target);
      check_reply(reply, want.status);
      if (reply[http::field::content_length] != std::to_string(want.body.size())) std::abort();
      if (reply.body() != (head ? std::string() : want.body)) std::abort();
    } else {
      check_reply(reply, 405);
      if (reply[http::field::allow] != "GET, HEAD") std::abort();
    }
    if (reply.keep_alive() != request.keep_alive()) std::abort();
    if (!request.keep_alive()) return 0;  // the server closes
  }
  return 0;
}
