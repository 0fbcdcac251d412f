// The plugin host: loads plugin .so files (DESIGN.md §4), keeps the registry of jobtypes and
// middleware they registered, and runs a job through the middleware chain into its job
// function. It knows nothing of sockets or Faktory connections: the worker hands it a job's
// fields and gets an outcome back (DESIGN.md §1).
//
// Threading: load_directories(), load_file(), reload() and set_middleware_order() run on one
// loading thread at a time: start-up, then the daemon's reload thread (a mutex serialises
// callers that break the rule, and is never taken by run()). Plugins' init runs there. run()
// is called from many threads at once (each of the worker's processors runs jobs on its own),
// also while a load is in progress: it takes the current registry snapshot (one shared_ptr copy
// under a mutex held only for that copy, and by a load only to swap the pointer when it
// publishes) and never waits for a load or reload. A load publishes its whole result as one
// snapshot, so a job sees every plugin as before a load or as after it. jobtypes(),
// middleware(), plugins() and plugin_for() read the current snapshot, from any thread.
// A retired generation's shutdown and destroy callbacks run on the host's own retirement
// thread, started with the first retirement, never on a job's thread or the loading thread.
#pragma once

#include "service/file_identity.hpp"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace factotum::crash {
struct JobRecord;
}

namespace factotum::plugins {

class Registry;
struct JobtypeEntry;

// Where plugin log lines and follow-up jobs go. Implemented by the worker (and by the
// run-job harness); both must be thread-safe (job threads, the loading thread a plugin's init
// runs on, and the retirement thread its shutdown runs on may call them).
struct HostServices {
  // level: syslog numbering (3 error, 4 warning, 6 info, 7 debug). jid is empty outside a job.
  std::function<void(int level, std::string_view plugin, std::string_view jid,
                     std::string_view message)>
      log;
  // Pushes a job (JSON object text); returns the jid, or an error message. Null: the
  // push_job host function answers FACTOTUM_EUNAVAILABLE.
  std::function<bool(std::string_view job_json, std::string& jid_or_error)> push;
};

using service::FileIdentity;

// One loaded plugin generation.
struct PluginInfo {
  std::string name;
  std::string version;
  std::filesystem::path file;
  std::uint64_t generation = 0;
};

struct LoadOptions {
  // Refuse a plugin file, its directory or any directory above it that is writable by group or
  // others (a sticky directory like /tmp is allowed above the plugin directory), or owned by
  // anyone but root or the daemon's user (sshd's StrictModes; DESIGN.md §4.8; trust.hpp).
  // Whatever this says, a plugin file is opened without following a symbolic link.
  bool strict_permissions = true;
  // Any plugin error aborts loading (default: report it, skip that plugin, load the rest).
  bool fatal_errors = false;
  // Private directory the .so files are copied to before dlopen (DESIGN.md §4.6). Empty: a
  // fresh mkdtemp() directory under $RUNTIME_DIRECTORY or the system temp dir, removed at exit.
  std::filesystem::path staging_dir;
  // Plugin name → its config subtree as JSON object text (plugins.config.<name>).
  std::map<std::string, std::string> config_json;
  // The middleware order (see set_middleware_order), applied with the plugin set in the same
  // step. nullopt: keep the current order.
  std::optional<std::vector<std::string>> middleware_order;
  // The caller's last word, before anything is committed: called (on the loading thread)
  // with every plugin the call would leave loaded. true: go ahead; false: the call changes
  // nothing (LoadReport::refused), e.g. the daemon's check that every plugins.config entry
  // names one of them, under fatal_errors.
  std::function<bool(const std::vector<PluginInfo>& next)> accept;
  // Called on the loading thread just before a file's code first runs (dlopen, then init).
  std::function<void(const std::filesystem::path& file, const FileIdentity& identity)> on_loading;
  // Called on the loading thread once that file's code has run (init returned, or the load
  // failed): whatever happens next on that thread is no longer the file's doing.
  std::function<void()> on_loaded;
  // Files not to load, e.g. one that crashed the worker while loading: returns the reason
  // to report (the file is then skipped like one that failed to load), or nullopt.
  std::function<std::optional<std::string>(const std::filesystem::path& file,
                                           const FileIdentity& identity)>
      refuse;
};

// One plugin that could not be loaded: which file, and why (for the operator).
struct LoadError {
  std::filesystem::path file;
  std::string reason;
  // The file failed before, unchanged since, with the same plugin config: it was not tried
  // again (the reason says so).
  bool repeated = false;
  std::string message() const { return file.string() + ": " + reason; }
};

// What a load or reload changed for one plugin (name), for the reload log.
struct PluginChange {
  enum class Kind {
    loaded,         // a plugin that was not loaded: `after`
    replaced,       // a new file or file version: `before` → `after` (same or another file)
    reinitialised,  // the same file, its plugins.config.<name> changed: `before` → `after`
    removed,        // its file or its directory is gone: `before`
  };
  Kind kind = Kind::loaded;
  std::string plugin;
  std::optional<PluginInfo> before;
  std::optional<PluginInfo> after;
  // One line for the operator, e.g. "replaced plugin gen 1.0.0 (/p/gen.so, generation 3) with
  // 2.0.0 (/p/gen.so, generation 7)".
  std::string describe() const;
};

struct LoadReport {
  // "name version (file)" per generation loaded (new, replaced or re-initialised plugins).
  std::vector<std::string> loaded;
  std::vector<PluginChange> changes;  // one per plugin, in plugin load order, removals last
  std::vector<LoadError> errors;
  // The middleware order did not resolve against the new plugin set: the call changed nothing,
  // whatever fatal_errors says. The same text is in `errors`.
  std::optional<std::string> middleware_error;
  // LoadOptions::accept said no: the call changed nothing.
  bool refused = false;
  // The new registry was published. False: the call changed nothing (fatal_errors with an
  // error, middleware_error or refused); `loaded` and `changes` are then empty.
  bool applied = false;
  bool ok() const noexcept { return errors.empty(); }
};

// Text made on first use, once, from any thread: the whole payload of a job held parsed
// (JobInput::payload_source).
struct LazyText {
  explicit LazyText(std::function<std::string()> maker) : make(std::move(maker)) {}
  std::function<std::string()> make;
  std::string_view get() const {
    std::call_once(once_, [this] { text_ = make(); });
    return text_;
  }

