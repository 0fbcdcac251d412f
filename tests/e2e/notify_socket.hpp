// The service manager's end of the sd_notify protocol, for tests: a datagram socket the test
// owns and names in NOTIFY_SOCKET; each datagram is one notification.
#pragma once

#include "daemon_fixture.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace factotum::testing {

class NotifySocket {
 public:
  // abstract: an abstract socket ("@name" in NOTIFY_SOCKET), as systemd may hand out.
  explicit NotifySocket(bool abstract = false) : path_(dir_.path / "notify"), abstract_(abstract) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    REQUIRE(path_.string().size() + 1 < sizeof(address.sun_path));
    socklen_t length = sizeof(address);
    if (abstract_) {
      // sun_path[0] == '\0', then the name, no terminating NUL counted.
      std::memcpy(address.sun_path + 1, path_.c_str(), path_.string().size());
      length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + path_.string().size());
    } else {
      std::strcpy(address.sun_path, path_.c_str());
    }
    REQUIRE(::bind(fd_, reinterpret_cast<const sockaddr*>(&address), length) == 0);
  }
  ~NotifySocket() { ::close(fd_); }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  std::string env() const {
    return std::string("NOTIFY_SOCKET=") + (abstract_ ? "@" : "") + path_.string();
  }

  // Receives until a message from index `from` on contains `text`; returns its index.
  std::optional<std::size_t> wait_for(std::string_view text, std::size_t from = 0) {
    const auto until = std::chrono::steady_clock::now() + kDeadline;
    for (;;) {
      for (std::size_t i = from; i < messages.size(); ++i) {
        if (messages[i].find(text) != std::string::npos) return i;
      }
      if (std::chrono::steady_clock::now() >= until) return std::nullopt;
      pollfd readable{fd_, POLLIN, 0};
      if (::poll(&readable, 1, 100) == 1) {
        char buffer[4096];
        const auto n = ::recv(fd_, buffer, sizeof(buffer), 0);
        if (n > 0) messages.emplace_back(buffer, static_cast<std::size_t>(n));
      }
    }
  }
  // Takes every datagram still queued (the sender has exited: nothing more comes).
  void drain() {
    char buffer[4096];
    for (;;) {
      const auto n = ::recv(fd_, buffer, sizeof(buffer), MSG_DONTWAIT);
      if (n <= 0) return;
      messages.emplace_back(buffer, static_cast<std::size_t>(n));
    }
  }
  std::size_t count(std::string_view text, std::size_t from = 0) const {
    std::size_t n = 0;
    for (std::size_t i = from; i < messages.size(); ++i) {
      n += messages[i].find(text) != std::string::npos;
    }
    return n;
  }

  std::vector<std::string> messages;

 private:
  TempDir dir_;
  fs::path path_;
  bool abstract_ = false;
  int fd_ = -1;
};

}  // namespace factotum::testing
