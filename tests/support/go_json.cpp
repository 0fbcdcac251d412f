#include "go_json.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

namespace factotum::testing::gojson {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Go's scanner quoteChar: the offending byte in "invalid character 'x' ...".
std::string quote_char(unsigned char c) {
  if (c == '\'') return R"('\'')";
  if (c == '"') return R"('"')";
  std::string s = "'";
  switch (c) {
    case '\a':
      s += "\\a";
      break;
    case '\b':
      s += "\\b";
      break;
    case '\f':
      s += "\\f";
      break;
    case '\n':
      s += "\\n";
      break;
    case '\r':
      s += "\\r";
      break;
    case '\t':
      s += "\\t";
      break;
    case '\v':
      s += "\\v";
      break;
    case '\\':
      s += "\\\\";
      break;
    default:
      if (c < 0x20 || c == 0x7f) {
        s += "\\x";
        s += kHex[c >> 4];
        s += kHex[c & 0xF];
      } else if (c < 0x80) {
        s += static_cast<char>(c);
      } else if (c < 0xA1 || c == 0xAD) {
        // strconv.Quote(string(rune(c))): Latin-1 controls, NBSP and soft hyphen are not
        // printable, so they come out as \u00XX.
        s += "\\u00";
        s += kHex[c >> 4];
        s += kHex[c & 0xF];
      } else {
        append_utf8(s, c);
      }
  }
  return s + "'";
}

// A recursive-descent twin of Go's encoding/json scanner, producing its messages.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : s_(text) {}

  std::optional<std::string> run() {
    skip_ws();
    if (!value()) return error_;
    skip_ws();
    if (i_ < s_.size()) {
      fail("after top-level value");
      return error_;
    }
    return std::nullopt;
  }

 private:
  static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
  void skip_ws() {
    while (i_ < s_.size() && is_ws(s_[i_])) ++i_;
  }
  bool eof() const { return i_ >= s_.size(); }
  unsigned char cur() const { return static_cast<unsigned char>(s_[i_]); }
  bool fail(std::string_view context) {
    if (eof()) {
      error_ = "unexpected end of JSON input";
    } else {
      error_ = "invalid character " + quote_char(cur()) + " " + std::string(context);
    }
    return false;
  }
  bool value() {
    if (eof()) return fail("");
    switch (cur()) {
      case '{':
      case '[': {
        // Go's scanner stops at maxNestingDepth (10000), before it recurses any deeper.
        if (depth_ == kMaxNestingDepth) return fail("exceeded max depth");
        const bool is_object = cur() == '{';
        ++i_;
        ++depth_;
        const bool ok = is_object ? object() : array();
        --depth_;
        return ok;
      }
      case '"':
        ++i_;
        return string();
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        if (cur() == '-' || (cur() >= '0' && cur() <= '9')) return number();
        return fail("looking for beginning of value");
    }
  }

  bool object() {
    skip_ws();
    if (!eof() && cur() == '}') {
      ++i_;
      return true;
    }
    for (;;) {
      if (eof() || cur() != '"') return fail("looking for beginning of object key string");
      ++i_;
      if (!string()) return false;
      skip_ws();
      if (eof() || cur() != ':') return fail("after object key");
      ++i_;
      skip_ws();
      if (!value()) return false;
      skip_ws();
      if (eof()) return fail("");
      if (cur() == ',') {
        ++i_;
        skip_ws();
        continue;
      }
      if (cur() == '}') {
        ++i_;
        return true;
      }
      return fail("after object key:value pair");
    }
  }

  bool array() {
    skip_ws();
    if (!eof() && cur() == ']') {
      ++i_;
      return true;
    }
    for (;;) {
      skip_ws();
      if (!value()) return false;
      skip_ws();
      if (eof()) return fail("");
      if (cur() == ',') {
        ++i_;
        continue;
      }
      if (cur() == ']') {
        ++i_;
        return true;
      }
      return fail("after array element");
    }
  }

  bool string() {
    for (;;) {
      if (eof()) return fail("");
      unsigned char c = cur();
      if (c == '"') {
        ++i_;
        return true;
      }
      if (c < 0x20) return fail("in string literal");
      ++i_;
      if (c != '\\') continue;
      if (eof()) return fail("");
      c = cur();
      if (c == 'u') {
        ++i_;
        for (int k = 0; k < 4; ++k) {
          if (eof()) return fail("");
          if (!std::isxdigit(cur())) return fail("in \\u hexadecimal character escape");
          ++i_;
        }
        continue;
      }
      if (std::string_view(R"("\/bfnrt)").find(static_cast<char>(c)) == std::string_view::npos) {
        return fail("in string escape code");
      }
      ++i_;
    }
  }

  bool digits() {
    while (!eof() && cur() >= '0' && cur() <= '9') ++i_;
    return true;
  }

  bool number() {
    if (cur() == '-') {
      ++i_;
      if (eof()) return fail("");
      if (!(cur() >= '0' && cur() <= '9')) return fail("in numeric literal");
    }
    if (cur() == '0') {
      ++i_;
    } else {
      digits();
    }
    if (!eof() && cur() == '.') {
      ++i_;
      if (eof()) return fail("");
      if (!(cur() >= '0' && cur() <= '9')) return fail("after decimal point in numeric literal");
      digits();
    }
    if (!eof() && (cur() == 'e' || cur() == 'E')) {
      ++i_;
      if (!eof() && (cur() == '+' || cur() == '-')) ++i_;
      if (eof()) return fail("");
      if (!(cur() >= '0' && cur() <= '9')) return fail("in exponent of numeric literal");
      digits();
    }
    return true;
  }

