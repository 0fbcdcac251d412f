// PluginHost: the loading entry points (the next plugin set itself is computed in
// plugin_set_update.cpp), and running one job through the current registry snapshot. Loading
// runs on the loading thread; run() on the threads that run jobs (the processors); retired
// generations end on the retirement thread (see plugin_host.hpp).
#include "plugins/plugin_host.hpp"

#include "crash/job_record.hpp"
#include "plugins/failure_limits.hpp"
#include "plugins/host_api.hpp"
#include "plugins/plugin_host_impl.hpp"
#include "plugins/scan.hpp"

#include <exception>
#include <mutex>
#include <utility>

#include <unistd.h>

namespace factotum::plugins {

namespace fs = std::filesystem;

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

bool is_plugin_file_name(std::string_view name) noexcept {
  return name.size() > 3 && name.ends_with(".so") && !name.starts_with(".");
}

void PluginHost::remove_staged_files() noexcept {
  // A load still under way (a reload blocked in a plugin's init) holds the lock: its files
  // are then left behind rather than waited for (the staging directory is the service's
  // RuntimeDirectory, or the temp dir).
  std::unique_lock lock(impl_->control, std::try_to_lock);
  if (!lock.owns_lock()) return;
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

LoadReport PluginHost::load_directories(const std::vector<fs::path>& directories,
                                        const LoadOptions& options) {
  std::lock_guard lock(impl_->control);
  LoadReport report;
  Scan scan = scan_directories(directories, options.strict_permissions, report.errors);
  return impl_->apply(std::move(scan), false, options, std::move(report));
}

LoadReport PluginHost::load_file(const fs::path& file, const LoadOptions& options) {
  std::lock_guard lock(impl_->control);
  return impl_->apply(scan_file(file, options.strict_permissions), false, options, LoadReport{});
}

LoadReport PluginHost::reload(const std::vector<fs::path>& directories,
                              const LoadOptions& options) {
  std::lock_guard lock(impl_->control);
  LoadReport report;
  Scan scan = scan_directories(directories, options.strict_permissions, report.errors);
  return impl_->apply(std::move(scan), true, options, std::move(report));
}

std::optional<std::string> PluginHost::set_middleware_order(const std::vector<std::string>& order) {
  std::lock_guard lock(impl_->control);
  std::vector<std::shared_ptr<Generation>> generations;
  for (const auto& a : impl_->active) generations.push_back(a.generation);
  std::vector<std::string> chain;
  if (auto error = resolve_middleware_order(order, generations, chain)) return error;
  impl_->middleware_order = order;
  impl_->publish(std::make_shared<const Registry>(std::move(generations), chain));
  return std::nullopt;
}

std::string_view ResolvedJob::plugin() const noexcept {
  return handler_ == nullptr ? std::string_view() : std::string_view(handler_->generation->name());
}

ResolvedJob PluginHost::resolve(std::string_view jobtype) const noexcept {
  ResolvedJob resolved;
  resolved.snapshot_ = impl_->snapshot();
  if (resolved.snapshot_) resolved.handler_ = resolved.snapshot_->find(jobtype);
  return resolved;
}

JobOutcome PluginHost::run(const JobInput& input) const {
  // Declared before the job runs: if this job held the last reference to a retired
  // generation, `resolved` hands it to the retirement thread when it dies, after the job; its
  // shutdown never runs on this thread.
  const ResolvedJob resolved = resolve(input.jobtype);
  return run(resolved, input);
}

JobOutcome PluginHost::run(const ResolvedJob& resolved, const JobInput& input) const {
  JobOutcome outcome;
  try {
    const JobtypeEntry* handler = resolved.handler_;
    if (handler == nullptr) {
      // DESIGN.md §4.9: FAIL, never ACK or drop; another worker may know the jobtype.
      outcome.status = JobOutcome::Status::failed;
      outcome.errtype = "UnknownJobtype";
      outcome.message = "no plugin registered jobtype '" + std::string(input.jobtype) + "'";
      return outcome;
    }
    outcome.plugin = handler->generation->name();
    if (input.record != nullptr) {
      const Generation& generation = *handler->generation;
      input.record->set_plugin(generation.name(), generation.version(), generation.file().native());
    }
    factotum_job job;
    job.input = &input;
    job.registry = resolved.snapshot_.get();
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

std::string PluginChange::describe() const {
  const PluginInfo was = before.value_or(PluginInfo{});
  const PluginInfo is = after.value_or(PluginInfo{});
  const auto version = [](const PluginInfo& info) {
    return info.version.empty() ? std::string("(no version)") : info.version;
  };
  const auto where = [](const PluginInfo& info) {
    return info.file.string() + ", generation " + std::to_string(info.generation);
  };
  switch (kind) {
    case Kind::loaded:
      return "loaded plugin " + plugin + " " + version(is) + " (" + where(is) + ")";
    case Kind::replaced:
      return "replaced plugin " + plugin + " " + version(was) + " (" + where(was) + ") with " +
             version(is) + " (" + where(is) + ")";
    case Kind::reinitialised:
      return "re-initialised plugin " + plugin + " " + version(is) + " with its changed config (" +
             is.file.string() + ", generation " + std::to_string(was.generation) + " -> " +
             std::to_string(is.generation) + ")";
    case Kind::removed:
      return "removed plugin " + plugin + " " + version(was) + " (" + where(was) + ")";
  }
  return plugin;
}

std::vector<PluginInfo> PluginHost::plugins() const {
  std::vector<PluginInfo> out;
  const auto snapshot = impl_->snapshot();
  if (!snapshot) return out;
  for (const auto& generation : snapshot->generations()) {
    out.push_back(
        {generation->name(), generation->version(), generation->file(), generation->number()});
  }
  return out;
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
