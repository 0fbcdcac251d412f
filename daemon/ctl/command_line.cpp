#include "ctl/command_line.hpp"

#include "config/duration.hpp"
#include "ctl/exit_status.hpp"
#include "ctl/json_argument.hpp"
#include "ctl/schedule_time.hpp"
#include "faktory/quote.hpp"

#include <boost/program_options.hpp>

#include <algorithm>
#include <map>
#include <ostream>
#include <set>

namespace factotum::ctl {

namespace po = boost::program_options;
using faktory::quote;

namespace {

constexpr const char* kUsage =
    "Usage: factotum ctl COMMAND [ARGUMENTS] [OPTIONS]\n"
    "\n"
    "Operate the Faktory server the daemon uses (its configuration gives the URL and password),\n"
    "or the local daemon:\n"
    "  push JOBTYPE [ARGS_JSON]    push a job (ARGS_JSON: a JSON array, default []); prints its "
    "jid\n"
    "  info                        the server's state: totals, sets, queue sizes\n"
    "  queue pause|resume|remove QUEUE...\n"
    "                              act on queues; '*' (quoted, or the shell expands it): every\n"
    "                              queue; remove deletes their jobs (remove '*' needs --yes)\n"
    "  mutate requeue|discard|kill --target retries|scheduled|dead\n"
    "         (--jobtype T | --regexp GLOB | --jobtype T --regexp GLOB | --jids JID... | --all)\n"
    "                              move or delete jobs of a set; prints the set's size before\n"
    "                              and after\n"
    "  quiet                       the local daemon fetches no new jobs (sends TSTP)\n"
    "  stop                        the local daemon stops gracefully (sends TERM) and exits\n";

constexpr const char* kEpilogue =
    "\nWith --url, or FAKTORY_URL (or FAKTORY_PROVIDER) in the environment, no configuration\n"
    "file is read: the password is the URL's alone, TLS and the timeout take their defaults\n"
    "(the daemon's password never goes to a server named by hand).\n"
    "--at TIME: an RFC 3339 time with the T and a zone (2026-12-01T08:00:00Z,\n"
    "2026-12-01T09:00:00+01:00), or +DURATION from now (+90s, +5m, +2h).\n"
    "mutate needs a filter or --all: without one, Faktory would act on every job of the set.\n"
    "--regexp and --jobtype together select the jobs that match both; --jids stand alone (the\n"
    "server ignores them beside another filter). Faktory answers MUTATE with OK whether or not\n"
    "a job matched, so ctl prints the set's size (INFO) before and after, and exits 1 when it\n"
    "did not shrink: a guess, as jobs may enter or leave the set meanwhile.\n"
    "quiet and stop find the daemon's main process with --pidfile FILE (the daemon's own\n"
    "--pidfile) or, without it, from systemd (systemctl show --property MainPID -- UNIT).\n"
    "\n"
    "Exit status: 0 done; 1 done but nothing changed (the mutated set did not shrink, a queue\n"
    "the server does not know); 64 bad command line, JSON or time; 69 server unreachable, or no\n"
    "daemon running; 70 internal error; 75 stop: the daemon still runs after --timeout;\n"
    "76 the server refused the request (its -ERR text is shown); 77 password refused, pidfile\n"
    "not readable, or not permitted to signal the daemon; 78 configuration error (as the\n"
    "daemon: FILE:LINE:COL).\n";

struct Options {
  po::options_description all{"Options"};
  std::vector<std::string> operands;
  std::string config, url, queue, at, custom, target, jobtype, regexp, pidfile, unit, timeout;
  int retry = 25;
  std::vector<std::string> jids;
  bool json = false, every = false, no_wait = false, yes = false;

