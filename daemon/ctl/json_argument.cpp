#include "ctl/json_argument.hpp"

#include "faktory/json_text.hpp"
#include "faktory/quote.hpp"

namespace factotum::ctl {

namespace json = boost::json;

namespace {

// The JSON kind, as a user reads it.
std::string kind_of(const json::value& value) {
  switch (value.kind()) {
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
    case json::kind::string:
      return "a string";
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    default:
      return "a number";
  }
}

// Where parsing stopped, for the message: "at character 4 ('}' in '[1,}')". Long input is
// shown from 20 characters before that point.
std::string position(std::string_view text, std::size_t offset) {
  if (offset >= text.size()) return "at the end (it is cut short)";
  const std::size_t from = offset > 20 ? offset - 20 : 0;
  return "at character " + std::to_string(offset + 1) + " (" +
         faktory::quote(text.substr(offset, 1)) + " in " + faktory::quote(text.substr(from)) + ")";
}

}  // namespace

JsonArgument parse_json_argument(std::string_view name, std::string_view text, JsonKind kind) {
  const std::string wanted = kind == JsonKind::array ? "an array" : "an object";
  // Deeper than Boost.JSON's default of 32 levels: a job's args may nest that much, and the
  // parser keeps its own stack (Faktory itself refuses past 10 000).
  auto parsed = faktory::parse_json_text(text, 10000);
  if (parsed.error) {
    return {{},
            std::string(name) + " is not valid JSON: " + parsed.error.message() + " " +
                position(text, parsed.stopped_at) + "; it must be " + wanted + ", e.g. " +
                (kind == JsonKind::array ? "'[1,\"two\"]'" : "'{\"key\":1}'")};
  }
  json::value value = std::move(parsed.value);
  const bool right_kind = kind == JsonKind::array ? value.is_array() : value.is_object();
  if (!right_kind) {
    return {{},
            std::string(name) + " must be " + wanted + " in JSON, got " + kind_of(value) + ": " +
                faktory::quote(text)};
  }
  return {std::move(value), {}};
}

}  // namespace factotum::ctl
