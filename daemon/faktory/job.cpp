#include "faktory/job.hpp"

#include "faktory/jid.hpp"
#include "faktory/quote.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

namespace factotum::faktory {
namespace {

namespace json = boost::json;

// Go's decoder has no small nesting limit; Boost.JSON's default is 32, which a job's args
// could exceed legitimately. Deep enough for real payloads, shallow enough for the stack.
constexpr std::size_t kMaxDepth = 256;

// PROTOCOL.md §6.
constexpr std::size_t kMinJidLength = 8;
constexpr std::int64_t kMaxReserveFor = 86400;

const char* type_name(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "boolean";
    case json::kind::int64:
    case json::kind::uint64:
      return "integer";
    case json::kind::double_:
      return "number";
    case json::kind::string:
      return "string";
    case json::kind::array:
      return "array";
    case json::kind::object:
      return "object";
  }
  return "value";
}

Error type_error(std::string_view field, std::string_view expected, const json::value& got) {
  std::string got_text = type_name(got);
  // A non-integral number is shown, since "expected an integer, got number" alone leaves the
  // reader wondering which number.
  if (got.is_double()) got_text += " " + json::serialize(got);
  return Error(errc::invalid_job, "job field '" + std::string(field) + "': expected " +
                                      std::string(expected) + ", got " + got_text);
}

Result<std::string> get_string(std::string_view field, const json::value& v) {
  if (!v.is_string()) return type_error(field, "a string", v);
  return std::string(v.get_string());
}

// Integers as Go decodes them: a JSON number without fraction or exponent that fits the
// target type ("25.0" fails there too).
template <class Int>
Result<Int> get_int(std::string_view field, const json::value& v) {
  if (v.is_int64()) {
    const std::int64_t n = v.get_int64();
    if (n >= std::numeric_limits<Int>::min() && n <= std::numeric_limits<Int>::max()) {
      return static_cast<Int>(n);
    }
  } else if (v.is_uint64()) {
    const std::uint64_t n = v.get_uint64();
    if (n <= static_cast<std::uint64_t>(std::numeric_limits<Int>::max())) {
      return static_cast<Int>(n);
    }
  } else {
    return type_error(field, "an integer", v);
  }
  return Error(errc::invalid_job, "job field '" + std::string(field) + "': integer " +
                                      json::serialize(v) + " is out of range");
}

Result<Failure> parse_failure(const json::object& obj) {
  Failure f;
  for (const auto& [key, value] : obj) {
    if (value.is_null()) continue;  // Go leaves the zero value for null
    const std::string field = "failure." + std::string(key);
    if (key == "retry_count" || key == "remaining") {
      auto n = get_int<int>(field, value);
      if (!n) return n.error();
      (key == "retry_count" ? f.retry_count : f.remaining) = *n;
    } else if (key == "failed_at" || key == "next_at" || key == "message" || key == "errtype") {
      auto s = get_string(field, value);
      if (!s) return s.error();
      (key == "failed_at" ? f.failed_at
       : key == "next_at" ? f.next_at
       : key == "message" ? f.message
                          : f.errtype) = std::move(*s);
    } else if (key == "backtrace") {
      if (!value.is_array()) return type_error(field, "an array of strings", value);
      for (const auto& line : value.get_array()) {
        if (!line.is_string()) return type_error(field + "[]", "a string", line);
        f.backtrace.emplace_back(line.get_string());
      }
    }
    // Other keys: the server writes none today; the record is read-only for clients, so
    // dropping unknown ones loses nothing we would send back.
  }
  return f;
}

json::object failure_to_json(const Failure& f) {
  json::object obj;
  obj["retry_count"] = f.retry_count;
  obj["remaining"] = f.remaining;
  // The server leaves out next_at for dead jobs and an empty backtrace (transcripts fact 9).
  if (!f.failed_at.empty()) obj["failed_at"] = f.failed_at;
  if (!f.next_at.empty()) obj["next_at"] = f.next_at;
  if (!f.message.empty()) obj["message"] = f.message;
  if (!f.errtype.empty()) obj["errtype"] = f.errtype;
  if (!f.backtrace.empty()) {
    json::array lines;
    lines.reserve(f.backtrace.size());
    for (const auto& line : f.backtrace) lines.emplace_back(line);
    obj["backtrace"] = std::move(lines);
  }
  return obj;
}

bool digits(std::string_view s, std::size_t pos, std::size_t count) {
  if (pos + count > s.size()) return false;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

int number(std::string_view s, std::size_t pos, std::size_t count) {
  int n = 0;
  for (std::size_t i = pos; i < pos + count; ++i) n = n * 10 + (s[i] - '0');
  return n;
}

// What Go's time.Parse(time.RFC3339Nano, ...) accepts (PROTOCOL.md §6): the server answers
// "invalid timestamp for 'at'" to anything else. YYYY-MM-DDTHH:MM:SS[.frac](Z|±hh:mm).
bool is_rfc3339(std::string_view s) {
  if (!digits(s, 0, 4) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2) || s[7] != '-' ||
      !digits(s, 8, 2) || s[10] != 'T' || !digits(s, 11, 2) || s[13] != ':' || !digits(s, 14, 2) ||
      s[16] != ':' || !digits(s, 17, 2)) {
    return false;
  }
  const int year = number(s, 0, 4);
  const int month = number(s, 5, 2);
  const int day = number(s, 8, 2);
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDays[month - 1]) return false;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month == 2 && day == 29 && !leap) return false;
  if (number(s, 11, 2) > 23 || number(s, 14, 2) > 59 || number(s, 17, 2) > 59) return false;
  std::size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    const std::size_t start = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start) return false;
  }
  if (i < s.size() && s[i] == 'Z') return i + 1 == s.size();
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    return i + 6 == s.size() && digits(s, i + 1, 2) && s[i + 3] == ':' && digits(s, i + 4, 2) &&
           number(s, i + 1, 2) <= 23 && number(s, i + 4, 2) <= 59;
  }
  return false;
}

