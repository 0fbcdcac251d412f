// salvage_job: the jid of a job payload Job::parse refused, found by a scan that needs no
// DOM and no stack per nesting level.
#include "faktory/job_salvage.hpp"
#include "faktory/job.hpp"

#include <catch2/catch.hpp>

#include <pthread.h>

#include <string>

using namespace factotum::faktory;

namespace {

// Job::parse's message for `payload`, which it must refuse.
std::string parse_error(const std::string& payload) {
  auto parsed = Job::parse(payload);
  REQUIRE_FALSE(parsed.has_value());
  return parsed.error().message;
}

std::optional<SalvagedJob> salvage(const std::string& payload) {
  return salvage_job(payload, parse_error(payload));
}

std::string nested_arrays(std::size_t levels) {
  return std::string(levels, '[') + std::string(levels, ']');
}

std::string deep_problem(std::size_t level_257_at) {
  return "the job's JSON nests deeper than 256 levels (level 257 opens at byte " +
         std::to_string(level_257_at) + ")";
}

}  // namespace

TEST_CASE("the depth limit named in problems is Job::parse's own") {
  // The root object is level 1: args holding 254 more arrays reach 256 and parse.
  const std::string head = R"({"jid":"depth-limit","jobtype":"T","args":)";
  CHECK(Job::parse(head + nested_arrays(255) + "}").has_value());
  const std::string too_deep = head + nested_arrays(256) + "}";
  auto salvaged = salvage(too_deep);
  REQUIRE(salvaged);
  CHECK(salvaged->problem == deep_problem(head.size() + 255));
}

TEST_CASE("args nested thousands of levels deep do not hide the jid, before or after them") {
  for (const std::size_t levels : {std::size_t{5000}, std::size_t{100000}}) {
    INFO(levels << " levels");
    SECTION("jid and jobtype first") {
      const std::string head = R"({"jid":"deep-jid-first","jobtype":"Deep","args":)";
      auto salvaged = salvage(head + nested_arrays(levels) + R"(,"queue":"default","retry":25})");
      REQUIRE(salvaged);
      CHECK(salvaged->jid == "deep-jid-first");
      CHECK(salvaged->jobtype == "Deep");
      CHECK_FALSE(salvaged->jobtype_truncated);
      CHECK(salvaged->problem == deep_problem(head.size() + 255));
    }
    SECTION("jid and jobtype after the args") {
      const std::string head = R"({"retry":25,"args":)";
      auto salvaged =
          salvage(head + nested_arrays(levels) + R"(,"jobtype":"Deep","jid":"deep-jid-after"})");
      REQUIRE(salvaged);
      CHECK(salvaged->jid == "deep-jid-after");
      CHECK(salvaged->jobtype == "Deep");
      CHECK(salvaged->problem == deep_problem(head.size() + 255));
    }
    SECTION("objects instead of arrays") {
      std::string args;
      for (std::size_t i = 0; i < levels; ++i) args += R"({"a":)";
      args += "1" + std::string(levels, '}');
      auto salvaged = salvage(R"({"args":)" + args + R"(,"jid":"deep-objects","jobtype":"O"})");
      REQUIRE(salvaged);
      CHECK(salvaged->jid == "deep-objects");
      CHECK(salvaged->jobtype == "O");
    }
  }
}

namespace {

struct OnSmallStack {
  std::string payload;
  std::optional<SalvagedJob> result;
  static void* run(void* self) {
    auto* job = static_cast<OnSmallStack*>(self);
    job->result = salvage_job(job->payload, "too deep");
    return nullptr;
  }
};

}  // namespace

TEST_CASE("the scan needs no stack per nesting level: a million levels on a 256 KiB stack") {
  // Recursing once per level would take tens of megabytes of stack here; the scan keeps one
  // bit per level on the heap.
  OnSmallStack job;
  job.payload =
      R"({"args":)" + nested_arrays(1'000'000) + R"(,"jid":"a-million-deep","jobtype":"M"})";
  pthread_attr_t attr;
  REQUIRE(pthread_attr_init(&attr) == 0);
  REQUIRE(pthread_attr_setstacksize(&attr, 256 * 1024) == 0);
  pthread_t thread;
  REQUIRE(pthread_create(&thread, &attr, &OnSmallStack::run, &job) == 0);
  REQUIRE(pthread_join(thread, nullptr) == 0);
  pthread_attr_destroy(&attr);
  REQUIRE(job.result);
  CHECK(job.result->jid == "a-million-deep");
  CHECK(job.result->jobtype == "M");
}

