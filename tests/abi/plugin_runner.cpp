// plugin-runner: loads plugins with the real PluginHost, runs one job, prints its outcome as
// one JSON line on stdout. For plugin authors and the shipped-plugin tests: no server needed.
//
//   plugin-runner --plugin FILE [--plugin FILE...] --jobtype T [--args JSON] [--custom JSON]
//                 [--config NAME=JSON] [--no-strict-permissions]
//
// Plugin log lines go to stderr. Follow-up jobs a plugin pushes are printed to stderr and
// answered with a made-up jid. Exit status: 0 the job succeeded, 1 it failed, 2 a usage or
// load error.
#include "plugins/plugin_host.hpp"

#include <boost/json.hpp>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace json = boost::json;
using factotum::plugins::PluginHost;

constexpr int exit_failed = 1;
constexpr int exit_usage = 2;

constexpr std::string_view usage =
    "usage: plugin-runner --plugin FILE [--plugin FILE...] --jobtype T [--args JSON]\n"
    "                     [--custom JSON] [--config NAME=JSON] [--no-strict-permissions]\n";

struct Arguments {
  std::vector<std::string> plugins;
  std::string jobtype;
  std::string args = "[]";
  std::string custom = "{}";
  std::vector<std::pair<std::string, std::string>> config;
  bool strict = true;
};

int usage_error(const std::string& message) {
  std::cerr << "plugin-runner: " << message << "\n" << usage;
  return exit_usage;
}

// Returns the parsed value, or an error message in `why`.
json::value parse_json(const std::string& text, std::string_view what, std::string& why) {
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec) why = std::string(what) + " is not valid JSON: " + ec.message();
  return value;
}

std::string random_jid() {
  std::random_device device;
  std::uniform_int_distribution<unsigned> nibble(0, 15);
  std::string jid = "runner-";
  for (int i = 0; i < 12; ++i) jid += "0123456789abcdef"[nibble(device)];
  return jid;
}

const char* level_name(int level) {
  switch (level) {
    case 3:
      return "error";
    case 4:
      return "warning";
    case 6:
      return "info";
    case 7:
      return "debug";
    default:
      return "log";
  }
}

}  // namespace

int main(int argc, char** argv) {
  Arguments arguments;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    std::string text;
    if (arg == "--help" || arg == "-h") {
      std::cout << usage;
      return 0;
    } else if (arg == "--plugin") {
      if (!value(text)) return usage_error("--plugin needs a FILE");
      arguments.plugins.push_back(text);
    } else if (arg == "--jobtype") {
      if (!value(arguments.jobtype)) return usage_error("--jobtype needs a name");
    } else if (arg == "--args") {
      if (!value(arguments.args)) return usage_error("--args needs a JSON array");
    } else if (arg == "--custom") {
      if (!value(arguments.custom)) return usage_error("--custom needs a JSON object");
    } else if (arg == "--config") {
      if (!value(text)) return usage_error("--config needs NAME=JSON");
      const auto equals = text.find('=');
      if (equals == std::string::npos || equals == 0)
        return usage_error("--config needs NAME=JSON");
      arguments.config.emplace_back(text.substr(0, equals), text.substr(equals + 1));
    } else if (arg == "--no-strict-permissions") {
      arguments.strict = false;
    } else {
      return usage_error("unknown argument '" + std::string(arg) + "'");
    }
  }
  if (arguments.plugins.empty()) return usage_error("at least one --plugin is required");
  if (arguments.jobtype.empty()) return usage_error("--jobtype is required");

  std::string why;
  const json::value args = parse_json(arguments.args, "--args", why);
  if (why.empty() && !args.is_array()) why = "--args must be a JSON array";
  const json::value custom = parse_json(arguments.custom, "--custom", why);
  if (why.empty() && !custom.is_object()) why = "--custom must be a JSON object";
  factotum::plugins::LoadOptions options;
  options.strict_permissions = arguments.strict;
  for (const auto& [name, text] : arguments.config) {
    const json::value config = parse_json(text, "--config " + name, why);
    if (why.empty() && !config.is_object()) why = "--config " + name + " must be a JSON object";
    options.config_json[name] = json::serialize(config);
  }
  if (!why.empty()) return usage_error(why);

  std::mutex stderr_mutex;  // plugin threads may log concurrently
  std::atomic<unsigned> pushes{0};
  factotum::plugins::HostServices services;
  services.log = [&](int level, std::string_view plugin, std::string_view jid,
                     std::string_view message) {
    std::lock_guard lock(stderr_mutex);
    std::cerr << level_name(level) << " [" << plugin << "]" << (jid.empty() ? "" : " jid=") << jid
              << " " << message << "\n";
  };
  services.push = [&](std::string_view job_json, std::string& jid) {
    jid = "runner-push-" + std::to_string(++pushes);
    std::lock_guard lock(stderr_mutex);
    std::cerr << "push " << jid << " " << job_json << "\n";
    return true;
  };

  PluginHost host(services);
  for (const auto& file : arguments.plugins) {
    const auto report = host.load_file(file, options);
    for (const auto& error : report.errors)
      std::cerr << "plugin-runner: " << error.message() << "\n";
    if (!report.ok()) return exit_usage;
  }

  const std::string jid = random_jid();
  const std::string args_json = json::serialize(args);
  const std::string custom_json = json::serialize(custom);
  const std::string payload_json = json::serialize(json::object{{"jid", jid},
                                                                {"jobtype", arguments.jobtype},
                                                                {"queue", "default"},
                                                                {"args", args},
                                                                {"custom", custom}});
  const std::atomic<bool> cancelled{false};
  factotum::plugins::JobInput input;
  input.jid = jid;
  input.jobtype = arguments.jobtype;
  input.queue = "default";
  input.args_json = args_json;
  input.custom_json = custom_json;
  input.payload_json = payload_json;
  input.cancelled = &cancelled;
  const auto outcome = host.run(input);

  json::array backtrace;
  for (const auto& line : outcome.backtrace) backtrace.emplace_back(line);
  const json::object result{{"status", outcome.succeeded() ? "succeeded" : "failed"},
                            {"errtype", outcome.errtype},
                            {"message", outcome.message},
                            {"backtrace", std::move(backtrace)},
                            {"plugin", outcome.plugin}};
  std::cout << json::serialize(result) << std::endl;
  return outcome.succeeded() ? 0 : exit_failed;
}
