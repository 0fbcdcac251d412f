// Fields of the server's INFO reply (PROTOCOL.md §5, transcripts/08-info.txt), looked up by
// their path: what info prints, what queue checks names against, what mutate compares. A
// field a server of another version leaves out (or sends as another type) is nullopt, never
// an exception.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace factotum::ctl {

using InfoPath = std::initializer_list<std::string_view>;

// The value at `path` ({"faktory", "sets", "retries"}), or null when a step is missing.
const boost::json::value* info_field(const boost::json::object& info, InfoPath path);

// A number (INFO's counts are integers; a double is truncated), or nullopt.
std::optional<std::int64_t> info_number(const boost::json::value* value);
std::optional<std::int64_t> info_number(const boost::json::object& info, InfoPath path);

std::optional<std::string> info_string(const boost::json::object& info, InfoPath path);

// faktory.queues: every queue the server has seen (empty ones too, transcript 10) with its
// size (0 when not a number).
std::map<std::string, std::int64_t> info_queues(const boost::json::object& info);

}  // namespace factotum::ctl
