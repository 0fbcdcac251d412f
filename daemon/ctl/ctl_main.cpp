#include "ctl/ctl_main.hpp"

#include "ctl/command_line.hpp"
#include "ctl/exit_status.hpp"
#include "ctl/server_commands.hpp"
#include "ctl/server_connection.hpp"
#include "ctl/signal_command.hpp"

#include <csignal>
#include <iostream>
#include <type_traits>

namespace factotum::ctl {

int ctl_main(int argc, char** argv) {
  auto parsed = parse_command_line(argc, argv, std::cout, std::cerr);
  if (const int* status = std::get_if<int>(&parsed)) return *status;
  const Command& command = std::get<Command>(parsed);
  // A closed pipe (`factotum ctl info | head -1`) must not kill the process mid-command.
  std::signal(SIGPIPE, SIG_IGN);
  const auto env = ctl_environment();
  return std::visit(
      [&](const auto& args) {
        if constexpr (std::is_same_v<std::decay_t<decltype(args)>, SignalArgs>) {
          return run_signal(args, command.connection, std::cout, std::cerr);
        } else {
          // The commands on the server: connect, run the command, end the connection.
          auto connected = connect_to_server(command.connection, env);
          if (auto* failure = std::get_if<Failure>(&connected)) return fail(std::cerr, *failure);
          auto& client = *std::get<std::unique_ptr<faktory::BlockingClient>>(connected);
          const int status = run_command(args, client, std::cout, std::cerr);
          client.end();
          return status;
        }
      },
      command.action);
}

}  // namespace factotum::ctl
