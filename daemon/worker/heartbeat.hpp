// The heartbeat: BEAT every heartbeat_interval on a connection kept for the daemon's whole
// life (the server forgets a wid when its last connection closes, PROTOCOL.md §0.10), with
// our current_state and real rss_kb. The server's "quiet"/"terminate" reach the worker from
// here; "-ERR unknown worker" means we were reaped: HELLO again (PROTOCOL.md §4).
// Runs on the control thread.
#pragma once

#include "faktory/client.hpp"
#include "worker/backoff.hpp"
#include "worker/worker_context.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

namespace factotum::worker {

class Heartbeat : public std::enable_shared_from_this<Heartbeat> {
 public:
  // on_state: called with the server's answer when it is not "running".
  Heartbeat(boost::asio::io_context& io, WorkerContext& context,
            std::function<void(faktory::WorkerState)> on_state);

  boost::asio::awaitable<void> run();
  // Sends END and stops (the last step of shutdown).
  void finish();
  // A reload published new settings: a new server, credentials or identity means ending the
  // connection and connecting again (the next beat comes at once); a new interval applies
  // from the next wait.
  void settings_changed();
  // Re-registration (labels changed): END the connection and stay away until release().
  void hold();
  void release();
  // No connection open or being opened (for the re-registration to know when all are closed).
  bool disconnected() const noexcept;
  std::string describe() const;

 private:
  boost::asio::awaitable<void> beat_once();
  void poke();

  boost::asio::io_context& io_;
  WorkerContext& context_;
  std::function<void(faktory::WorkerState)> on_state_;
  std::optional<faktory::Client> client_;
  Backoff backoff_;
  boost::asio::steady_timer timer_;
  bool finishing_ = false;
  bool held_ = false;
  bool poked_ = false;  // something changed since the loop last looked
  bool connecting_ = false;
  std::shared_ptr<const faktory::ClientOptions> built_from_;  // what client_ was built with
  std::chrono::steady_clock::time_point connected_since_{};
};

}  // namespace factotum::worker
