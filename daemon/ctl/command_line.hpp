// `factotum ctl`'s command line, parsed and checked before anything is sent: every usage
// error (an unknown command or option, an option of another command, JSON that does not
// parse, a time that is not one) is found here, with exit status 64.
#pragma once

#include "faktory/commands.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <iosfwd>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace factotum::ctl {

// Where the server's URL and password come from: the daemon's configuration file, or, when
// --url or the environment (FAKTORY_URL, FAKTORY_PROVIDER) names a server, that URL alone: no
// configuration file is read then, so the daemon's password never goes to a server named by
// hand (server_connection.hpp). --config and --url exclude each other.
struct ConnectionArgs {
  std::optional<std::string> config;  // --config; unset: the daemon's default file
  std::optional<std::string> url;     // --url
};

struct PushArgs {
  std::string jobtype;
  boost::json::array args;
  std::string queue = "default";
  std::optional<std::string> at;  // RFC 3339, checked
  int retry = 25;
  std::optional<boost::json::object> custom;
};

struct InfoArgs {
  bool json = false;
};

struct QueueArgs {
  faktory::commands::QueueAction action = faktory::commands::QueueAction::pause;
  std::string action_name;         // "pause", as typed: for messages
  std::vector<std::string> names;  // or "*" alone (remove '*' only with --yes)
};

struct MutateArgs {
  std::string operation;  // requeue | discard | kill
  std::string target;     // retries | scheduled | dead
  // The filters as Faktory applies them (F: server/mutate.go matchForFilter): the glob, and-ed
  // with the jobtype when both are given; the jobtype alone, matched as the glob
  // `*"jobtype":"T"*` (so it may hold no glob character); the jids only when neither is given
  // (so they come alone). --all sends no filter: every job of the set.
  std::optional<std::string> jobtype;
  std::optional<std::string> regexp;  // a Redis glob, not a regular expression
  std::vector<std::string> jids;
  bool all = false;
};

struct SignalArgs {
  bool stop = false;                   // quiet (TSTP) or stop (TERM)
  std::optional<std::string> pidfile;  // --pidfile; unset: ask systemd for `unit`
  std::string unit = "factotum.service";
  std::optional<std::chrono::milliseconds> timeout;  // stop: how long to wait for the exit
  bool wait = true;                                  // stop: false with --no-wait
};

struct Command {
  ConnectionArgs connection;
  std::variant<PushArgs, InfoArgs, QueueArgs, MutateArgs, SignalArgs> action;
};

// argv[0] is "ctl". Returns the command, or the exit status when there is nothing more to do
// (--help printed to `out`: 0; a usage error printed to `err`: 64).
std::variant<Command, int> parse_command_line(int argc, char** argv, std::ostream& out,
                                              std::ostream& err);

}  // namespace factotum::ctl
