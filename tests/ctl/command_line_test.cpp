// factotum ctl's command line: what each command takes, and every usage error (status 64)
// found before anything is sent.
#include "ctl/command_line.hpp"
#include "ctl/exit_status.hpp"

#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

using namespace factotum::ctl;

namespace {

struct Parsed {
  std::variant<Command, int> result;
  std::string out, err;

  bool ok() const { return std::holds_alternative<Command>(result); }
  int status() const { return ok() ? -1 : std::get<int>(result); }
  template <class T>
  const T& action() const {
    return std::get<T>(std::get<Command>(result).action);
  }
  const ConnectionArgs& connection() const { return std::get<Command>(result).connection; }
};

Parsed parse(std::vector<std::string> args) {
  args.insert(args.begin(), "ctl");
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  std::ostringstream out, err;
  auto result = parse_command_line(static_cast<int>(argv.size()), argv.data(), out, err);
  return {std::move(result), out.str(), err.str()};
}

// A usage error: status 64, one line naming `text`.
void check_usage_error(const Parsed& parsed, const std::string& text) {
  INFO(parsed.err);
  CHECK(parsed.status() == kExitUsage);
  CHECK(parsed.err.rfind("factotum ctl: ", 0) == 0);
  CHECK(parsed.err.find(text) != std::string::npos);
  CHECK(std::count(parsed.err.begin(), parsed.err.end(), '\n') == 1);
}

}  // namespace

TEST_CASE("push takes a jobtype, JSON args and the job's options") {
  const auto parsed = parse({"push", "send_mail", R"(["a",{"b":2}])", "--queue", "mail", "--retry",
                             "-1", "--custom", R"({"trace":"x"})", "--url", "tcp://h:1"});
  REQUIRE(parsed.ok());
  const auto& push = parsed.action<PushArgs>();
  CHECK(push.jobtype == "send_mail");
  CHECK(boost::json::serialize(push.args) == R"(["a",{"b":2}])");
  CHECK(push.queue == "mail");
  CHECK(push.retry == -1);
  REQUIRE(push.custom);
  CHECK(push.custom->at("trace") == "x");
  CHECK(!push.at);
  CHECK(parsed.connection().url == std::optional<std::string>("tcp://h:1"));
}

TEST_CASE("push without args sends an empty array and the default queue and retry") {
  const auto parsed = parse({"push", "ping"});
  REQUIRE(parsed.ok());
  const auto& push = parsed.action<PushArgs>();
  CHECK(push.args.empty());
  CHECK(push.queue == "default");
  CHECK(push.retry == 25);
  CHECK(!push.custom);
}

TEST_CASE("push refuses args that are not a JSON array, naming where the JSON breaks") {
  check_usage_error(parse({"push", "ping", "[1,}"}), "ARGS_JSON is not valid JSON");
  check_usage_error(parse({"push", "ping", "[1,}"}), "at character 4");
  check_usage_error(parse({"push", "ping", R"({"a":1})"}), "must be an array");
  check_usage_error(parse({"push", "ping", "[1", "--queue", "q"}), "cut short");
  check_usage_error(parse({"push", "ping", "[]", "--custom", "[1]"}), "--custom must be an object");
}

TEST_CASE("push refuses a missing jobtype, a stray argument, a bad queue and a bad retry") {
  check_usage_error(parse({"push"}), "push needs a JOBTYPE");
  check_usage_error(parse({"push", "a", "[]", "extra"}), "unexpected 'extra'");
  check_usage_error(parse({"push", "a", "--queue", "two words"}), "without spaces");
  check_usage_error(parse({"push", "a", "--retry", "-2"}), "--retry -2");
  check_usage_error(parse({"push", "a", "--retry", "many"}), "--retry");
  check_usage_error(parse({"push", "a", "--at", "tomorrow"}), "is not a time");
}

TEST_CASE("an option of another command, an unknown option or command is a usage error") {
  check_usage_error(parse({"info", "--queue", "x"}), "--queue is not an option of 'ctl info'");
  check_usage_error(parse({"quiet", "--url", "tcp://h"}), "--url is not an option of 'ctl quiet'");
  check_usage_error(parse({"info", "--frobnicate"}), "frobnicate");
  check_usage_error(parse({"frob"}), "unknown command 'frob'");
  check_usage_error(parse({}), "no command given");
}

TEST_CASE("help lists every command and option and the exit statuses, and exits 0") {
  for (const auto* flag : {"--help", "-h"}) {
    const auto parsed = parse({"push", flag});
    CHECK(parsed.status() == kExitOk);
    for (const auto* word :
         {"push JOBTYPE", "info", "queue pause|resume|remove", "mutate", "quiet", "stop",
          "--pidfile", "--no-wait", "--jids", "Exit status", "64", "69", "78"}) {
      INFO(word);
      CHECK(parsed.out.find(word) != std::string::npos);
    }
  }
}

TEST_CASE("info takes --json") {
  const auto parsed = parse({"info", "--json"});
  REQUIRE(parsed.ok());
  CHECK(parsed.action<InfoArgs>().json);
  check_usage_error(parse({"info", "extra"}), "info takes no arguments");
}

