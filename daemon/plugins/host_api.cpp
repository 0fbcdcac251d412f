#include "plugins/host_api.hpp"

#include "plugins/failure_limits.hpp"
#include "plugins/generation.hpp"
#include "plugins/registry.hpp"

#include <string_view>
#include <utility>

namespace factotum::plugins {
namespace {

// The job this thread is running (DESIGN.md §3: a thread runs one job at a time); only the
// log function reads it, to tag lines with the jid.
thread_local const factotum_job* current_job = nullptr;

factotum_str view(std::string_view s) noexcept {
  return factotum_str{s.data(), s.size()};
}
std::string_view view(factotum_str s) noexcept {
  return s.data == nullptr ? std::string_view() : std::string_view(s.data, s.size);
}
// sdk.h: `data` may be NULL only when `size` is 0.
bool valid(factotum_str s) noexcept {
  return s.data != nullptr || s.size == 0;
}

factotum_status register_jobtype(factotum_plugin* plugin, factotum_str jobtype, factotum_job_fn fn,
                                 void* user_data, factotum_destroy_fn destroy) {
  if (plugin == nullptr || !valid(jobtype)) return FACTOTUM_EINVAL;
  try {
    return plugin->generation->add_jobtype(view(jobtype), fn, user_data, destroy);
  } catch (...) {
    return FACTOTUM_EINTERNAL;  // bad_alloc: nothing may unwind into plugin code
  }
}

factotum_status register_middleware(factotum_plugin* plugin, factotum_str name,
                                    factotum_middleware_fn fn, void* user_data,
                                    factotum_destroy_fn destroy) {
  if (plugin == nullptr || !valid(name)) return FACTOTUM_EINVAL;
  try {
    return plugin->generation->add_middleware(view(name), fn, user_data, destroy);
  } catch (...) {
    return FACTOTUM_EINTERNAL;
  }
}

// Job accessors hand out views of the worker's strings: no copy on the job path.
factotum_str job_jid(const factotum_job* job) {
  return job == nullptr ? factotum_str{nullptr, 0} : view(job->input->jid);
}
factotum_str job_jobtype(const factotum_job* job) {
  return job == nullptr ? factotum_str{nullptr, 0} : view(job->input->jobtype);
}
factotum_str job_queue(const factotum_job* job) {
  return job == nullptr ? factotum_str{nullptr, 0} : view(job->input->queue);
}
factotum_str job_args_json(const factotum_job* job) {
  if (job == nullptr) return factotum_str{nullptr, 0};
  return job->input->args_json.empty() ? view("[]") : view(job->input->args_json);
}
factotum_str job_custom_json(const factotum_job* job) {
  if (job == nullptr) return factotum_str{nullptr, 0};
  return job->input->custom_json.empty() ? view("{}") : view(job->input->custom_json);
}
factotum_str job_payload_json(const factotum_job* job) {
  if (job == nullptr) return factotum_str{nullptr, 0};
  const auto& input = *job->input;
  if (input.payload_json.empty() && input.payload_source != nullptr) {
    // Made now (allocates the job's size): nothing may unwind into the plugin's frames. An
    // empty result tells the plugin it could not be made (sdk/include/factotum/plugin.hpp).
    try {
      return view(input.payload_source->get());
    } catch (...) {
      return factotum_str{nullptr, 0};
    }
  }
  return view(input.payload_json);
}
int32_t job_retry_count(const factotum_job* job) {
  return job == nullptr ? 0 : static_cast<int32_t>(job->input->retry_count);
}

factotum_status job_fail(factotum_job* job, factotum_str errtype, factotum_str message,
                         factotum_str backtrace) {
  if (job == nullptr || !valid(errtype) || !valid(message) || !valid(backtrace)) {
    return FACTOTUM_EINVAL;
  }
  try {
    // Capped while copied: a huge string from the plugin is never copied whole.
    std::string capped_type = capped_errtype(view(errtype));
    std::string capped_text = capped_message(view(message));
    std::vector<std::string> capped_lines = capped_backtrace(view(backtrace));
    job->errtype = std::move(capped_type);
    job->message = std::move(capped_text);
    job->backtrace = std::move(capped_lines);
    job->failure_set = true;
    return FACTOTUM_OK;
  } catch (...) {
    return FACTOTUM_EINTERNAL;
  }
}

int32_t job_cancelled(const factotum_job* job) {
  if (job == nullptr || job->input->cancelled == nullptr) return 0;
  return job->input->cancelled->load(std::memory_order_acquire) ? 1 : 0;
}

factotum_status job_next(factotum_job* job) {
  if (job == nullptr || job->registry == nullptr) return FACTOTUM_EINVAL;
  const std::size_t position = job->running;
  // Only a middleware may call it (not the job function), and only once per job.
  if (position >= job->registry->chain().size() || job->started > position) {
    return FACTOTUM_ESTATE;
  }
  const factotum_status status = run_chain_at(*job, position + 1);
  job->running = position;
  return status;
}

factotum_status push_job(factotum_plugin* plugin, factotum_str job_json, char* jid_out,
                         size_t jid_out_size) {
  if (plugin == nullptr || !valid(job_json)) return FACTOTUM_EINVAL;
  return plugin->generation->push(view(job_json), jid_out, jid_out_size);
}

void write_log(factotum_plugin* plugin, factotum_log_level level, factotum_str message) {
  if (plugin == nullptr || !valid(message)) return;
  try {
    plugin->generation->log(level, view(message));
  } catch (...) {
    // Logging is best effort; nothing may unwind into plugin code.
  }
}

factotum_str plugin_config_json(const factotum_plugin* plugin) {
  if (plugin == nullptr) return view("{}");
  return view(plugin->generation->config_json());
}

constexpr std::string_view host_version = FACTOTUM_HOST_VERSION;

const factotum_host_api table = {
    sizeof(factotum_host_api),
    FACTOTUM_ABI_MAJOR,
    FACTOTUM_ABI_MINOR,
    {host_version.data(), host_version.size()},
    &register_jobtype,
    &register_middleware,
    &job_jid,
    &job_jobtype,
    &job_queue,
    &job_args_json,
    &job_custom_json,
    &job_payload_json,
    &job_retry_count,
    &job_fail,
    &job_cancelled,
    &job_next,
    &push_job,
    &write_log,
    &plugin_config_json,
};

}  // namespace

const factotum_host_api* host_api() noexcept {
  return &table;
}

factotum_status run_chain_at(factotum_job& job, std::size_t position) noexcept {
  const auto& chain = job.registry->chain();
  job.running = position;
  if (position > job.started) job.started = position;
  if (position < chain.size()) {
    const MiddlewareEntry& middleware = chain[position];
    return middleware.fn(&job, middleware.user_data);
  }
  return job.handler->fn(&job, job.handler->user_data);
}

CurrentJobScope::CurrentJobScope(const factotum_job* job) noexcept : previous_(current_job) {
  current_job = job;
}
CurrentJobScope::~CurrentJobScope() {
  current_job = previous_;
}

std::string_view current_jid() noexcept {
  return current_job == nullptr ? std::string_view() : current_job->input->jid;
}

}  // namespace factotum::plugins
