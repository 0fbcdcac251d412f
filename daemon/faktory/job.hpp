// The Faktory job payload (PROTOCOL.md §6). Known fields are typed members; every other
// top-level field is kept in `extra` so a job read from the server and written back loses
// nothing, and `custom` passes through untouched.
#pragma once

#include "faktory/error.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace factotum::faktory {

// Default retry count we always send explicitly (PROTOCOL.md §0.6: omitting it is unsafe).
inline constexpr int kDefaultRetry = 25;

// Server-written record of earlier failures (read-only for clients).
struct Failure {
  int retry_count = 0;
  int remaining = 0;
  std::string failed_at;
  std::string next_at;
  std::string message;
  std::string errtype;
  std::vector<std::string> backtrace;
};

struct Job {
  std::string jid;
  std::string jobtype;
  boost::json::array args;
  std::string queue = "default";
  std::optional<int> retry;  // serialize() writes kDefaultRetry when unset
  std::optional<std::int64_t> reserve_for;
  std::optional<std::string> at;  // RFC 3339
  std::optional<int> backtrace;
  std::optional<std::string> created_at;
  std::optional<std::string> enqueued_at;
  std::optional<boost::json::object> custom;
  std::optional<Failure> failure;
  boost::json::object extra;  // unknown top-level fields, kept verbatim

  // A new job with a generated jid and the default retry.
  static Job create(std::string jobtype, boost::json::array args = {},
                    std::string queue = "default");

  // Parses a job payload (a FETCH reply). Errors (errc::invalid_job) say which field is
  // wrong and why: not JSON, not an object, missing/empty jid or jobtype, args not an array,
  // a field of the wrong type.
  static Result<Job> parse(std::string_view json);
  // (By value: a caller done with the object moves it in, and a large args array is moved,
  // not copied.)
  static Result<Job> from_json(boost::json::object obj);

  // Checks what the server would reject at PUSH (jid >= 8 chars, jobtype, reserve_for <= 1 day).
  Result<void> validate() const;

  boost::json::object to_json() const;  // always carries an integer retry
  std::string serialize() const;        // compact single-line JSON (no CR/LF possible)
  // The same, with `args_json` (a JSON array, already text) as args: for a worker that keeps a
  // large job's args as text only.
  std::string serialize_with_args(std::string_view args_json) const;

 private:
  // to_json with `args_value` written as args.
  boost::json::object to_json_with_args(const boost::json::array& args_value) const;
};

}  // namespace factotum::faktory
