#include "raw_client.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace factotum::testing {

RawClient::RawClient(const std::string& host, std::uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  if (::getaddrinfo(host.c_str(), service.c_str(), &hints, &res) != 0 || !res) {
    throw std::runtime_error("RawClient: bad address " + host);
  }
  fd_ = ::socket(res->ai_family, res->ai_socktype, res->ai_protocol);
  int rc = fd_ < 0 ? -1 : ::connect(fd_, res->ai_addr, res->ai_addrlen);
  int err = errno;
  ::freeaddrinfo(res);
  if (rc != 0) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    throw std::runtime_error("RawClient: connect to " + host + ":" + service + ": " +
                             std::strerror(err));
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

RawClient::~RawClient() {
  close();
}

void RawClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void RawClient::send(std::string_view bytes) {
  while (!bytes.empty() && fd_ >= 0) {
    auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // EPIPE / ECONNRESET: the server closed; reads will tell
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

RawClient::ReadResult RawClient::fill(std::chrono::steady_clock::time_point until) {
  if (eof_) return ReadResult::eof;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() < 0) return ReadResult::timeout;
    pollfd p{fd_, POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc == 0) return ReadResult::timeout;
    char chunk[65536];
    auto n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      eof_ = true;  // FIN or reset: both mean "the server closed" (transcripts README)
      return ReadResult::eof;
    }
    buf_.append(chunk, static_cast<std::size_t>(n));
    return ReadResult::data;
  }
}

std::optional<std::size_t> RawClient::complete_reply() const {
  auto crlf = buf_.find("\r\n");
  if (crlf == std::string::npos) return std::nullopt;
  if (buf_[0] != '$' || buf_.compare(0, 3, "$-1") == 0) return crlf + 2;
  std::size_t len = std::stoul(buf_.substr(1, crlf - 1));
  std::size_t total = crlf + 2 + len + 2;
  if (buf_.size() < total) return std::nullopt;
  return total;
}

std::optional<std::string> RawClient::read_reply(std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (!buf_.empty()) {
      if (auto n = complete_reply()) {
        std::string reply = buf_.substr(0, *n);
        buf_.erase(0, *n);
        return reply;
      }
    }
    switch (fill(until)) {
      case ReadResult::data:
        break;
      case ReadResult::eof:
        if (!buf_.empty()) throw std::runtime_error("RawClient: closed mid-reply: " + buf_);
        return std::nullopt;
      case ReadResult::timeout:
        throw std::runtime_error("RawClient: no complete reply within " +
                                 std::to_string(timeout.count()) + " ms (have '" + buf_ + "')");
    }
  }
}

bool RawClient::wait_eof(std::chrono::milliseconds timeout, std::string* unexpected) {
  auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    switch (fill(until)) {
      case ReadResult::data:
        continue;
      case ReadResult::eof:
        if (unexpected) *unexpected = buf_;
        return buf_.empty();
      case ReadResult::timeout:
        if (unexpected) *unexpected = buf_;
        return false;
    }
  }
}

bool RawClient::silent_for(std::chrono::milliseconds d) {
  auto until = std::chrono::steady_clock::now() + d;
  return buf_.empty() && fill(until) == ReadResult::timeout;
}

}  // namespace factotum::testing