bool is_optional_field(std::string_view key) {
  for (const std::string_view known : {"queue", "retry", "reserve_for", "at", "backtrace",
                                       "created_at", "enqueued_at", "custom", "failure"}) {
    if (key == known) return true;
  }
  return false;
}

}  // namespace

Job Job::create(std::string jobtype, boost::json::array args, std::string queue) {
  Job job;
  job.jid = generate_jid();
  job.jobtype = std::move(jobtype);
  job.args = std::move(args);
  job.queue = std::move(queue);
  job.retry = kDefaultRetry;
  return job;
}

Result<Job> Job::parse(std::string_view text) {
  json::parse_options options;
  options.max_depth = kMaxDepth;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec, {}, options);
  if (ec) {
    return Error(errc::invalid_job,
                 "job payload is not valid JSON (" + ec.message() + "): " + quote(text));
  }
  if (!v.is_object()) {
    return Error(errc::invalid_job,
                 std::string("job payload must be a JSON object, got ") + type_name(v));
  }
  return from_json(std::move(v.get_object()));
}

namespace {

// Boost.JSON 1.81 reads a number beyond the range of a double (1e400) as infinity, which no
// JSON text can hold: serialised again it would be a PUSH the server cannot parse (found by
// tests/fuzz/fuzz_job_parser). Go's decoder refuses such a number too.
bool holds_non_finite(const json::value& v) {
  if (v.is_double()) return !std::isfinite(v.get_double());
  if (v.is_array()) {
    for (const auto& item : v.get_array()) {
      if (holds_non_finite(item)) return true;
    }
  }
  if (v.is_object()) {
    for (const auto& [key, item] : v.get_object()) {
      if (holds_non_finite(item)) return true;
    }
  }
  return false;
}

}  // namespace

Result<Job> Job::from_json(boost::json::object obj) {
  const bool non_finite = std::any_of(
      obj.begin(), obj.end(), [](const auto& field) { return holds_non_finite(field.value()); });
  if (non_finite) {
    return Error(errc::invalid_job,
                 "job holds a number too large for a double (it would read as infinity)");
  }
  Job job;
  bool have_jid = false;
  bool have_jobtype = false;
  bool have_args = false;
  for (auto& [key_view, value] : obj) {
    const std::string_view key = key_view;
    if (key == "jid" || key == "jobtype") {
      auto s = get_string(key, value);
      if (!s) return s.error();
      if (s->empty()) {
        return Error(errc::invalid_job, "job field '" + std::string(key) + "' is empty");
      }
      (key == "jid" ? have_jid : have_jobtype) = true;
      (key == "jid" ? job.jid : job.jobtype) = std::move(*s);
    } else if (key == "args") {
      // PROTOCOL.md §6: args is required and must not be null ("[]" is fine).
      if (!value.is_array()) return type_error(key, "an array", value);
      job.args = std::move(value.get_array());
      have_args = true;
    } else if (value.is_null() && is_optional_field(key)) {
      continue;  // a known optional field set to null: Go keeps the zero value
    } else if (key == "queue") {
      auto s = get_string(key, value);
      if (!s) return s.error();
      job.queue = std::move(*s);
    } else if (key == "retry" || key == "backtrace") {
      auto n = get_int<int>(key, value);
      if (!n) return n.error();
      (key == "retry" ? job.retry : job.backtrace) = *n;
    } else if (key == "reserve_for") {
      auto n = get_int<std::int64_t>(key, value);
      if (!n) return n.error();
      job.reserve_for = *n;
    } else if (key == "at" || key == "created_at" || key == "enqueued_at") {
      auto s = get_string(key, value);
      if (!s) return s.error();
      (key == "at"           ? job.at
       : key == "created_at" ? job.created_at
                             : job.enqueued_at) = std::move(*s);
    } else if (key == "custom") {
      if (!value.is_object()) return type_error(key, "an object", value);
      job.custom = std::move(value.get_object());
    } else if (key == "failure") {
      if (!value.is_object()) return type_error(key, "an object", value);
      auto f = parse_failure(value.get_object());
      if (!f) return f.error();
      job.failure = std::move(*f);
    } else {
      job.extra.emplace(key, std::move(value));
    }
  }
  if (!have_jid) return Error(errc::invalid_job, "job is missing the required field 'jid'");
  if (!have_jobtype) {
    return Error(errc::invalid_job, "job " + job.jid + " is missing the required field 'jobtype'");
  }
  if (!have_args) {
    return Error(errc::invalid_job,
                 "job " + job.jid + " (" + job.jobtype + ") is missing the required field 'args'");
  }
  return job;
}

