// factotum plugin SDK — the C++ layer. Header-only and compiled into each plugin (the
// "hourglass" pattern): C++ types never cross the ABI, only sdk.h's C types do.
//
// A whole plugin:
//
//   #include <factotum/plugin.hpp>
//
//   FACTOTUM_PLUGIN("hello", "1.0.0", [](factotum::Registrar& r) {
//     r.jobtype("Hello", [](factotum::Job& job) {
//       job.log(factotum::LogLevel::info, "hello, " + std::string(job.args_json()));
//     });
//   })
//
// A job function returns normally to ACK the job; it FAILs the job by throwing. The exception's
// type name becomes the errtype and what() the message (throw factotum::JobFailure to choose the
// errtype yourself). No exception ever crosses into the daemon: every callback is noexcept.
#pragma once

#include "factotum/sdk.h"

#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>

#if defined(__GNUG__)
#include <cxxabi.h>
#endif

namespace factotum {

enum class LogLevel : factotum_log_level {
  error = FACTOTUM_LOG_ERROR,
  warning = FACTOTUM_LOG_WARNING,
  info = FACTOTUM_LOG_INFO,
  debug = FACTOTUM_LOG_DEBUG,
};

// Throw to FAIL a job with an errtype of your choosing.
class JobFailure : public std::runtime_error {
 public:
  JobFailure(std::string errtype, const std::string& message)
      : std::runtime_error(message), errtype_(std::move(errtype)) {}
  const std::string& errtype() const noexcept { return errtype_; }

 private:
  std::string errtype_;
};

// Thrown by Job::throw_if_cancelled(); FAILs the job with errtype "Cancelled".
class JobCancelled : public JobFailure {
 public:
  JobCancelled() : JobFailure("Cancelled", "the job was cancelled (deadline or shutdown)") {}
};

namespace detail {

inline std::string_view view(factotum_str s) noexcept {
  return s.size == 0 ? std::string_view() : std::string_view(s.data, s.size);
}
inline factotum_str str(std::string_view s) noexcept {
  return factotum_str{s.data(), s.size()};
}

// The host's table and this plugin's handle, kept by the entry point's init. Each plugin has
// its own copy: plugins are built with hidden visibility, so nothing here is shared.
struct PluginState {
  const factotum_host_api* api = nullptr;
  factotum_plugin* plugin = nullptr;
};
inline PluginState& state() noexcept {
  static PluginState s;
  return s;
}

inline std::string demangle(const char* name) {
#if defined(__GNUG__)
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(name, nullptr, nullptr, &status),
                                             std::free);
  if (status == 0 && out) return out.get();
#endif
  return name;
}

}  // namespace detail

// A job being run: read-only views valid until the job function returns.
class Job {
 public:
  explicit Job(factotum_job* job) noexcept : job_(job) {}

  std::string_view jid() const noexcept { return detail::view(api().job_jid(job_)); }
  std::string_view jobtype() const noexcept { return detail::view(api().job_jobtype(job_)); }
  std::string_view queue() const noexcept { return detail::view(api().job_queue(job_)); }
  // The args array as JSON text, e.g. [1,"two"]; parse it with the JSON library you prefer.
  std::string_view args_json() const noexcept { return detail::view(api().job_args_json(job_)); }
  // The job's `custom` object as JSON text ({} when absent).
  std::string_view custom_json() const noexcept {
    return detail::view(api().job_custom_json(job_));
  }
  std::string_view payload_json() const noexcept {
    return detail::view(api().job_payload_json(job_));
  }
  // How many times this job failed before (0 on its first run).
  int retry_count() const noexcept { return api().job_retry_count(job_); }

  // True once the deadline passed or the daemon is stopping: return (or throw) promptly.
  bool cancelled() const noexcept { return api().job_cancelled(job_) != 0; }
  void throw_if_cancelled() const {
    if (cancelled()) throw JobCancelled();
  }

  void log(LogLevel level, std::string_view message) const noexcept {
    api().log(detail::state().plugin, static_cast<factotum_log_level>(level), detail::str(message));
  }

  factotum_job* native() const noexcept { return job_; }

