// A server that greets, accepts HELLO and answers the next command with a reply of the test's
// choosing: how tests see what a client does with replies the in-repo test server never gives
// (a Faktory Enterprise "-NOTUNIQUE", a PUSHB that refuses some jobs). Or the next commands
// with a script of replies (an INFO whose sets change between two calls), then it closes the
// connection: a command past the script finds it closed. One connection; the lines it received
// are kept for the test (received()).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace factotum::testing {

class RefusingServer {
 public:
  explicit RefusingServer(std::string reply) : RefusingServer(std::vector<std::string>{reply}) {}
  // A reply for each command after HELLO, in order (each without its final CRLF).
  explicit RefusingServer(std::vector<std::string> replies) : replies_(std::move(replies)) {
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

  // The lines received so far, HELLO first, without their CRLF.
  std::vector<std::string> received() const {
    const std::lock_guard lock(mutex_);
    return received_;
  }

  // A RESP bulk string holding `text`: how the server sends INFO's JSON.
  static std::string bulk(const std::string& text) {
    return "$" + std::to_string(text.size()) + "\r\n" + text;
  }

 private:
  void serve() {
    const int connection = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (connection < 0) return;
    const auto send_text = [connection](const std::string& text) {
      (void)::send(connection, text.data(), text.size(), MSG_NOSIGNAL);
    };
    // One reply per line received: HELLO gets +OK, the commands after it `replies_`.
    send_text("+HI {\"v\":2}\r\n");
    std::string pending;
    std::size_t lines = 0;
    const std::size_t last = replies_.size() + 1;
    char buffer[4096];
    ssize_t got = 0;
    while (lines < last && (got = ::recv(connection, buffer, sizeof buffer, 0)) > 0) {
      pending.append(buffer, static_cast<std::size_t>(got));
      for (auto end = pending.find('\n'); end != std::string::npos && lines < last;
           end = pending.find('\n')) {
        std::string line = pending.substr(0, end);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        {
          const std::lock_guard lock(mutex_);
          received_.push_back(std::move(line));
        }
        pending.erase(0, end + 1);
        send_text(lines == 0 ? "+OK\r\n" : replies_[lines - 1] + "\r\n");
        ++lines;
      }
    }
    ::close(connection);
  }

  std::vector<std::string> replies_;
  mutable std::mutex mutex_;
  std::vector<std::string> received_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace factotum::testing
