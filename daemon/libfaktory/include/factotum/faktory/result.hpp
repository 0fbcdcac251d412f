/// @file
/// Errors as values: every call of the Faktory client returns a faktory::Result<T>, which holds
/// either the value or a faktory::Error carrying what went wrong (for a `-ERR` reply, the
/// server's own code word and text). Nothing in the client throws, except result::value() on an
/// error, for callers that prefer exceptions.
///
/// The types here are defined in this header, with no Boost in them, so that their layout is
/// the library's own and stays the same across Boost upgrades (see README, "ABI policy").
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

/// Marks what libfactotum-faktory exports; the rest of it is hidden (-fvisibility=hidden).
#define FACTOTUM_FAKTORY_API __attribute__((visibility("default")))

namespace faktory {

/// The kind of failure. New kinds may be added in a minor release: handle a default case.
enum class ErrorCode {
  server_error = 1,   ///< The server answered `-CODE message` (see error::server_code).
  malformed_reply,    ///< Bytes that are not the protocol Faktory speaks.
  unexpected_reply,   ///< A well-formed reply this command cannot get.
  connection_closed,  ///< The server closed the connection (possibly mid-reply).
  timeout,            ///< The connect, handshake or command deadline passed.
  password_required,  ///< The server asks for a password and none was given.
  invalid_password,   ///< The server refused the password.
  handshake_failed,   ///< No greeting, or an odd one, or the server closed during HELLO.
  invalid_url,        ///< The URL (given, or from FAKTORY_PROVIDER / FAKTORY_URL) is unusable.
  invalid_argument,   ///< The call asked for something that must not be sent (bad args JSON...).
  invalid_job,        ///< A job the server would refuse (jid too short, reserve_for > 1 day...).
  tls_error,          ///< TLS set-up or handshake failure (certificate, verification...).
  not_connected,      ///< No connection could be made (name resolution, refused, ...).
  other,              ///< Anything else (out of memory, an internal error): see the message.
};

/// A short phrase for a kind of failure ("server error", "timeout").
FACTOTUM_FAKTORY_API const char* to_string(ErrorCode code) noexcept;

/// What went wrong in a client call.
struct FACTOTUM_FAKTORY_API Error {
  /// The kind of failure.
  ErrorCode code = ErrorCode::other;
  /// For ErrorCode::server_error: the reply's code word ("ERR", "NOTUNIQUE", ...); empty otherwise.
  std::string server_code;
  /// What was wrong, for a human: the server's text for a `-ERR` reply, else a sentence that
  /// names the cause ("connecting to tcp://:***@jobs:7419: Connection refused").
  std::string message;

  /// One line for logs: "server error: ERR Job not found 123".
  std::string what() const;
};

/// Thrown by Result<T>::value() when the result holds an error.
class FACTOTUM_FAKTORY_API Exception : public std::runtime_error {
 public:
  /// Wraps an error; what() is Error::what().
  explicit Exception(Error e);
  /// Destroys the exception.
  ~Exception() override;
  /// The error this exception carries.
  const faktory::Error& error() const noexcept { return error_; }

 private:
  faktory::Error error_;
};

/// A value of type T, or the error that prevented it. Test it before use:
/// @code
///   auto info = client.info();
///   if (!info) { std::cerr << info.error().what() << "\n"; return 1; }
///   std::cout << info->server_version() << "\n";
/// @endcode
template <class T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::remove_cv_t<T>, Error>,
                "Result<Error> cannot tell a value from an error");

 public:
  /// A successful result.
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  /// A failed result.
  Result(faktory::Error e) : state_(std::in_place_index<1>, std::move(e)) {}

  /// Whether the result holds a value.
  bool has_value() const noexcept { return state_.index() == 0; }
  /// Whether the result holds a value.
  explicit operator bool() const noexcept { return has_value(); }

  /// The value; throws faktory::Exception when the result holds an error.
  T& value() & { return check(), std::get<0>(state_); }
  /// The value; throws faktory::Exception when the result holds an error.
  const T& value() const& { return check(), std::get<0>(state_); }
  /// The value, moved out; throws faktory::Exception when the result holds an error. (By
  /// value: `for (auto& x : f().value())` must not refer into a destroyed temporary.)
  T value() && { return check(), std::get<0>(std::move(state_)); }

  /// The value (precondition: has_value()).
  T& operator*() & noexcept { return *std::get_if<0>(&state_); }
  /// The value (precondition: has_value()).
  const T& operator*() const& noexcept { return *std::get_if<0>(&state_); }
  /// The value, moved out (precondition: has_value()).
  T operator*() && noexcept(std::is_nothrow_move_constructible_v<T>) {
    return std::move(*std::get_if<0>(&state_));
  }
  /// The value's members (precondition: has_value()).
  T* operator->() noexcept { return std::get_if<0>(&state_); }
  /// The value's members (precondition: has_value()).
  const T* operator->() const noexcept { return std::get_if<0>(&state_); }

  /// The error (precondition: !has_value()).
  const faktory::Error& error() const noexcept { return *std::get_if<1>(&state_); }

 private:
  void check() const {
    if (!has_value()) throw Exception(error());
  }
  std::variant<T, faktory::Error> state_;
};

/// Success or the error that prevented it.
template <>
class [[nodiscard]] Result<void> {
 public:
  /// A successful result.
  Result() = default;
  /// A failed result.
  Result(faktory::Error e) : error_(std::move(e)) {}

  /// Whether the call succeeded.
  bool has_value() const noexcept { return !error_.has_value(); }
  /// Whether the call succeeded.
  explicit operator bool() const noexcept { return has_value(); }
  /// Throws faktory::Exception when the result holds an error.
  void value() const {
    if (error_) throw Exception(*error_);
  }
  /// The error (precondition: !has_value()).
  const faktory::Error& error() const noexcept { return *error_; }

 private:
  std::optional<faktory::Error> error_;
};

}  // namespace faktory