 private:
  static const factotum_host_api& api() noexcept { return *detail::state().api; }
  factotum_job* job_;
};

// Runs the rest of the middleware chain (then the job function). Call it at most once.
// Returns normally when the rest succeeded; throws JobFailure when it failed, so a middleware
// that does not catch it passes the failure on unchanged.
class Next {
 public:
  explicit Next(factotum_job* job) noexcept : job_(job) {}
  void operator()() const {
    const factotum_status status = detail::state().api->job_next(job_);
    if (status != FACTOTUM_OK) throw Passthrough(status);
  }

  // Carries a downstream failure through a middleware without rewriting its errtype.
  struct Passthrough : std::exception {
    explicit Passthrough(factotum_status s) noexcept : status(s) {}
    const char* what() const noexcept override { return "the rest of the chain failed"; }
    factotum_status status;
  };

 private:
  factotum_job* job_;
};

using JobFunction = std::function<void(Job&)>;
using MiddlewareFunction = std::function<void(Job&, Next)>;

namespace detail {

// Turns any exception into FAIL: errtype = the exception's demangled type name (or the
// JobFailure's errtype), message = what(). Nothing escapes into the host.
inline factotum_status fail_with_current_exception(factotum_job* job) noexcept {
  const factotum_host_api& api = *state().api;
  try {
    throw;
  } catch (const Next::Passthrough& downstream) {
    return downstream.status;  // failure details were already recorded downstream
  } catch (const JobFailure& failure) {
    api.job_fail(job, str(failure.errtype()), str(failure.what()), factotum_str{nullptr, 0});
  } catch (const std::exception& e) {
    try {
      const std::string type = demangle(typeid(e).name());
      api.job_fail(job, str(type), str(e.what()), factotum_str{nullptr, 0});
    } catch (...) {
      api.job_fail(job, str("std::exception"), str(e.what()), factotum_str{nullptr, 0});
    }
  } catch (...) {
    api.job_fail(job, str("UnknownException"), str("a non-standard exception was thrown"),
                 factotum_str{nullptr, 0});
  }
  return FACTOTUM_FAILED;
}

inline factotum_status job_trampoline(factotum_job* job, void* user_data) noexcept {
  try {
    Job view(job);
    (*static_cast<JobFunction*>(user_data))(view);
    return FACTOTUM_OK;
  } catch (...) {
    return fail_with_current_exception(job);
  }
}

inline factotum_status middleware_trampoline(factotum_job* job, void* user_data) noexcept {
  try {
    Job view(job);
    (*static_cast<MiddlewareFunction*>(user_data))(view, Next(job));
    return FACTOTUM_OK;
  } catch (...) {
    return fail_with_current_exception(job);
  }
}

template <class F>
void destroy(void* user_data) noexcept {
  delete static_cast<F*>(user_data);
}

}  // namespace detail

// Handed to the plugin's init function: registers jobtypes and middleware.
class Registrar {
 public:
  Registrar(const factotum_host_api* api, factotum_plugin* plugin) noexcept
      : api_(api), plugin_(plugin) {}

  // Throws std::runtime_error when the host refuses (duplicate name, called after init).
  void jobtype(std::string_view name, JobFunction fn) {
    auto holder = std::make_unique<JobFunction>(std::move(fn));
    check(api_->register_jobtype(plugin_, detail::str(name), &detail::job_trampoline, holder.get(),
                                 &detail::destroy<JobFunction>),
          "jobtype", name);
    holder.release();  // the host owns it now and frees it through destroy
  }

  void middleware(std::string_view name, MiddlewareFunction fn) {
    auto holder = std::make_unique<MiddlewareFunction>(std::move(fn));
    check(api_->register_middleware(plugin_, detail::str(name), &detail::middleware_trampoline,
                                    holder.get(), &detail::destroy<MiddlewareFunction>),
          "middleware", name);
    holder.release();
  }

  // This plugin's config subtree as JSON text ({} when none).
  std::string_view config_json() const noexcept { return detail::view(api_->config_json(plugin_)); }

  void log(LogLevel level, std::string_view message) const noexcept {
    api_->log(plugin_, static_cast<factotum_log_level>(level), detail::str(message));
  }

