#include "faktory/job.hpp"

#include "transcript.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

using namespace factotum::faktory;
namespace json = boost::json;

namespace {

std::string job_error(std::string_view payload) {
  auto r = Job::parse(payload);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().is(errc::invalid_job));
  return r.error().message;
}

std::string validate_error(const Job& job) {
  auto r = job.validate();
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().is(errc::invalid_job));
  return r.error().message;
}

constexpr std::string_view kFetched =
    R"({"retry":25,"jid":"05-high-89f6f8ab8dc0","queue":"high","jobtype":"Order",)"
    R"("created_at":"2026-11-28T14:33:09.458031715Z","enqueued_at":"2026-11-28T14:33:09.458127808Z",)"
    R"("args":["high"]})";

}  // namespace

TEST_CASE("a fetched job from the transcripts parses into typed fields", "[job]") {
  auto job = Job::parse(kFetched).value();
  CHECK(job.jid == "05-high-89f6f8ab8dc0");
  CHECK(job.jobtype == "Order");
  CHECK(job.queue == "high");
  CHECK(job.retry == 25);
  CHECK(job.args == json::array{"high"});
  CHECK(job.created_at == "2026-11-28T14:33:09.458031715Z");
  CHECK(job.enqueued_at == "2026-11-28T14:33:09.458127808Z");
  CHECK_FALSE(job.reserve_for.has_value());
  CHECK_FALSE(job.at.has_value());
  CHECK_FALSE(job.custom.has_value());
  CHECK_FALSE(job.failure.has_value());
  CHECK(job.extra.empty());
  CHECK(job.validate().has_value());
}

TEST_CASE("every job payload the server sent in the transcripts parses", "[job][transcripts]") {
  int parsed = 0;
  for (const char* file :
       {"05-fetch.txt", "06-ack-fail.txt", "11-reservation.txt", "13-large-payload.txt"}) {
    for (const auto& line : factotum::testing::transcript_lines(file, 'S')) {
      if (line.rfind("$", 0) != 0 || line.find("\"jobtype\"") == std::string::npos) continue;
      const std::string payload =
          line.substr(line.find("\r\n") + 2, line.size() - line.find("\r\n") - 4);
      INFO(file << ": " << payload.substr(0, 200));
      auto job = Job::parse(payload);
      CHECK(job.has_value());
      ++parsed;
    }
  }
  CHECK(parsed >= 5);
}

TEST_CASE("a job round trip keeps unknown fields, custom and failure", "[job]") {
  const std::string payload =
      R"({"retry":5,"failure":{"retry_count":1,"remaining":4,"failed_at":"2026-11-28T14:33:10Z",)"
      R"("next_at":"2026-11-28T14:33:40Z","message":"boom","errtype":"RuntimeError",)"
      R"("backtrace":["app.rb:10","worker.rb:20"]},"custom":{"b":{"deep":[1,2,{"x":null}]},"a":"z"},)"
      R"("jid":"06-fail-6d662fa8aec5","queue":"failq","jobtype":"FailMe","at":"2026-11-28T14:33:09Z",)"
      R"("args":["x",1,2.5,true,null,{"k":"v"}],"reserve_for":600,"backtrace":10,)"
      R"("priority":5,"future_field":{"n":[1]}})";
  auto job = Job::parse(payload).value();
  CHECK(job.retry == 5);
  CHECK(job.reserve_for == 600);
  CHECK(job.backtrace == 10);
  CHECK(job.at == "2026-11-28T14:33:09Z");
  REQUIRE(job.failure.has_value());
  CHECK(job.failure->retry_count == 1);
  CHECK(job.failure->remaining == 4);
  CHECK(job.failure->errtype == "RuntimeError");
  CHECK(job.failure->message == "boom");
  CHECK(job.failure->next_at == "2026-11-28T14:33:40Z");
  CHECK(job.failure->backtrace == std::vector<std::string>{"app.rb:10", "worker.rb:20"});
  REQUIRE(job.custom.has_value());
  CHECK(json::serialize(*job.custom) == R"({"b":{"deep":[1,2,{"x":null}]},"a":"z"})");
  CHECK(job.extra.size() == 2);
  CHECK(job.extra.at("priority") == 5);

  const auto again = Job::parse(job.serialize()).value();
  CHECK(again.to_json() == job.to_json());
  CHECK(json::parse(job.serialize()) == json::parse(payload));  // nothing lost, nothing added
}

