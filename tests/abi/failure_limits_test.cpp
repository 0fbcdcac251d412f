// What a plugin's failure can make the host copy, log and send (failure_limits.hpp, sdk.h
// job_fail): errtype 256 bytes, message 8 KiB, backtrace 50 lines of 512 bytes, each cut
// marked and never inside a UTF-8 character.
#include "plugins/failure_limits.hpp"
#include "abi_test_support.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace factotum;
using namespace factotum::abi_test;
using plugins::capped_backtrace;
using plugins::capped_backtrace_line;
using plugins::capped_errtype;
using plugins::capped_message;
using plugins::human_size;
using plugins::utf8_prefix;

namespace {

constexpr std::string_view kEuro = "\xE2\x82\xAC";      // "€", 3 bytes
constexpr std::string_view kEllipsis = "\xE2\x80\xA6";  // "…", 3 bytes: marks every cut

std::string with_ellipsis(std::string text) {
  return text.append(kEllipsis);
}

std::string ellipsis_then(std::string_view text) {
  return std::string(kEllipsis).append(text);
}

std::string repeat(std::string_view text, std::size_t times) {
  std::string out;
  out.reserve(text.size() * times);
  for (std::size_t i = 0; i < times; ++i) out += text;
  return out;
}

// True when `text` is well-formed UTF-8 (no sequence cut short).
bool valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t length = lead < 0x80           ? 1
                               : (lead >> 5) == 0x6  ? 2
                               : (lead >> 4) == 0xE  ? 3
                               : (lead >> 3) == 0x1E ? 4
                                                     : 0;
    if (length == 0 || i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
    }
    i += length;
  }
  return true;
}

std::string lines_of(std::size_t count, const std::string& line) {
  std::string text;
  for (std::size_t i = 0; i < count; ++i) text += line + "\n";
  return text;
}

}  // namespace

TEST_CASE("a failure's text exactly at its cap is kept untouched", "[abi][failure_limits]") {
  const std::string errtype(256, 'E');
  CHECK(capped_errtype(errtype) == errtype);
  const std::string message(8192, 'm');
  CHECK(capped_message(message) == message);
  const std::string line(512, 'x');
  CHECK(capped_backtrace_line(line) == line);
  const auto fifty = capped_backtrace(lines_of(50, line));
  REQUIRE(fifty.size() == 50);
  CHECK(fifty.front() == line);
  CHECK(fifty.back() == line);
  CHECK(capped_errtype("") == "");
  CHECK(capped_message("") == "");
  CHECK(capped_backtrace("").empty());
}

TEST_CASE("one byte over its cap, a failure's text is cut with a visible marker",
          "[abi][failure_limits]") {
  CHECK(capped_errtype(std::string(257, 'E')) == with_ellipsis(std::string(253, 'E')));
  CHECK(capped_backtrace_line(std::string(513, 'x')) == with_ellipsis(std::string(509, 'x')));

  // The marker counts: 8192 bytes in all, the original size named.
  const std::string marker = ellipsis_then(" (truncated, 8.0 KiB)");
  const std::string message = capped_message(std::string(8193, 'm'));
  CHECK(message.size() == 8192);
  CHECK(message == std::string(8192 - marker.size(), 'm') + marker);

  // 51 lines: 49 kept, the 50th says how many were left out.
  std::string numbered;
  for (int i = 0; i < 51; ++i) numbered += "frame " + std::to_string(i) + "\n";
  const auto lines = capped_backtrace(numbered);
  REQUIRE(lines.size() == 50);
  CHECK(lines[48] == "frame 48");
  CHECK(lines[49] == ellipsis_then(" (2 more lines)"));
}

TEST_CASE("a backtrace is split at newlines like before: empty lines kept, a final one not",
          "[abi][failure_limits]") {
  CHECK(capped_backtrace("one\ntwo\n") == std::vector<std::string>{"one", "two"});
  CHECK(capped_backtrace("one\n\nthree") == std::vector<std::string>{"one", "", "three"});
  CHECK(capped_backtrace("\n") == std::vector<std::string>{""});
  // 50 lines with and without a final newline are both within the cap.
  const auto fifty = lines_of(50, "f");
  CHECK(capped_backtrace(fifty).size() == 50);
  CHECK(capped_backtrace(fifty.substr(0, fifty.size() - 1)).size() == 50);
  CHECK(capped_backtrace(fifty + "last").back() == ellipsis_then(" (2 more lines)"));
}

