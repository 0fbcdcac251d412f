#include "plugins/failure_limits.hpp"

#include <algorithm>
#include <array>

namespace factotum::plugins {
namespace {

constexpr std::string_view kEllipsis = "\xE2\x80\xA6";  // "…"

bool continuation_byte(char c) noexcept {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// `text` if it fits in `max_bytes`, else as much as fits followed by `marker`.
std::string cut(std::string_view text, std::size_t max_bytes, std::string_view marker) {
  if (text.size() <= max_bytes) return std::string(text);
  std::string out(utf8_prefix(text, max_bytes - marker.size()));
  out += marker;
  return out;
}

// Lines in `text` as capped_backtrace splits it: a final '\n' starts no line.
std::size_t count_lines(std::string_view text) noexcept {
  const auto newlines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  return newlines + (text.empty() || text.back() == '\n' ? 0 : 1);
}

}  // namespace

std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes) noexcept {
  if (text.size() <= max_bytes) return text;
  // text[size] is the first byte left out. While it is a continuation byte, the character it
  // belongs to began inside the prefix: leave that character out whole.
  std::size_t size = max_bytes;
  for (int back = 0; back < 3 && size > 0 && continuation_byte(text[size]); ++back) --size;
  return text.substr(0, size);
}

std::string human_size(std::uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  static constexpr std::array<std::string_view, 4> kUnits{"KiB", "MiB", "GiB", "TiB"};
  std::uint64_t unit = 1024;
  std::size_t index = 0;
  // Tenths of `unit`, rounded to the nearest; no overflow (bytes % unit * 10 < 10 * unit).
  const auto tenths = [&] { return bytes / unit * 10 + (bytes % unit * 10 + unit / 2) / unit; };
  while (index + 1 < kUnits.size() && tenths() >= 10240) {
    unit *= 1024;
    ++index;
  }
  const std::uint64_t value = tenths();
  return std::to_string(value / 10) + "." + std::to_string(value % 10) + " " +
         std::string(kUnits[index]);
}

std::string capped_errtype(std::string_view errtype) {
  return cut(errtype, kMaxErrtypeBytes, kEllipsis);
}

std::string capped_message(std::string_view message) {
  if (message.size() <= kMaxMessageBytes) return std::string(message);
  return cut(message, kMaxMessageBytes,
             std::string(kEllipsis) + " (truncated, " + human_size(message.size()) + ")");
}

std::string capped_backtrace_line(std::string_view line) {
  return cut(line, kMaxBacktraceLineBytes, kEllipsis);
}

std::vector<std::string> capped_backtrace(std::string_view backtrace) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < backtrace.size()) {
    if (lines.size() == kMaxBacktraceLines - 1) {
      // Room for one more line: the last one, or how many are left out.
      const std::string_view rest = backtrace.substr(start);
      const std::size_t left = count_lines(rest);
      if (left == 1) {
        lines.push_back(capped_backtrace_line(rest.substr(0, rest.find('\n'))));
      } else {
        lines.push_back(std::string(kEllipsis) + " (" + std::to_string(left) + " more lines)");
      }
      break;
    }
    const std::size_t end = std::min(backtrace.find('\n', start), backtrace.size());
    lines.push_back(capped_backtrace_line(backtrace.substr(start, end - start)));
    start = end + 1;
  }
  return lines;
}

}  // namespace factotum::plugins
