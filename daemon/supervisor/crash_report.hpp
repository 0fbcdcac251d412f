// What a dead worker leaves to do, read from its crash table (crash/job_table.hpp): the FAIL
// for every job it was running — `PluginCrashed` for the job whose thread crashed, naming the
// signal, jobtype, plugin, version and file; `WorkerCrashed` for the others — and, when it
// died loading a plugin file, that file (to quarantine). Pure: no I/O, so every case is tested
// without killing anything.
#pragma once

#include "faktory/commands.hpp"
#include "service/file_identity.hpp"

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace factotum::crash {
class JobTable;
}

namespace factotum::supervisor {

// How the worker process ended.
struct WorkerDeath {
  int wait_status = 0;  // as waitpid(2) returned it
  // The supervisor killed it: it stopped answering its watchdog (this says for how long).
  std::optional<std::chrono::milliseconds> unresponsive_for;
};

// The plugin file whose code was running on the thread that crashed.
struct LoadCrash {
  std::filesystem::path file;
  service::FileIdentity identity;
};

struct CrashFail {
  faktory::commands::FailArgs fail;
  std::string jobtype;
  bool ran_in_plugin = false;  // its jobtype was registered: a plugin's function ran it
};

struct CrashReport {
  std::string how;               // "SIGSEGV (Segmentation fault)", "exit status 70", ...
  std::string summary;           // one log line: how, and where if known
  std::vector<CrashFail> fails;  // the job whose thread crashed first
  std::optional<LoadCrash> load_crash;
  // Records the worker died while writing, or whose jid did not fit: these jobs stay reserved
  // until their reservation expires.
  std::size_t incomplete = 0;
  // Jobs the worker's control thread had FAILed already (their functions still ran).
  std::size_t already_reported = 0;
};

// `now` is CLOCK_MONOTONIC (std::chrono::steady_clock), the clock the records use.
CrashReport describe_crash(const crash::JobTable& table, const WorkerDeath& death,
                           std::chrono::steady_clock::time_point now);

}  // namespace factotum::supervisor
