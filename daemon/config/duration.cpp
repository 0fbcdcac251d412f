#include "config/duration.hpp"

#include "faktory/quote.hpp"

#include <cstdint>
#include <limits>

namespace factotum::config {
namespace {

using faktory::quote;

constexpr std::string_view kExample = "expected a duration such as 25s, 1500ms or 2m, got ";

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

// Milliseconds per unit; 0 for an unknown unit.
std::int64_t unit_factor(std::string_view unit) noexcept {
  if (unit == "ms") return 1;
  if (unit == "s") return 1000;
  if (unit == "m") return 60 * 1000;
  if (unit == "h") return 60 * 60 * 1000;
  return 0;
}

ParsedDuration failure(std::string message) {
  return ParsedDuration{{}, std::move(message)};
}

}  // namespace

ParsedDuration parse_duration(std::string_view text) {
  if (text.empty()) return failure(std::string(kExample) + "''");
  if (text.front() == '-' && text.size() > 1 && is_digit(text[1])) {
    return failure("a duration cannot be negative, got " + quote(text));
  }

  std::size_t i = 0;
  std::uint64_t number = 0;
  bool overflow = false;
  while (i < text.size() && is_digit(text[i])) {
    const auto digit = static_cast<std::uint64_t>(text[i] - '0');
    if (number > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) overflow = true;
    if (!overflow) number = number * 10 + digit;
    ++i;
  }
  if (i == 0) return failure(std::string(kExample) + quote(text));
  const std::string_view digits = text.substr(0, i);
  std::string_view unit = text.substr(i);

  if (unit.empty()) {
    const std::string d(digits);
    return failure("missing unit in " + quote(text) + ": write " + d + "s, " + d + "ms, " + d +
                   "m or " + d + "h");
  }
  if (unit.front() == '.' && unit.size() > 1 && is_digit(unit[1])) {
    return failure(quote(text) +
                   " is not a whole number: use a smaller unit, e.g. 1500ms instead of 1.5s");
  }
  if (unit.front() == ' ') {
    const auto start = unit.find_first_not_of(' ');
    const std::string_view trimmed =
        start == std::string_view::npos ? std::string_view{} : unit.substr(start);
    const std::string example(unit_factor(trimmed) != 0 ? trimmed : std::string_view("s"));
    return failure(quote(text) + " has a space before the unit: write it without one, e.g. " +
                   std::string(digits) + example);
  }
  for (const char c : unit) {
    if (is_digit(c)) {
      return failure(quote(text) + " combines units: write it in one unit, e.g. 90s or 1500ms");
    }
  }
  const std::int64_t factor = unit_factor(unit);
  if (factor == 0) {
    return failure("unknown unit " + quote(unit) + " in " + quote(text) + ": use ms, s, m or h");
  }
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (overflow || number > kMax / static_cast<std::uint64_t>(factor)) {
    return failure(quote(text) + " is too large");
  }
  return ParsedDuration{std::chrono::milliseconds(static_cast<std::int64_t>(number) * factor), {}};
}

std::string format_duration(std::chrono::milliseconds duration) {
  const std::int64_t ms = duration.count();
  if (ms == 0) return "0s";
  if (ms % (60 * 60 * 1000) == 0) return std::to_string(ms / (60 * 60 * 1000)) + "h";
  if (ms % (60 * 1000) == 0) return std::to_string(ms / (60 * 1000)) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace factotum::config
