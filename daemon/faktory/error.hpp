// Errors of the Faktory client: an error_code for the kind of failure plus the text that
// explains it (the server's own words for a `-ERR` reply). A `-ERR` reply is data, not an
// exception (STYLE.md): every client call returns Result<T>.
#pragma once

#include <boost/assert/source_location.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace factotum::faktory {

enum class errc {
  server_error = 1,   // the server answered `-CODE message`
  malformed_reply,    // bytes that are not the RESP subset Faktory speaks (PROTOCOL.md §2)
  unexpected_reply,   // well-formed, but not a reply this command can get
  connection_closed,  // the server closed the connection (possibly mid-reply)
  timeout,            // connect, handshake or command deadline passed
  password_required,  // the server asked for a password and none is configured
  invalid_password,   // `-ERR Invalid password`
  handshake_failed,   // no/odd greeting, or the server closed during HELLO
  invalid_url,        // FAKTORY_URL / --url / faktory.url could not be used
  invalid_argument,   // the caller asked for a command that must not be sent (PROTOCOL.md §0.13)
  invalid_job,        // a job payload that is not a valid Faktory job
  tls_error,          // TLS set-up or handshake failure (certificate, verification, ...)
  not_connected,      // a command on a client that is not connected
};

}  // namespace factotum::faktory

// Specialised right after the enum, before any use, so error_code's converting constructor
// sees the same answer in every translation unit.
namespace boost::system {
template <>
struct is_error_code_enum<factotum::faktory::errc> : std::true_type {};
}  // namespace boost::system

namespace factotum::faktory {

// Category name "faktory"; message(ev) is a short phrase per errc ("server error").
const boost::system::error_category& faktory_category() noexcept;
boost::system::error_code make_error_code(errc e) noexcept;

// The error value every client call can return.
struct Error {
  boost::system::error_code code;
  // For errc::server_error: the reply's code word ("ERR", "NOTUNIQUE", ...); empty otherwise.
  std::string server_code;
  // Human-readable detail: the server's message for `-ERR`, or what was wrong.
  std::string message;

  Error() = default;
  Error(boost::system::error_code c, std::string msg, std::string server = {})
      : code(c), server_code(std::move(server)), message(std::move(msg)) {}
  Error(errc e, std::string msg) : Error(make_error_code(e), std::move(msg)) {}

  bool is(errc e) const noexcept { return code == make_error_code(e); }
  // One line for logs and exceptions: "server error: ERR Job not found 123".
  std::string what() const;
};

// Thrown by Result<T>::value() when it holds an error (start-up code and tests use it).
class FaktoryError : public std::runtime_error {
 public:
  explicit FaktoryError(Error e);
  const Error& error() const noexcept { return error_; }

 private:
  Error error_;
};

// Found by ADL from boost::system::result<T, Error>::value().
[[noreturn]] void throw_exception_from_error(const Error& e, const boost::source_location& loc);

template <class T>
using Result = boost::system::result<T, Error>;

}  // namespace factotum::faktory
