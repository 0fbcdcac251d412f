#include "ctl/stop_timeout.hpp"

#include "config/config.hpp"
#include "config/duration.hpp"
#include "config/read_file.hpp"
#include "service/exit_status.hpp"

#include <filesystem>

namespace factotum::ctl {

namespace {

// Whether a line of the top level (no indentation, not a comment) holds the key `faktory`.
bool starts_faktory_section(std::string_view line) {
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return false;
  auto key = line.substr(0, colon);
  while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.remove_suffix(1);
  if (key.size() >= 2 && (key.front() == '"' || key.front() == '\'') && key.back() == key.front()) {
    key = key.substr(1, key.size() - 2);
  }
  return key == "faktory";
}

}  // namespace

std::string without_faktory_section(std::string_view yaml) {
  std::string out;
  out.reserve(yaml.size());
  bool inside = false;
  while (!yaml.empty()) {
    const auto end = yaml.find('\n');
    const auto line = yaml.substr(0, end);
    yaml.remove_prefix(end == std::string_view::npos ? yaml.size() : end + 1);
    // A block ends at the next line that starts at column 1 and is not a comment (its own
    // lines, block scalars included, are indented).
    const bool top_level = !line.empty() && line.front() != ' ' && line.front() != '\t' &&
                           line.front() != '#' && line.front() != '\r';
    if (top_level) inside = starts_faktory_section(line);
    if (!inside) out += line;
    if (end != std::string_view::npos) out += '\n';
  }
  return out;
}

std::variant<StopTimeout, Failure> stop_timeout(const SignalArgs& args,
                                                const ConnectionArgs& connection) {
  if (args.timeout) return StopTimeout{*args.timeout, "--timeout"};
  const std::string file = connection.config.value_or(service::kDefaultConfigFile);
  const std::string advice = " (stop reads worker.shutdown_timeout from it; or give --timeout)";
  const auto contents = config::read_whole_file(file);
  if (!contents.ok()) {
    std::error_code ec;
    if (!connection.config && !std::filesystem::exists(file, ec) && !ec) {
      return StopTimeout{kDefaultStopTimeout, "the default: there is no " + file};
    }
    return Failure{kExitConfig, "configuration error: " + file +
                                    ": cannot read the configuration file: " + contents.error +
                                    advice};
  }
  try {
    const faktory::EnvLookup no_environment = [](const std::string&) {
      return std::optional<std::string>();
    };
    const auto config =
        config::parse_config(without_faktory_section(contents.data), file, {}, no_environment);
    const auto shutdown = config.worker.shutdown_timeout;
    return StopTimeout{
        shutdown + std::chrono::seconds(20),
        "worker.shutdown_timeout " + config::format_duration(shutdown) + " in " + file + " + 20s"};
  } catch (const config::ConfigError& e) {
    return Failure{kExitConfig, std::string("configuration error: ") + e.what() + advice};
  }
}

}  // namespace factotum::ctl
