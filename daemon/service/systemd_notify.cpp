#include "service/systemd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <utility>

namespace factotum::service {

namespace {

std::optional<unsigned long long> parse_unsigned(const char* text) {
  if (text == nullptr || *text == '\0') return std::nullopt;
  unsigned long long value = 0;
  const char* end = text + std::strlen(text);
  const auto [stop, error] = std::from_chars(text, end, value);
  if (error != std::errc() || stop != end) return std::nullopt;
  return value;
}

}  // namespace

// getenv/unsetenv are not thread-safe: from_environment() runs before any thread exists.
// NOLINTBEGIN(concurrency-mt-unsafe)
SystemdNotify SystemdNotify::from_environment() {
  SystemdNotify notify;
  const char* socket_path = std::getenv("NOTIFY_SOCKET");
  // WATCHDOG_PID, when set, names the process the watchdog is meant for (a child started with
  // the variables inherited must not take them as its own).
  const auto watchdog_pid = parse_unsigned(std::getenv("WATCHDOG_PID"));
  const auto watchdog_usec = parse_unsigned(std::getenv("WATCHDOG_USEC"));
  if (watchdog_usec && *watchdog_usec > 0 &&
      (!watchdog_pid || *watchdog_pid == static_cast<unsigned long long>(::getpid()))) {
    notify.watchdog_ = std::chrono::microseconds(*watchdog_usec);
  }
  // A path ("/run/systemd/notify") or an abstract socket ("@name"); anything else (e.g. a
  // vsock address) is not for a service like this one.
  if (socket_path != nullptr && (socket_path[0] == '/' || socket_path[0] == '@')) {
    const std::size_t length = std::strlen(socket_path);
    if (length < sizeof(sockaddr_un::sun_path)) {
      notify.address_.assign(socket_path, length);
      if (notify.address_[0] == '@') notify.address_[0] = '\0';
      notify.fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    }
  }
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");
  ::unsetenv("WATCHDOG_PID");
  return notify;
}
// NOLINTEND(concurrency-mt-unsafe)

SystemdNotify SystemdNotify::over_socket(int fd,
                                         std::optional<std::chrono::microseconds> watchdog) {
  SystemdNotify notify;
  notify.fd_ = fd;
  notify.watchdog_ = watchdog;
  return notify;
}

SystemdNotify::~SystemdNotify() {
  if (fd_ >= 0) ::close(fd_);
}

SystemdNotify::SystemdNotify(SystemdNotify&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      address_(std::move(other.address_)),
      watchdog_(other.watchdog_) {}

SystemdNotify& SystemdNotify::operator=(SystemdNotify&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    address_ = std::move(other.address_);
    watchdog_ = other.watchdog_;
  }
  return *this;
}

void SystemdNotify::send(std::string_view message) const noexcept {
  if (fd_ < 0) return;
  // Never blocks: a receiver that does not read (its queue full) must not stall the control
  // loop or the supervisor. A lost WATCHDOG=1 or STATUS= is followed by the next one.
  constexpr int kFlags = MSG_NOSIGNAL | MSG_DONTWAIT;
  if (address_.empty()) {
    (void)::send(fd_, message.data(), message.size(), kFlags);
    return;
  }
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, address_.data(), address_.size());
  const auto length =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address_.size() +
                             (address_[0] == '\0' ? 0 : 1));  // a path includes its NUL
  (void)::sendto(fd_, message.data(), message.size(), kFlags,
                 reinterpret_cast<const sockaddr*>(&address), length);
}

std::string monotonic_usec_now() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  const auto usec = static_cast<unsigned long long>(now.tv_sec) * 1000000ULL +
                    static_cast<unsigned long long>(now.tv_nsec) / 1000ULL;
  return "MONOTONIC_USEC=" + std::to_string(usec);
}

}  // namespace factotum::service
