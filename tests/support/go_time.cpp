#include "go_time.hpp"

#include "go_json.hpp"

#include <cstdio>
#include <optional>

namespace factotum::testing::gotime {
namespace {

using namespace std::chrono;

constexpr std::string_view kLayout = "2006-01-02T15:04:05.999999999Z07:00";

bool is_digit(std::string_view s, std::size_t i) {
  return i < s.size() && s[i] >= '0' && s[i] <= '9';
}

// Go's getnum: one or two digits (exactly two when fixed).
std::optional<int> getnum(std::string_view& s, bool fixed) {
  if (!is_digit(s, 0)) return std::nullopt;
  if (!is_digit(s, 1)) {
    if (fixed) return std::nullopt;
    int v = s[0] - '0';
    s.remove_prefix(1);
    return v;
  }
  int v = (s[0] - '0') * 10 + (s[1] - '0');
  s.remove_prefix(2);
  return v;
}

std::string cannot_parse(std::string_view value, std::string_view rest, std::string_view elem) {
  return "parsing time " + gojson::quote(value) + " as " + gojson::quote(kLayout) +
         ": cannot parse " + gojson::quote(rest) + " as " + gojson::quote(elem);
}

std::string with_message(std::string_view value, std::string_view msg) {
  return "parsing time " + gojson::quote(value) + std::string(msg);
}

}  // namespace

std::string format_rfc3339nano(Time t) {
  auto day = floor<days>(t);
  year_month_day ymd{day};
  hh_mm_ss<nanoseconds> tod{t - day};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(tod.hours().count()), static_cast<int>(tod.minutes().count()),
                static_cast<int>(tod.seconds().count()));
  std::string out = buf;
  auto ns = tod.subseconds().count();
  if (ns != 0) {
    std::snprintf(buf, sizeof buf, ".%09lld", static_cast<long long>(ns));
    std::string frac = buf;
    while (frac.back() == '0') frac.pop_back();
    out += frac;
  }
  return out + "Z";
}

std::string format_clock(Time t) {
  auto day = floor<days>(t);
  hh_mm_ss<nanoseconds> tod{t - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d UTC", static_cast<int>(tod.hours().count()),
                static_cast<int>(tod.minutes().count()), static_cast<int>(tod.seconds().count()));
  return buf;
}

// Walks the layout chunks of RFC3339Nano in order, exactly like Go 1.19's time.parse (the
// generic path: Go 1.20+ has a fast path with other messages, the recording used Go 1.19).
std::variant<Time, std::string> parse_rfc3339nano(std::string_view value) {
  std::string_view v = value;
  auto skip = [&](char lit) -> bool {
    if (v.empty() || v[0] != lit) return false;
    v.remove_prefix(1);
    return true;
  };

  // "2006": four characters, the first a digit, all digits.
  if (v.size() < 4 || !is_digit(v, 0)) return cannot_parse(value, v, "2006");
  int year = 0;
  for (int k = 0; k < 4; ++k) {
    if (!is_digit(v, static_cast<std::size_t>(k))) return cannot_parse(value, v, "2006");
    year = year * 10 + (v[static_cast<std::size_t>(k)] - '0');
  }
  v.remove_prefix(4);

  struct Field {
    char prefix;
    std::string_view elem;
    bool fixed;
    int max;  // exclusive upper bound checked right away (0 = checked later)
    std::string_view range_name;
  };
  static constexpr Field kFields[] = {
      {'-', "01", true, 13, "month"},  {'-', "02", true, 0, ""},
      {'T', "15", false, 24, "hour"},  {':', "04", true, 60, "minute"},
      {':', "05", true, 60, "second"},
  };
  int nums[5] = {};
  for (std::size_t f = 0; f < 5; ++f) {
    const Field& field = kFields[f];
    if (!skip(field.prefix)) return cannot_parse(value, v, std::string(1, field.prefix));
    std::string_view hold = v;
    auto n = getnum(v, field.fixed);
    if (!n) return cannot_parse(value, hold, field.elem);
    if (field.max != 0 && (*n >= field.max || (f == 0 && *n == 0))) {
      return with_message(value, ": " + std::string(field.range_name) + " out of range");
    }
    nums[f] = *n;
  }

  // ".999999999": optional fraction, any number of digits (Go keeps 9 of them).
  long long nanos = 0;
  if (v.size() >= 2 && (v[0] == '.' || v[0] == ',') && is_digit(v, 1)) {
    std::size_t i = 1;
    while (is_digit(v, i)) ++i;
    std::size_t take = std::min<std::size_t>(i, 10);
    for (std::size_t k = 1; k < take; ++k) nanos = nanos * 10 + (v[k] - '0');
    for (std::size_t k = take; k < 10; ++k) nanos *= 10;
    v.remove_prefix(i);
  }

  // "Z07:00": Z, or ±hh:mm.
  long long offset_s = 0;
  if (!v.empty() && v[0] == 'Z') {
    v.remove_prefix(1);
  } else {
    std::string_view hold = v;
    if (v.size() < 6 || v[3] != ':') return cannot_parse(value, hold, "Z07:00");
    std::string_view hh = v.substr(1, 2), mm = v.substr(4, 2);
    auto h = getnum(hh, true);
    auto m = getnum(mm, true);
    if (!h || !m || (v[0] != '+' && v[0] != '-')) return cannot_parse(value, hold, "Z07:00");
    offset_s = (*h * 60LL + *m) * 60LL * (v[0] == '-' ? -1 : 1);
    v.remove_prefix(6);
  }
  if (!v.empty()) return with_message(value, ": extra text: " + gojson::quote(v));

  year_month_day ymd{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(nums[0])},
                     std::chrono::day{static_cast<unsigned>(nums[1])}};
  if (nums[1] < 1 || !ymd.ok()) return with_message(value, ": day out of range");
  Time t = sys_days{ymd} + hours{nums[2]} + minutes{nums[3]} + seconds{nums[4]} +
           nanoseconds{nanos} - seconds{offset_s};
  return t;
}

}  // namespace factotum::testing::gotime
