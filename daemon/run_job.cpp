// `factotum run-job`: runs one job through a plugin and its middleware with no server, and
// prints the outcome — the plugin author's test harness.
#include "run_job.hpp"

#include "faktory/jid.hpp"
#include "plugins/plugin_host.hpp"
#include "service/log.hpp"

#include <boost/json.hpp>
#include <boost/program_options.hpp>

#include <atomic>
#include <chrono>
#include <iostream>

namespace factotum {

namespace po = boost::program_options;
namespace json = boost::json;
using service::Log;

namespace {

constexpr int kSucceeded = 0;
constexpr int kFailed = 1;
constexpr int kUsage = 2;

// Checks that `text` is JSON of the wanted kind; returns it normalised (compact).
bool normalise_json(const std::string& text, bool want_array, const char* flag, std::string& out) {
  boost::system::error_code ec;
  auto value = json::parse(text, ec);
  if (ec || (want_array ? !value.is_array() : !value.is_object())) {
    std::cerr << "factotum run-job: " << flag << " must be a JSON "
              << (want_array ? "array" : "object")
              << (ec ? " (" + ec.message() + ")" : std::string()) << ": " << text << "\n";
    return false;
  }
  out = json::serialize(value);
  return true;
}

}  // namespace

int run_job_main(int argc, char** argv) {
  std::vector<std::string> plugin_files;
  std::vector<std::string> plugin_configs;
  std::vector<std::string> middleware_order;
  std::string jobtype;
  std::string args = "[]";
  std::string custom = "{}";
  std::string queue = "default";
  bool json_output = false;
  bool no_strict = false;

  po::options_description options("factotum run-job: run one job through plugins, no server");
  options.add_options()("help,h", "show this help")(
      "plugin,p", po::value(&plugin_files)->required(),
      "plugin .so file (repeatable; loaded in order)")("jobtype,t", po::value(&jobtype)->required(),
                                                       "the job's jobtype")(
      "args,a", po::value(&args), "the job's args as a JSON array (default [])")(
      "custom,c", po::value(&custom), "the job's custom object as JSON (default {})")(
      "queue,q", po::value(&queue), "the job's queue (default \"default\")")(
      "plugin-config", po::value(&plugin_configs),
      "NAME=JSON: a plugin's config subtree (repeatable)")(
      "middleware", po::value(&middleware_order)->multitoken(),
      "middleware order (default: load order)")("no-strict-permissions",
                                                po::bool_switch(&no_strict),
                                                "load plugins writable by others (testing only)")(
      "json", po::bool_switch(&json_output), "print the outcome as one JSON line");

  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, options), vm);
    if (vm.count("help")) {
      std::cout << options
                << "\nExit status: 0 the job succeeded, 1 it failed, 2 usage or load error.\n";
      return kSucceeded;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "factotum run-job: " << e.what() << "\n(see factotum run-job --help)\n";
    return kUsage;
  }

  std::string args_json;
  std::string custom_json;
  if (!normalise_json(args, true, "--args", args_json) ||
      !normalise_json(custom, false, "--custom", custom_json)) {
    return kUsage;
  }

  plugins::LoadOptions load;
  load.strict_permissions = !no_strict;
  for (const auto& entry : plugin_configs) {
    const auto eq = entry.find('=');
    std::string config_json;
    if (eq == std::string::npos || eq == 0 ||
        !normalise_json(entry.substr(eq + 1), false, "--plugin-config", config_json)) {
      std::cerr << "factotum run-job: --plugin-config takes NAME={json object}, got: " << entry
                << "\n";
      return kUsage;
    }
    load.config_json[entry.substr(0, eq)] = config_json;
  }

  plugins::HostServices services;
  services.log = [](int level, std::string_view plugin, std::string_view jid,
                    std::string_view message) {
    Log::plugin_line(static_cast<service::LogLevel>(level), plugin, jid, message);
  };
  services.push = [](std::string_view job_json, std::string& jid_or_error) {
    // No server here: show what would have been pushed.
    Log::info("the job would push a follow-up job (not sent: run-job has no server)",
              {{"job", job_json}});
    jid_or_error = faktory::generate_jid();
    return true;
  };

  plugins::PluginHost host(services);
  for (const auto& file : plugin_files) {
    const auto report = host.load_file(file, load);
    for (const auto& error : report.errors) {
      std::cerr << "factotum run-job: cannot load plugin " << error.message() << "\n";
    }
    if (!report.ok()) return kUsage;
  }
  if (auto error = host.set_middleware_order(middleware_order)) {
    std::cerr << "factotum run-job: " << *error << "\n";
    return kUsage;
  }

  const std::string jid = faktory::generate_jid();
  json::object payload{{"jid", jid},
                       {"jobtype", jobtype},
                       {"queue", queue},
                       {"args", json::parse(args_json)},
                       {"retry", 25}};
  if (custom_json != "{}") payload["custom"] = json::parse(custom_json);
  const std::string payload_json = json::serialize(payload);

  std::atomic<bool> cancelled{false};
  plugins::JobInput input;
  input.jid = jid;
  input.jobtype = jobtype;
  input.queue = queue;
  input.args_json = args_json;
  input.custom_json = custom_json;
  input.payload_json = payload_json;
  input.cancelled = &cancelled;

  const auto started = std::chrono::steady_clock::now();
  const auto outcome = host.run(input);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();

  if (json_output) {
    json::array backtrace;
    for (const auto& line : outcome.backtrace) backtrace.emplace_back(line);
    json::object out{{"status", outcome.succeeded() ? "succeeded" : "failed"},
                     {"jid", jid},
                     {"jobtype", jobtype},
                     {"plugin", outcome.plugin},
                     {"duration_ms", ms}};
    if (!outcome.succeeded()) {
      out["errtype"] = outcome.errtype;
      out["message"] = outcome.message;
      out["backtrace"] = std::move(backtrace);
    }
    std::cout << json::serialize(out) << std::endl;
  } else if (outcome.succeeded()) {
    std::cout << "succeeded: " << jobtype << " (jid " << jid << ", plugin " << outcome.plugin
              << ") in " << ms << " ms\n";
  } else {
    std::cout << "failed: " << jobtype << " (jid " << jid << ") in " << ms << " ms\n"
              << "  errtype: " << outcome.errtype << "\n  message: " << outcome.message << "\n";
    for (const auto& line : outcome.backtrace) std::cout << "    " << line << "\n";
  }
  return outcome.succeeded() ? kSucceeded : kFailed;
}

}  // namespace factotum
