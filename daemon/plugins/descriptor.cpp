#include "plugins/descriptor.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string_view>

namespace factotum::plugins {
namespace {

// The 1.0 descriptor ends with `shutdown`; any plugin of major 1 has at least this much.
constexpr std::size_t descriptor_size_1_0 =
    offsetof(factotum_plugin_descriptor, shutdown) + sizeof(factotum_plugin_descriptor::shutdown);

bool valid_plugin_name(const char* name) {
  if (name == nullptr) return false;
  const std::size_t size = ::strnlen(name, 65);
  if (size == 0 || size > 64) return false;
  return std::all_of(name, name + size, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// The name as the refusal shows it: printable ASCII as is, any other byte as \xNN, so a name
// holding a newline or an escape sequence cannot split or forge the log line.
std::string shown_name(const char* name) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char c : std::string_view(name, ::strnlen(name, 64))) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && c != '"' && c != '\\') {
      out += c;
    } else {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    }
  }
  return out;
}

}  // namespace

std::optional<factotum_plugin_descriptor> check_descriptor(
    const factotum_plugin_descriptor* descriptor, std::string& why) {
  if (descriptor == nullptr) {
    why = FACTOTUM_PLUGIN_ENTRY_SYMBOL "() returned NULL";
    return std::nullopt;
  }
  if (descriptor->size < descriptor_size_1_0) {
    why = "its descriptor is " + std::to_string(descriptor->size) + " bytes, SDK 1.0 needs " +
          std::to_string(descriptor_size_1_0) + ": not built with the factotum SDK?";
    return std::nullopt;
  }
  const std::string built_for = "built for SDK " + std::to_string(descriptor->abi_major) + "." +
                                std::to_string(descriptor->abi_minor);
  if (descriptor->abi_major != FACTOTUM_ABI_MAJOR) {
    why = built_for + " but exports " FACTOTUM_PLUGIN_ENTRY_SYMBOL
                      ": a broken plugin (the entry point's name carries the major)";
    return std::nullopt;
  }
  if (descriptor->abi_minor > FACTOTUM_ABI_MINOR) {
    why = built_for + ", this factotum supports up to " + std::to_string(FACTOTUM_ABI_MAJOR) + "." +
          std::to_string(FACTOTUM_ABI_MINOR) + ": upgrade factotum";
    return std::nullopt;
  }
  // sdk.h: never read beyond the writer's `size`; zero-fill what an older plugin lacks.
  factotum_plugin_descriptor copy{};
  std::memcpy(&copy, descriptor, std::min<std::size_t>(descriptor->size, sizeof copy));
  if (!valid_plugin_name(copy.name)) {
    why = "invalid plugin name" +
          (copy.name == nullptr ? std::string(" (NULL)") : " \"" + shown_name(copy.name) + "\"") +
          ": use 1 to 64 characters of [a-z0-9_-]";
    return std::nullopt;
  }
  if (copy.init == nullptr) {
    why = "plugin '" + std::string(copy.name) + "' has no init function in its descriptor";
    return std::nullopt;
  }
  return copy;
}

}  // namespace factotum::plugins