TEST_CASE("a cut never falls inside a UTF-8 character", "[abi][failure_limits]") {
  const std::string two = "\xC3\xA9";           // é
  const std::string four = "\xF0\x9F\x98\x80";  // 😀
  // Cut points at every byte of 2-, 3- and 4-byte characters.
  CHECK(utf8_prefix("a" + two, 2) == "a");
  CHECK(utf8_prefix("a" + two, 3) == "a" + two);
  CHECK(utf8_prefix(repeat(kEuro, 2), 4) == kEuro);
  CHECK(utf8_prefix(repeat(kEuro, 2), 5) == kEuro);
  CHECK(utf8_prefix(repeat(kEuro, 2), 6) == repeat(kEuro, 2));
  CHECK(utf8_prefix(four, 1).empty());
  CHECK(utf8_prefix(four, 3).empty());
  CHECK(utf8_prefix("ab" + four, 5) == "ab");
  CHECK(utf8_prefix("short", 100) == "short");
  // Not UTF-8 at all (a run of continuation bytes): still cut, after at most 3 bytes back.
  CHECK(utf8_prefix(std::string(10, '\x80'), 8).size() == 5);

  // errtype: 253 bytes for text, 253 = 84 euros + 1 byte: the euro cut in two goes.
  const std::string errtype = capped_errtype(repeat(kEuro, 100));
  CHECK(errtype == with_ellipsis(repeat(kEuro, 84)));
  CHECK(valid_utf8(errtype));
  // A line: 509 = 169 euros + 2 bytes.
  const std::string line = capped_backtrace_line(repeat(kEuro, 200));
  CHECK(line == with_ellipsis(repeat(kEuro, 169)));
  // A message of 3000 euros (9000 bytes = 8.8 KiB): 8192 - 24 = 8168 = 2722 euros + 2 bytes.
  const std::string message = capped_message(repeat(kEuro, 3000));
  CHECK(message == with_ellipsis(repeat(kEuro, 2722)) + " (truncated, 8.8 KiB)");
  CHECK(valid_utf8(message));
}

TEST_CASE("sizes are named in B, KiB, MiB", "[abi][failure_limits]") {
  CHECK(human_size(0) == "0 B");
  CHECK(human_size(1023) == "1023 B");
  CHECK(human_size(1024) == "1.0 KiB");
  CHECK(human_size(1536) == "1.5 KiB");
  CHECK(human_size(8193) == "8.0 KiB");
  CHECK(human_size((std::uint64_t{1} << 20) - 1) == "1.0 MiB");  // rounds up into the next unit
  CHECK(human_size(std::uint64_t{1} << 20) == "1.0 MiB");
  CHECK(human_size(1258292) == "1.2 MiB");
  CHECK(human_size(std::uint64_t{5} << 30) == "5.0 GiB");
}

TEST_CASE("a job failing with 1 MiB of message and 1000 long backtrace lines is capped",
          "[abi][failure_limits]") {
  plugins::PluginHost host({});
  REQUIRE(host.load_file(plugin("huge_failure"), options()).ok());

  SECTION("ASCII") {
    const auto outcome = host.run(TestJob("HugeFailure").input());
    CHECK_FALSE(outcome.succeeded());
    CHECK(outcome.plugin == "huge_failure");
    CHECK(outcome.errtype == with_ellipsis(std::string(253, 'E')));
    const std::string marker = ellipsis_then(" (truncated, 1.0 MiB)");
    CHECK(outcome.message.size() == 8192);
    CHECK(outcome.message == std::string(8192 - marker.size(), 'm') + marker);
    REQUIRE(outcome.backtrace.size() == 50);
    for (std::size_t i = 0; i < 49; ++i) {
      std::string number = std::to_string(i);
      number.insert(0, 4 - number.size(), '0');
      CHECK(outcome.backtrace[i] == with_ellipsis(number.append(505, 'x')));
    }
    CHECK(outcome.backtrace[49] == ellipsis_then(" (951 more lines)"));
  }

  SECTION("multi-byte UTF-8 at every cut") {
    const auto outcome = host.run(TestJob("HugeUtf8Failure").input());
    CHECK_FALSE(outcome.succeeded());
    // 253 bytes for text = 84 euros and a byte: 252 + 3.
    CHECK(outcome.errtype == with_ellipsis(repeat(kEuro, 84)));
    CHECK(outcome.errtype.size() == 255);
    // 8168 bytes for text = 2722 euros and 2 bytes: 8166 + 24.
    CHECK(outcome.message == with_ellipsis(repeat(kEuro, 2722)) + " (truncated, 1.0 MiB)");
    CHECK(outcome.message.size() == 8190);
    CHECK(valid_utf8(outcome.message));
    REQUIRE(outcome.backtrace.size() == 50);
    // 509 bytes for text = "0000" and 505 bytes = 168 euros and a byte: 508 + 3.
    CHECK(outcome.backtrace.front() == with_ellipsis("0000" + repeat(kEuro, 168)));
    CHECK(outcome.backtrace[48] == with_ellipsis("0048" + repeat(kEuro, 168)));
    for (const auto& line : outcome.backtrace) {
      CHECK(line.size() <= 512);
      CHECK(valid_utf8(line));
    }
    CHECK(outcome.backtrace[49] == ellipsis_then(" (951 more lines)"));
  }
}
