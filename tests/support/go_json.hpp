// Go encoding/json look-alikes for the test server. The real Faktory server decodes every
// payload with Go's encoding/json and re-encodes stored jobs with it, so the bytes a client
// sees (error texts, escaping, number format, sorted map keys) are Go's. Only what the
// transcripts (tests/transcripts) show, plus the obvious neighbours, is reproduced.
#pragma once

#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace factotum::testing::gojson {

// Go's json.Valid scanner: std::nullopt when `text` is one valid JSON document, otherwise the
// message Go's Unmarshal returns ("unexpected end of JSON input", "invalid character 'b'
// looking for beginning of object key string"; transcripts 03, 04, 09).
std::optional<std::string> syntax_error(std::string_view text);

// Parses a document that syntax_error() accepted. Invalid UTF-8 is kept (Go accepts it).
boost::json::value parse(std::string_view text);

// Go's name for the JSON kind of a value in UnmarshalTypeError: "object", "array", "string",
// "number", "bool" ("null" never produces a type error in Go).
std::string_view kind_name(const boost::json::value& v);

// A Go `int` read from a JSON value: nullopt with `error_value` set to the JSON kind text Go
// would print ("number 1.5", "string", ...) when it does not fit.
std::optional<std::int64_t> as_int(const boost::json::value& v, std::string& error_value);

// Appends `s` as a Go JSON string: HTML-safe escaping (<, >, & as \u003c...), \u2028/\u2029,
// \b and \f as \u0008/\u000c, invalid UTF-8 as \ufffd.
void write_string(std::string& out, std::string_view s);

// Appends a float64 the way encoding/json formats it (shortest repr, 'e' form outside
// [1e-6, 1e21)).
void write_float(std::string& out, double v);

// Appends a decoded interface{} value: objects as Go maps (keys sorted), numbers as float64.
void write_value(std::string& out, const boost::json::value& v);

// Go's %q-ish quoting used by time.Parse errors and fmt's %q for ASCII text.
std::string quote(std::string_view s);

}  // namespace factotum::testing::gojson
