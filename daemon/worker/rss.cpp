#include "worker/rss.hpp"

#include <charconv>
#include <fstream>
#include <sstream>

namespace factotum::worker {

std::optional<std::int64_t> parse_vmrss_kb(std::string_view status) {
  constexpr std::string_view kKey = "VmRSS:";
  const auto at = status.find(kKey);
  if (at == std::string_view::npos) return std::nullopt;
  auto rest = status.substr(at + kKey.size());
  const auto digits = rest.find_first_of("0123456789");
  if (digits == std::string_view::npos) return std::nullopt;
  rest = rest.substr(digits);
  std::int64_t kb = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), kb);
  if (ec != std::errc()) return std::nullopt;
  return kb;
}

std::optional<std::int64_t> current_rss_kb() {
  std::ifstream in("/proc/self/status");
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return parse_vmrss_kb(text.str());
}

}  // namespace factotum::worker