  // The host's ABI minor and version, for plugins that need a newer host.
  unsigned host_abi_minor() const noexcept { return api_->abi_minor; }
  std::string_view host_version() const noexcept { return detail::view(api_->host_version); }

  const factotum_host_api* api() const noexcept { return api_; }
  factotum_plugin* plugin() const noexcept { return plugin_; }

 private:
  static void check(factotum_status status, const char* what, std::string_view name) {
    if (status == FACTOTUM_OK) return;
    throw std::runtime_error("registering " + std::string(what) + " '" + std::string(name) +
                             "' failed (status " + std::to_string(status) + ")");
  }
  const factotum_host_api* api_;
  factotum_plugin* plugin_;
};

// Logs from anywhere in the plugin (any thread) once init has run.
inline void log(LogLevel level, std::string_view message) noexcept {
  const auto& s = detail::state();
  if (s.api != nullptr)
    s.api->log(s.plugin, static_cast<factotum_log_level>(level), detail::str(message));
}

// Pushes a follow-up job given as a JSON object (e.g. {"jobtype":"Next","args":[1]}; jid, queue
// and retry are filled in) and returns its jid. Blocks until the server accepted it; throws
// std::runtime_error when it did not (so, inside a job, the job FAILs and is retried).
inline std::string push_job(std::string_view job_json) {
  const auto& s = detail::state();
  char jid[128] = {};
  const factotum_status status = s.api->push_job(s.plugin, detail::str(job_json), jid, sizeof jid);
  if (status != FACTOTUM_OK) {
    throw std::runtime_error("pushing a follow-up job failed (status " + std::to_string(status) +
                             ")");
  }
  return jid;
}

namespace detail {

template <class Init>
factotum_status run_init(const factotum_host_api* api, factotum_plugin* plugin,
                         Init& init) noexcept {
  if (api == nullptr || api->abi_major != FACTOTUM_ABI_MAJOR) return FACTOTUM_EINVAL;
  state().api = api;
  state().plugin = plugin;
  try {
    Registrar registrar(api, plugin);
    init(registrar);
    return FACTOTUM_OK;
  } catch (const std::exception& e) {
    api->log(plugin, FACTOTUM_LOG_ERROR, str(std::string("init failed: ") + e.what()));
  } catch (...) {
    api->log(plugin, FACTOTUM_LOG_ERROR, str("init failed: unknown exception"));
  }
  return FACTOTUM_EINTERNAL;
}

}  // namespace detail

}  // namespace factotum

// Defines the plugin's entry point. NAME and VERSION are string literals; INIT is a callable
// taking factotum::Registrar& (a lambda or a function name). Optional shutdown: use
// FACTOTUM_PLUGIN_WITH_SHUTDOWN and pass a `void()` callable.
#define FACTOTUM_PLUGIN_WITH_SHUTDOWN(NAME, VERSION, INIT, SHUTDOWN)                      \
  extern "C" FACTOTUM_EXPORT const factotum_plugin_descriptor* factotum_plugin_v1(void) { \
    static const factotum_plugin_descriptor descriptor = {                                \
        sizeof(factotum_plugin_descriptor),                                               \
        FACTOTUM_ABI_MAJOR,                                                               \
        FACTOTUM_ABI_MINOR,                                                               \
        NAME,                                                                             \
        VERSION,                                                                          \
        [](const factotum_host_api* api, factotum_plugin* plugin) noexcept {              \
          auto init = INIT;                                                               \
          return ::factotum::detail::run_init(api, plugin, init);                         \
        },                                                                                \
        [](factotum_plugin*) noexcept {                                                   \
          try {                                                                           \
            auto shutdown = SHUTDOWN;                                                     \
            shutdown();                                                                   \
          } catch (...) {                                                                 \
            ::factotum::log(::factotum::LogLevel::error, "shutdown threw an exception");  \
          }                                                                               \
        }};                                                                               \
    return &descriptor;                                                                   \
  }

#define FACTOTUM_PLUGIN(NAME, VERSION, INIT) \
  FACTOTUM_PLUGIN_WITH_SHUTDOWN(NAME, VERSION, INIT, [] {})
