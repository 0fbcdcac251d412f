#include "metrics/endpoint.hpp"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <string_view>

namespace factotum::metrics {

namespace {

// The path of a request target ("/metrics?x=1" → "/metrics").
std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find_first_of("?#"));
}

}  // namespace

Endpoint::Endpoint(const HttpServerOptions& options, EndpointSources sources)
    : sources_(std::move(sources)) {
  server_ = std::make_unique<HttpServer>(options, [this](std::string_view target) {
    const std::string_view path = path_of(target);
    if (path == "/metrics") {
      std::vector<prometheus::MetricFamily> families;
      for (const auto& collect : sources_.collectors) collect(families);
      return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8",
                          prometheus::TextSerializer().Serialize(families)};
    }
    if (path == "/healthz") {
      const Health health = sources_.health ? sources_.health() : Health{};
      return HttpResponse{health.ok ? 200U : 503U, "text/plain; charset=utf-8",
                          (health.reason.empty() ? std::string("ok") : health.reason) + "\n"};
    }
    return HttpResponse{404, "text/plain; charset=utf-8",
                        "not found: this endpoint serves /metrics and /healthz\n"};
  });
}

Endpoint::~Endpoint() {
  server_.reset();
}

unsigned short Endpoint::port() const noexcept {
  return server_->port();
}

}  // namespace factotum::metrics
