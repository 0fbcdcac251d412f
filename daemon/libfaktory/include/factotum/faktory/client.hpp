/// @file
/// The blocking client: one connection to a Faktory server, each command a call that returns
/// when the server has answered.
#pragma once

#include "factotum/faktory/admin.hpp"
#include "factotum/faktory/job.hpp"
#include "factotum/faktory/options.hpp"
#include "factotum/faktory/result.hpp"

#include <memory>
#include <span>
#include <string>
#include <vector>

namespace faktory {

/// The version of the library in use ("0.1.0"), for logs and bug reports.
FACTOTUM_FAKTORY_API const char* library_version() noexcept;

/// One connection to a Faktory server, for a producer or an administrative tool.
/// @code
///   faktory::Client client;  // FAKTORY_URL, or tcp://localhost:7419
///   if (auto pushed = client.push(faktory::Job("send_email").args("bob@example.com")); !pushed)
///     std::cerr << pushed.error().what() << "\n";
/// @endcode
/// The first command connects (or call connect() to find out early). After a failure that
/// loses the connection, the next command connects again. A command is never sent twice: a
/// push whose reply was lost returns the error, and whether to push again is the caller's
/// choice (the job may or may not be enqueued). A connection the server closed while it sat
/// idle is replaced before the next command is sent.
///
/// Thread safety: one thread at a time per Client (it may move between threads); use a Pool
/// to share connections between threads.
class FACTOTUM_FAKTORY_API Client {
 public:
  /// A client for these options; it connects on the first command.
  explicit Client(Options options = Options());
  /// Sends END if connected, and closes.
  ~Client();
  /// Moves the connection; the moved-from client may only be destroyed or assigned to.
  Client(Client&& other) noexcept;
  /// Closes this client's connection and takes the other's.
  Client& operator=(Client&& other) noexcept;

  /// Connects and completes the handshake (closing any earlier connection).
  Result<void> connect();
  /// Whether a connection is open.
  bool is_connected() const noexcept;

  /// Enqueues one job (PUSH).
  Result<void> push(const Job& job);
  /// Enqueues several jobs in one command (PUSHB). The result lists the jobs the server
  /// refused, with its reason; it is empty when all were enqueued.
  Result<std::vector<Rejection>> push_bulk(std::span<const Job> jobs);
  /// The server's state (INFO).
  Result<Info> info();
  /// Stops workers fetching from these queues ("*" alone: every queue) until resumed.
  Result<void> queue_pause(const std::vector<std::string>& queues);
  /// Lets workers fetch from paused queues again.
  Result<void> queue_resume(const std::vector<std::string>& queues);
  /// Deletes these queues and every job in them.
  Result<void> queue_remove(const std::vector<std::string>& queues);
  /// Requeues, discards or kills the jobs of a set that match a filter (MUTATE). The server
  /// does not say how many jobs matched.
  Result<void> mutate(Mutation mutation, Target target, const Filter& filter = Filter());
  /// Sends END and closes; the next command connects again.
  void close() noexcept;

  /// Implementation details (the library's own).
  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

/// A fixed number of connections shared by threads: each call borrows one, waiting while all
/// are busy.
/// @code
///   faktory::Pool pool(faktory::Options(), 8);
///   // on any thread:
///   if (auto pushed = pool.push(faktory::Job("resize").args(image_id)); !pushed) { ... }
/// @endcode
///
/// Thread safety: every member may be called from any thread at once. The pool must outlive
/// its leases.
class FACTOTUM_FAKTORY_API Pool {
 public:
  /// Up to `size` connections (at least 1) to the server of `options`, opened as needed.
  Pool(Options options, std::size_t size);
  /// Closes every connection (all leases must have been returned).
  ~Pool();
  /// Not copyable: the connections are the pool's own.
  Pool(const Pool&) = delete;
  /// Not copyable: the connections are the pool's own.
  Pool& operator=(const Pool&) = delete;

  /// A connection borrowed from the pool, returned when the Lease is destroyed.
  class FACTOTUM_FAKTORY_API Lease {
   public:
    /// Returns the connection to the pool.
    ~Lease();
    /// Takes over the other lease's connection.
    Lease(Lease&& other) noexcept;
    /// Not assignable: a lease is returned only by its destructor.
    Lease& operator=(Lease&&) = delete;
    /// The borrowed client.
    Client& operator*() const noexcept { return *client_; }
    /// The borrowed client.
    Client* operator->() const noexcept { return client_; }

   private:
    friend class Pool;
    Lease(Pool* pool, Client* client) noexcept : pool_(pool), client_(client) {}
    Pool* pool_;
    Client* client_;
  };

  /// Borrows a connection, waiting until one is free.
  Lease acquire();
  /// Borrows a connection and pushes one job.
  Result<void> push(const Job& job);
  /// Borrows a connection and pushes several jobs (see Client::push_bulk()).
  Result<std::vector<Rejection>> push_bulk(std::span<const Job> jobs);

  /// Implementation details (the library's own).
  struct Impl;

 private:
  void release(Client* client) noexcept;
  std::unique_ptr<Impl> impl_;
};

}  // namespace faktory
