// faktory::Options, and the daemon client's settings it stands for.
#include "internal.hpp"

#include "faktory/url.hpp"

namespace faktory {

Options::Options() : impl_(std::make_unique<Impl>()) {}
Options::~Options() = default;
Options::Options(const Options& other) : impl_(std::make_unique<Impl>(*other.impl_)) {}
Options& Options::operator=(const Options& other) {
  if (this != &other) impl_ = std::make_unique<Impl>(*other.impl_);
  return *this;
}
// A moved-from Options keeps working (it holds the defaults), as a value type should.
Options::Options(Options&& other) noexcept : impl_(std::make_unique<Impl>()) {
  std::swap(impl_, other.impl_);
}
Options& Options::operator=(Options&& other) noexcept {
  std::swap(impl_, other.impl_);
  return *this;
}

Options& Options::url(std::string_view url) {
  impl_->url = std::string(url);
  return *this;
}
Options& Options::password(std::string_view password) {
  impl_->password = std::string(password);
  return *this;
}
Options& Options::tls_ca_file(std::string_view path) {
  impl_->tls.ca_file = std::string(path);
  return *this;
}
Options& Options::tls_client_certificate(std::string_view cert_file, std::string_view key_file) {
  impl_->tls.cert_file = std::string(cert_file);
  impl_->tls.key_file = std::string(key_file);
  return *this;
}
Options& Options::tls_server_name(std::string_view name) {
  impl_->tls.server_name = std::string(name);
  return *this;
}
Options& Options::tls_insecure_skip_verify() {
  impl_->tls.verify = false;
  return *this;
}
Options& Options::timeout(std::chrono::milliseconds timeout) {
  impl_->timeout = timeout;
  return *this;
}

namespace detail {

Result<internal::ClientOptions> client_options(const Options& options) {
  const Options::Impl& o = options.impl();
  if (o.timeout <= std::chrono::milliseconds::zero()) {
    return make_error(ErrorCode::invalid_argument, "the timeout must be positive");
  }
  std::optional<std::string_view> flag;
  if (o.url) flag = *o.url;
  auto url = internal::resolve_url(flag, internal::process_environment(), std::nullopt);
  if (!url) return to_public(url.error());
  auto out = internal::ClientOptions::for_url(std::move(*url));
  out.password = o.password;
  out.tls = o.tls;
  out.connect_timeout = o.timeout;
  out.command_timeout = o.timeout;
  // (A producer never FETCHes; kept consistent with the daemon all the same.)
  out.fetch_timeout = o.timeout + std::chrono::seconds(2);
  return out;
}

}  // namespace detail
}  // namespace faktory
