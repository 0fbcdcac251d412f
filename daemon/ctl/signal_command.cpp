#include "ctl/signal_command.hpp"

#include "config/duration.hpp"
#include "ctl/daemon_process.hpp"
#include "ctl/stop_timeout.hpp"

#include <csignal>
#include <iomanip>
#include <ostream>

namespace factotum::ctl {

namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

int run_signal(const SignalArgs& args, const ConnectionArgs& connection, std::ostream& out,
               std::ostream& err) {
  StopTimeout timeout{std::chrono::milliseconds(0), {}};
  if (args.stop && args.wait) {
    auto chosen = stop_timeout(args, connection);
    if (auto* failure = std::get_if<Failure>(&chosen)) return fail(err, *failure);
    timeout = std::get<StopTimeout>(std::move(chosen));
  }
  auto found = DaemonProcess::find(args);
  if (auto* failure = std::get_if<Failure>(&found)) return fail(err, *failure);
  const auto& daemon = std::get<DaemonProcess>(found);
  const int signal = args.stop ? SIGTERM : SIGTSTP;
  const auto sent_at = Clock::now();
  if (auto failure = daemon.send(signal)) return fail(err, *failure);
  if (!args.stop) {
    out << "sent TSTP to factotum (" << daemon.description()
        << "): it fetches no new jobs; jobs in flight finish\n";
    return kExitOk;
  }
  out << "sent TERM to factotum (" << daemon.description() << ")";
  if (!args.wait) {
    out << "\n";
    return kExitOk;
  }
  out << "; waiting up to " << config::format_duration(timeout.value) << " (" << timeout.source
      << ") for it to exit" << std::endl;
  if (!daemon.wait_exit(timeout.value)) {
    return fail(err, {kExitTempFail,
                      "factotum (" + daemon.description() + ") still runs after " +
                          config::format_duration(timeout.value) +
                          ": jobs in flight may still be finishing (worker.shutdown_timeout); "
                          "wait with --timeout, or stop again to hurry it (a second TERM "
                          "FAILs the jobs in flight)"});
  }
  const std::chrono::duration<double> took = Clock::now() - sent_at;
  out << "factotum (pid " << daemon.pid() << ") exited after " << std::fixed << std::setprecision(1)
      << took.count() << " s\n";
  return kExitOk;
}

}  // namespace factotum::ctl
