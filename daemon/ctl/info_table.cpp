#include "ctl/info_table.hpp"

#include "ctl/info_fields.hpp"

#include <boost/json/value.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace factotum::ctl {

namespace json = boost::json;

namespace {

std::string text_of(const std::optional<std::int64_t>& n) {
  return n ? std::to_string(*n) : "?";
}

std::string number_text(const json::object& info, InfoPath path) {
  return text_of(info_number(info, path));
}

std::string string_text(const json::object& info, InfoPath path) {
  return info_string(info, path).value_or("?");
}

// "topic  name value  name value ...": the values of one topic on one line, two spaces apart.
std::string line_of(std::string_view topic,
                    std::initializer_list<std::pair<std::string_view, std::string>> fields) {
  std::string out(topic);
  out.resize(6, ' ');
  for (const auto& [name, value] : fields) {
    out += ' ';
    out += name;
    out += ' ';
    out += value;
    out += ' ';
  }
  out.pop_back();
  return out + "\n";
}

}  // namespace

std::string format_uptime(std::int64_t seconds) {
  if (seconds < 0) return "?";
  if (seconds < 60) return std::to_string(seconds) + "s";
  constexpr std::int64_t kUnits[] = {86400, 3600, 60, 1};
  constexpr const char* kNames[] = {"d", "h", "m", "s"};
  std::size_t i = 0;
  while (seconds < kUnits[i]) ++i;
  return std::to_string(seconds / kUnits[i]) + kNames[i] + " " +
         std::to_string(seconds % kUnits[i] / kUnits[i + 1]) + kNames[i + 1];
}

std::string format_info(const json::object& info, std::string_view server) {
  std::string out = string_text(info, {"server", "description"}) + " " +
                    string_text(info, {"server", "faktory_version"}) + " at " + std::string(server);
  const auto uptime = info_number(info, {"server", "uptime"});
  out += ", up " + (uptime ? format_uptime(*uptime) : "?");
  const auto connections = info_number(info, {"server", "connections"});
  out += ", " + text_of(connections) + (connections == 1 ? " connection" : " connections");
  out += ", " + number_text(info, {"server", "used_memory_mb"}) + " MB\n\n";

  out += line_of("jobs", {{"processed", number_text(info, {"faktory", "total_processed"})},
                          {"failures", number_text(info, {"faktory", "total_failures"})},
                          {"enqueued", number_text(info, {"faktory", "total_enqueued"})}});
  out += line_of("sets", {{"scheduled", number_text(info, {"faktory", "sets", "scheduled"})},
                          {"retries", number_text(info, {"faktory", "sets", "retries"})},
                          {"dead", number_text(info, {"faktory", "sets", "dead"})},
                          {"working", number_text(info, {"faktory", "sets", "working"})}});

  const auto* queues_value = info_field(info, {"faktory", "queues"});
  const auto* queues = queues_value != nullptr ? queues_value->if_object() : nullptr;
  if (queues == nullptr || queues->empty()) return out + "\nno queues\n";
  std::size_t name_width = 5;  // "QUEUE"
  std::size_t size_width = 4;  // "SIZE"
  std::vector<std::pair<std::string, std::string>> rows;
  for (const auto& [name, size] : *queues) {
    rows.emplace_back(std::string(name), text_of(info_number(&size)));
    name_width = std::max(name_width, rows.back().first.size());
    size_width = std::max(size_width, rows.back().second.size());
  }
  // The server sorts its map keys (transcripts/README.md); sort anyway for any other server.
  std::sort(rows.begin(), rows.end());
  const auto row = [&](const std::string& name, const std::string& size) {
    return name + std::string(name_width - name.size() + 2, ' ') +
           std::string(size_width - size.size(), ' ') + size + "\n";
  };
  out += "\n" + row("QUEUE", "SIZE");
  for (const auto& [name, size] : rows) out += row(name, size);
  return out;
}

}  // namespace factotum::ctl
