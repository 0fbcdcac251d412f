/// @file
/// A job to push: its type, arguments and options, built with chained setters.
#pragma once

#include "factotum/faktory/result.hpp"

#include <chrono>
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
// Appends one argument (with its comma) to a JSON array under construction.
FACTOTUM_FAKTORY_API void append_arg(std::string& array, std::string_view string);
FACTOTUM_FAKTORY_API void append_arg(std::string& array, std::int64_t number);
FACTOTUM_FAKTORY_API void append_arg(std::string& array, std::uint64_t number);
FACTOTUM_FAKTORY_API void append_arg(std::string& array, double number);
FACTOTUM_FAKTORY_API void append_arg(std::string& array, bool boolean);
FACTOTUM_FAKTORY_API void append_arg(std::string& array, const RawJson& value);

template <class T>
void append_any(std::string& array, const T& value) {
  if constexpr (std::is_same_v<T, bool>) {
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
  ~Job();
  /// Copies the job, jid included.
  Job(const Job& other);
  /// Copies the job, jid included.
  Job& operator=(const Job& other);
  /// Moves the job.
  Job(Job&& other) noexcept;
  /// Moves the job.
  Job& operator=(Job&& other) noexcept;

  /// The arguments: strings, integers, floating-point numbers, bools and faktory::RawJson values,
  /// in order. Replaces earlier arguments.
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
  /// How many times the server retries the job after a failure (default 25; 0: fail to the
  /// dead set at once; -1: discard on failure).
  Job& retry(int times);
  /// How long a worker may hold the job before the server hands it out again (default 30 min,
  /// at most one day).
  Job& reserve_for(std::chrono::seconds duration);
  /// How many lines of a failure's backtrace the server keeps (default 0).
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
