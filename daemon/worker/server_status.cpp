#include "worker/server_status.hpp"

#include "service/log.hpp"

namespace factotum::worker {

using service::Log;

namespace {

std::string seconds_since(std::chrono::steady_clock::time_point since) {
  const auto s =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - since);
  return std::to_string(s.count()) + "s";
}

}  // namespace

void ServerStatus::connected() {
  std::lock_guard lock(mutex_);
  if (down_since_) {
    Log::info("connection to the Faktory server restored",
              {{"server", server_}, {"down_for", seconds_since(*down_since_)}});
    down_since_.reset();
    last_recovery_ = std::chrono::steady_clock::now();
  } else if (!ever_connected_) {
    Log::info("connected to the Faktory server", {{"server", server_}});
  }
  ever_connected_ = true;
}

void ServerStatus::set_server(std::string server) {
  std::lock_guard lock(mutex_);
  if (server == server_) return;
  server_ = std::move(server);
  ever_connected_ = false;
  down_since_.reset();
  switched_at_ = std::chrono::steady_clock::now();
}

std::string ServerStatus::server() const {
  std::lock_guard lock(mutex_);
  return server_;
}

void ServerStatus::failed(const std::string& why, TimePoint since) {
  std::lock_guard lock(mutex_);
  if (since < switched_at_) return;  // a connection to the server used before a reload
  last_error_ = why;
  if (down_since_) return;  // still down: already said so
  // A connection or attempt that began before the last recovery failed because of the outage
  // already reported (and recovered from), not because of a new one.
  if (ever_connected_ && since < last_recovery_) return;
  down_since_ = std::chrono::steady_clock::now();
  Log::warning(ever_connected_
                   ? "lost the connection to the Faktory server; reconnecting with back-off"
                   : "cannot reach the Faktory server; retrying with back-off",
               {{"server", server_}, {"error", why}});
}

std::string ServerStatus::describe() const {
  std::lock_guard lock(mutex_);
  if (!down_since_) return ever_connected_ ? "connected" : "connecting";
  return "down for " + seconds_since(*down_since_) + " (" + last_error_ + ")";
}

}  // namespace factotum::worker

namespace factotum::worker {

bool ServerStatus::up() const {
  std::lock_guard lock(mutex_);
  return ever_connected_ && !down_since_;
}

}  // namespace factotum::worker
