#include "substitute.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <charconv>
#include <system_error>

namespace factotum::shell {
namespace {

void append_compact_json(std::string& out, const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::double_: {
      char buffer[64];
      const auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value.get_double());
      if (ec == std::errc()) {
        out.append(buffer, end);
        return;
      }
      break;
    }
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& element : value.get_array()) {
        if (!first) out += ',';
        first = false;
        append_compact_json(out, element);
      }
      out += ']';
      return;
    }
    case boost::json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& member : value.get_object()) {
        if (!first) out += ',';
        first = false;
        out += boost::json::serialize(member.key());
        out += ':';
        append_compact_json(out, member.value());
      }
      out += '}';
      return;
    }
    default:
      break;
  }
  out += boost::json::serialize(value);
}

}  // namespace

ArgTemplate ArgTemplate::parse(std::string_view text) {
  ArgTemplate result;
  std::string literal;
  auto flush_literal = [&] {
    if (literal.empty()) return;
    result.segments_.push_back(Segment{std::move(literal), 0, false});
    literal.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '}') {
      if (i + 1 < text.size() && text[i + 1] == '}') {
        literal += '}';
        ++i;
        continue;
      }
      throw std::invalid_argument("unmatched '}' at offset " + std::to_string(i) +
                                  " (write }} for a literal brace)");
    }
    if (c != '{') {
      literal += c;
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '{') {
      literal += '{';
      ++i;
      continue;
    }
    const std::size_t close = text.find('}', i + 1);
    const std::string_view digits =
        close == std::string_view::npos ? std::string_view{} : text.substr(i + 1, close - i - 1);
    std::size_t index = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
        digits.front() == '+') {
      throw std::invalid_argument("'{' at offset " + std::to_string(i) +
                                  " does not start a placeholder {N} with N a number "
                                  "(write {{ for a literal brace)");
    }
    flush_literal();
    result.segments_.push_back(Segment{{}, index, true});
    i = close;
  }
  flush_literal();
  return result;
}

bool ArgTemplate::has_placeholders() const noexcept {
  for (const auto& segment : segments_) {
    if (segment.is_placeholder) return true;
  }
  return false;
}

std::string ArgTemplate::render(const boost::json::array& args) const {
  std::string out;
  for (const auto& segment : segments_) {
    if (!segment.is_placeholder) {
      out += segment.literal;
      continue;
    }
    if (segment.index >= args.size()) {
      const std::size_t n = args.size();
      throw ArgumentError("{" + std::to_string(segment.index) + "} refers to args[" +
                          std::to_string(segment.index) + "] but the job has " + std::to_string(n) +
                          (n == 1 ? " arg" : " args"));
    }
    std::string text = argument_text(args[segment.index]);
    // execve cannot carry a NUL: the argument would be cut short without anyone noticing.
    if (text.find('\0') != std::string::npos) {
      throw ArgumentError("args[" + std::to_string(segment.index) +
                          "] contains a NUL character, which a command argument cannot hold");
    }
    out += text;
  }
  return out;
}

std::string argument_text(const boost::json::value& value) {
  if (value.is_string()) return std::string(value.get_string());
  std::string out;
  append_compact_json(out, value);
  return out;
}

}  // namespace factotum::shell
