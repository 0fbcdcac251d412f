// The shell plugin: each entry of plugins.config.shell.jobtypes becomes a jobtype that runs a
// fixed command, with the job's args substituted into its argv (never through a shell).
#include "run_command.hpp"
#include "shell_config.hpp"
#include "substitute.hpp"

#include <factotum/plugin.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <system_error>

namespace factotum::shell {
namespace {

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n\f\v";
  const auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

std::string with_output(std::string message, std::string_view tail) {
  const std::string_view trimmed = trim(tail);
  if (!trimmed.empty()) {
    message += ": ";
    message += trimmed;
  }
  return message;
}

std::vector<std::string> build_argv(const JobtypeConfig& config, std::string_view args_json) {
  std::error_code ec;
  const boost::json::value args = boost::json::parse(args_json, ec);
  if (ec || !args.is_array()) throw ArgumentError("the job's args are not a JSON array");
  std::vector<std::string> argv{config.program};
  for (const auto& arg : config.args) argv.push_back(arg.render(args.get_array()));
  return argv;
}

void run_job(const JobtypeConfig& config, Job& job) {
  CommandSpec spec;
  try {
    spec.argv = build_argv(config, job.args_json());
  } catch (const ArgumentError& e) {
    throw JobFailure("ShellArgumentError", e.what());
  }
  spec.env = config.env;
  spec.cwd = config.cwd;
  spec.timeout = config.timeout;

  const CommandResult result = run_command(spec, [&job] { return job.cancelled(); });
  const std::string& program = config.program;
  const std::string_view stdout_tail = trim(result.stdout_tail);
  if (!stdout_tail.empty()) job.log(LogLevel::debug, "stdout: " + std::string(stdout_tail));

  using Outcome = CommandResult::Outcome;
  switch (result.outcome) {
    case Outcome::exited:
      if (result.exit_status == 0) return;
      throw JobFailure("ShellCommandFailed", with_output(program + " exited with status " +
                                                             std::to_string(result.exit_status),
                                                         result.stderr_tail));
    case Outcome::signaled:
      throw JobFailure("ShellCommandFailed", with_output(program + " was killed by signal " +
                                                             signal_name(result.term_signal),
                                                         result.stderr_tail));
    case Outcome::timed_out:
      throw JobFailure("ShellCommandTimeout",
                       program + " did not finish within " + config.timeout_text);
    case Outcome::cancelled:
      throw JobFailure("Cancelled",
                       program + " was stopped: the job was cancelled (deadline or shutdown)");
    case Outcome::spawn_failed: {
      std::string message = "could not start " + program;
      if (!config.cwd.empty()) message += " in " + config.cwd;
      throw JobFailure("ShellCommandFailed",
                       message + ": " + std::generic_category().message(result.spawn_errno));
    }
  }
}

std::string describe(const JobtypeConfig& config) {
  std::string text;
  for (const auto& word : config.command) {
    if (!text.empty()) text += ' ';
    text += word;
  }
  if (config.timeout) text += " (timeout " + config.timeout_text + ")";
  return text;
}

void register_jobtypes(Registrar& registrar) {
  ShellConfig config = parse_config(registrar.config_json());
  if (config.jobtypes.empty()) {
    registrar.log(LogLevel::warning,
                  "no jobtypes configured (plugins.config.shell.jobtypes): nothing registered");
    return;
  }
  for (auto& jobtype : config.jobtypes) {
    const std::string line = "registered jobtype " + jobtype.name + ": " + describe(jobtype);
    // Shared with the job function, which the host keeps (and copies) until it retires the
    // plugin; immutable, so concurrent jobs read it without a lock.
    auto shared = std::make_shared<const JobtypeConfig>(std::move(jobtype));
    registrar.jobtype(shared->name, [shared](Job& job) { run_job(*shared, job); });
    registrar.log(LogLevel::info, line);
  }
}

}  // namespace
}  // namespace factotum::shell

FACTOTUM_PLUGIN("shell", "1.0.0", factotum::shell::register_jobtypes)
