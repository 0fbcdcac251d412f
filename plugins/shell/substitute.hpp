// Argument substitution: an argv element written as a template ("--name={0}") is parsed once
// at init and filled from each job's args. Kept apart from spawning so it can be tested alone.
#pragma once

#include <boost/json/value.hpp>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace factotum::shell {

// A job's args do not fit the command's placeholders; FAILs the job as ShellArgumentError.
class ArgumentError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One argv element: literal text and placeholders in order. std::format-like syntax: {N} is
// args[N], {{ and }} are literal braces, any other brace is an error (caught at init, so a
// typo such as {O} cannot silently become part of an argument).
class ArgTemplate {
 public:
  // Throws std::invalid_argument with a sentence saying what is wrong (no key path: the
  // caller knows it).
  static ArgTemplate parse(std::string_view text);

  bool has_placeholders() const noexcept;
  // args must be the job's args array. Throws ArgumentError when an index is out of range or
  // a value cannot be an argv element.
  std::string render(const boost::json::array& args) const;

 private:
  struct Segment {
    std::string literal;  // used when !is_placeholder
    std::size_t index = 0;
    bool is_placeholder = false;
  };
  std::vector<Segment> segments_;
};

// A JSON value as one argv element: strings verbatim, anything else as compact JSON (doubles
// in their shortest round-trip form, "1.5" rather than Boost.JSON's "1.5E0").
std::string argument_text(const boost::json::value& value);

}  // namespace factotum::shell
