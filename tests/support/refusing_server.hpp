// A server that greets, accepts HELLO and answers the next command with a reply of the test's
// choosing: how tests see what a client does with replies the in-repo test server never gives
// (a Faktory Enterprise "-NOTUNIQUE", a PUSHB that refuses some jobs). One connection, then it
// closes.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <thread>

namespace factotum::testing {

class RefusingServer {
 public:
  explicit RefusingServer(std::string reply) : reply_(std::move(reply)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&address), length) == 0);
    REQUIRE(::listen(listener_, 1) == 0);
    REQUIRE(::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~RefusingServer() {
    ::shutdown(listener_, SHUT_RDWR);
    thread_.join();
    ::close(listener_);
  }
  RefusingServer(const RefusingServer&) = delete;
  RefusingServer& operator=(const RefusingServer&) = delete;

  std::string url() const { return "tcp://127.0.0.1:" + std::to_string(port_); }

 private:
  void serve() {
    const int connection = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (connection < 0) return;
    const auto send_text = [connection](const std::string& text) {
      (void)::send(connection, text.data(), text.size(), MSG_NOSIGNAL);
    };
    // One reply per line received: HELLO gets +OK, the command after it `reply_`.
    send_text("+HI {\"v\":2}\r\n");
    std::string pending;
    int lines = 0;
    char buffer[4096];
    ssize_t got = 0;
    while (lines < 2 && (got = ::recv(connection, buffer, sizeof buffer, 0)) > 0) {
      pending.append(buffer, static_cast<std::size_t>(got));
      for (auto end = pending.find('\n'); end != std::string::npos && lines < 2;
           end = pending.find('\n')) {
        pending.erase(0, end + 1);
        send_text(++lines == 1 ? "+OK\r\n" : reply_ + "\r\n");
      }
    }
    ::close(connection);
  }

  std::string reply_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace factotum::testing
