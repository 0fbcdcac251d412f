// Structured values taken from the front of a fuzz input, for targets whose input is more than
// one string (a descriptor, a sequence of calls). Like libFuzzer's FuzzedDataProvider, which
// GCC's replay builds do not have. Past the end every read gives zeros and empty strings, so a
// short input is still a valid one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace factotum::fuzz {

class FuzzInput {
 public:
  FuzzInput(const std::uint8_t* data, std::size_t size) noexcept
      : text_(reinterpret_cast<const char*>(data), size) {}

  bool empty() const noexcept { return text_.empty(); }

  std::uint8_t byte() noexcept {
    if (text_.empty()) return 0;
    const auto b = static_cast<std::uint8_t>(text_.front());
    text_.remove_prefix(1);
    return b;
  }
  bool flag() noexcept { return (byte() & 1) != 0; }
  // Little-endian; each read is its own statement, as the operands of | are unsequenced.
  std::uint16_t u16() noexcept {
    const unsigned low = byte();
    const unsigned high = byte();
    return static_cast<std::uint16_t>(low | high << 8);
  }
  std::uint32_t u32() noexcept {
    const std::uint32_t low = u16();
    const std::uint32_t high = u16();
    return low | high << 16;
  }
  std::uint64_t u64() noexcept {
    const std::uint64_t low = u32();
    const std::uint64_t high = u32();
    return low | high << 32;
  }

  // A string of up to 255 bytes: a length byte, then that many bytes (fewer at the end).
  std::string_view short_string() noexcept { return bytes(byte()); }
  // A string of up to 65535 bytes, its length in two bytes.
  std::string_view long_string() noexcept { return bytes(u16()); }
  std::string_view bytes(std::size_t n) noexcept {
    const std::string_view out = text_.substr(0, n);
    text_.remove_prefix(out.size());
    return out;
  }
  std::string_view rest() noexcept { return bytes(text_.size()); }

 private:
  std::string_view text_;
};

}  // namespace factotum::fuzz