  bool literal(std::string_view word) {
    ++i_;
    for (std::size_t k = 1; k < word.size(); ++k) {
      if (eof()) return fail("");
      if (cur() != static_cast<unsigned char>(word[k])) {
        return fail("in literal " + std::string(word) + " (expecting " +
                    quote_char(static_cast<unsigned char>(word[k])) + ")");
      }
      ++i_;
    }
    return true;
  }

  std::string_view s_;
  std::size_t i_ = 0;
  std::string error_;
  static constexpr std::size_t kMaxNestingDepth = 10000;
  std::size_t depth_ = 0;
};

}  // namespace

std::optional<std::string> syntax_error(std::string_view text) {
  return Scanner(text).run();
}

boost::json::value parse(std::string_view text) {
  boost::json::parse_options opts;
  opts.allow_invalid_utf8 = true;
  // Go's decoder nests up to 10000 levels (encoding/json maxNestingDepth); so does the server.
  opts.max_depth = 10000;
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec, {}, opts);
  if (ec) {
    // The Go scanner accepted it; Boost refuses only extremes (e.g. 1e400). Treat as null so
    // the caller reports the job's own validation error instead of crashing.
    return nullptr;
  }
  return v;
}

std::string_view kind_name(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::object:
      return "object";
    case boost::json::kind::array:
      return "array";
    case boost::json::kind::string:
      return "string";
    case boost::json::kind::bool_:
      return "bool";
    case boost::json::kind::null:
      return "null";
    default:
      return "number";
  }
}

std::optional<std::int64_t> as_int(const boost::json::value& v, std::string& error_value) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) {
    if (v.get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return static_cast<std::int64_t>(v.get_uint64());
    }
    error_value = "number " + std::to_string(v.get_uint64());
    return std::nullopt;
  }
  if (v.is_double()) {
    // Go prints the literal; we only have the parsed double, so print it Go-style.
    std::string lit;
    write_float(lit, v.get_double());
    error_value = "number " + lit;
    return std::nullopt;
  }
  error_value = std::string(kind_name(v));
  return std::nullopt;
}

void write_string(std::string& out, std::string_view s) {
  out += '"';
  std::size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      if (b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&') {
        out += static_cast<char>(b);
      } else if (b == '"' || b == '\\') {
        out += '\\';
        out += static_cast<char>(b);
      } else if (b == '\n') {
        out += "\\n";
      } else if (b == '\r') {
        out += "\\r";
      } else if (b == '\t') {
        out += "\\t";
      } else {
        out += "\\u00";
        out += kHex[b >> 4];
        out += kHex[b & 0xF];
      }
      ++i;
      continue;
    }
    // Decode one UTF-8 sequence; anything invalid becomes \ufffd like Go's encoder.
    std::size_t len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 0;
    bool valid = len != 0 && b < 0xF5 && i + len <= s.size();
    std::uint32_t cp = 0;
    if (valid) {
      cp = b & (0xFFu >> (len + 1));
      for (std::size_t k = 1; k < len; ++k) {
        auto c = static_cast<unsigned char>(s[i + k]);
        if ((c & 0xC0) != 0x80) {
          valid = false;
          break;
        }
        cp = (cp << 6) | (c & 0x3Fu);
      }
      static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
      if (valid && (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) {
        valid = false;
      }
    }
    if (!valid) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    if (cp == 0x2028 || cp == 0x2029) {
      out += cp == 0x2028 ? "\\u2028" : "\\u2029";
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  out += '"';
}

void write_float(std::string& out, double v) {
  char buf[64];
  double abs = std::fabs(v);
  bool exp_form = abs != 0 && (abs < 1e-6 || abs >= 1e21);
  auto res = std::to_chars(buf, buf + sizeof buf, v,
                           exp_form ? std::chars_format::scientific : std::chars_format::fixed);
  std::string s(buf, res.ptr);
  if (exp_form) {
    // Go writes e-07 as e-7 (but keeps e+21).
    auto n = s.size();
    if (n >= 4 && s[n - 4] == 'e' && s[n - 3] == '-' && s[n - 2] == '0') s.erase(n - 2, 1);
  }
  out += s;
}

void write_value(std::string& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      out += "null";
      break;
    case boost::json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      break;
    case boost::json::kind::int64:
      write_float(out, static_cast<double>(v.get_int64()));
      break;
    case boost::json::kind::uint64:
      write_float(out, static_cast<double>(v.get_uint64()));
      break;
    case boost::json::kind::double_:
      write_float(out, v.get_double());
      break;
    case boost::json::kind::string:
      write_string(out, v.get_string());
      break;
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out += ',';
        first = false;
        write_value(out, e);
      }
      out += ']';
      break;
    }
    case boost::json::kind::object: {
      // Go decodes objects into map[string]interface{} and encodes maps with sorted keys.
      std::vector<const boost::json::key_value_pair*> items;
      for (const auto& kv : v.get_object()) items.push_back(&kv);
      std::sort(items.begin(), items.end(), [](auto* a, auto* b) { return a->key() < b->key(); });
      out += '{';
      bool first = true;
      for (const auto* kv : items) {
        if (!first) out += ',';
        first = false;
        write_string(out, kv->key());
        out += ':';
        write_value(out, kv->value());
      }
      out += '}';
      break;
    }
  }
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20 || c >= 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

}  // namespace factotum::testing::gojson
