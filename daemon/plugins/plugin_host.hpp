// The plugin host: loads plugin .so files (DESIGN.md §4), keeps the registry of jobtypes and
// middleware they registered, and runs a job through the middleware chain into its job
// function. It knows nothing of sockets or Faktory connections: the worker hands it a job's
// fields and gets an outcome back (DESIGN.md §1).
//
// Threading: load_*() and reload() run on one control thread (start-up, SIGHUP). run() is
// called from many threads at once (each of the worker's processors runs jobs on its own); it takes the current registry snapshot (one
// shared_ptr copy under a mutex held only for that copy) and never waits for a load or reload.
// A retired generation's shutdown and destroy callbacks run on the host's own retirement
// thread, started with the first retirement, never on a job's thread or the control thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace factotum::plugins {

class Registry;

// Where plugin log lines and follow-up jobs go. Implemented by the worker (and by the
// run-job harness); both must be thread-safe (job threads, the control thread, and the
// retirement thread a plugin's shutdown runs on may call them).
struct HostServices {
  // level: syslog numbering (3 error, 4 warning, 6 info, 7 debug). jid is empty outside a job.
  std::function<void(int level, std::string_view plugin, std::string_view jid,
                     std::string_view message)>
      log;
  // Pushes a job (JSON object text); returns the jid, or an error message. Null: the
  // push_job host function answers FACTOTUM_EUNAVAILABLE.
  std::function<bool(std::string_view job_json, std::string& jid_or_error)> push;
};

struct LoadOptions {
  // Refuse files/directories writable by group or others, or owned by anyone but root or
  // the daemon's user (sshd's StrictModes; DESIGN.md §4.8).
  bool strict_permissions = true;
  // Any plugin error aborts loading (default: report it, skip that plugin, load the rest).
  bool fatal_errors = false;
  // Private directory the .so files are copied to before dlopen (DESIGN.md §4.6). Empty: a
  // fresh mkdtemp() directory under $RUNTIME_DIRECTORY or the system temp dir, removed at exit.
  std::filesystem::path staging_dir;
  // Plugin name → its config subtree as JSON object text (plugins.config.<name>).
  std::map<std::string, std::string> config_json;
};

// One plugin that could not be loaded: which file, and why (for the operator).
struct LoadError {
  std::filesystem::path file;
  std::string reason;
  std::string message() const { return file.string() + ": " + reason; }
};

struct LoadReport {
  std::vector<std::string> loaded;  // "name version (file)" per plugin loaded
  std::vector<LoadError> errors;
  bool ok() const noexcept { return errors.empty(); }
};

// What a job function needs of the job. The views must stay valid during run().
struct JobInput {
  std::string_view jid;
  std::string_view jobtype;
  std::string_view queue;
  std::string_view args_json;     // a JSON array
  std::string_view custom_json;   // a JSON object ("{}" when the job has none)
  std::string_view payload_json;  // the whole job as fetched
  int retry_count = 0;            // failures before this run
  // Set by the worker at the job's deadline or on shutdown; read by job_cancelled().
  const std::atomic<bool>* cancelled = nullptr;
};

struct JobOutcome {
  enum class Status { succeeded, failed };
  Status status = Status::succeeded;
  std::string errtype;  // failed: e.g. "std::runtime_error", "UnknownJobtype"
  std::string message;
  std::vector<std::string> backtrace;
  std::string plugin;  // the plugin whose job function ran (empty for UnknownJobtype)
  bool succeeded() const noexcept { return status == Status::succeeded; }
};

// A jobtype or middleware as listed by --check-config.
struct RegistrationInfo {
  std::string name;    // jobtype, or "<plugin>.<middleware>"
  std::string plugin;  // plugin name
  std::filesystem::path file;
  std::uint64_t generation = 0;
};

class PluginHost {
 public:
  explicit PluginHost(HostServices services);
  // Retires every live generation and returns once every shutdown retired so far has run (on
  // the retirement thread, which it joins); the code stays mapped until the process exits.
  ~PluginHost();
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

  // Loads every `*.so` of each directory, in name order; one bad plugin is reported and
  // skipped unless options.fatal_errors. A missing directory is an error naming it.
  LoadReport load_directories(const std::vector<std::filesystem::path>& directories,
                              const LoadOptions& options);
  // Loads one file (the run-job harness, tests).
  LoadReport load_file(const std::filesystem::path& file, const LoadOptions& options);

  // Re-scans the directories: a new or changed file (size, mtime or inode) loads as a new
  // generation that replaces the old one's registrations; a removed file's registrations go.
  // Jobs already running keep their generation; it is shut down after its last job, on the
  // retirement thread (DESIGN.md §4.7). Unchanged files are not touched.
  LoadReport reload(const std::vector<std::filesystem::path>& directories,
                    const LoadOptions& options);

  // Middleware order: names as "<plugin>.<name>" or a unique "<name>"; empty = every
  // middleware in plugin load order. Unknown names are an error naming them (config error).
  std::optional<std::string> set_middleware_order(const std::vector<std::string>& order);

  // Runs one job: middleware chain, then the job function of its jobtype. A jobtype with no
  // handler fails with errtype "UnknownJobtype" (DESIGN.md §4.9). Thread-safe; never throws.
  JobOutcome run(const JobInput& job) const;

  std::vector<RegistrationInfo> jobtypes() const;
  std::vector<RegistrationInfo> middleware() const;  // in chain order
  // Plugin owning a jobtype in the current registry (for logs and TTIN dumps).
  std::optional<std::string> plugin_for(std::string_view jobtype) const;

  // For an exit that skips destructors (std::_Exit with job functions still running): removes
  // the private staged copies (and the default staging directory) now. Loaded code stays
  // mapped; nothing may be loaded afterwards.
  void remove_staged_files() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace factotum::plugins
