/// @file
/// What the administrative commands take and return: the server's INFO, and the operation,
/// target set and filter of a MUTATE.
#pragma once

#include "factotum/faktory/result.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace faktory {

/// The server's INFO reply: a few figures read out, and the whole JSON for the rest.
///
/// Thread safety: a value type; const members may be called from several threads at once.
class FACTOTUM_FAKTORY_API Info {
 public:
  /// Parses an INFO reply (the library does this; public for tests of code that takes an
  /// Info). Fields missing from the JSON read as empty or 0.
  explicit Info(std::string json);
  /// Destroys the reply.
  ~Info();
  /// Copies the reply.
  Info(const Info& other);
  /// Copies the reply.
  Info& operator=(const Info& other);
  /// Moves the reply.
  Info(Info&& other) noexcept;
  /// Moves the reply.
  Info& operator=(Info&& other) noexcept;

  /// The whole reply, as JSON text.
  const std::string& json() const noexcept;
  /// The server's version, e.g. "1.9.4".
  std::string server_version() const;
  /// Seconds since the server started.
  std::int64_t uptime_seconds() const;
  /// Jobs ACKed since the server started.
  std::int64_t total_processed() const;
  /// Jobs FAILed since the server started.
  std::int64_t total_failures() const;
  /// Jobs waiting in all queues.
  std::int64_t total_enqueued() const;
  /// Each queue with the number of jobs waiting in it, by name.
  std::vector<std::pair<std::string, std::int64_t>> queues() const;
  /// The size of a sorted set: "scheduled", "retries", "dead" or "working" (-1: not reported).
  std::int64_t set_size(std::string_view name) const;

  /// Implementation details (the library's own).
  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

/// What MUTATE does to the jobs it selects.
enum class Mutation {
  requeue,  ///< Move them to their queues now.
  discard,  ///< Delete them.
  kill,     ///< Move them to the dead set.
  clear,    ///< Delete every job of the target set (the filter is ignored).
};

/// The sorted set MUTATE works on.
enum class Target {
  retries,    ///< Failed jobs waiting for a retry.
  scheduled,  ///< Jobs pushed with an `at` in the future.
  dead,       ///< Jobs out of retries.
};

/// Which jobs of the target set MUTATE selects; an empty filter selects all of them.
/// The fields combine: a job must match each one given.
///
/// Thread safety: a value type.
class FACTOTUM_FAKTORY_API Filter {
 public:
  /// Every job of the target set.
  Filter();
  /// Destroys the filter.
  ~Filter();
  /// Copies the filter.
  Filter(const Filter& other);
  /// Copies the filter.
  Filter& operator=(const Filter& other);
  /// Moves the filter.
  Filter(Filter&& other) noexcept;
  /// Moves the filter.
  Filter& operator=(Filter&& other) noexcept;

  /// Only jobs of this type.
  Filter& jobtype(std::string_view jobtype);
  /// Only jobs whose JSON matches this Redis-style glob (`*` any text, `?` one character,
  /// `[abc]`), e.g. `*"bob@example.com"*`.
  Filter& regexp(std::string_view pattern);
  /// Only these jobs (the server then ignores jobtype() and regexp()).
  Filter& jids(std::vector<std::string> jids);

  /// Implementation details (the library's own).
  struct Impl;
  /// Implementation details (the library's own).
  const Impl& impl() const noexcept { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

/// A job of a push_bulk() the server refused, and its reason.
struct Rejection {
  /// The refused job's jid.
  std::string jid;
  /// The server's reason.
  std::string reason;
};

}  // namespace faktory
