// PluginHost: which files are loaded (generations in load order), publishing registry
// snapshots, and running one job through its snapshot. Loading runs on the control thread;
// run() on the threads that run jobs (the processors); retired generations end on the
// retirement thread (see plugin_host.hpp).
#include "plugins/plugin_host.hpp"

#include "plugins/failure_limits.hpp"
#include "plugins/generation.hpp"
#include "plugins/host_api.hpp"
#include "plugins/loader.hpp"
#include "plugins/registry.hpp"
#include "plugins/retirement_queue.hpp"

#include <algorithm>
#include <exception>
#include <mutex>
#include <set>
#include <system_error>
#include <utility>

#include <unistd.h>

namespace factotum::plugins {
namespace {

namespace fs = std::filesystem;

struct Candidate {
  fs::path file;
  bool from_directory = false;
};

fs::path absolute_path(const fs::path& path) {
  std::error_code ec;
  fs::path absolute = fs::absolute(path, ec);
  return (ec ? path : absolute).lexically_normal();
}

}  // namespace

struct PluginHost::Impl {
  // One loaded file. `generation` is replaced when the file changes; the old one lives on
  // in snapshots and running jobs until they finish (DESIGN.md §4.7).
  struct Active {
    fs::path file;
    bool from_directory = false;
    std::shared_ptr<Generation> generation;
  };

  std::shared_ptr<const HostServices> services;
  // Where a generation goes when its last reference drops (retirement_queue.hpp). Shared with
  // every loaded generation's deleter: a job may still hold one when the host is destroyed.
  std::shared_ptr<RetirementQueue> retirement = std::make_shared<RetirementQueue>();
  // The job path's only shared state: one shared_ptr copy per job, under a mutex held for
  // that copy alone. (std::atomic<std::shared_ptr> would do, but libstdc++ 12 hides its lock
  // bit from ThreadSanitizer, which then reports every publish as a race.)
  mutable std::mutex current_mutex;
  std::shared_ptr<const Registry> current;
  // Control-thread state; the mutex only guards against a caller breaking the one-control-
  // thread rule, it is never taken by run().
  mutable std::mutex control;
  std::vector<Active> active;  // plugin load order
  std::vector<std::string> middleware_order;
  std::uint64_t next_generation = 1;
  std::unique_ptr<StagingDir> default_staging;
  // Every staged copy made, for remove_staged_files() (a generation unlinks its own when it
  // ends, but an exit that skips destructors ends none).
  std::vector<fs::path> staged_paths;