  Options() {
    po::options_description connection("Connection (push, info, queue, mutate; stop: --config)");
    connection.add_options()("config", po::value(&config),
                             "the daemon's configuration file (default "
                             "/etc/factotum/factotum.yaml): server URL, password, TLS, timeout; "
                             "stop: worker.shutdown_timeout")(
        "url", po::value(&url),
        "Faktory server URL, password included (overrides FAKTORY_URL); no configuration file "
        "is read then");
    po::options_description push("push");
    push.add_options()("queue", po::value(&queue), "the job's queue (default \"default\")")(
        "at", po::value(&at), "run it at TIME, not now (see below)")(
        "retry", po::value(&retry),
        "retries on failure (default 25; 0: none, -1: straight to the dead set)")(
        "custom", po::value(&custom), "the job's custom object, as JSON");
    po::options_description info("info");
    info.add_options()("json", po::bool_switch(&json),
                       "print INFO's JSON as the server sent it, on one line");
    po::options_description queue_options("queue");
    queue_options.add_options()("yes", po::bool_switch(&yes),
                                "remove '*': yes, delete every queue and all their jobs");
    po::options_description mutate("mutate");
    mutate.add_options()("target", po::value(&target), "retries, scheduled or dead")(
        "jobtype", po::value(&jobtype), "only jobs of this jobtype (no * ? [ ])")(
        "regexp", po::value(&regexp),
        "only jobs whose JSON matches this Redis glob (e.g. '*\"queue\":\"mail\"*'); with "
        "--jobtype: jobs that match both")(
        "jids", po::value(&jids)->multitoken(),
        "only these jobs (space or comma separated; no other filter)")(
        "all", po::bool_switch(&every), "every job of the set");
    po::options_description daemon("quiet, stop");
    daemon.add_options()("pidfile", po::value(&pidfile),
                         "the daemon's pidfile (its --pidfile); default: ask systemd")(
        "unit", po::value(&unit), "the daemon's systemd unit (default factotum.service)")(
        "timeout", po::value(&timeout),
        "stop: how long to wait for the exit (default: the configuration's "
        "worker.shutdown_timeout + 20s, or 45s without one)")("no-wait", po::bool_switch(&no_wait),
                                                              "stop: return once TERM is sent");
    po::options_description general("General");
    general.add_options()("help,h", "show this help and exit");
    all.add(connection).add(push).add(info).add(queue_options).add(mutate).add(daemon).add(general);
  }
};

const std::map<std::string, std::set<std::string>, std::less<>> kOptionsOf{
    {"push", {"config", "url", "queue", "at", "retry", "custom"}},
    {"info", {"config", "url", "json"}},
    {"queue", {"config", "url", "yes"}},
    {"mutate", {"config", "url", "target", "jobtype", "regexp", "jids", "all"}},
    {"quiet", {"pidfile", "unit"}},
    {"stop", {"config", "pidfile", "unit", "timeout", "no-wait"}},
};

// A usage error: the line, then the hint, and exit status 64.
struct UsageError {
  std::string message;
};

PushArgs push_args(const Options& o, const po::variables_map& vm) {
  if (o.operands.size() < 2) throw UsageError{"push needs a JOBTYPE"};
  if (o.operands.size() > 3) {
    throw UsageError{"push takes JOBTYPE and ARGS_JSON, then options; unexpected " +
                     quote(o.operands[3])};
  }
  PushArgs args;
  args.jobtype = o.operands[1];
  if (args.jobtype.empty()) throw UsageError{"JOBTYPE must not be empty"};
  if (o.operands.size() == 3) {
    auto parsed = parse_json_argument("ARGS_JSON", o.operands[2], JsonKind::array);
    if (!parsed.error.empty()) throw UsageError{parsed.error};
    args.args = std::move(parsed.value.as_array());
  }
  if (vm.count("queue")) {
    // A name FETCH cannot send (it separates queue names by spaces, PROTOCOL.md §5) would
    // strand the job.
    if (o.queue.empty() || o.queue.find_first_of(" \t\r\n") != std::string::npos) {
      throw UsageError{"--queue " + quote(o.queue) +
                       ": a queue name must be non-empty, without spaces (no worker could fetch "
                       "from it)"};
    }
    args.queue = o.queue;
  }
  if (vm.count("at")) {
    auto at = parse_schedule_time(o.at, std::chrono::system_clock::now());
    if (!at.error.empty()) throw UsageError{at.error};
    args.at = std::move(at.rfc3339);
  }
  if (o.retry < -1) {
    throw UsageError{"--retry " + std::to_string(o.retry) +
                     ": give a count of retries, 0 for none, or -1 to send a failed job straight "
                     "to the dead set"};
  }
  args.retry = o.retry;
  if (vm.count("custom")) {
    auto parsed = parse_json_argument("--custom", o.custom, JsonKind::object);
    if (!parsed.error.empty()) throw UsageError{parsed.error};
    args.custom = std::move(parsed.value.as_object());
  }
  return args;
}

QueueArgs queue_args(const Options& o) {
  using faktory::commands::QueueAction;
  if (o.operands.size() < 2) throw UsageError{"queue needs pause, resume or remove"};
  QueueArgs args;
  args.action_name = o.operands[1];
  if (args.action_name == "pause") {
    args.action = QueueAction::pause;
  } else if (args.action_name == "resume") {
    args.action = QueueAction::resume;
  } else if (args.action_name == "remove") {
    args.action = QueueAction::remove;
  } else {
    throw UsageError{"queue " + quote(args.action_name) + ": expected pause, resume or remove"};
  }
  args.names.assign(o.operands.begin() + 2, o.operands.end());
  if (args.names.empty()) {
    throw UsageError{"queue " + args.action_name + " needs queue names, or '*' for every queue"};
  }
  for (const auto& name : args.names) {
    if (name.empty() || name.find_first_of(" \t\r\n") != std::string::npos) {
      throw UsageError{"queue name " + quote(name) + ": must be non-empty, without spaces"};
    }
    if (name == "*" && args.names.size() > 1) {
      throw UsageError{"'*' (every queue) must stand alone, not among other names"};
    }
  }
  const bool every = args.names.front() == "*";
  if (args.action == QueueAction::remove && every && !o.yes) {
    throw UsageError{
        "queue remove '*' deletes every queue and all their jobs: add --yes if that is meant"};
  }
  if (o.yes && args.action != QueueAction::remove) {
    throw UsageError{"--yes is for queue remove: " + args.action_name + " deletes nothing"};
  }
  return args;
}

MutateArgs mutate_args(const Options& o, const po::variables_map& vm) {
  if (o.operands.size() < 2) throw UsageError{"mutate needs requeue, discard or kill"};
  if (o.operands.size() > 2) {
    throw UsageError{"mutate takes one operation, then options; unexpected " +
                     quote(o.operands[2])};
  }
  MutateArgs args;
  args.operation = o.operands[1];
  if (args.operation != "requeue" && args.operation != "discard" && args.operation != "kill") {
    throw UsageError{"mutate " + quote(args.operation) + ": expected requeue, discard or kill"};
  }
  if (!vm.count("target")) throw UsageError{"mutate needs --target retries|scheduled|dead"};
  args.target = o.target;
  if (args.target != "retries" && args.target != "scheduled" && args.target != "dead") {
    throw UsageError{"--target " + quote(args.target) + ": expected retries, scheduled or dead"};
  }
  if (args.operation == "kill" && args.target == "dead") {
    throw UsageError{"kill moves jobs to the dead set: --target must be retries or scheduled"};
  }
  if (vm.count("jobtype")) args.jobtype = o.jobtype;
  if (vm.count("regexp")) args.regexp = o.regexp;
  for (const auto& token : o.jids) {
    std::size_t start = 0;
    while (start <= token.size()) {
      const auto comma = std::min(token.find(',', start), token.size());
      if (comma > start) args.jids.push_back(token.substr(start, comma - start));
      start = comma + 1;
    }
  }
  if (vm.count("jids") && args.jids.empty()) throw UsageError{"--jids needs at least one jid"};
  args.all = o.every;
  const bool pattern = args.jobtype || args.regexp;
  if (!pattern && args.jids.empty() && !args.all) {
    // Faktory takes a MUTATE without a filter for every job of the set: that is --all.
    throw UsageError{"mutate " + args.operation +
                     " needs a filter: --jobtype T, --regexp GLOB (or both), --jids JID... or "
                     "--all for every job of the set"};
  }
  if (args.all && (pattern || !args.jids.empty())) {
    throw UsageError{"--all takes every job of the set: give it without another filter"};
  }
  if (!args.jids.empty() && pattern) {
    // The server would match the pattern and silently ignore the jids (F: server/mutate.go).
    throw UsageError{"--jids stand alone: Faktory ignores them beside --jobtype or --regexp"};
  }
  if (args.jobtype && args.jobtype->empty()) throw UsageError{"--jobtype must not be empty"};
  if (args.jobtype && args.jobtype->find_first_of("*?[]") != std::string::npos) {
    // The server matches a jobtype as the glob *"jobtype":"T"*: these would widen it.
    throw UsageError{"--jobtype " + quote(*args.jobtype) +
                     ": a jobtype has no * ? [ or ] (Faktory would take them as a glob); "
                     "match a pattern with --regexp"};
  }
  if (args.regexp && args.regexp->empty()) throw UsageError{"--regexp must not be empty"};
  return args;
}

SignalArgs signal_args(const Options& o, const po::variables_map& vm, bool stop) {
  if (o.operands.size() > 1) {
    throw UsageError{o.operands[0] + " takes no arguments; unexpected " + quote(o.operands[1])};
  }
  SignalArgs args;
  args.stop = stop;
  if (vm.count("pidfile")) {
    if (o.pidfile.empty()) throw UsageError{"--pidfile must not be empty"};
    args.pidfile = o.pidfile;
  }
  if (vm.count("unit")) args.unit = o.unit;
  if (vm.count("timeout")) {
    const auto parsed = config::parse_duration(o.timeout);
    if (!parsed.ok()) throw UsageError{"--timeout: " + parsed.error};
    args.timeout = parsed.value;
  }
  args.wait = !o.no_wait;
  return args;
}

Command command_from(const Options& o, const po::variables_map& vm) {
  if (o.operands.empty()) throw UsageError{"no command given"};
  const std::string& name = o.operands[0];
  const auto allowed = kOptionsOf.find(name);
  if (allowed == kOptionsOf.end()) {
    throw UsageError{"unknown command " + quote(name) +
                     "; expected push, info, queue, mutate, quiet or stop"};
  }
  for (const auto& [option, value] : vm) {
    if (option == "operand" || value.defaulted()) continue;
    if (!allowed->second.count(option)) {
      throw UsageError{"--" + option + " is not an option of 'ctl " + name + "'"};
    }
  }
  if (vm.count("config") && vm.count("url")) {
    throw UsageError{
        "--config and --url exclude each other: with --url ctl reads no "
        "configuration (its password would go to the server the URL names)"};
  }
  Command command;
  if (vm.count("config")) command.connection.config = o.config;
  if (vm.count("url")) command.connection.url = o.url;
  if (name == "push") {
    command.action = push_args(o, vm);
  } else if (name == "info") {
    if (o.operands.size() > 1) throw UsageError{"info takes no arguments"};
    command.action = InfoArgs{o.json};
  } else if (name == "queue") {
    command.action = queue_args(o);
  } else if (name == "mutate") {
    command.action = mutate_args(o, vm);
  } else {
    command.action = signal_args(o, vm, name == "stop");
  }
  return command;
}

}  // namespace

std::variant<Command, int> parse_command_line(int argc, char** argv, std::ostream& out,
                                              std::ostream& err) {
  Options o;
  po::options_description parsed = o.all;
  parsed.add_options()("operand", po::value(&o.operands));
  po::positional_options_description positional;
  positional.add("operand", -1);
  // Long options only: a negative number is then a value, not an option (--retry -1).
  const int style = po::command_line_style::unix_style ^ po::command_line_style::allow_short;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      out << kUsage << "\n" << o.all << kEpilogue;
      return kExitOk;
    }
    if (arg == "--") break;
  }
  try {
    po::variables_map vm;
    po::store(po::command_line_parser(argc, argv)  // skips argv[0], "ctl"
                  .options(parsed)
                  .positional(positional)
                  .style(style)
                  .run(),
              vm);
    po::notify(vm);
    return command_from(o, vm);
  } catch (const po::error& e) {
    err << "factotum ctl: " << e.what() << " (see factotum ctl --help)\n";
  } catch (const UsageError& e) {
    err << "factotum ctl: " << e.message << " (see factotum ctl --help)\n";
  }
  return kExitUsage;
}

}  // namespace factotum::ctl
