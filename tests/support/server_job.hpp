// The job as the real server holds it: Faktory decodes every PUSH into the Go struct
// client.Job (dropping unknown keys, PROTOCOL.md §0.7) and re-encodes that struct, so the
// fetched payload has a fixed key order and Go's formatting (transcripts 03, 05, 06).
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace factotum::testing::detail {

struct Failure {
  std::int64_t retry_count = 0;
  std::int64_t remaining = 0;
  std::string failed_at;
  std::string next_at;  // empty for dead jobs (omitted)
  std::string message;
  std::string errtype;
  std::vector<std::string> backtrace;  // empty = omitted
};

struct Job {
  std::optional<std::int64_t> retry;  // nullopt until the server default is applied
  std::optional<Failure> failure;
  boost::json::object custom;  // empty = omitted (Go omitempty on a map)
  std::string jid;
  std::string queue;
  std::string jobtype;
  std::string created_at;
  std::string enqueued_at;
  std::string at;
  std::optional<boost::json::array> args;  // nullopt = Go nil slice ("must have an args")
  std::int64_t reserve_for = 0;
  std::int64_t backtrace = 0;
};

// Decodes one JSON value into `job` with Go's encoding/json rules: keys matched
// case-insensitively, unknown keys ignored, null leaves a field alone, a type mismatch is
// remembered (first one wins, `first_error`, e.g. "json: cannot unmarshal string into Go
// struct field Job.retry of type int") while the other fields are still decoded.
// A value that is not an object gives "json: cannot unmarshal array into Go value of type
// client.Job"; null decodes to nothing.
void decode_job(const boost::json::value& v, Job& job, std::string& first_error);

// Re-encodes a stored job in client.Job field order: retry, failure, custom, jid, queue,
// jobtype, created_at, enqueued_at, at, args, reserve_for, backtrace.
std::string encode_job(const Job& job);

// Decodes `v` into a Go struct described by `fields`, for the small command payloads
// (HELLO, BEAT, FAIL, MUTATE). Returns the first type error ("json: cannot unmarshal string
// into Go struct field ClientBeat.rss_kb of type int64") or "" when everything fit.
struct GoUint8 {
  std::int64_t value = 0;  // a Go uint8 (HELLO's "v": 0-255, else the HELLO is rejected)
};
struct GoField;
using GoTarget = std::variant<std::string*, std::int64_t*, GoUint8*, std::vector<std::string>*,
                              const std::vector<GoField>*>;
struct GoField {
  const char* name;
  GoTarget target;
  bool* present = nullptr;  // set when the key was seen with a non-null value
};
std::string decode_struct(const boost::json::value& v, const std::vector<GoField>& fields,
                          const char* struct_name, const char* top_type);

}  // namespace factotum::testing::detail
