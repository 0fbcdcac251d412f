// A few producer connections (no wid) for follow-up jobs pushed by plugins: from the thread
// running their job, or from threads of their own. Blocking and thread-safe; connections are
// opened on first use and reused. Shared (shared_ptr) by the worker and the plugin host's
// push service, so a plugin thread that pushes late never reaches a destroyed object.
#pragma once

#include "faktory/client_options.hpp"

#include <condition_variable>
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

  // From now on every push is refused ("the worker has stopped"); pushes already under way
  // finish. Called when the worker has stopped.
  void close();

 private:
  std::unique_ptr<faktory::BlockingClient> acquire();
  void release(std::unique_ptr<faktory::BlockingClient> client);

  faktory::ClientOptions options_;
  std::size_t max_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<faktory::BlockingClient>> idle_;
  std::size_t open_ = 0;
  bool closed_ = false;
};

}  // namespace factotum::worker
