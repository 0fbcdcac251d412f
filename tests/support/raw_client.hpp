// A blocking raw-bytes TCP client for protocol tests: send exact bytes, read exactly one
// RESP reply, observe the server's FIN. Deadlines everywhere (poll), no sleeps.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace factotum::testing {

class RawClient {
 public:
  // Connects to host:port (numeric IPv4/IPv6); throws std::runtime_error on failure.
  RawClient(const std::string& host, std::uint16_t port);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  // Sends every byte. Errors (the server already closed) are ignored: a later read reports them.
  void send(std::string_view bytes);
  // One complete reply: a `+`/`-` line or `$-1`, or `$N\r\n<N bytes>\r\n`, CRLFs included.
  // std::nullopt when the server closed first (FIN or reset); throws on timeout.
  std::optional<std::string> read_reply(std::chrono::milliseconds timeout);
  // Waits for the server to close. False on timeout or when bytes arrive instead (they are
  // stored in *unexpected).
  bool wait_eof(std::chrono::milliseconds timeout, std::string* unexpected = nullptr);
  // True when nothing arrives (and the socket stays open) for `d`.
  bool silent_for(std::chrono::milliseconds d);
  void close();

 private:
  // Reads what is available into buf_ within the deadline; false on EOF/reset.
  enum class ReadResult { data, eof, timeout };
  ReadResult fill(std::chrono::steady_clock::time_point until);
  std::optional<std::size_t> complete_reply() const;

  int fd_ = -1;
  std::string buf_;
  bool eof_ = false;
};

}  // namespace factotum::testing