 private:
  mutable std::once_flag once_;
  mutable std::string text_;
};

// What a job function needs of the job. The views must stay valid during run().
struct JobInput {
  std::string_view jid;
  std::string_view jobtype;
  std::string_view queue;
  std::string_view args_json;     // a JSON array
  std::string_view custom_json;   // a JSON object ("{}" when the job has none)
  std::string_view payload_json;  // the whole job as fetched
  // When payload_json is empty: makes it for a plugin that asks. A worker holds a large job
  // once, parsed, rather than also as the text it came in (issue 13: a 60 MiB payload).
  const LazyText* payload_source = nullptr;
  int retry_count = 0;  // failures before this run
  // Set by the worker at the job's deadline or on shutdown; read by job_cancelled().
  const std::atomic<bool>* cancelled = nullptr;
  // The processor's entry in the crash table (supervised worker): run() notes there whose
  // job function the job runs in. Null: not recorded.
  crash::JobRecord* record = nullptr;
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

// A job's handler, resolved once from the registry current when the job starts
// (PluginHost::resolve), with the snapshot that keeps its plugin generation alive. A job run
// through it runs on exactly that generation, even when a reload publishes a registry without
// it before the job function is entered: the worker logs "job started" with plugin() and the
// job then runs there, never on another generation nor as UnknownJobtype (DESIGN.md §4.7: a job
// in flight keeps its generation). Dropping it may retire a generation, which only hands it to
// the retirement thread. Held by the thread that runs the job.
class ResolvedJob {
 public:
  ResolvedJob() = default;
  // The plugin that runs the job; empty when no plugin registered its jobtype (the job then
  // fails with errtype "UnknownJobtype").
  std::string_view plugin() const noexcept;

