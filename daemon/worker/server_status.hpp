// The daemon's view of the server connection, shared by every connection it keeps. Logs a
// line when the state changes (down → up, up → down), not once per connection or per retry
// attempt: twenty processors losing the server is one event for an operator (issue #4).
// Thread-safe: processors report from their own threads (on connection changes only, never
// per job).
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

namespace factotum::worker {

class ServerStatus {
 public:
  explicit ServerStatus(std::string server) : server_(std::move(server)) {}

  using TimePoint = std::chrono::steady_clock::time_point;

  void connected();
  // `why`: the error that broke or refused the connection. `since`: when that connection was
  // established (or the failed attempt began). A connection or attempt older than the last
  // recovery belongs to the outage already reported: when the server drops every connection
  // at once, processors learn of it one by one, some only after another one has reconnected —
  // that is still one outage, not a new one per straggler.
  void failed(const std::string& why, TimePoint since);

  // A reload switched to another server (redacted URL): its first connection is logged as
  // such, and failures of connections to the old one are no outage of the new one.
  void set_server(std::string server);

  std::string server() const;
  std::string describe() const;
  // Connected once, and no outage since.
  bool up() const;

 private:
  std::string server_;
  TimePoint switched_at_{};  // when set_server() last ran
  mutable std::mutex mutex_;
  bool ever_connected_ = false;
  std::optional<TimePoint> down_since_;
  TimePoint last_recovery_{};  // when the last outage ended
  std::string last_error_;
};

}  // namespace factotum::worker
