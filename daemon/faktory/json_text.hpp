// JSON text a person wrote (a command-line argument, a producer's args): parsed with a depth
// limit of the caller's choosing and, when it is not valid, where parsing stopped, so that the
// caller's message can point at it.
#pragma once

#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <string_view>

namespace factotum::faktory {

struct ParsedJson {
  boost::json::value value;         // null when `error` is set
  boost::system::error_code error;  // why the text is not JSON
  std::size_t stopped_at = 0;       // offset of the first byte not taken; text.size(): cut short
};

ParsedJson parse_json_text(std::string_view text, std::size_t max_depth);

}  // namespace factotum::faktory
