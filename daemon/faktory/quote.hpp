// Shows untrusted bytes (a server reply, a user value) inside an error message: quoted,
// non-printable bytes escaped, cut to a readable length, so a message stays one clean line.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace factotum::faktory {

inline constexpr std::size_t kQuoteMaxBytes = 60;

// 'text' with \r, \n, \t, \\, \' and \xNN escapes; longer input ends in "...' (N bytes)".
inline std::string quote(std::string_view text, std::size_t max_bytes = kQuoteMaxBytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "'";
  const std::string_view shown = text.substr(0, max_bytes);
  for (const char c : shown) {
    switch (c) {
      case '\r':
        out += "\\r";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\'':
        out += "\\'";
        break;
      default: {
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x20 && byte < 0x7f) {
          out += c;
        } else {
          out += "\\x";
          out += kHex[byte >> 4];
          out += kHex[byte & 0xf];
        }
      }
    }
  }
  if (shown.size() < text.size()) {
    out += "...' (" + std::to_string(text.size()) + " bytes)";
  } else {
    out += '\'';
  }
  return out;
}

}  // namespace factotum::faktory
