// Talking to the daemon's metrics endpoint from the e2e tests: a free port to configure, raw
// HTTP over a plain socket (for hostile clients and /healthz), and scrapes parsed by the
// Prometheus Python client's own parser (scrape_metrics.py), never by hand.
#pragma once

#include "child_process.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

namespace factotum::testing {

// A TCP port that nothing listens on right now (bound, read, closed: another process could
// take it in between, which does not happen on a test machine in practice).
inline unsigned short free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof(address);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    throw std::runtime_error("no free port");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

// A connected socket to 127.0.0.1:port, or -1.
inline int connect_local(unsigned short port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return -1;
  }
  timeval timeout{30, 0};  // a test never hangs on a silent server
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  return fd;
}

// Sends `request` and reads until the server closes (the request should say
// "Connection: close"). Empty if nothing could be sent or read.
inline std::string http_exchange(unsigned short port, const std::string& request) {
  const int fd = connect_local(port);
  if (fd < 0) return {};
  std::string reply;
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
      static_cast<ssize_t>(request.size())) {
    char buffer[4096];
    for (ssize_t n; (n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0;) {
      reply.append(buffer, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return reply;
}

struct HttpReply {
  int status = 0;  // 0: no answer
  std::string body;
};

inline HttpReply http_get(unsigned short port, const std::string& path) {
  const std::string raw = http_exchange(
      port, "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  HttpReply reply;
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || raw.size() < 12) return reply;
  reply.status = std::stoi(raw.substr(9, 3));
  if (const auto end = raw.find("\r\n\r\n"); end != std::string::npos) {
    reply.body = raw.substr(end + 4);
  }
  return reply;
}

// One scrape as the Prometheus parser read it.
struct Scrape {
  std::string content_type;
  std::map<std::string, std::string> family_types;  // name (without _total) → type
  boost::json::array samples;

  // The value of the sample `name` whose labels include `labels`; nullopt if none matches.
  std::optional<double> value(const std::string& name,
                              const std::map<std::string, std::string>& labels = {}) const {
    for (const auto& entry : samples) {
      const auto& sample = entry.as_object();
      if (sample.at("name").as_string() != name) continue;
      const auto& have = sample.at("labels").as_object();
      bool match = true;
      for (const auto& [key, wanted] : labels) {
        const auto* value = have.if_contains(key);
        if (value == nullptr || value->as_string() != wanted) match = false;
      }
      if (match) return sample.at("value").to_number<double>();
    }
    return std::nullopt;
  }
  // Every label value of `label` among the samples of `name`.
  std::vector<std::string> label_values(const std::string& name, const std::string& label) const {
    std::vector<std::string> values;
    for (const auto& entry : samples) {
      const auto& sample = entry.as_object();
      if (sample.at("name").as_string() != name) continue;
      if (const auto* value = sample.at("labels").as_object().if_contains(label)) {
        values.emplace_back(value->as_string());
      }
    }
    return values;
  }
};

// Scrapes /metrics through scrape_metrics.py; nullopt (with the reason in `error`) if the
// endpoint did not answer 200 or the exposition did not parse.
inline std::optional<Scrape> scrape(unsigned short port, std::string* error = nullptr) {
  ChildProcess python({"/usr/bin/python3", FACTOTUM_SOURCE_DIR "/tests/e2e/scrape_metrics.py",
                       "http://127.0.0.1:" + std::to_string(port) + "/metrics"});
  const auto code = python.wait_exit(std::chrono::seconds(60));
  if (code != 0) {
    if (error != nullptr) *error = python.output();
    return std::nullopt;
  }
  const auto parsed = boost::json::parse(python.output()).as_object();
  Scrape result;
  result.content_type = std::string(parsed.at("content_type").as_string());
  for (const auto& family : parsed.at("families").as_array()) {
    result.family_types[std::string(family.at("name").as_string())] =
        std::string(family.at("type").as_string());
  }
  result.samples = parsed.at("samples").as_array();
  return result;
}

}  // namespace factotum::testing
