// The supervisor: what `factotum` runs as unless --no-supervisor. A small single-threaded
// process that forks the worker (the daemon proper), relays its signals and its systemd
// notifications, and — should it die abnormally (a signal, or an exit status other than 0 and
// 78) — FAILs every job it was running from a connection of its own, quarantines a plugin
// that crashed while loading, and starts a new worker after a capped back-off (DESIGN.md §3,
// README "When a plugin crashes").
//
// Before each fork it resets the crash table (crash/job_table.hpp), a shared mapping the
// worker writes and the supervisor reads once the worker is dead. It never loads plugins and
// runs no job code: nothing a plugin does can take it down.
#pragma once

#include "config/config.hpp"
#include "reloader.hpp"

#include <signal.h>

#include <functional>

namespace factotum::crash {
class JobTable;
}
namespace factotum::service {
class SystemdNotify;
}

namespace factotum::supervisor {

class Quarantine;

// What a worker process gets from its supervisor.
struct WorkerLaunch {
  crash::JobTable& table;
  // Where its sd_notify messages go: to the supervisor, which relays them (disabled when the
  // supervisor is not run by systemd).
  service::SystemdNotify& notify;
  const Quarantine& quarantine;
  // The signal mask to restore once the worker's own signal handling is in place (until then
  // the signals it handles stay blocked, but for the forwarded stop: supervisor.cpp
  // run_child).
  sigset_t signal_mask;
  // Another worker ran before this one (and died): the service has started; a problem that
  // would stop a start (the metrics address taken) must not stop it now.
  bool restarted = false;
  // The daemon was quieted (TSTP) before this worker started: it starts quiet, fetching
  // nothing. (Not a signal sent after the fork: the worker would have to catch it first.)
  bool quiet = false;
};

// Runs the worker (`run_worker`, in a forked child; returns its exit status) under
// supervision until it stops on purpose; returns the exit status for the process. `config`
// was loaded from `inputs`; a HUP reloads it here too (the connection for crash FAILs,
// logging). `systemd`: the supervisor's own notifications. Call with a single thread.
int run_supervisor(const ConfigInputs& inputs, config::Config config,
                   service::SystemdNotify systemd,
                   const std::function<int(WorkerLaunch& launch)>& run_worker);

}  // namespace factotum::supervisor