TEST_CASE("serialize writes jid, jobtype, args, queue, retry first and omits unset fields",
          "[job]") {
  Job job;
  job.jid = "0123456789abcdef01234567";
  job.jobtype = "SendEmail";
  job.args = json::array{"to@example.com", 3};
  CHECK(job.serialize() ==
        R"({"jid":"0123456789abcdef01234567","jobtype":"SendEmail","args":["to@example.com",3],)"
        R"("queue":"default","retry":25})");
  job.retry = -1;
  job.reserve_for = 600;
  job.custom = json::object{{"trace", "abc"}};
  CHECK(job.serialize() ==
        R"({"jid":"0123456789abcdef01234567","jobtype":"SendEmail","args":["to@example.com",3],)"
        R"("queue":"default","retry":-1,"reserve_for":600,"custom":{"trace":"abc"}})");
}

TEST_CASE("serialize always writes an integer retry, even when the payload had none", "[job]") {
  auto job = Job::parse(R"({"jid":"abcdefgh","jobtype":"T","args":[]})").value();
  CHECK_FALSE(job.retry.has_value());
  CHECK(job.to_json().at("retry") == kDefaultRetry);
}

TEST_CASE("serialized jobs never contain CR or LF", "[job]") {
  Job job = Job::create("Line\r\nBreak", json::array{"a\nb", "c\rd"}, "q\n");
  job.extra["x\r\n"] = "y\n";
  const auto text = job.serialize();
  CHECK(text.find('\n') == std::string::npos);
  CHECK(text.find('\r') == std::string::npos);
  CHECK(Job::parse(text).value().jobtype == "Line\r\nBreak");
}

TEST_CASE("Job::create generates a jid and sets the default retry", "[job]") {
  auto a = Job::create("Report", json::array{1}, "reports");
  auto b = Job::create("Report");
  CHECK(a.jid.size() == 24);
  CHECK(a.jid != b.jid);
  CHECK(a.retry == kDefaultRetry);
  CHECK(a.queue == "reports");
  CHECK(b.queue == "default");
  CHECK(b.args.empty());
  CHECK(a.validate().has_value());
}

TEST_CASE("a payload that is not a JSON object is an invalid job", "[job][errors]") {
  CHECK(job_error("not json").rfind("job payload is not valid JSON (", 0) == 0);
  CHECK(job_error("[1,2]") == "job payload must be a JSON object, got array");
  CHECK(job_error("null") == "job payload must be a JSON object, got null");
}

TEST_CASE("jid, jobtype and args are required", "[job][errors]") {
  CHECK(job_error(R"({"jobtype":"T","args":[]})") == "job is missing the required field 'jid'");
  CHECK(job_error(R"({"jid":"abcdefgh","args":[]})") ==
        "job abcdefgh is missing the required field 'jobtype'");
  CHECK(job_error(R"({"jid":"abcdefgh","jobtype":"T"})") ==
        "job abcdefgh (T) is missing the required field 'args'");
  CHECK(job_error(R"({"jid":"abcdefgh","jobtype":"T","args":null})") ==
        "job field 'args': expected an array, got null");
  CHECK(job_error(R"({"jid":"","jobtype":"T","args":[]})") == "job field 'jid' is empty");
  CHECK(job_error(R"({"jid":"abcdefgh","jobtype":"","args":[]})") ==
        "job field 'jobtype' is empty");
}

TEST_CASE("a field of the wrong type is an error naming the field and both types",
          "[job][errors]") {
  const std::string base = R"({"jid":"abcdefgh","jobtype":"T","args":[],)";
  CHECK(job_error(base + R"("retry":"5"})") ==
        "job field 'retry': expected an integer, got string");
  CHECK(job_error(base + R"("retry":2.5})") ==
        "job field 'retry': expected an integer, got number 2.5E0");
  CHECK(job_error(base + R"("retry":99999999999})") ==
        "job field 'retry': integer 99999999999 is out of range");
  CHECK(job_error(base + R"("reserve_for":true})") ==
        "job field 'reserve_for': expected an integer, got boolean");
  CHECK(job_error(base + R"("queue":7})") == "job field 'queue': expected a string, got integer");
  CHECK(job_error(base + R"("at":{}})") == "job field 'at': expected a string, got object");
  CHECK(job_error(base + R"("custom":[]})") == "job field 'custom': expected an object, got array");
  CHECK(job_error(base + R"("failure":"x"})") ==
        "job field 'failure': expected an object, got string");
  CHECK(job_error(base + R"("failure":{"retry_count":"1"}})") ==
        "job field 'failure.retry_count': expected an integer, got string");
  CHECK(job_error(base + R"("failure":{"backtrace":"x"}})") ==
        "job field 'failure.backtrace': expected an array of strings, got string");
  CHECK(job_error(base + R"("failure":{"backtrace":[1]}})") ==
        "job field 'failure.backtrace[]': expected a string, got integer");
  CHECK(job_error(R"({"jid":5,"jobtype":"T","args":[]})") ==
        "job field 'jid': expected a string, got integer");
}

