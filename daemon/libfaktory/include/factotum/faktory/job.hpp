/// @file
/// A job to push: its type, arguments and options, built with chained setters.
#pragma once

#include "factotum/faktory/result.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

namespace faktory {

/// A JSON value given as text, for Job::args(): `faktory::RawJson{R"({"to":"bob"})"}`. It is
/// checked when the job is pushed.
struct RawJson {
  /// The JSON text of one value.
  std::string text;
};

namespace detail {
/// Appends a string (quoted and escaped), after a comma unless `array` is just "[".
FACTOTUM_FAKTORY_API void append_arg(std::string& array, std::string_view string);
/// Appends an integer, after a comma unless `array` is just "[".
FACTOTUM_FAKTORY_API void append_arg(std::string& array, std::int64_t number);
/// Appends an unsigned integer, after a comma unless `array` is just "[".
FACTOTUM_FAKTORY_API void append_arg(std::string& array, std::uint64_t number);
/// Appends a number (one that is not finite makes the push fail), after a comma unless
/// `array` is just "[".
FACTOTUM_FAKTORY_API void append_arg(std::string& array, double number);
/// Appends true or false, after a comma unless `array` is just "[".
FACTOTUM_FAKTORY_API void append_arg(std::string& array, bool boolean);
/// Appends JSON text as it is, after a comma unless `array` is just "[".
FACTOTUM_FAKTORY_API void append_arg(std::string& array, const RawJson& value);

/// Appends one argument of Job::args() as its JSON type.
template <class T>
void append_any(std::string& array, const T& value) {
  if constexpr (std::is_same_v<T, std::nullptr_t>) {
    append_arg(array, RawJson{"null"});
  } else if constexpr (std::is_same_v<T, char> || std::is_same_v<T, signed char> ||
                       std::is_same_v<T, unsigned char> || std::is_same_v<T, wchar_t> ||
                       std::is_same_v<T, char8_t> || std::is_same_v<T, char16_t> ||
                       std::is_same_v<T, char32_t>) {
    static_assert(!sizeof(T), "Job::args: pass a character as a string (\"A\") or an int");
  } else if constexpr (std::is_pointer_v<T> && std::is_convertible_v<T, const char*>) {
    // (A null C string is JSON null, not a crash in strlen.)
    if (value == nullptr) {
      append_arg(array, RawJson{"null"});
    } else {
      append_arg(array, std::string_view(value));
    }
  } else if constexpr (std::is_same_v<T, bool>) {
    append_arg(array, value);
  } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    append_arg(array, static_cast<std::int64_t>(value));
  } else if constexpr (std::is_integral_v<T>) {
    append_arg(array, static_cast<std::uint64_t>(value));
  } else if constexpr (std::is_floating_point_v<T>) {
    append_arg(array, static_cast<double>(value));
  } else if constexpr (std::is_same_v<T, RawJson>) {
    append_arg(array, value);
  } else {
    static_assert(std::is_convertible_v<const T&, std::string_view>,
                  "Job::args takes strings, numbers, bools and faktory::RawJson values");
    append_arg(array, std::string_view(value));
  }
}
}  // namespace detail

/// A job for Client::push(). Only the jobtype is required; the rest has the server's defaults
/// (queue "default", 25 retries, a reservation of 30 min) and a random 24-hex-digit jid.
/// @code
///   auto job = faktory::Job("send_email").args("bob@example.com", 3).queue("mail");
/// @endcode
/// Faktory Enterprise options (unique_for, expires_at, ...) go in custom(), as the server
/// reads them there.
///
/// Thread safety: a value type; distinct objects may be used concurrently, and one object may
/// be read (pushed) from several threads at once.
class FACTOTUM_FAKTORY_API Job {
 public:
  /// A job of this type with a new jid and no arguments.
  explicit Job(std::string_view jobtype);
  /// Destroys the job.
  ~Job();
  /// Copies the job, jid included.
  Job(const Job& other);
  /// Copies the job, jid included.
  Job& operator=(const Job& other);
  /// Moves the job.
  Job(Job&& other) noexcept;
  /// Moves the job.
  Job& operator=(Job&& other) noexcept;

  /// The arguments, in order: strings (a null `const char*` is null), integers,
  /// floating-point numbers, bools, nullptr (null) and faktory::RawJson values. Replaces
  /// earlier arguments.
  template <class... Args>
  Job& args(const Args&... values) {
    std::string array = "[";
    (detail::append_any(array, values), ...);
    array += ']';
    return args_json(array);
  }
  /// The arguments as the text of a JSON array, e.g. from a JSON library of your choice.
  /// Checked when the job is pushed (ErrorCode::invalid_argument): valid JSON, nested at most
  /// 1000 levels deep, no number beyond a double's range.
  Job& args_json(std::string_view array);
  /// The queue (default "default"). Names have no spaces.
  Job& queue(std::string_view name);
  /// Runs the job no earlier than this time (a scheduled job).
  Job& at(std::chrono::system_clock::time_point when);
  /// How many times the server retries the job after a failure (default 25). With 0 a failed
  /// job is dropped, with -1 it goes straight to the dead set.
  Job& retry(int times);
  /// How long a worker may hold the job before the server hands it out again (default 30 min,
  /// at most one day).
  Job& reserve_for(std::chrono::seconds duration);
  /// How many lines of a failure's backtrace workers should send (default 0). Faktory itself
  /// keeps what a worker sends, up to 50 lines, whatever this says.
  Job& backtrace(int lines);
  /// The job's `custom` object, as the text of a JSON object. Checked when the job is pushed.
  Job& custom_json(std::string_view object);
  /// Replaces the generated jid (at least 8 characters; keep it unique).
  Job& jid(std::string_view jid);

  /// The job's id.
  const std::string& jid() const noexcept;
  /// The job's type.
  const std::string& jobtype() const noexcept;
  /// The job as it will be pushed, as one line of JSON; ErrorCode::invalid_argument or
  /// ErrorCode::invalid_job when it cannot be.
  Result<std::string> to_json() const;

  /// Implementation details (the library's own).
  struct Impl;
  /// Implementation details (the library's own).
  const Impl& impl() const noexcept { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace faktory