TEST_CASE("queue takes an action and names, or '*' alone") {
  const auto parsed = parse({"queue", "remove", "a", "b"});
  REQUIRE(parsed.ok());
  const auto& queue = parsed.action<QueueArgs>();
  CHECK(queue.action == factotum::faktory::commands::QueueAction::remove);
  CHECK(queue.names == std::vector<std::string>{"a", "b"});
  CHECK(parse({"queue", "pause", "*"}).ok());
  check_usage_error(parse({"queue", "pause", "*", "a"}), "must stand alone");
  check_usage_error(parse({"queue", "pause"}), "needs queue names");
  check_usage_error(parse({"queue", "drain", "a"}), "expected pause, resume or remove");
  check_usage_error(parse({"queue"}), "queue needs pause, resume or remove");
}

TEST_CASE("mutate takes an operation, a target and a filter as Faktory combines them") {
  const auto parsed = parse({"mutate", "kill", "--target", "retries", "--jids", "a,b", "c"});
  REQUIRE(parsed.ok());
  const auto& mutate = parsed.action<MutateArgs>();
  CHECK(mutate.operation == "kill");
  CHECK(mutate.target == "retries");
  CHECK(mutate.jids == std::vector<std::string>{"a", "b", "c"});
  CHECK(parse({"mutate", "requeue", "--target", "dead", "--all"}).ok());
  check_usage_error(parse({"mutate", "frob", "--target", "dead", "--all"}),
                    "expected requeue, discard or kill");
  check_usage_error(parse({"mutate", "requeue", "--target", "queues", "--all"}),
                    "--target 'queues': expected retries, scheduled or dead");
  check_usage_error(parse({"mutate", "requeue", "--all"}), "needs --target");
  check_usage_error(parse({"mutate", "requeue", "--target", "dead"}), "needs a filter");
  const auto both =
      parse({"mutate", "requeue", "--target", "dead", "--jobtype", "a", "--regexp", "*b*"});
  REQUIRE(both.ok());
  CHECK(both.action<MutateArgs>().jobtype == std::optional<std::string>("a"));
  CHECK(both.action<MutateArgs>().regexp == std::optional<std::string>("*b*"));
  check_usage_error(
      parse({"mutate", "requeue", "--target", "dead", "--jobtype", "a", "--jids", "x"}),
      "--jids stand alone");
  check_usage_error(parse({"mutate", "requeue", "--target", "dead", "--all", "--regexp", "*b*"}),
                    "--all takes every job of the set");
  check_usage_error(parse({"mutate", "kill", "--target", "dead", "--all"}),
                    "kill moves jobs to the dead set");
}

TEST_CASE("mutate refuses glob characters in --jobtype, which the server would take as a glob") {
  for (const auto* jobtype : {"send_*", "send?mail", "send[_]mail", "a]"}) {
    INFO(jobtype);
    check_usage_error(parse({"mutate", "discard", "--target", "retries", "--jobtype", jobtype}),
                      "a jobtype has no * ? [ or ]");
  }
}

TEST_CASE("queue remove '*' needs --yes, and --yes is for remove alone") {
  check_usage_error(parse({"queue", "remove", "*"}), "add --yes if that is meant");
  const auto confirmed = parse({"queue", "remove", "*", "--yes"});
  REQUIRE(confirmed.ok());
  CHECK(confirmed.action<QueueArgs>().names == std::vector<std::string>{"*"});
  CHECK(parse({"queue", "remove", "old", "--yes"}).ok());
  check_usage_error(parse({"queue", "pause", "*", "--yes"}), "--yes is for queue remove");
  check_usage_error(parse({"info", "--yes"}), "--yes is not an option of 'ctl info'");
}

TEST_CASE("the options --config and --url exclude each other") {
  check_usage_error(parse({"info", "--config", "f.yaml", "--url", "tcp://h:7419"}),
                    "--config and --url exclude each other");
}

TEST_CASE("help says mutate's count is a guess, why a filter is needed and that '*' is quoted") {
  const auto help = parse({"--help"});
  for (const auto* text : {"a guess", "without one, Faktory would act on every job", "'*' (quoted",
                           "no configuration", "-- UNIT"}) {
    INFO(text);
    CHECK(help.out.find(text) != std::string::npos);
  }
}

TEST_CASE("quiet and stop take the pidfile or the unit, stop also a timeout and --no-wait") {
  const auto stop = parse({"stop", "--pidfile", "/run/f.pid", "--timeout", "90s", "--no-wait"});
  REQUIRE(stop.ok());
  const auto& args = stop.action<SignalArgs>();
  CHECK(args.stop);
  CHECK(args.pidfile == std::optional<std::string>("/run/f.pid"));
  CHECK(args.timeout == std::chrono::seconds(90));
  CHECK(!args.wait);
  const auto quiet = parse({"quiet", "--unit", "other.service"});
  REQUIRE(quiet.ok());
  CHECK(!quiet.action<SignalArgs>().stop);
  CHECK(quiet.action<SignalArgs>().unit == "other.service");
  check_usage_error(parse({"stop", "--timeout", "soon"}), "--timeout");
  check_usage_error(parse({"quiet", "--timeout", "1s"}), "--timeout is not an option");
}
