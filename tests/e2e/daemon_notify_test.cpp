// The systemd notification protocol as a service manager sees it: the test owns the datagram
// socket named by NOTIFY_SOCKET (and sets WATCHDOG_USEC), runs the real binary against the test
// server, and checks what arrives for start, reloads, quiet, a long job and stop.
#include "config_edit.hpp"
#include "daemon_fixture.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <sstream>

using namespace factotum;
using namespace factotum::testing;

namespace {

// The service manager's end: a bound SOCK_DGRAM socket, each datagram one notification.
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

}  // namespace

TEST_CASE("systemd hears READY, RELOADING, READY, STATUS, WATCHDOG and STOPPING") {
  TestServer server(quick_server_options());
  NotifySocket systemd;
  Daemon::Settings settings;
  settings.concurrency = 2;
  // Pings every 150 ms: many while the job below runs.
  settings.env = {systemd.env(), "WATCHDOG_USEC=300000"};
  Daemon daemon(server, settings);
  daemon.start();

  const auto ready = systemd.wait_for("READY=1");
  REQUIRE(ready);
  CHECK(systemd.messages[*ready].find("STATUS=") != std::string::npos);

  // A job far longer than WATCHDOG_USEC: the pings keep coming while it runs.
  auto producer = producer_for(server);
  Gate gate;
  const auto long_job = job("gate", gate.args());
  push_and_await_start(daemon, *producer, long_job);
  const auto job_started = systemd.messages.size();
  auto ping = systemd.wait_for("WATCHDOG=1", job_started);
  for (int i = 0; ping && i < 4; ++i) ping = systemd.wait_for("WATCHDOG=1", *ping + 1);
  REQUIRE(ping);
  REQUIRE(systemd.wait_for("STATUS=busy 1/2", job_started));
  CHECK(server.ack_count(long_job.jid) == 0);  // still running all along
  gate.open();
  REQUIRE(server.wait_for(
      [&](const TestServer::Stats&) { return server.ack_count(long_job.jid) == 1; }, kDeadline));

  // A reload: RELOADING=1 with the monotonic time, then READY=1.
  const auto before_reload = systemd.messages.size();
  daemon.process().signal(SIGHUP);
  const auto reloading = systemd.wait_for("RELOADING=1", before_reload);
  REQUIRE(reloading);
  CHECK(systemd.messages[*reloading].find("MONOTONIC_USEC=") != std::string::npos);
  const auto reloaded = systemd.wait_for("READY=1", *reloading + 1);
  REQUIRE(reloaded);
  CHECK(systemd.messages[*reloaded].find("reload failed") == std::string::npos);

  // A reload that fails: READY=1 all the same (the old configuration runs), STATUS says so.
  std::ofstream(daemon.config(), std::ios::app) << "worker:\n  concurency: 3\n";
  const auto before_bad = systemd.messages.size();
  daemon.process().signal(SIGHUP);
  const auto bad_reloading = systemd.wait_for("RELOADING=1", before_bad);
  REQUIRE(bad_reloading);
  const auto bad_ready = systemd.wait_for("READY=1", *bad_reloading + 1);
  REQUIRE(bad_ready);
  CHECK(systemd.messages[*bad_ready].find("last reload failed") != std::string::npos);

  // Quiet shows in STATUS.
  const auto before_quiet = systemd.messages.size();
  daemon.process().signal(SIGTSTP);
  REQUIRE(systemd.wait_for("STATUS=quiet", before_quiet));

  // Stop: STOPPING=1 with the time the stop may take (shutdown_timeout 10 s + 20 s), then a
  // clean exit.
  const auto before_stop = systemd.messages.size();
  daemon.process().signal(SIGTERM);
  const auto stopping = systemd.wait_for("STOPPING=1", before_stop);
  REQUIRE(stopping);
  CHECK(systemd.messages[*stopping].find("EXTEND_TIMEOUT_USEC=30000000") != std::string::npos);
  const auto exit_code = daemon.process().wait_exit(kDeadline);
  INFO(daemon.process().output());
  CHECK(exit_code == std::optional<int>(0));
  // Nothing claims readiness again while stopping (everything it sent is read by now).
  systemd.drain();
  CHECK(systemd.count("READY=1", *stopping) == 0);
}

TEST_CASE("a job's child process does not inherit NOTIFY_SOCKET or WATCHDOG_USEC") {
  TestServer server(quick_server_options());
  NotifySocket systemd;
  Daemon::Settings settings;
  settings.env = {systemd.env(), "WATCHDOG_USEC=300000"};
  // The shipped shell plugin runs a command per jobtype: it succeeds only when neither
  // variable reached it (NotifyAccess=main would ignore a child, but it must not even try).
  settings.extra =
      "  config:\n    shell:\n      jobtypes:\n        clean_env:\n          command: "
      "[/bin/sh, -c, 'test -z \"$NOTIFY_SOCKET$WATCHDOG_USEC\"']\n";
  Daemon daemon(server, settings);
  std::stringstream text;
  text << std::ifstream(daemon.config()).rdbuf();
  std::string yaml = text.str();
  // The shell plugin's directory too, and its settings under plugins (not at the top level).
  const std::string dirs = "directories: [" FACTOTUM_BINARY_DIR "/tests/e2e-plugins";
  yaml.replace(yaml.find(dirs), dirs.size(), dirs + ", " FACTOTUM_BINARY_DIR "/plugins");
  const auto config_at = yaml.find("  config:\n    shell:");
  std::string shell = yaml.substr(config_at);
  yaml.erase(config_at);
  yaml.insert(yaml.find("logging:"), shell);
  std::ofstream(daemon.config()) << yaml;
  daemon.start();
  REQUIRE(systemd.wait_for("READY=1"));

  auto producer = producer_for(server);
  const auto j = job("clean_env");
  REQUIRE(producer->push(j));
  REQUIRE(server.wait_for(
      [&](const TestServer::Stats&) {
        return server.ack_count(j.jid) + server.fail_count(j.jid) == 1;
      },
      kDeadline));
  INFO(daemon.process().output());
  CHECK(server.ack_count(j.jid) == 1);
  daemon.process().signal(SIGTERM);
  CHECK(daemon.process().wait_exit(kDeadline) == std::optional<int>(0));
}

TEST_CASE("READY comes with the server unreachable, over an abstract socket, STATUS saying so") {
  // A server that is down is retried, not waited for: the service is up, and says why it idles.
  std::uint16_t closed_port = 0;
  {
    TestServer gone(quick_server_options());
    closed_port = gone.port();
  }
  TestServer server(quick_server_options());  // only for the fixture's configuration
  NotifySocket systemd(true);
  Daemon::Settings settings;
  settings.env = {systemd.env()};
  Daemon daemon(server, settings);
  edit_config(daemon, "url: " + server.url(),
              "url: tcp://127.0.0.1:" + std::to_string(closed_port));
  daemon.start();
  const auto ready = systemd.wait_for("READY=1");
  REQUIRE(ready);
  REQUIRE(systemd.wait_for("server down for"));
  CHECK(connections_of(server, daemon.wid()).empty());
  daemon.process().signal(SIGTERM);
  CHECK(daemon.process().wait_exit(kDeadline) == std::optional<int>(0));
}
