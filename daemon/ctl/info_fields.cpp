#include "ctl/info_fields.hpp"

namespace factotum::ctl {

namespace json = boost::json;

const json::value* info_field(const json::object& info, InfoPath path) {
  const json::object* at = &info;
  const json::value* value = nullptr;
  for (const auto key : path) {
    if (at == nullptr) return nullptr;
    value = at->if_contains(key);
    if (value == nullptr) return nullptr;
    at = value->if_object();
  }
  return value;
}

std::optional<std::int64_t> info_number(const json::value* value) {
  if (value == nullptr) return std::nullopt;
  if (value->is_int64()) return value->as_int64();
  if (value->is_uint64()) return static_cast<std::int64_t>(value->as_uint64());
  if (value->is_double()) return static_cast<std::int64_t>(value->as_double());
  return std::nullopt;
}

std::optional<std::int64_t> info_number(const json::object& info, InfoPath path) {
  return info_number(info_field(info, path));
}

std::optional<std::string> info_string(const json::object& info, InfoPath path) {
  const auto* value = info_field(info, path);
  if (value == nullptr || !value->is_string()) return std::nullopt;
  return std::string(value->as_string());
}

std::map<std::string, std::int64_t> info_queues(const json::object& info) {
  std::map<std::string, std::int64_t> queues;
  const auto* listed = info_field(info, {"faktory", "queues"});
  if (listed == nullptr || !listed->is_object()) return queues;
  for (const auto& [name, size] : listed->as_object()) {
    queues[std::string(name)] = info_number(&size).value_or(0);
  }
  return queues;
}

}  // namespace factotum::ctl
