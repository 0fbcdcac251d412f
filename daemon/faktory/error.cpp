#include "faktory/error.hpp"

namespace factotum::faktory {
namespace {

// Boost's error_category has a protected non-virtual destructor by design (categories are
// static singletons, never deleted through a base pointer), which -Wnon-virtual-dtor flags.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class FaktoryCategory final : public boost::system::error_category {
 public:
  // A fixed id keeps equality working even if two copies of the category object end up in
  // one process (static library linked into several shared objects).
  FaktoryCategory() noexcept : boost::system::error_category(0x6661'6b74'6f72'7901ULL) {}

  const char* name() const noexcept override { return "faktory"; }

  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::server_error:
        return "server error";
      case errc::malformed_reply:
        return "malformed reply";
      case errc::unexpected_reply:
        return "unexpected reply";
      case errc::connection_closed:
        return "connection closed";
      case errc::timeout:
        return "timeout";
      case errc::password_required:
        return "password required";
      case errc::invalid_password:
        return "invalid password";
      case errc::handshake_failed:
        return "handshake failed";
      case errc::invalid_url:
        return "invalid URL";
      case errc::invalid_argument:
        return "invalid argument";
      case errc::invalid_job:
        return "invalid job";
      case errc::tls_error:
        return "TLS error";
      case errc::not_connected:
        return "not connected";
    }
    return "unknown faktory error " + std::to_string(ev);
  }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& faktory_category() noexcept {
  static const FaktoryCategory category;
  return category;
}

boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), faktory_category()};
}

std::string Error::what() const {
  std::string out = code.message();
  if (!server_code.empty() || !message.empty()) out += ':';
  if (!server_code.empty()) {
    out += ' ';
    out += server_code;
  }
  if (!message.empty()) {
    out += ' ';
    out += message;
  }
  return out;
}

FaktoryError::FaktoryError(Error e) : std::runtime_error(e.what()), error_(std::move(e)) {}

void throw_exception_from_error(const Error& e, const boost::source_location& /*loc*/) {
  throw FaktoryError(e);
}

}  // namespace factotum::faktory
