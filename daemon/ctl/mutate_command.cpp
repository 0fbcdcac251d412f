#include "ctl/exit_status.hpp"
#include "ctl/info_fields.hpp"
#include "ctl/server_commands.hpp"
#include "faktory/quote.hpp"

#include <boost/json/array.hpp>

#include <optional>
#include <ostream>

namespace factotum::ctl {

namespace json = boost::json;

namespace {

// The MUTATE operation (PROTOCOL.md §5): the filters as given (command_line.hpp says how the
// server combines them); --all sends none.
json::object operation_of(const MutateArgs& args) {
  json::object operation{{"cmd", args.operation}, {"target", args.target}};
  json::object filter;
  if (args.jobtype) filter["jobtype"] = *args.jobtype;
  if (args.regexp) filter["regexp"] = *args.regexp;
  if (!args.jids.empty()) {
    json::array jids;
    for (const auto& jid : args.jids) jids.emplace_back(jid);
    filter["jids"] = std::move(jids);
  }
  if (!filter.empty()) operation["filter"] = std::move(filter);
  return operation;
}

// "requeue (jobtype 'send_mail')": what was asked, for every line printed.
std::string request_text(const MutateArgs& args) {
  std::string filter;
  if (args.jobtype) filter = "jobtype " + faktory::quote(*args.jobtype);
  if (args.regexp)
    filter += (filter.empty() ? "" : " and ") + ("pattern " + faktory::quote(*args.regexp));
  if (args.all) filter = "every job";
  if (!args.jids.empty()) {
    std::string jids;
    for (const auto& jid : args.jids) jids += (jids.empty() ? "" : ",") + jid;
    filter = "jids " + faktory::quote(jids);
  }
  return args.operation + " in " + args.target + " (" + filter + ")";
}

std::string jobs(std::int64_t count) {
  return std::to_string(count) + (count == 1 ? " job" : " jobs");
}

std::optional<std::int64_t> set_size(const json::object& info, const std::string& set) {
  return info_number(info, {"faktory", "sets", set});
}

}  // namespace

int run_command(const MutateArgs& args, faktory::BlockingClient& client, std::ostream& out,
                std::ostream& err) {
  auto before_info = client.info();
  if (!before_info) return fail(err, server_failure("INFO", before_info.error()));
  const auto before = set_size(*before_info, args.target);
  if (before == 0) {
    return fail(err, {kExitNothingDone,
                      "the " + args.target + " set is empty: nothing to " + args.operation});
  }
  const std::string request = request_text(args);
  if (auto done = client.mutate(operation_of(args)); !done) {
    return fail(err, server_failure("MUTATE " + request, done.error()));
  }
  auto after_info = client.info();
  if (!after_info) {
    // The MUTATE was answered OK; what it did is unknown, and so is the status to exit with:
    // the INFO's own (unreachable 69, refused 76).
    Failure failure = server_failure("INFO after it", after_info.error());
    failure.message = request + ": OK, but " + failure.message + "; whether jobs left the " +
                      args.target + " set is unknown" +
                      (before ? " (it held " + jobs(*before) + " before)" : std::string());
    return fail(err, failure);
  }
  const auto after = set_size(*after_info, args.target);
  if (!before || !after) {
    out << request << ": OK; the server's INFO does not report the size of the " << args.target
        << " set\n";
    return kExitOk;
  }
  // Sizes are all INFO gives, not which jobs moved: the server answers OK whether or not a job
  // matched, and jobs enter and leave the set meanwhile (a retry coming due, a FAIL, another
  // client's MUTATE). So the facts are printed, and "nothing matched" is only a guess.
  const std::string sizes = args.target + ": " + std::to_string(*before) + " → " + jobs(*after);
  if (*after >= *before) {
    return fail(err, {kExitNothingDone,
                      request + ": OK, but " + sizes +
                          ": the filter seems to have matched nothing (a guess: Faktory answers "
                          "OK whether or not a job matched, and jobs may enter or leave the set "
                          "meanwhile)"});
  }
  out << request << ": OK; " << sizes << "\n";
  return kExitOk;
}

}  // namespace factotum::ctl