TEST_CASE("invalid JSON after the jid does not lose it, and the problem says where") {
  SECTION("truncated") {
    const std::string payload = R"({"jid":"truncated-1","jobtype":"T","args":[1,2,{"k":"v)";
    auto salvaged = salvage(payload);
    REQUIRE(salvaged);
    CHECK(salvaged->jid == "truncated-1");
    CHECK(salvaged->jobtype == "T");
    CHECK(salvaged->problem == "the job's JSON ends early, at byte " +
                                   std::to_string(payload.size()) + " (incomplete JSON)");
  }
  SECTION("cut after a complete value") {
    const std::string payload = R"({"jid":"truncated-2","jobtype":"T","args":[1,2])";
    auto salvaged = salvage(payload);
    REQUIRE(salvaged);
    CHECK(salvaged->jid == "truncated-2");
    CHECK(salvaged->problem == "the job's JSON ends early, at byte " +
                                   std::to_string(payload.size()) +
                                   " (it ends before the job's object is closed)");
  }
  SECTION("garbage: the scan stops there, so a jobtype after it is not taken") {
    auto salvaged = salvage(R"({"jid":"garbage-1","args":[1,2,@],"jobtype":"T"})");
    REQUIRE(salvaged);
    CHECK(salvaged->jid == "garbage-1");
    CHECK(salvaged->jobtype.empty());
    CHECK(salvaged->problem ==
          R"(the job's JSON is invalid at byte 31 (expected a value) near '@],"jobtype":"T"')");
  }
  SECTION("a literal that runs on") {
    auto salvaged = salvage(R"({"jid":"literal-1","jobtype":"T","args":[nullx]})");
    REQUIRE(salvaged);
    CHECK(salvaged->jid == "literal-1");
    CHECK(salvaged->problem == R"(the job's JSON is invalid at byte 45 (syntax error) near 'x]}')");
  }
  SECTION("data after the job's object") {
    auto salvaged = salvage(R"({"jid":"trailing-1","jobtype":"T","args":[]} {"jid":"second"})");
    REQUIRE(salvaged);
    CHECK(salvaged->jid == "trailing-1");
    CHECK(salvaged->problem ==
          "the job's JSON is invalid at byte 45 (data after the job's "
          "object) near '{\"jid\":\"second\"}'");
  }
  SECTION("the first error counts, even when the depth is exceeded later") {
    auto salvaged =
        salvage(R"({"jid":"first-error","args":[1,,)" + nested_arrays(300) + R"(],"jobtype":"T"})");
    REQUIRE(salvaged);
    CHECK(salvaged->problem.rfind("the job's JSON is invalid at byte 31 (expected a value)", 0) ==
          0);
  }
}

TEST_CASE("invalid UTF-8 after the jid does not lose it, but inside the jid it leaves no jid") {
  auto after = salvage("{\"jid\":\"utf8-after\",\"args\":[\"ok\xff\"],\"jobtype\":\"T\"}");
  REQUIRE(after);
  CHECK(after->jid == "utf8-after");
  CHECK(after->problem ==
        R"(the job's JSON is invalid at byte 31 (syntax error) near '\xff"],"jobtype":"T')");

  CHECK_FALSE(salvage("{\"jid\":\"utf8-\xc3(in-jid\",\"jobtype\":\"T\",\"args\":[]}"));
}

