// A few producer connections (no wid) for follow-up jobs pushed by plugins: from the thread
// running their job, or from threads of their own. Blocking and thread-safe; connections are
// opened on first use and reused. Shared (shared_ptr) by the worker and the plugin host's
// push service, so a plugin thread that pushes late never reaches a destroyed object.
#pragma once

#include "faktory/client_options.hpp"

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace factotum::faktory {
class BlockingClient;
}

namespace factotum::worker {

class ProducerPool {
 public:
  ProducerPool(faktory::ClientOptions options, std::size_t max_connections);
  ~ProducerPool();

  // Pushes a job given as a JSON object; a missing jid is generated, queue defaults to
  // "default" and retry is always explicit (PROTOCOL.md §0.6). On success `jid_or_error` holds
  // the jid; on failure a message saying why.
  bool push(std::string_view job_json, std::string& jid_or_error);

  // New connection settings (a reload): idle connections are closed, connections in use are
  // closed when they are given back, and new ones use `options`. Pushes under way finish.
  void reconfigure(const faktory::ClientOptions& options);

  // From now on every push is refused ("the worker has stopped"); pushes already under way
  // finish. Called when the worker has stopped.
  void close();

 private:
  struct Pooled {
    std::unique_ptr<faktory::BlockingClient> client;
    std::uint64_t generation = 0;  // of the options it was built with
  };
  Pooled acquire();
  void release(Pooled pooled);

  faktory::ClientOptions options_;
  std::size_t max_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<Pooled> idle_;
  std::uint64_t generation_ = 0;  // bumped by reconfigure()
  std::size_t open_ = 0;
  bool closed_ = false;
};

}  // namespace factotum::worker
