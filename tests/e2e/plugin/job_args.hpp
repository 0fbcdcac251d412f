// Reading the simple args the e2e test plugins take, without a JSON parser in the plugin.
#pragma once

#include <string>
#include <string_view>

namespace e2e {

// args_json is "[\"PATH\"]": the first string (no escapes), or "" when there is none.
inline std::string first_string(std::string_view args) {
  const auto open = args.find('"');
  if (open == std::string_view::npos) return {};
  const auto close = args.find('"', open + 1);
  if (close == std::string_view::npos) return {};
  return std::string(args.substr(open + 1, close - open - 1));
}

}  // namespace e2e
