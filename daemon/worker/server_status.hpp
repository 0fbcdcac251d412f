// The daemon's view of the server connection, shared by every connection it keeps. Logs a
// line when the state changes (down → up, up → down), not once per connection or per retry
// attempt: twenty processors losing the server is one event for an operator (issue #4).
// Used on the I/O thread only.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace factotum::worker {

class ServerStatus {
 public:
  explicit ServerStatus(std::string server) : server_(std::move(server)) {}

  void connected();
  // `why`: the error that broke or refused the connection.
  void failed(const std::string& why);

  bool is_down() const noexcept { return down_since_.has_value(); }
  const std::string& server() const noexcept { return server_; }
  std::string describe() const;

 private:
  std::string server_;
  bool ever_connected_ = false;
  std::optional<std::chrono::steady_clock::time_point> down_since_;
  std::string last_error_;
};

}  // namespace factotum::worker
