// JSON given on the command line (push's ARGS_JSON and --custom): parsed with Boost.JSON, and
// when it is not valid, an error that points at the character where parsing stopped.
#pragma once

#include <boost/json/value.hpp>

#include <string>
#include <string_view>

namespace factotum::ctl {

enum class JsonKind { array, object };

struct JsonArgument {
  boost::json::value value;  // of the wanted kind when error is empty
  std::string error;         // "ARGS_JSON is not valid JSON: syntax error at character 4 ..."
};

// `name` is how the user wrote it (ARGS_JSON, --custom), for the message.
JsonArgument parse_json_argument(std::string_view name, std::string_view text, JsonKind kind);

}  // namespace factotum::ctl