TEST_CASE("null optional fields count as absent, as in Go", "[job]") {
  auto job = Job::parse(R"({"jid":"abcdefgh","jobtype":"T","args":[],"retry":null,"custom":null,)"
                        R"("at":null,"failure":null,"other":null})")
                 .value();
  CHECK_FALSE(job.retry.has_value());
  CHECK_FALSE(job.custom.has_value());
  CHECK_FALSE(job.at.has_value());
  CHECK_FALSE(job.failure.has_value());
  CHECK(job.extra.at("other").is_null());  // unknown keys are kept verbatim, null included
}

TEST_CASE("serialize_with_args writes the job as serialize does, args given as text", "[job]") {
  // custom holds an "args":[] of its own, and the jid a quote: neither is taken for the
  // job's args.
  const auto job = Job::parse(
      R"({"jid":"a\"args\":[]b","jobtype":"T","args":[1,"x",{"y":[]}],"queue":"q","retry":2,)"
      R"("custom":{"args":[]},"extra":{"args":[]},"failure":{"retry_count":1,"message":"m",)"
      R"("errtype":"E","failed_at":"2026-01-01T00:00:00Z"}})");
  REQUIRE(job.has_value());
  const std::string args = boost::json::serialize(job->args);
  CHECK(job->serialize_with_args(args) == job->serialize());
}

TEST_CASE("a number beyond a double's range is an invalid job, not an infinity", "[job][errors]") {
  // Serialised again, infinity is no JSON at all (found by tests/fuzz/fuzz_job_parser).
  for (const std::string args : {"[1e400]", "[{\"a\":[-1e999]}]"}) {
    const auto job = Job::parse(R"({"jid":"abcdefgh","jobtype":"T","args":)" + args + "}");
    REQUIRE_FALSE(job.has_value());
    CHECK(job.error().message ==
          "job holds a number too large for a double (it would read as infinity)");
  }
  CHECK(Job::parse(R"({"jid":"abcdefgh","jobtype":"T","args":[1e300]})").has_value());
}

TEST_CASE("deeply nested args within the limit parse", "[job]") {
  std::string nested = std::string(100, '[') + std::string(100, ']');
  auto job = Job::parse(R"({"jid":"abcdefgh","jobtype":"T","args":)" + nested + "}");
  CHECK(job.has_value());
}

TEST_CASE("validate mirrors the server's PUSH checks", "[job][validate]") {
  Job job = Job::create("T");
  job.jid = "short";
  CHECK(validate_error(job) ==
        "job jid 'short' is too short: the server needs at least 8 characters");
  job.jid = "12345678";
  CHECK(job.validate().has_value());
  job.jobtype = "";
  CHECK(validate_error(job) == "job 12345678 has an empty jobtype");
  job.jobtype = "T";
  job.reserve_for = 86400;
  CHECK(job.validate().has_value());
  job.reserve_for = 86401;
  CHECK(validate_error(job) ==
        "job 12345678 (T): reserve_for 86401 s is more than one day (86400 s), which the server "
        "rejects");
}

TEST_CASE("validate accepts RFC 3339 'at' values and refuses others", "[job][validate]") {
  Job job = Job::create("T");
  for (const char* good : {"2026-11-28T14:33:09Z", "2026-11-28T14:33:09.458031715Z",
                           "2026-11-28T14:33:09+01:00", "2024-02-29T00:00:00.1-23:59"}) {
    job.at = good;
    INFO(good);
    CHECK(job.validate().has_value());
  }
  for (const char* bad : {"2026-11-28 14:33:09Z", "2026-11-28T14:33:09", "2026-11-28", "tomorrow",
                          "2026-13-01T00:00:00Z", "2025-02-29T00:00:00Z", "2026-11-28T24:00:00Z",
                          "2026-11-28T14:33:09.Z", "2026-11-28T14:33:09+0100",
                          "2026-11-28t14:33:09z", "2026-11-28T14:33:09Zjunk"}) {
    job.at = bad;
    INFO(bad);
    CHECK(validate_error(job).find("is not an RFC 3339 timestamp") != std::string::npos);
  }
}
