// One loaded plugin file, initialised with one plugin config: its staged copy, identity,
// descriptor, config and what its init registered (DESIGN.md §4.7); a new file version or a
// new config is a new generation. A generation is shared by the registry snapshots and the jobs
// running on it; when the last of them lets go (the generation was replaced or removed, or the host
// is destroyed), the generation is retired: handed to the host's retirement thread
// (retirement_queue.hpp), where its destructor calls the plugin's shutdown and then every
// destroy callback, never on a job's thread nor on the loading thread. (A generation whose
// load fails never served a job; it is destroyed at once on the loading thread.)
// The code itself is never unmapped (see loader.hpp).
#pragma once

#include "factotum/sdk.h"
#include "plugins/host_api.hpp"
#include "plugins/plugin_host.hpp"

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace factotum::plugins {

// What makes a file "changed" for reload(): another inode, size or mtime.

struct JobtypeRegistration {
  std::string name;
  factotum_job_fn fn = nullptr;
  void* user_data = nullptr;
  factotum_destroy_fn destroy = nullptr;
};

struct MiddlewareRegistration {
  std::string name;
  factotum_middleware_fn fn = nullptr;
  void* user_data = nullptr;
  factotum_destroy_fn destroy = nullptr;
};

class Generation;
// Jobtype → the generation that owns it among the *other* plugins, consulted while a plugin's
// init registers, so a duplicate is refused at once (DESIGN.md §4.9).
using JobtypeOwners = std::map<std::string, const Generation*, std::less<>>;

// The load error for a jobtype `holder` already registered (DESIGN.md §4.9: it names both
// files; the refused plugin's is the error's).
std::string jobtype_taken(std::string_view jobtype, const Generation& holder);

// The config a plugin is initialised with: its plugins.config.<name>, or "{}".
std::string config_for(const LoadOptions& options, std::string_view plugin);

class Generation {
 public:
  Generation(std::uint64_t number, std::filesystem::path file, std::filesystem::path staged,
             FileIdentity identity, const factotum_plugin_descriptor& descriptor,
             std::shared_ptr<const HostServices> services, std::string config_json);
  // Shutdown (only if init succeeded), then destroy every user_data, once. Runs on the
  // retirement thread (on the loading thread for a load that failed).
  ~Generation();
  Generation(const Generation&) = delete;
  Generation& operator=(const Generation&) = delete;

  // Calls the plugin's init with the host table; registrations are accepted only during it.
  // `owners` must outlive the call. Returns init's status.
  factotum_status run_init(const JobtypeOwners& owners);
  // Why the load must fail although init returned OK (a duplicate jobtype), or empty.
  const std::string& conflict() const noexcept { return conflict_; }
  // The jobtypes init tried to register but another plugin held (the conflict).
  const std::vector<std::string>& refused_jobtypes() const noexcept { return refused_jobtypes_; }
  // The last error/warning the plugin logged during init, to explain a failed init.
  std::string init_log() const;

  // Host functions (host_api.cpp) forward here.
  factotum_status add_jobtype(std::string_view name, factotum_job_fn fn, void* user_data,
                              factotum_destroy_fn destroy);
  factotum_status add_middleware(std::string_view name, factotum_middleware_fn fn, void* user_data,
                                 factotum_destroy_fn destroy);
  void log(int level, std::string_view message) const;
  factotum_status push(std::string_view job_json, char* jid_out, std::size_t jid_out_size) const;
  // The config this generation was initialised with (a changed one loads a new generation).
  const std::string& config_json() const noexcept { return config_json_; }

  factotum_plugin* handle() noexcept { return &handle_; }
  std::uint64_t number() const noexcept { return number_; }
  const std::filesystem::path& file() const noexcept { return file_; }
  const std::filesystem::path& staged() const noexcept { return staged_; }
  const FileIdentity& identity() const noexcept { return identity_; }
  const std::string& name() const noexcept { return name_; }
  const std::string& version() const noexcept { return version_; }
  const std::vector<JobtypeRegistration>& jobtypes() const noexcept { return jobtypes_; }
  const std::vector<MiddlewareRegistration>& middleware() const noexcept { return middleware_; }

 private:
  factotum_plugin handle_;
  std::uint64_t number_;
  std::filesystem::path file_;
  std::filesystem::path staged_;
  FileIdentity identity_;
  std::string name_;
  std::string version_;
  factotum_status (*init_)(const factotum_host_api*, factotum_plugin*);
  void (*shutdown_)(factotum_plugin*);
  std::shared_ptr<const HostServices> services_;  // shared: a generation may outlive the host
  std::string config_json_;  // valid until shutdown returns (sdk.h config_json)

  // Written only while init runs (loading thread); read-only afterwards. The flag is atomic
  // because a misbehaving plugin may call a register function from a job thread later, which
  // must see FACTOTUM_ESTATE without a data race.
  std::atomic<bool> accepting_{false};
  bool init_ok_ = false;
  const JobtypeOwners* owners_ = nullptr;
  std::vector<JobtypeRegistration> jobtypes_;
  std::vector<MiddlewareRegistration> middleware_;
  std::string conflict_;
  std::vector<std::string> refused_jobtypes_;
  mutable std::mutex init_log_mutex_;  // a plugin thread may log while init runs
  mutable std::string init_log_;
};

}  // namespace factotum::plugins
