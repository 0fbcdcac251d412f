// Cutting text that goes into logs and reports to a size, without splitting a UTF-8 character,
// and naming sizes for the marker that shows the cut. Header-only: the plugin host and the
// Faktory client both cut what plugins report (plugins' failure caps, the server's limits),
// and neither links the other.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace factotum::text {

inline constexpr std::string_view kEllipsis = "\xE2\x80\xA6";  // "…"

// The longest prefix of `text` of at most `max_bytes` that does not end inside a UTF-8
// multi-byte sequence. (Bytes that are not valid UTF-8 are cut anywhere past a bounded
// back-off: a sequence is at most 4 bytes long.)
inline std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes) noexcept {
  if (text.size() <= max_bytes) return text;
  const auto continuation = [](char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; };
  // text[size] is the first byte left out. While it is a continuation byte, the character it
  // belongs to began inside the prefix: leave that character out whole.
  std::size_t size = max_bytes;
  for (int back = 0; back < 3 && size > 0 && continuation(text[size]); ++back) --size;
  return text.substr(0, size);
}

// `text` when it fits in `max_bytes`, else as much of it as fits followed by `marker`: never
// longer than `max_bytes` (assuming the marker itself fits).
inline std::string cut_with_marker(std::string_view text, std::size_t max_bytes,
                                   std::string_view marker) {
  if (text.size() <= max_bytes) return std::string(text);
  const std::size_t room = max_bytes > marker.size() ? max_bytes - marker.size() : 0;
  std::string out(utf8_prefix(text, room));
  out += marker;
  return out;
}

// "512 B", "8.0 KiB", "1.2 MiB": one decimal from KiB on, rounded to the nearest tenth.
inline std::string human_size(std::uint64_t bytes) {
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

}  // namespace factotum::text
