// The library's bridge to the daemon's client (factotum::faktory, linked in and hidden by the
// version script): turning public options, jobs and filters into the internal types, and
// internal errors into public ones.
#pragma once

#include "factotum/faktory/admin.hpp"
#include "factotum/faktory/job.hpp"
#include "factotum/faktory/options.hpp"
#include "factotum/faktory/result.hpp"

#include "faktory/client_options.hpp"
#include "faktory/commands.hpp"
#include "faktory/error.hpp"
#include "faktory/job.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

// For the Impl structs nested in exported classes, which would otherwise be exported too.
#define FACTOTUM_FAKTORY_HIDDEN __attribute__((visibility("hidden")))

namespace faktory {

namespace internal = factotum::faktory;

struct FACTOTUM_FAKTORY_HIDDEN Options::Impl {
  std::optional<std::string> url;
  std::optional<std::string> password;
  internal::TlsOptions tls;
  std::chrono::milliseconds timeout{5000};
};

struct FACTOTUM_FAKTORY_HIDDEN Job::Impl {
  internal::Job job;
  std::string args_json = "[]";
  std::optional<std::string> custom_json;
};

struct FACTOTUM_FAKTORY_HIDDEN Filter::Impl {
  std::optional<std::string> jobtype;
  std::optional<std::string> regexp;
  std::optional<std::vector<std::string>> jids;
};

namespace detail {

// The public error for an internal one.
Error to_public(const internal::Error& e);
// An error of the library's own.
Error make_error(ErrorCode code, std::string message);

template <class T>
Result<T> to_public(const internal::Result<T>& r) {
  if (!r) return to_public(r.error());
  return *r;
}
inline Result<void> to_public(const internal::Result<void>& r) {
  if (!r) return to_public(r.error());
  return {};
}

// The connection settings the options describe, the URL resolved (argument, else
// FAKTORY_PROVIDER / FAKTORY_URL, else the default).
Result<internal::ClientOptions> client_options(const Options& options);
// The job as the daemon's client pushes it: args and custom parsed, the whole checked.
Result<internal::Job> internal_job(const Job& job);
Result<std::vector<internal::Job>> internal_jobs(std::span<const Job> jobs);
// MUTATE's JSON operation.
boost::json::object mutate_operation(Mutation mutation, Target target, const Filter& filter);
internal::commands::QueueAction queue_action(int action);

}  // namespace detail
}  // namespace faktory
