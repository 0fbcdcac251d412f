#include "plugins/generation.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <utility>

namespace factotum::plugins {

std::string jobtype_taken(std::string_view jobtype, const Generation& holder) {
  return "jobtype '" + std::string(jobtype) + "' is already registered by plugin '" +
         holder.name() + "' (" + holder.file().string() + ")";
}

std::string config_for(const LoadOptions& options, std::string_view plugin) {
  const auto it = options.config_json.find(std::string(plugin));
  return it == options.config_json.end() ? std::string("{}") : it->second;
}

Generation::Generation(std::uint64_t number, std::filesystem::path file,
                       std::filesystem::path staged, FileIdentity identity,
                       const factotum_plugin_descriptor& descriptor,
                       std::shared_ptr<const HostServices> services, std::string config_json)
    : handle_{this},
      number_(number),
      file_(std::move(file)),
      staged_(std::move(staged)),
      identity_(identity),
      name_(descriptor.name),
      version_(descriptor.version != nullptr ? descriptor.version : ""),
      init_(descriptor.init),
      shutdown_(descriptor.shutdown),
      services_(std::move(services)),
      config_json_(std::move(config_json)) {}

Generation::~Generation() {
  // sdk.h: shutdown runs once, after the generation's last job, and only for a plugin whose
  // init succeeded; then every user_data is freed (plugin state may be used by shutdown).
  if (init_ok_ && shutdown_ != nullptr) shutdown_(&handle_);
  for (const auto& jobtype : jobtypes_) {
    if (jobtype.destroy != nullptr) jobtype.destroy(jobtype.user_data);
  }
  for (const auto& middleware : middleware_) {
    if (middleware.destroy != nullptr) middleware.destroy(middleware.user_data);
  }
  // The code stays mapped (DESIGN.md §4.7); only the private copy's name goes, so a configured
  // staging directory does not fill up across reloads and restarts.
  if (!staged_.empty()) ::unlink(staged_.c_str());
}

factotum_status Generation::run_init(const JobtypeOwners& owners) {
  owners_ = &owners;
  accepting_.store(true, std::memory_order_release);
  const factotum_status status = init_(host_api(), &handle_);
  accepting_.store(false, std::memory_order_release);
  owners_ = nullptr;
  init_ok_ = status == FACTOTUM_OK;
  return status;
}

std::string Generation::init_log() const {
  std::lock_guard lock(init_log_mutex_);
  return init_log_;
}

factotum_status Generation::add_jobtype(std::string_view name, factotum_job_fn fn, void* user_data,
                                        factotum_destroy_fn destroy) {
  // Refused registrations leave user_data with the plugin: the host owns it only once it
  // answered FACTOTUM_OK (plugin.hpp frees its holder when the call fails).
  if (!accepting_.load(std::memory_order_acquire)) return FACTOTUM_ESTATE;
  if (name.empty() || fn == nullptr) return FACTOTUM_EINVAL;
  const bool mine = std::any_of(jobtypes_.begin(), jobtypes_.end(),
                                [&](const JobtypeRegistration& r) { return r.name == name; });
  if (mine) return FACTOTUM_EEXIST;
  if (owners_ != nullptr) {
    if (const auto it = owners_->find(name); it != owners_->end()) {
      // DESIGN.md §4.9: a load error naming both files, even if a C plugin ignores EEXIST.
      if (conflict_.empty()) conflict_ = jobtype_taken(name, *it->second);
      refused_jobtypes_.emplace_back(name);
      return FACTOTUM_EEXIST;
    }
  }
  jobtypes_.push_back(JobtypeRegistration{std::string(name), fn, user_data, destroy});
  return FACTOTUM_OK;
}

factotum_status Generation::add_middleware(std::string_view name, factotum_middleware_fn fn,
                                           void* user_data, factotum_destroy_fn destroy) {
  if (!accepting_.load(std::memory_order_acquire)) return FACTOTUM_ESTATE;
  if (name.empty() || fn == nullptr) return FACTOTUM_EINVAL;
  const bool mine = std::any_of(middleware_.begin(), middleware_.end(),
                                [&](const MiddlewareRegistration& r) { return r.name == name; });
  if (mine) return FACTOTUM_EEXIST;
  middleware_.push_back(MiddlewareRegistration{std::string(name), fn, user_data, destroy});
  return FACTOTUM_OK;
}

void Generation::log(int level, std::string_view message) const {
  if (accepting_.load(std::memory_order_acquire) && level <= FACTOTUM_LOG_WARNING) {
    std::lock_guard lock(init_log_mutex_);
    init_log_.assign(message);  // explains a failed init in the load error
  }
  const std::string_view jid = current_jid();
  try {
    if (services_ && services_->log) {
      services_->log(level, name_, jid, message);
      return;
    }
  } catch (const std::exception&) {
    // Fall through to stderr: a log line must never throw into plugin code.
  }
  std::fprintf(stderr, "<%d>%s%s%.*s: %.*s\n", level, name_.c_str(),
               jid.empty() ? "" : " jid=", static_cast<int>(jid.size()), jid.data(),
               static_cast<int>(message.size()), message.data());
}

factotum_status Generation::push(std::string_view job_json, char* jid_out,
                                 std::size_t jid_out_size) const {
  if (!services_ || !services_->push) return FACTOTUM_EUNAVAILABLE;
  const auto first = job_json.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || job_json[first] != '{') return FACTOTUM_EINVAL;
  try {
    std::string jid_or_error;
    if (!services_->push(job_json, jid_or_error)) {
      log(FACTOTUM_LOG_WARNING, "push_job failed: " + jid_or_error);
      return FACTOTUM_EUNAVAILABLE;
    }
    if (jid_out != nullptr && jid_out_size > 0) {
      const std::size_t n = std::min(jid_or_error.size(), jid_out_size - 1);
      std::memcpy(jid_out, jid_or_error.data(), n);
      jid_out[n] = '\0';
    }
    return FACTOTUM_OK;
  } catch (const std::exception& e) {
    log(FACTOTUM_LOG_ERROR, std::string("push_job failed inside the host: ") + e.what());
    return FACTOTUM_EINTERNAL;
  }
}

}  // namespace factotum::plugins
