// A minimal host for testing plugins without the daemon: it implements sdk.h's function table
// the way the contract describes it (registration only during init, job_next runs the rest of
// the chain once, job_fail records the last failure) and records what the plugin did. Tests
// of plugin.hpp and of the C plugin use it; the real host is tested in tests/abi.
#pragma once

#include <factotum/sdk.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// The opaque handles, defined here as the host defines them.
struct factotum_plugin {
  std::string config = "{}";
};

struct factotum_job {
  std::string jid = "jid-1";
  std::string jobtype = "Test";
  std::string queue = "default";
  std::string args = "[]";
  std::string custom = "{}";
  std::string payload = "{}";
  int retries = 0;
  std::atomic<bool> cancelled{false};
  // How many times the plugin asked job_cancelled: a test sees from it that the job is running
  // (and polling) before it cancels, instead of guessing with a sleep.
  mutable std::atomic<int> cancelled_polls{0};

  // Filled by job_fail.
  int fail_calls = 0;
  std::string errtype;
  std::string message;
  std::string backtrace;

  // The chain being run: middleware indices into FakeHost::middleware, then the job function.
  std::size_t depth = 0;
  std::vector<bool> next_called;
};

namespace factotum_test {

struct Registration {
  std::string name;
  factotum_status (*fn)(factotum_job*, void*);
  void* user_data;
  factotum_destroy_fn destroy;
};

struct LogLine {
  factotum_log_level level;
  std::string text;
};

class FakeHost {
 public:
  FakeHost() { current() = this; }
  FakeHost(const FakeHost&) = delete;
  FakeHost& operator=(const FakeHost&) = delete;
  ~FakeHost() {
    for (auto& r : jobtypes) {
      if (r.destroy != nullptr) r.destroy(r.user_data);
    }
    for (auto& r : middleware) {
      if (r.destroy != nullptr) r.destroy(r.user_data);
    }
    current() = nullptr;
  }

  factotum_status init(const factotum_plugin_descriptor& descriptor) {
    in_init_ = true;
    const factotum_status status = descriptor.init(&api, &plugin);
    in_init_ = false;
    return status;
  }

  // Runs `job` through every registered middleware (in registration order) and its jobtype's
  // function. Returns the chain's status; like the host, a failure without job_fail gets
  // errtype "PluginError".
  factotum_status run(factotum_job& job) {
    job.depth = 0;
    job.next_called.assign(middleware.size() + 1, false);
    const factotum_status status = run_from(&job, 0);
    if (status != FACTOTUM_OK && job.fail_calls == 0) job.errtype = "PluginError";
    return status;
  }

  bool logged(std::string_view fragment) const {
    std::lock_guard lock(mutex_);
    for (const auto& line : log) {
      if (line.text.find(fragment) != std::string::npos) return true;
    }
    return false;
  }

  factotum_plugin plugin;
  factotum_host_api api = make_api();
  std::vector<Registration> jobtypes;
  std::vector<Registration> middleware;
  std::vector<LogLine> log;
  std::vector<std::string> pushed;

 private:
  static FakeHost*& current() {
    static FakeHost* host = nullptr;
    return host;
  }
  static FakeHost& self() { return *current(); }
  static std::string_view view(factotum_str s) {
    return s.size == 0 ? std::string_view() : std::string_view(s.data, s.size);
  }
  static factotum_str str(const std::string& s) { return factotum_str{s.data(), s.size()}; }

  factotum_status run_from(factotum_job* job, std::size_t index) {
    job->depth = index;
    if (index < middleware.size()) {
      return middleware[index].fn(job, middleware[index].user_data);
    }
    for (const auto& r : jobtypes) {
      if (r.name == job->jobtype) return r.fn(job, r.user_data);
    }
    job->errtype = "UnknownJobtype";
    return FACTOTUM_FAILED;
  }

  static factotum_status add(std::vector<Registration>& to, factotum_str name,
                             factotum_status (*fn)(factotum_job*, void*), void* user_data,
                             factotum_destroy_fn destroy) {
    if (!self().in_init_) return FACTOTUM_ESTATE;
    if (fn == nullptr || name.size == 0) return FACTOTUM_EINVAL;
    for (const auto& r : to) {
      if (r.name == view(name)) return FACTOTUM_EEXIST;
    }
    to.push_back({std::string(view(name)), fn, user_data, destroy});
    return FACTOTUM_OK;
  }

  static factotum_host_api make_api() {
    factotum_host_api a{};
    a.size = sizeof(factotum_host_api);
    a.abi_major = FACTOTUM_ABI_MAJOR;
    a.abi_minor = FACTOTUM_ABI_MINOR;
    a.host_version = FACTOTUM_STR("9.9.9-test");
    a.register_jobtype = [](factotum_plugin*, factotum_str name, factotum_job_fn fn, void* data,
                            factotum_destroy_fn destroy) {
      return add(self().jobtypes, name, fn, data, destroy);
    };
    a.register_middleware = [](factotum_plugin*, factotum_str name, factotum_middleware_fn fn,
                               void* data, factotum_destroy_fn destroy) {
      return add(self().middleware, name, fn, data, destroy);
    };
    a.job_jid = [](const factotum_job* job) { return str(job->jid); };
    a.job_jobtype = [](const factotum_job* job) { return str(job->jobtype); };
    a.job_queue = [](const factotum_job* job) { return str(job->queue); };
    a.job_args_json = [](const factotum_job* job) { return str(job->args); };
    a.job_custom_json = [](const factotum_job* job) { return str(job->custom); };
    a.job_payload_json = [](const factotum_job* job) { return str(job->payload); };
    a.job_retry_count = [](const factotum_job* job) { return int32_t{job->retries}; };
    a.job_fail = [](factotum_job* job, factotum_str errtype, factotum_str message,
                    factotum_str backtrace) -> factotum_status {
      if (job == nullptr) return FACTOTUM_EINVAL;
      ++job->fail_calls;
      job->errtype = view(errtype);
      job->message = view(message);
      job->backtrace = view(backtrace);
      return FACTOTUM_OK;
    };
    a.job_cancelled = [](const factotum_job* job) {
      ++job->cancelled_polls;
      return int32_t{job->cancelled ? 1 : 0};
    };
    a.job_next = [](factotum_job* job) -> factotum_status {
      const std::size_t here = job->depth;
      if (here >= self().middleware.size() || job->next_called[here]) return FACTOTUM_ESTATE;
      job->next_called[here] = true;
      const factotum_status status = self().run_from(job, here + 1);
      job->depth = here;
      return status;
    };
    a.push_job = [](factotum_plugin*, factotum_str job_json, char* jid_out,
                    std::size_t jid_out_size) -> factotum_status {
      std::lock_guard lock(self().mutex_);
      self().pushed.emplace_back(view(job_json));
      const std::string jid = "pushed-" + std::to_string(self().pushed.size());
      if (jid_out != nullptr && jid_out_size > 0) {
        const std::size_t n = std::min(jid.size(), jid_out_size - 1);
        jid.copy(jid_out, n);
        jid_out[n] = '\0';
      }
      return FACTOTUM_OK;
    };
    a.log = [](factotum_plugin*, factotum_log_level level, factotum_str message) {
      std::lock_guard lock(self().mutex_);
      self().log.push_back({level, std::string(view(message))});
    };
    a.config_json = [](const factotum_plugin* plugin) { return str(plugin->config); };
    return a;
  }

  bool in_init_ = false;
  mutable std::mutex mutex_;
};

}  // namespace factotum_test