 private:
  friend class PluginHost;
  std::shared_ptr<const Registry> snapshot_;
  const JobtypeEntry* handler_ = nullptr;  // in *snapshot_, or null
};

// Whether a directory entry is a plugin file: `*.so`, not hidden. A hidden file is a plugin
// being published (copied under a temporary name, then renamed into place): never loaded,
// and a directory watch does not report it either.
bool is_plugin_file_name(std::string_view name) noexcept;

class PluginHost {
 public:
  explicit PluginHost(HostServices services);
  // Retires every live generation and returns once every shutdown retired so far has run (on
  // the retirement thread, which it joins); the code stays mapped until the process exits.
  ~PluginHost();
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

  // Loads every `*.so` of each directory, in name order; one bad plugin is reported and
  // skipped unless options.fatal_errors. A missing directory is an error naming it. Plugins
  // already loaded stay (a file loaded before is treated as by reload()).
  LoadReport load_directories(const std::vector<std::filesystem::path>& directories,
                              const LoadOptions& options);
  // Loads one file (the run-job harness, tests).
  LoadReport load_file(const std::filesystem::path& file, const LoadOptions& options);

  // Re-scans the directories and computes the next plugin set as a whole, then publishes it,
  // with the middleware order, in one step (DESIGN.md §4.7):
  //  - a file still there, unchanged (device, inode, size, mtime), with an unchanged
  //    plugins.config.<name>, keeps its generation;
  //  - a new or changed file, or one whose plugin config changed, loads as a new generation
  //    that replaces the plugin of its name (PluginChange); plugin names and jobtypes are
  //    checked against the plugins that stay and those loaded by this call, so a renamed file
  //    or a jobtype moved between files loads in one reload;
  //  - a file gone from its directory, or a directory no longer in `directories`, removes its
  //    plugins; a directory that cannot be read keeps them (and is an error);
  //  - a changed file that fails to load leaves its plugin's running generation in service;
  //  - a file that failed to load and has not changed since (nor its plugin config) is not
  //    loaded again: it is reported again (LoadError::repeated). Permission checks run anew.
  // Jobs already running keep their generation; it is shut down after its last job, on the
  // retirement thread. With fatal_errors any error, and whatever fatal_errors says a
  // middleware order that does not resolve, fail the call: nothing changes (!applied).
  LoadReport reload(const std::vector<std::filesystem::path>& directories,
                    const LoadOptions& options);

  // Middleware order: names as "<plugin>.<name>" or a unique "<name>"; empty = every
  // middleware in plugin load order. Unknown names are an error naming them (config error).
  std::optional<std::string> set_middleware_order(const std::vector<std::string>& order);

  // The handler of `jobtype` in the current registry, fixed for one job (ResolvedJob).
  // Thread-safe; takes the registry's lock for one shared_ptr copy; never throws.
  ResolvedJob resolve(std::string_view jobtype) const noexcept;
  // Runs one job: middleware chain, then the job function `resolved` names, with the chain of
  // the same registry. A jobtype with no handler fails with errtype "UnknownJobtype" (DESIGN.md
  // §4.9). Thread-safe; never throws. `resolved` comes from resolve(job.jobtype).
  JobOutcome run(const ResolvedJob& resolved, const JobInput& job) const;
  // resolve(job.jobtype), then run(): for a caller that does not say which plugin runs the job
  // before it runs.
  JobOutcome run(const JobInput& job) const;

  // The loaded plugins, in load order.
  std::vector<PluginInfo> plugins() const;
  std::vector<RegistrationInfo> jobtypes() const;
  std::vector<RegistrationInfo> middleware() const;  // in chain order
  // Plugin owning a jobtype in the current registry (for logs and TTIN dumps).
  std::optional<std::string> plugin_for(std::string_view jobtype) const;

  // For an exit that skips destructors (std::_Exit with job functions still running): removes
  // the private staged copies (and the default staging directory) now, unless a load is under
  // way (it never waits for one). Loaded code stays mapped; nothing may be loaded afterwards.
  void remove_staged_files() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace factotum::plugins
