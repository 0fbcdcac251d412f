#include "ctl/exit_status.hpp"
#include "ctl/info_table.hpp"
#include "ctl/server_commands.hpp"

#include <boost/json/serialize.hpp>

#include <ostream>

namespace factotum::ctl {

int run_command(const InfoArgs& args, faktory::BlockingClient& client, std::ostream& out,
                std::ostream& err) {
  auto info = client.info();
  if (!info) return fail(err, server_failure("INFO", info.error()));
  if (args.json) {
    // One line, the server's keys in the server's order: what jq wants.
    out << boost::json::serialize(*info) << "\n";
  } else {
    out << format_info(*info, client.options().url.redacted());
  }
  return kExitOk;
}

}  // namespace factotum::ctl
