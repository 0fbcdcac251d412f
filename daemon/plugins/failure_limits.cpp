#include "plugins/failure_limits.hpp"

#include "service/text_cut.hpp"

#include <algorithm>

namespace factotum::plugins {
namespace {

using text::kEllipsis;
constexpr auto cut = text::cut_with_marker;

// Lines in `text` as capped_backtrace splits it: a final '\n' starts no line.
std::size_t count_lines(std::string_view text) noexcept {
  const auto newlines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  return newlines + (text.empty() || text.back() == '\n' ? 0 : 1);
}

}  // namespace

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