Result<void> Job::validate() const {
  // The checks and texts of the server's PUSH validation (PROTOCOL.md §6), with the jid and
  // jobtype added so a log line says which job it was.
  const auto non_finite = [](const auto& values) {
    return std::any_of(values.begin(), values.end(), [](const auto& item) {
      if constexpr (requires { item.value(); }) {
        return holds_non_finite(item.value());
      } else {
        return holds_non_finite(item);
      }
    });
  };
  if (non_finite(args) || (custom && non_finite(*custom))) {
    return Error(errc::invalid_job, "job " + jid + " (" + jobtype +
                                        ") holds a number that is infinite or not a number, "
                                        "which JSON cannot carry");
  }
  if (jid.size() < kMinJidLength) {
    return Error(errc::invalid_job, "job jid " + quote(jid) +
                                        " is too short: the server needs at least " +
                                        std::to_string(kMinJidLength) + " characters");
  }
  if (jobtype.empty()) {
    return Error(errc::invalid_job, "job " + jid + " has an empty jobtype");
  }
  if (reserve_for && *reserve_for > kMaxReserveFor) {
    return Error(errc::invalid_job,
                 "job " + jid + " (" + jobtype + "): reserve_for " + std::to_string(*reserve_for) +
                     " s is more than one day (86400 s), which the server rejects");
  }
  if (at && !at->empty() && !is_rfc3339(*at)) {
    return Error(errc::invalid_job,
                 "job " + jid + " (" + jobtype + "): 'at' " + quote(*at) +
                     " is not an RFC 3339 timestamp like 2026-01-02T15:04:05Z (the 'T' and a "
                     "zone, Z or +hh:mm, are required)");
  }
  return {};
}

boost::json::object Job::to_json() const {
  return to_json_with_args(args);
}

boost::json::object Job::to_json_with_args(const boost::json::array& args_value) const {
  // Key order follows what clients send on the wire (transcripts 06: jid, jobtype, args,
  // queue, retry); the server does not care, humans reading logs do.
  json::object obj;
  obj.reserve(12 + extra.size());
  obj["jid"] = jid;
  obj["jobtype"] = jobtype;
  obj["args"] = args_value;
  obj["queue"] = queue;
  // PROTOCOL.md §0.6 / §0.14: omitting retry lets another client's PUSH change our default.
  obj["retry"] = retry.value_or(kDefaultRetry);
  if (reserve_for) obj["reserve_for"] = *reserve_for;
  if (at) obj["at"] = *at;
  if (backtrace) obj["backtrace"] = *backtrace;
  if (created_at) obj["created_at"] = *created_at;
  if (enqueued_at) obj["enqueued_at"] = *enqueued_at;
  if (custom) obj["custom"] = *custom;
  if (failure) obj["failure"] = failure_to_json(*failure);
  // emplace never overwrites: a known field wins over an "extra" entry of the same name.
  for (const auto& [key, value] : extra) obj.emplace(key, value);
  return obj;
}

std::string Job::serialize() const {
  // Compact output; JSON escapes every control character, so no CR/LF can end the line early.
  return json::serialize(to_json());
}

std::string Job::serialize_with_args(std::string_view args_json) const {
  // The job with empty args (its own args are not copied), then args_json in their place.
  const std::string text = json::serialize(to_json_with_args({}));
  // args comes third, after two strings: inside a JSON string every quote is escaped, so the
  // first "args":[] is this one.
  constexpr std::string_view kEmpty = R"("args":[])";
  const auto at_args = text.find(kEmpty);
  std::string out;
  out.reserve(text.size() + args_json.size());
  out.append(text, 0, at_args + kEmpty.size() - 2);
  out += args_json;
  out.append(text, at_args + kEmpty.size(), std::string::npos);
  return out;
}

}  // namespace factotum::faktory
