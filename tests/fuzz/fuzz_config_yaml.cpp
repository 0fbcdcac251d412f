// parse_config on arbitrary YAML text must return a Config or throw ConfigError (nothing else:
// the daemon turns a ConfigError into exit 78 and keeps the old Config on reload). The error is
// one line naming the file. A Config keeps the promises config.hpp makes (ranges, unique
// queues, absolute normalised plugin directories, plugin settings as a JSON object), and no
// message or summary ever shows the password read from a password_file. Files the YAML names
// are fakes (fake_files.hpp): the fuzzer never touches the real file system.
#include "config/config.hpp"
#include "config/config_diff.hpp"
#include "config/value_parsers.hpp"
#include "fake_files.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace {

using namespace factotum::config;
using factotum::fuzz::kFakeSecret;
using namespace std::chrono_literals;

constexpr std::string_view kSource = "/etc/factotum/factotum.yaml";

// No FAKTORY_URL or FAKTORY_PROVIDER: the URL comes from the file. $CREDENTIALS_DIRECTORY is
// set, so password_file's ${CREDENTIALS_DIRECTORY}/... form resolves (to a fake file).
std::optional<std::string> environment(const std::string& name) {
  if (name == "CREDENTIALS_DIRECTORY") return std::string("/run/credentials/factotum.service");
  return std::nullopt;
}

bool one_line(std::string_view text) {
  return text.find_first_of("\r\n") == std::string_view::npos;
}

// The secret may only show where the input wrote it itself.
void check_no_secret(std::string_view text, bool input_has_secret) {
  if (!input_has_secret && text.find(kFakeSecret) != std::string_view::npos) std::abort();
}

void check_config(const Config& c, bool input_has_secret) {
  if (c.source != kSource) std::abort();

  const WorkerConfig& w = c.worker;
  if (w.concurrency < 1 || w.concurrency > kMaxConcurrency) std::abort();
  if (w.queues.empty()) std::abort();
  std::set<std::string> names;
  for (const Queue& q : w.queues) {
    if (check_queue_name(q.name)) std::abort();
    if (!names.insert(q.name).second) std::abort();  // unique
    if (q.weight < 1 || q.weight > kMaxQueueWeight) std::abort();
    if (w.queue_mode == QueueMode::strict && q.weight != 1) std::abort();
  }
  if (check_shutdown_timeout(w.shutdown_timeout) || w.shutdown_timeout < 0ms) std::abort();
  if (check_heartbeat_interval(w.heartbeat_interval)) std::abort();
  if (!w.wid.empty() && check_wid(w.wid)) std::abort();

  std::set<std::filesystem::path> directories;
  for (const auto& d : c.plugins.directories) {
    if (!d.is_absolute() || normalise_path(d) != d) std::abort();
    if (!directories.insert(d).second) std::abort();
  }
  for (const auto& [name, settings] : c.plugins.settings) {
    if (name.empty()) std::abort();
    boost::json::error_code ec;
    const boost::json::value json = boost::json::parse(settings.json, ec);
    if (ec || !json.is_object()) std::abort();  // sdk.h: config_json is a JSON object
  }
  for (const auto& [name, options] : c.jobtypes) {
    if (options.timeout && check_jobtype_timeout(*options.timeout)) std::abort();
  }
  if (c.metrics.enabled() && (c.metrics.host.empty() || c.metrics.port == 0)) std::abort();

  const FaktoryConfig& f = c.faktory;
  if (f.password_source == PasswordSource::file && f.password != kFakeSecret) std::abort();
  if (f.tls.cert_file.empty() != f.tls.key_file.empty()) std::abort();

  // What the daemon logs about this Config: never the password from the file.
  check_no_secret(describe(c), input_has_secret);
  for (const auto& warning : c.warnings) check_no_secret(warning, input_has_secret);
  for (const auto& change : describe_changes(Config{}, c)) {
    check_no_secret(change, input_has_secret);
  }
  for (const auto& change : describe_changes(c, Config{})) {
    check_no_secret(change, input_has_secret);
  }
  if (!describe_changes(c, c).empty()) std::abort();  // a Config equals itself
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  const bool input_has_secret = yaml.find(kFakeSecret) != std::string_view::npos;
  std::optional<Config> config;
  try {
    config = parse_config(yaml, std::string(kSource), ConfigOverrides{}, environment);
  } catch (const ConfigError& e) {
    if (e.file() != kSource) std::abort();  // every error names the file
    if (e.message().empty() || !one_line(e.what())) std::abort();
    check_no_secret(e.what(), input_has_secret);
    return 0;
  }
  check_config(*config, input_has_secret);
  return 0;
}