TEST_CASE("without a top-level string jid before the first error there is nothing to salvage") {
  SECTION("no jid") {
    CHECK_FALSE(salvage(R"({"jobtype":"T","args":[[[[1]]]]})"));
  }
  SECTION("jid not a string") {
    CHECK_FALSE(salvage(R"({"jid":12345678,"jobtype":"T","args":[]})"));
    CHECK_FALSE(salvage(R"({"jid":null,"jobtype":"T","args":[]})"));
    CHECK_FALSE(salvage(R"({"jid":["in-an-array"],"jobtype":"T","args":[]})"));
    CHECK_FALSE(salvage(R"({"jid":{"jid":"in-an-object"},"jobtype":"T","args":[]})"));
  }
  SECTION("jid nested, not top level") {
    CHECK_FALSE(salvage(R"({"args":[{"jid":"nested-jid-1"}],"custom":{"jid":"custom-jid-1"},)"
                        R"("jobtype":"T","retry":"x"})"));
  }
  SECTION("a nested jid is skipped, the top-level one after it taken") {
    auto salvaged = salvage(R"({"args":[{"jid":"nested-jid-1"}],"jid":"top-level-1","args2":)" +
                            nested_arrays(300) + "}");
    REQUIRE(salvaged);
    CHECK(salvaged->jid == "top-level-1");
  }
  SECTION("a jid after the first error") {
    CHECK_FALSE(salvage(R"({"args":[1,@],"jid":"after-error","jobtype":"T"})"));
    // An unterminated string swallows what looks like a member.
    CHECK_FALSE(salvage("{\"args\":[\"abc\\\", \"jid\":\"looks-top-level\"], \"jobtype\":\"T\"}"));
  }
  SECTION("not a JSON object") {
    CHECK_FALSE(salvage(R"([{"jid":"in-an-array"}])"));
    CHECK_FALSE(salvage(R"("jid")"));
    CHECK_FALSE(salvage(""));
    CHECK_FALSE(salvage("   "));
    CHECK_FALSE(salvage("not json"));
  }
  SECTION("an empty jid names no job") {
    CHECK_FALSE(salvage(R"({"jid":"","args":[}")"));
  }
}

TEST_CASE("escapes in member names and the jid are decoded as JSON decodes them") {
  auto salvaged =
      salvage(R"({"\u006aid":"esc\u0061ped\ud83d\ude00\n","job\u0074ype":"\"T\"","args":[tru]})");
  REQUIRE(salvaged);
  CHECK(salvaged->jid == "escaped\xf0\x9f\x98\x80\n");
  CHECK(salvaged->jobtype == "\"T\"");
  CHECK(salvaged->problem.rfind("the job's JSON is invalid at byte ", 0) == 0);
}

TEST_CASE("jid and jobtype are copied only up to 1 KiB") {
  SECTION("a 1 MiB jobtype is cut, and says so") {
    const std::string jobtype(1 << 20, 'x');
    auto salvaged = salvage(R"({"jid":"long-jobtype","jobtype":")" + jobtype + R"(","args":null})");
    REQUIRE(salvaged);
    CHECK(salvaged->jid == "long-jobtype");
    CHECK(salvaged->jobtype == jobtype.substr(0, kSalvageMaxJobtypeBytes));
    CHECK(salvaged->jobtype_truncated);
  }
  SECTION("the cut does not split a UTF-8 character") {
    // 1023 ASCII bytes, then two-byte 'é's: the 1024-byte cut falls inside the first one.
    std::string jobtype(1023, 'x');
    for (int i = 0; i < 10; ++i) jobtype += "\xc3\xa9";
    auto salvaged = salvage(R"({"jid":"utf8-cut","jobtype":")" + jobtype + R"(","args":null})");
    REQUIRE(salvaged);
    CHECK(salvaged->jobtype == std::string(1023, 'x'));
    CHECK(salvaged->jobtype_truncated);
  }
  SECTION("a jid of 1 KiB is taken, a longer one is not") {
    const std::string jid(kSalvageMaxJidBytes, 'j');
    auto salvaged = salvage(R"({"jid":")" + jid + R"(","jobtype":"T","args":null})");
    REQUIRE(salvaged);
    CHECK(salvaged->jid == jid);
    CHECK_FALSE(salvage(R"({"jid":")" + jid + R"(j","jobtype":"T","args":null})"));
  }
}

TEST_CASE(
    "well-formed JSON that is not a valid job: the problem is what Job::parse said, on one line") {
  const std::string payload = R"({"jid":"field-type-1","jobtype":"T","args":null})";
  auto salvaged = salvage(payload);
  REQUIRE(salvaged);
  CHECK(salvaged->jid == "field-type-1");
  CHECK(salvaged->problem == "the job is not a valid Faktory job: " + parse_error(payload));

  // Whatever the caller passes, the problem stays one line of bounded size.
  const std::string lines = "line one\nline two\r\n";  // 19 bytes
  const std::string long_error = lines + std::string(10000, 'e');
  auto bounded = salvage_job(payload, long_error);
  REQUIRE(bounded);
  CHECK(bounded->problem.find_first_of("\r\n") == std::string::npos);
  CHECK(bounded->problem == "the job is not a valid Faktory job: line one line two  " +
                                std::string(kSalvageMaxQuotedErrorBytes - lines.size(), 'e') +
                                "...");
}

TEST_CASE("the payload shows in a problem only as a short excerpt") {
  const std::string secret(5000, 's');
  auto salvaged = salvage(R"({"jid":"excerpt-1","args":[@")" + secret + R"("],"jobtype":"T"})");
  REQUIRE(salvaged);
  CHECK(salvaged->problem.size() < 150);
  CHECK(salvaged->problem.find(std::string(17, 's')) == std::string::npos);
}
