// The values ctl parses from its command line: JSON (with where it breaks) and --at times.
#include "ctl/json_argument.hpp"
#include "ctl/schedule_time.hpp"

#include <catch2/catch.hpp>

#include <ctime>

using namespace factotum::ctl;

namespace {

std::chrono::system_clock::time_point utc(int year, int month, int day, int hour, int minute,
                                          int second) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return std::chrono::system_clock::from_time_t(::timegm(&tm));
}

}  // namespace

TEST_CASE("a JSON argument of the wanted kind is parsed") {
  const auto args =
      parse_json_argument("ARGS_JSON", R"([1, "two", {"three": [3]}])", JsonKind::array);
  REQUIRE(args.error.empty());
  CHECK(args.value.as_array().size() == 3);
  const auto custom = parse_json_argument("--custom", R"({"a":null})", JsonKind::object);
  REQUIRE(custom.error.empty());
  CHECK(custom.value.as_object().contains("a"));
}

TEST_CASE("invalid JSON is refused with the character where parsing stopped") {
  const auto broken = parse_json_argument("ARGS_JSON", R"(["a", tru])", JsonKind::array);
  INFO(broken.error);
  CHECK(broken.error.find("ARGS_JSON is not valid JSON") != std::string::npos);
  CHECK(broken.error.find("at character 7") != std::string::npos);
  CHECK(broken.error.find("'t'") != std::string::npos);
  const auto trailing = parse_json_argument("ARGS_JSON", "[1] x", JsonKind::array);
  CHECK(trailing.error.find("at character 5") != std::string::npos);
  const auto cut = parse_json_argument("ARGS_JSON", R"(["a")", JsonKind::array);
  CHECK(cut.error.find("cut short") != std::string::npos);
  const auto empty = parse_json_argument("ARGS_JSON", "", JsonKind::array);
  CHECK(!empty.error.empty());
}

TEST_CASE("JSON of the wrong kind is refused, naming the kind it is") {
  CHECK(parse_json_argument("ARGS_JSON", "42", JsonKind::array).error.find("got a number") !=
        std::string::npos);
  CHECK(parse_json_argument("--custom", "[]", JsonKind::object).error.find("got an array") !=
        std::string::npos);
}

TEST_CASE("args nested deeper than Boost.JSON's default of 32 levels are accepted") {
  const std::string deep = std::string(100, '[') + std::string(100, ']');
  CHECK(parse_json_argument("ARGS_JSON", deep, JsonKind::array).error.empty());
}

TEST_CASE("an --at time in RFC 3339 as Faktory parses it is sent as written") {
  const auto now = utc(2026, 11, 30, 12, 0, 0);
  for (const auto* time : {"2026-12-01T08:00:00Z", "2026-12-01T09:00:00.5+01:00",
                           "2024-02-29T23:59:59.123456789-07:30"}) {
    const auto at = parse_schedule_time(time, now);
    INFO(time << ": " << at.error);
    CHECK(at.error.empty());
    CHECK(at.rfc3339 == time);
  }
}

TEST_CASE("an --at of +DURATION is that long from now, sent in UTC with milliseconds") {
  const auto now = utc(2026, 11, 30, 23, 58, 0) + std::chrono::milliseconds(250);
  CHECK(parse_schedule_time("+5m", now).rfc3339 == "2026-12-01T00:03:00.250Z");
  CHECK(parse_schedule_time("+90s", now).rfc3339 == "2026-11-30T23:59:30.250Z");
  CHECK(parse_schedule_time("+1500ms", now).rfc3339 == "2026-11-30T23:58:01.750Z");
  CHECK(parse_schedule_time("+2h", now).rfc3339 == "2026-12-01T01:58:00.250Z");
}

TEST_CASE("an --at the server would refuse is refused, naming the forms it takes") {
  const auto now = std::chrono::system_clock::now();
  for (const auto* time :
       {"", "tomorrow", "2026-12-01 08:00:00Z", "2026-12-01T08:00:00", "2026-02-29T08:00:00Z",
        "2026-12-01T24:00:00Z", "2026-12-01t08:00:00z", "+5", "+5 minutes", "+", "5m"}) {
    const auto at = parse_schedule_time(time, now);
    INFO(time);
    CHECK(at.rfc3339.empty());
    CHECK(at.error.find("RFC 3339") != std::string::npos);
  }
}
