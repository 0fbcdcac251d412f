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
//
// Threads: job functions and middleware run on many threads at once (one per processor), so the
// callables you register are invoked concurrently; whatever they capture must be safe to use
// that way.
// Lifetime: the callables live until the host retires this plugin generation (after its last
// job); the host frees them through the destroy callback, on some thread, never during a job.
#pragma once

#include "factotum/sdk.h"

#include <cstdint>
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

// Throw to FAIL a job with an errtype of your choosing (and, optionally, a backtrace: lines
// separated by '\n', shown in Faktory's UI).
class JobFailure : public std::runtime_error {
 public:
  JobFailure(std::string errtype, const std::string& message, std::string backtrace = {})
      : std::runtime_error(message),
        errtype_(std::move(errtype)),
        backtrace_(std::move(backtrace)) {}
  const std::string& errtype() const noexcept { return errtype_; }
  const std::string& backtrace() const noexcept { return backtrace_; }

 private:
  std::string errtype_;
  std::string backtrace_;
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

// The type of the exception being handled, for exceptions not derived from std::exception
// (empty when the runtime cannot tell).
inline std::string current_exception_type() {
#if defined(__GNUG__)
  if (const std::type_info* type = abi::__cxa_current_exception_type(); type != nullptr) {
    return demangle(type->name());
  }
#endif
  return {};
}

// "FACTOTUM_EEXIST" for messages about a refused call.
inline const char* status_name(factotum_status status) noexcept {
  switch (status) {
    case FACTOTUM_OK:
      return "FACTOTUM_OK";
    case FACTOTUM_FAILED:
      return "FACTOTUM_FAILED";
    case FACTOTUM_EINVAL:
      return "FACTOTUM_EINVAL (invalid argument)";
    case FACTOTUM_EEXIST:
      return "FACTOTUM_EEXIST (already registered)";
    case FACTOTUM_ESTATE:
      return "FACTOTUM_ESTATE (not allowed now: register only during init)";
    case FACTOTUM_EUNAVAILABLE:
      return "FACTOTUM_EUNAVAILABLE (the Faktory server cannot be reached, or the worker has "
             "stopped)";
    case FACTOTUM_ECANCELLED:
      return "FACTOTUM_ECANCELLED";
    case FACTOTUM_EINTERNAL:
      return "FACTOTUM_EINTERNAL (see the daemon's log)";
    default:
      return "an unknown status";
  }
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
  // The whole job as JSON text: the bytes the server sent, for a job up to 1 MiB. A larger job
  // is made again from its parsed fields on first use (factotum's key order and number
  // format; fields the server left null are absent), so that a job that never asks holds no
  // second copy of it; empty if it cannot be made (out of memory).
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

// Runs the rest of the middleware chain (then the job function). Call it at most once: the
// host answers a second call with FACTOTUM_ESTATE without running anything, which FAILs the
// job. Returns normally when the rest succeeded; throws Next::Passthrough when it failed, so a
// middleware that does not catch it passes the failure on unchanged: same status, and the
// errtype and message recorded further down.
class Next {
 public:
  // Carries a downstream failure through a middleware without rewriting its errtype.
  struct Passthrough : std::exception {
    explicit Passthrough(factotum_status s) noexcept : status(s) {}
    const char* what() const noexcept override { return "the rest of the chain failed"; }
    factotum_status status;
  };

  explicit Next(factotum_job* job) noexcept : job_(job) {}

  void operator()() const {
    const factotum_status status = detail::state().api->job_next(job_);
    if (status != FACTOTUM_OK) throw Passthrough(status);
  }

 private:
  factotum_job* job_;
};

using JobFunction = std::function<void(Job&)>;
using MiddlewareFunction = std::function<void(Job&, Next)>;

namespace detail {

// Turns the exception being handled into FAIL: errtype = the exception's demangled dynamic
// type name (or the JobFailure's errtype), message = what(). Exceptions not derived from
// std::exception get errtype "UnknownException" and their type in the message. Only call it
// inside a catch block. Nothing escapes into the host, not even bad_alloc while describing.
inline factotum_status fail_with_current_exception(factotum_job* job) noexcept {
  const factotum_host_api& api = *state().api;
  constexpr factotum_str no_backtrace{nullptr, 0};
  try {
    throw;
  } catch (const Next::Passthrough& downstream) {
    return downstream.status;  // failure details were already recorded downstream
  } catch (const JobFailure& failure) {
    api.job_fail(job, str(failure.errtype()), str(failure.what()), str(failure.backtrace()));
  } catch (const std::exception& e) {
    try {
      const std::string type = demangle(typeid(e).name());
      api.job_fail(job, str(type), str(e.what()), no_backtrace);
    } catch (...) {
      api.job_fail(job, str("std::exception"), str(e.what()), no_backtrace);
    }
  } catch (...) {
    try {
      const std::string type = current_exception_type();
      const std::string message = "an exception not derived from std::exception was thrown" +
                                  (type.empty() ? std::string() : " (type " + type + ")");
      api.job_fail(job, str("UnknownException"), str(message), no_backtrace);
    } catch (...) {
      api.job_fail(job, str("UnknownException"),
                   str("an exception not derived from std::exception was thrown"), no_backtrace);
    }
  }
  return FACTOTUM_FAILED;
}

inline factotum_status job_trampoline(factotum_job* job, void* user_data) noexcept {
  try {
    Job handle(job);
    (*static_cast<const JobFunction*>(user_data))(handle);
    return FACTOTUM_OK;
  } catch (...) {
    return fail_with_current_exception(job);
  }
}

inline factotum_status middleware_trampoline(factotum_job* job, void* user_data) noexcept {
  try {
    Job handle(job);
    (*static_cast<const MiddlewareFunction*>(user_data))(handle, Next(job));
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

  // Registers `fn` to run every job of jobtype `name`; it runs on many threads at once.
  // Throws std::runtime_error when the host refuses (duplicate name, called after init), which
  // makes init fail unless you catch it.
  void jobtype(std::string_view name, JobFunction fn) {
    auto holder = std::make_unique<JobFunction>(std::move(fn));
    check(api_->register_jobtype(plugin_, detail::str(name), &detail::job_trampoline, holder.get(),
                                 &detail::destroy<JobFunction>),
          "jobtype", name);
    holder.release();  // the host owns it now and frees it through destroy
  }

  // Registers a middleware wrapped around every job (see Next); runs on many threads at once.
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
                             "' failed: " + detail::status_name(status));
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
// std::runtime_error when it did not (so, inside a job, the job FAILs and is retried). It is
// sent at most once: when the connection is lost before the server's reply, it throws, and
// the server may hold the job all the same (a retry of the job then pushes it again).
inline std::string push_job(std::string_view job_json) {
  const auto& s = detail::state();
  char jid[128] = {};
  const factotum_status status = s.api->push_job(s.plugin, detail::str(job_json), jid, sizeof jid);
  if (status != FACTOTUM_OK) {
    throw std::runtime_error(std::string("pushing a follow-up job failed: ") +
                             detail::status_name(status));
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
    // The host logs the refused load with the file's path; this line says why.
    try {
      api->log(plugin, FACTOTUM_LOG_ERROR, str(std::string("init failed: ") + e.what()));
    } catch (...) {
      api->log(plugin, FACTOTUM_LOG_ERROR, str(e.what()));
    }
  } catch (...) {
    api->log(plugin, FACTOTUM_LOG_ERROR,
             str("init failed: an exception not derived from std::exception was thrown"));
  }
  return FACTOTUM_EINTERNAL;
}

}  // namespace detail

}  // namespace factotum

// Defines the plugin's entry point. NAME and VERSION are string literals; INIT is a callable
// taking factotum::Registrar& (a lambda or a function name). Optional shutdown: use
// FACTOTUM_PLUGIN_WITH_SHUTDOWN and pass a `void()` callable; it runs once when this plugin
// generation is retired (stop your threads there). Local names carry a factotum_ prefix so
// they never shadow the plugin's own (-Wshadow).
#define FACTOTUM_PLUGIN_WITH_SHUTDOWN(NAME, VERSION, INIT, SHUTDOWN)                            \
  extern "C" FACTOTUM_EXPORT const factotum_plugin_descriptor* factotum_plugin_v1(void) {       \
    static const factotum_plugin_descriptor factotum_descriptor_ = {                            \
        sizeof(factotum_plugin_descriptor),                                                     \
        FACTOTUM_ABI_MAJOR,                                                                     \
        FACTOTUM_ABI_MINOR,                                                                     \
        NAME,                                                                                   \
        VERSION,                                                                                \
        [](const factotum_host_api* factotum_api_,                                              \
           factotum_plugin* factotum_plugin_) noexcept -> factotum_status {                     \
          auto factotum_init_ = INIT;                                                           \
          return ::factotum::detail::run_init(factotum_api_, factotum_plugin_, factotum_init_); \
        },                                                                                      \
        [](factotum_plugin*) noexcept {                                                         \
          try {                                                                                 \
            auto factotum_shutdown_ = SHUTDOWN;                                                 \
            factotum_shutdown_();                                                               \
          } catch (...) {                                                                       \
            ::factotum::log(::factotum::LogLevel::error, "shutdown threw an exception");        \
          }                                                                                     \
        }};                                                                                     \
    return &factotum_descriptor_;                                                               \
  }

#define FACTOTUM_PLUGIN(NAME, VERSION, INIT) \
  FACTOTUM_PLUGIN_WITH_SHUTDOWN(NAME, VERSION, INIT, [] {})
