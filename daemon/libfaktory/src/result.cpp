// faktory::Error and faktory::Exception, and the mapping from the internal client's errors.
#include "internal.hpp"

#include <boost/asio/error.hpp>
#include <boost/system/errc.hpp>

namespace faktory {

const char* to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::server_error:
      return "server error";
    case ErrorCode::malformed_reply:
      return "malformed reply";
    case ErrorCode::unexpected_reply:
      return "unexpected reply";
    case ErrorCode::connection_closed:
      return "connection closed";
    case ErrorCode::timeout:
      return "timeout";
    case ErrorCode::password_required:
      return "password required";
    case ErrorCode::invalid_password:
      return "invalid password";
    case ErrorCode::handshake_failed:
      return "handshake failed";
    case ErrorCode::invalid_url:
      return "invalid URL";
    case ErrorCode::invalid_argument:
      return "invalid argument";
    case ErrorCode::invalid_job:
      return "invalid job";
    case ErrorCode::tls_error:
      return "TLS error";
    case ErrorCode::not_connected:
      return "not connected";
    case ErrorCode::other:
      break;
  }
  return "error";
}

std::string Error::what() const {
  std::string out = to_string(code);
  if (!message.empty()) {
    out += ": ";
    if (!server_code.empty()) out += server_code + " ";
    out += message;
  }
  return out;
}

Exception::Exception(faktory::Error e) : std::runtime_error(e.what()), error_(std::move(e)) {}
Exception::~Exception() = default;

namespace detail {

Error make_error(ErrorCode code, std::string message) {
  Error e;
  e.code = code;
  e.message = std::move(message);
  return e;
}

Error to_public(const internal::Error& e) {
  static constexpr std::pair<internal::errc, ErrorCode> kCodes[] = {
      {internal::errc::server_error, ErrorCode::server_error},
      {internal::errc::malformed_reply, ErrorCode::malformed_reply},
      {internal::errc::unexpected_reply, ErrorCode::unexpected_reply},
      {internal::errc::connection_closed, ErrorCode::connection_closed},
      {internal::errc::timeout, ErrorCode::timeout},
      {internal::errc::password_required, ErrorCode::password_required},
      {internal::errc::invalid_password, ErrorCode::invalid_password},
      {internal::errc::handshake_failed, ErrorCode::handshake_failed},
      {internal::errc::invalid_url, ErrorCode::invalid_url},
      {internal::errc::invalid_argument, ErrorCode::invalid_argument},
      {internal::errc::invalid_job, ErrorCode::invalid_job},
      {internal::errc::tls_error, ErrorCode::tls_error},
      {internal::errc::not_connected, ErrorCode::not_connected},
  };
  Error out;
  out.code = ErrorCode::other;
  if (e.code.category() == internal::faktory_category()) {
    for (const auto& [from, to] : kCodes) {
      if (e.is(from)) out.code = to;
    }
  } else if (e.code == boost::asio::error::eof || e.code == boost::system::errc::connection_reset ||
             e.code == boost::system::errc::connection_aborted ||
             e.code == boost::system::errc::broken_pipe) {
    out.code = ErrorCode::connection_closed;
  } else {
    // A system error from name resolution or connect (refused, unreachable, unknown host).
    out.code = ErrorCode::not_connected;
  }
  out.server_code = e.server_code;
  // A system error (connection refused, ...) keeps its own words.
  out.message = e.message.empty() ? e.code.message() : e.message;
  if (out.code == ErrorCode::password_required) {
    // (The daemon's words name its configuration keys.)
    out.message =
        "the server requires a password: give it with Options::password() or in the "
        "URL (tcp://:PASSWORD@host:7419)";
  }
  return out;
}

}  // namespace detail
}  // namespace faktory
