// Reading the simple args the e2e test plugins take, without a JSON parser in the plugin.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace e2e {

// args_json is "[\"PATH\"]": the first string (no escapes), or "" when there is none.
inline std::string first_string(std::string_view args) {
  const auto open = args.find('"');
  if (open == std::string_view::npos) return {};
  const auto close = args.find('"', open + 1);
  if (close == std::string_view::npos) return {};
  return std::string(args.substr(open + 1, close - open - 1));
}

// Every string of args_json, in order (no escapes).
inline std::vector<std::string> strings(std::string_view args) {
  std::vector<std::string> out;
  for (auto open = args.find('"'); open != std::string_view::npos; open = args.find('"')) {
    const auto close = args.find('"', open + 1);
    if (close == std::string_view::npos) break;
    out.emplace_back(args.substr(open + 1, close - open - 1));
    args.remove_prefix(close + 1);
  }
  return out;
}

}  // namespace e2e
