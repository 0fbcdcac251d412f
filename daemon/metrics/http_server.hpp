// The metrics endpoint's HTTP server (Boost.Beast), on a thread of its own: it runs no plugin
// code, never touches a processor, and goes on answering while the control thread is wedged
// (so /healthz can say so). It answers GET and HEAD through a handler; everything else gets
// 405. Defences against slow or hostile clients: a cap on open connections (more are accepted
// and closed at once), a bound on the request size (431/413, then close), a deadline for each
// request to arrive whole, and an idle limit between keep-alive requests.
//
// Threading: construct and destroy on one thread; the handler runs on the server's thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace factotum::metrics {

struct HttpResponse {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

struct HttpServerOptions {
  std::string host;  // as written in metrics.listen: a name, an IPv4 or a bracket-less IPv6
  std::string port;  // "0": any free port (tests)
  std::size_t max_connections = 128;
  std::size_t max_request_bytes = 8 * 1024;           // request line and headers
  std::chrono::milliseconds request_timeout{10'000};  // for a request to arrive whole
  std::chrono::milliseconds idle_timeout{60'000};     // between keep-alive requests
  std::chrono::milliseconds write_timeout{10'000};    // for a response to be taken
};

class HttpServer {
 public:
  // Called for each GET or HEAD with the request target (path and query as sent).
  using Handler = std::function<HttpResponse(std::string_view target)>;

  // Resolves and binds the address, starts listening and the server's thread
  // ("factotum-http"). Throws std::runtime_error naming the address and the reason (address
  // in use, cannot be resolved, permission denied) if it cannot listen.
  HttpServer(const HttpServerOptions& options, Handler handler);
  // Stops accepting, closes every connection, joins the thread.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The port actually bound (the one asked for, or the one chosen for "0").
  unsigned short port() const noexcept;
  // Connections open right now (tests, metrics).
  std::size_t open_connections() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace factotum::metrics