  LoadReport apply(const std::vector<Candidate>& candidates,
                   const std::vector<fs::path>* rescanned_directories, const LoadOptions& options,
                   LoadReport report);
  std::unique_ptr<Generation> load_one(const fs::path& file, const LoadOptions& options,
                                       const std::vector<Active>& others, std::string& why);
  std::optional<fs::path> staging_dir(const LoadOptions& options, std::string& why);
  static std::vector<Candidate> scan(const std::vector<fs::path>& directories,
                                     const LoadOptions& options, LoadReport& report,
                                     std::vector<fs::path>& scanned);
  std::shared_ptr<const Registry> snapshot() const {
    std::lock_guard lock(current_mutex);
    return current;
  }
  void publish(std::shared_ptr<const Registry> next) {
    {
      std::lock_guard lock(current_mutex);
      current.swap(next);
    }
    // `next` now holds the previous snapshot; dropping it may retire a generation, which is
    // only handed to the retirement thread, but still better outside the lock job threads take.
  }
  void publish(std::vector<std::shared_ptr<Generation>> generations,
               const std::vector<std::string>& chain) {
    publish(std::make_shared<const Registry>(std::move(generations), chain));
  }
};

PluginHost::PluginHost(HostServices services) : impl_(std::make_unique<Impl>()) {
  impl_->services = std::make_shared<const HostServices>(std::move(services));
}

PluginHost::~PluginHost() {
  // Drop the snapshot first, then the generations in reverse load order, so plugins loaded
  // later (which may depend on earlier ones' services) are retired, and shut down, first.
  impl_->publish(std::shared_ptr<const Registry>());
  while (!impl_->active.empty()) impl_->active.pop_back();
  // Every shutdown queued so far has run when the host is gone. A generation still referenced
  // by a running job is retired when that job lets go of it (the queue outlives the host).
  impl_->retirement->drain();
}

void PluginHost::remove_staged_files() noexcept {
  std::lock_guard lock(impl_->control);
  for (const auto& path : impl_->staged_paths) ::unlink(path.c_str());
  if (impl_->default_staging) ::rmdir(impl_->default_staging->path().c_str());
}

std::optional<fs::path> PluginHost::Impl::staging_dir(const LoadOptions& options,
                                                      std::string& why) {
  if (!options.staging_dir.empty()) {
    if (auto refused = ensure_private_directory(options.staging_dir)) {
      why = std::move(*refused);
      return std::nullopt;
    }
    return options.staging_dir;
  }
  if (!default_staging) default_staging = StagingDir::create(why);
  if (!default_staging) return std::nullopt;
  return default_staging->path();
}

std::unique_ptr<Generation> PluginHost::Impl::load_one(const fs::path& file,
                                                       const LoadOptions& options,
                                                       const std::vector<Active>& others,
                                                       std::string& why) {
  if (options.strict_permissions) {
    if (auto refused = check_directory_trust(file.parent_path())) {
      why = std::move(*refused);
      return nullptr;
    }
  }
  const auto staging = staging_dir(options, why);
  if (!staging) return nullptr;
  const std::uint64_t number = next_generation++;
  const auto staged = stage_plugin_file(file, *staging, number, options.strict_permissions, why);
  if (!staged) return nullptr;
  staged_paths.push_back(staged->staged);
  const auto descriptor = open_plugin(staged->staged, file, why);
  if (!descriptor) {
    ::unlink(staged->staged.c_str());
    return nullptr;
  }

  JobtypeOwners owners;
  for (const auto& other : others) {
    if (other.generation->name() == descriptor->name) {
      why = "plugin name '" + other.generation->name() + "' is already used by " +
            other.file.string();
      ::unlink(staged->staged.c_str());
      return nullptr;
    }
    for (const auto& jobtype : other.generation->jobtypes()) {
      owners.emplace(jobtype.name, other.generation.get());
    }
  }
  const auto config = options.config_json.find(descriptor->name);
  auto generation = std::make_unique<Generation>(
      number, file, staged->staged, staged->identity, *descriptor, services,
      config == options.config_json.end() ? std::string("{}") : config->second);

  const factotum_status status = generation->run_init(owners);
  // A failed load destroys `generation` on return, here on the loading thread: it never served
  // a job, so this is not a retirement (retirement_queue.hpp). Its registrations' user_data are
  // destroyed, shutdown runs first if init had succeeded (a conflict), and its code stays mapped.
  if (!generation->conflict().empty()) {
    why = generation->conflict();
    return nullptr;
  }
  if (status != FACTOTUM_OK) {
    why = "init of plugin '" + generation->name() + "' failed (status " + std::to_string(status) +
          ")";
    if (const std::string said = generation->init_log(); !said.empty()) why += ": " + said;
    return nullptr;
  }
  return generation;
}

std::vector<Candidate> PluginHost::Impl::scan(const std::vector<fs::path>& directories,
                                              const LoadOptions& options, LoadReport& report,
                                              std::vector<fs::path>& scanned) {
  std::vector<Candidate> candidates;
  for (const auto& given : directories) {
    const fs::path directory = absolute_path(given);
    std::error_code ec;
    if (!fs::is_directory(directory, ec)) {
      report.errors.push_back({directory, ec && ec != std::errc::no_such_file_or_directory
                                              ? "cannot read plugin directory: " + ec.message()
                                              : "plugin directory does not exist"});
      if (options.fatal_errors) return {};
      continue;
    }
    std::vector<fs::path> files;
    for (fs::directory_iterator it(directory, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->path().extension() == ".so") files.push_back(it->path());
    }
    if (ec) {
      report.errors.push_back({directory, "cannot read plugin directory: " + ec.message()});
      if (options.fatal_errors) return {};
      continue;
    }
    scanned.push_back(directory);
    std::sort(files.begin(), files.end());  // name order: deterministic middleware order
    for (auto& file : files) candidates.push_back({std::move(file), true});
  }
  return candidates;
}

LoadReport PluginHost::Impl::apply(const std::vector<Candidate>& candidates,
                                   const std::vector<fs::path>* rescanned_directories,
                                   const LoadOptions& options, LoadReport report) {
  if (options.fatal_errors && !report.ok()) return report;
  // Work on a copy and commit only at the end: with fatal_errors nothing changes on failure,
  // and generations loaded by this call are simply dropped (retired, code kept mapped).
  std::vector<Active> next = active;
  for (const auto& candidate : candidates) {
    const auto same_file = std::find_if(next.begin(), next.end(),
                                        [&](const Active& a) { return a.file == candidate.file; });
    if (same_file != next.end() && identify(candidate.file) == same_file->generation->identity()) {
      continue;  // unchanged files are not touched
    }
    std::vector<Active> others;
    for (auto it = next.begin(); it != next.end(); ++it) {
      if (it != same_file) others.push_back(*it);
    }
    std::string why;
    auto loaded = load_one(candidate.file, options, others, why);
    if (!loaded) {
      // A changed file that fails to load leaves its previous generation in service.
      report.errors.push_back({candidate.file, std::move(why)});
      if (options.fatal_errors) return report;
      continue;
    }
    // From now on the generation ends on the retirement thread, whoever drops it last.
    auto generation = share_until_retired(std::move(loaded), retirement);
    report.loaded.push_back(generation->name() + " " + generation->version() + " (" +
                            candidate.file.string() + ")");
    if (same_file != next.end()) {
      same_file->generation = std::move(generation);
    } else {
      next.push_back({candidate.file, candidate.from_directory, std::move(generation)});
    }
  }
  if (rescanned_directories != nullptr) {
    // A plugin loaded from a directory goes when its file is gone from a directory that was
    // scanned, or when its directory is no longer configured. A directory that could not be
    // read keeps its plugins (an error was reported).
    std::set<fs::path> present;
    for (const auto& candidate : candidates) present.insert(candidate.file);
    std::erase_if(next, [&](const Active& a) {
      if (!a.from_directory || present.contains(a.file)) return false;
      const bool scanned = std::find(rescanned_directories->begin(), rescanned_directories->end(),
                                     a.file.parent_path()) != rescanned_directories->end();
      return scanned || !fs::exists(a.file.parent_path());
    });
  }

  std::vector<std::shared_ptr<Generation>> generations;
  for (const auto& a : next) generations.push_back(a.generation);
  std::vector<std::string> chain;
  if (auto unresolved = resolve_middleware_order(middleware_order, generations, chain)) {
    // The configured order names middleware that is gone: run the rest, say which.
    report.errors.push_back({fs::path(), "middleware order: " + *unresolved});
    if (options.fatal_errors) return report;
  }
  active = std::move(next);
  publish(std::move(generations), chain);
  return report;
}

LoadReport PluginHost::load_directories(const std::vector<fs::path>& directories,
                                        const LoadOptions& options) {
  std::lock_guard lock(impl_->control);
  LoadReport report;
  std::vector<fs::path> scanned;
  const auto candidates = Impl::scan(directories, options, report, scanned);
  return impl_->apply(candidates, nullptr, options, std::move(report));
}

LoadReport PluginHost::load_file(const fs::path& file, const LoadOptions& options) {
  std::lock_guard lock(impl_->control);
  return impl_->apply({{absolute_path(file), false}}, nullptr, options, LoadReport{});
}

LoadReport PluginHost::reload(const std::vector<fs::path>& directories,
                              const LoadOptions& options) {
  std::lock_guard lock(impl_->control);
  LoadReport report;
  std::vector<fs::path> scanned;
  const auto candidates = Impl::scan(directories, options, report, scanned);
  return impl_->apply(candidates, &scanned, options, std::move(report));
}

std::optional<std::string> PluginHost::set_middleware_order(const std::vector<std::string>& order) {
  std::lock_guard lock(impl_->control);
  std::vector<std::shared_ptr<Generation>> generations;
  for (const auto& a : impl_->active) generations.push_back(a.generation);
  std::vector<std::string> chain;
  if (auto error = resolve_middleware_order(order, generations, chain)) return error;
  impl_->middleware_order = order;
  impl_->publish(std::move(generations), chain);
  return std::nullopt;
}

JobOutcome PluginHost::run(const JobInput& input) const {
  JobOutcome outcome;
  try {
    // Declared before the job scope: if this job held the last reference to a retired
    // generation, `snapshot` hands it to the retirement thread when it dies, after the job;
    // its shutdown never runs on this thread.
    const std::shared_ptr<const Registry> snapshot = impl_->snapshot();
    const JobtypeEntry* handler = snapshot ? snapshot->find(input.jobtype) : nullptr;
    if (handler == nullptr) {
      // DESIGN.md §4.9: FAIL, never ACK or drop; another worker may know the jobtype.
      outcome.status = JobOutcome::Status::failed;
      outcome.errtype = "UnknownJobtype";
      outcome.message = "no plugin registered jobtype '" + std::string(input.jobtype) + "'";
      return outcome;
    }
    outcome.plugin = handler->generation->name();
    factotum_job job;
    job.input = &input;
    job.registry = snapshot.get();
    job.handler = handler;
    factotum_status status;
    {
      const CurrentJobScope scope(&job);
      status = run_chain_at(job, 0);
    }
    if (status == FACTOTUM_OK) return outcome;
    outcome.status = JobOutcome::Status::failed;
    if (job.failure_set) {
      outcome.errtype = std::move(job.errtype);
      outcome.message = std::move(job.message);  // job_fail capped all three
      outcome.backtrace = std::move(job.backtrace);
    } else {
      outcome.errtype = "PluginError";
      outcome.message = "job function returned status " + std::to_string(status);
    }
    if (outcome.backtrace.empty()) {
      // A C++ exception carries no stack, and a C plugin rarely sends one: say at least where
      // the job failed, so the Faktory UI and logs show which plugin build to look at.
      const Generation& generation = *handler->generation;
      std::string where =
          "in jobtype '" + std::string(input.jobtype) + "' of plugin '" + generation.name() + "'";
      if (!generation.version().empty()) where += " " + generation.version();
      // The version is the plugin's own text, of any length: the line cap applies.
      outcome.backtrace.push_back(
          capped_backtrace_line(where + " (" + generation.file().string() + ")"));
    }
  } catch (const std::exception& e) {
    // Only the host's own allocations can throw here; plugin code is C and cannot.
    outcome.status = JobOutcome::Status::failed;
    outcome.errtype = "HostError";
    outcome.message = std::string("the plugin host failed: ") + e.what();
  }
  return outcome;
}

std::vector<RegistrationInfo> PluginHost::jobtypes() const {
  std::vector<RegistrationInfo> out;
  const auto snapshot = impl_->snapshot();
  if (!snapshot) return out;
  for (const auto& [name, entry] : snapshot->jobtypes()) {
    out.push_back(
        {name, entry.generation->name(), entry.generation->file(), entry.generation->number()});
  }
  return out;
}

std::vector<RegistrationInfo> PluginHost::middleware() const {
  std::vector<RegistrationInfo> out;
  const auto snapshot = impl_->snapshot();
  if (!snapshot) return out;
  for (const auto& entry : snapshot->chain()) {
    out.push_back({entry.qualified_name, entry.generation->name(), entry.generation->file(),
                   entry.generation->number()});
  }
  return out;
}

std::optional<std::string> PluginHost::plugin_for(std::string_view jobtype) const {
  const auto snapshot = impl_->snapshot();
  const JobtypeEntry* entry = snapshot ? snapshot->find(jobtype) : nullptr;
  if (entry == nullptr) return std::nullopt;
  return entry->generation->name();
}

}  // namespace factotum::plugins
