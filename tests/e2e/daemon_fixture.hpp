// End-to-end fixture: an in-process TestServer and the real `factotum` binary as a child
// process with a generated configuration. Tests wait on conditions (server stats, log
// lines, exit) with generous deadlines, never on sleeps.
#pragma once

#include "catch_result.hpp"
#include "child_process.hpp"
#include "faktory/blocking_client.hpp"
#include "faktory/url.hpp"
#include "processes.hpp"
#include "test_jobs.hpp"
#include "test_server.hpp"

#include <catch2/catch.hpp>

#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace factotum::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline constexpr auto kDeadline = std::chrono::seconds(60);

inline TestServerOptions quick_server_options() {
  TestServerOptions options;
  options.fetch_block = std::chrono::milliseconds(500);
  return options;
}

// Writes a config for `server` plus `extra` YAML (top-level keys other than faktory, worker,
// plugins, logging), with worker settings from `worker_yaml` (indented mapping body).
class Daemon {
 public:
  struct Settings {
    unsigned concurrency = 4;
    std::string queues = "[default]";
    std::string shutdown_timeout = "10s";
    std::string heartbeat_interval = "5s";
    std::string log_level = "debug";
    std::string log_format = "text";
    std::string extra;         // appended verbatim (e.g. "jobtypes:\n  sleep:\n    timeout: 1s\n")
    std::string worker_extra;  // more worker keys, each "  key: value\n"
    std::vector<std::string> env;   // "NAME=value" for the daemon's environment
    std::vector<std::string> args;  // more command-line arguments (e.g. "--no-supervisor")
    ChildProcess::Stderr stderr_mode = ChildProcess::Stderr::pipe;
  };

  Daemon(const TestServer& server, Settings settings)
      : url_(server.url()),
        wid_("e2e-" + random_suffix()),
        env_(std::move(settings.env)),
        args_(std::move(settings.args)),
        stderr_mode_(settings.stderr_mode) {
    config_ = dir_.path / "factotum.yaml";
    write_config(settings);
  }
  // A REQUIRE that failed while the daemon ran (its exception is unwinding this) prints the
  // daemon's whole output: most waits are on the server, where a failure says nothing of what
  // the daemon logged.
  ~Daemon() {
    if (process_ == nullptr || std::uncaught_exceptions() == 0) return;
    process_->drain_output();
    std::cerr << "---- factotum's output (pid " << process_->pid() << ") ----\n"
              << process_->output() << "---- end of factotum's output ----\n";
  }
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // (Re)writes the configuration file for the same server and wid, e.g. before a SIGHUP.
  // Replaced whole by a rename, as a deployment tool would: a reload never reads half a file.
  // `env` and `stderr_mode` are the process's and apply only at start().
  void write_config(const Settings& settings) const {
    const fs::path next = config_.string() + ".next";
    {
      std::ofstream out(next);
      out << "faktory:\n  url: " << url_ << "\n"
          << "worker:\n  concurrency: " << settings.concurrency << "\n"
          << "  queues: " << settings.queues << "\n"
          << "  shutdown_timeout: " << settings.shutdown_timeout << "\n"
          << "  heartbeat_interval: " << settings.heartbeat_interval << "\n"
          << "  wid: " << wid_ << "\n"
          << settings.worker_extra << "plugins:\n  directories: ["
          << FACTOTUM_BINARY_DIR "/tests/e2e-plugins]\n"
          << "logging:\n  level: " << settings.log_level << "\n"
          << "  format: " << settings.log_format << "\n"
          << settings.extra;
    }
    fs::rename(next, config_);
  }

  // Starts factotum and waits until its processors are up.
  void start() {
    std::vector<std::string> command{FACTOTUM_BINARY_DIR "/bin/factotum", "--config",
                                     config_.string()};
    command.insert(command.end(), args_.begin(), args_.end());
    process_ = std::make_unique<ChildProcess>(std::move(command), env_, stderr_mode_);
    auto started = process_->wait_for_line(
        [](const std::string& line) { return line.find("worker started") != std::string::npos; },
        kDeadline);
    INFO(process_->output());
    REQUIRE(started);
  }

  ChildProcess& process() { return *process_; }
  // The worker process: the supervisor's one child (the supervisor is process()).
  pid_t worker_pid() {
    std::vector<pid_t> children;
    const auto until = std::chrono::steady_clock::now() + kDeadline;
    while ((children = children_of(process_->pid())).size() != 1 &&
           std::chrono::steady_clock::now() < until) {
      process_->poll_output();  // a condition polled, as TestServer::wait_for does
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    INFO(process_->output());
    REQUIRE(children.size() == 1);
    return children.front();
  }
  const std::string& wid() const { return wid_; }
  const fs::path& config() const { return config_; }

  // Waits for a log line containing `text`; on failure the daemon's output goes into the
  // test report.
  bool wait_for_log(std::string_view text, std::chrono::milliseconds deadline = kDeadline) {
    const bool seen =
        process_
            ->wait_for_line(
                [&](const std::string& line) { return line.find(text) != std::string::npos; },
                deadline)
            .has_value();
    if (!seen) UNSCOPED_INFO("daemon output:\n" << process_->output());
    return seen;
  }

 private:
  TempDir dir_;
  fs::path config_;
  std::string url_;
  std::string wid_;
  std::vector<std::string> env_;
  std::vector<std::string> args_;
  ChildProcess::Stderr stderr_mode_;
  std::unique_ptr<ChildProcess> process_;
};

// One run of the factotum binary to its end (--check-config, --version, a bad flag...): its
// exit status and everything it printed.
struct Run {
  int exit_code = -1;
  std::string output;
};
inline Run run_factotum(std::vector<std::string> args) {
  args.insert(args.begin(), FACTOTUM_BINARY_DIR "/bin/factotum");
  ChildProcess child(args);
  auto code = child.wait_exit(kDeadline);
  INFO(child.output());
  REQUIRE(code);
  return {*code, child.output()};
}
inline Run check_config(const fs::path& config) {
  return run_factotum({"--config", config.string(), "--check-config"});
}

// How many times `needle` occurs in `text` (log lines that must appear exactly once).
inline std::size_t count_of(std::string_view text, std::string_view needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string_view::npos; at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// The complete lines of `text` (a trailing partial line is dropped).
inline std::vector<std::string> lines_of(std::string_view text) {
  std::vector<std::string> lines;
  for (auto nl = text.find('\n'); nl != std::string_view::npos; nl = text.find('\n')) {
    lines.emplace_back(text.substr(0, nl));
    text.remove_prefix(nl + 1);
  }
  return lines;
}

// How many `verb` commands the server has received from anyone. BEATs come every
// heartbeat_interval: waiting for more of them lets time pass as a condition, not a sleep.
inline std::size_t count_commands(const TestServer& server, std::string_view verb) {
  std::size_t n = 0;
  for (const auto& record : server.command_log()) n += record.verb == verb;
  return n;
}

// The connections on which the daemon `wid` has sent `verb` ("" = any command).
inline std::set<std::uint64_t> connections_of(const TestServer& server, std::string_view wid,
                                              std::string_view verb = {}) {
  std::set<std::uint64_t> ids;
  for (const auto& record : server.command_log()) {
    if (record.wid == wid && (verb.empty() || record.verb == verb)) {
      ids.insert(record.connection_id);
    }
  }
  return ids;
}

// Checks `log` from index `from` on, a point after the daemon `wid` was told to stop fetching
// (quiet, terminate): a FETCH already sent then is never abandoned (DESIGN.md §3, PROTOCOL.md
// §0.15), so each of its connections may show that one FETCH, only as its first command after
// `from`, and after it nothing but END; any other FETCH is a new one. Meant for a window in
// which no job is queued (a FETCH in flight that delivered one would be followed by its ACK).
inline void check_no_new_fetch(const std::vector<TestServer::CommandRecord>& log, std::size_t from,
                               std::string_view wid) {
  std::map<std::uint64_t, std::vector<std::string>> verbs_by_connection;
  for (std::size_t i = from; i < log.size(); ++i) {
    if (log[i].wid == wid) verbs_by_connection[log[i].connection_id].push_back(log[i].verb);
  }
  for (const auto& [id, verbs] : verbs_by_connection) {
    std::string seen;
    for (const auto& verb : verbs) seen += verb + " ";
    INFO("connection " << id << " after the stop: " << seen);
    for (std::size_t k = 1; k < verbs.size(); ++k) CHECK(verbs[k] != "FETCH");
    if (verbs.front() == "FETCH") {
      for (std::size_t k = 1; k < verbs.size(); ++k) CHECK(verbs[k] == "END");
    }
  }
}

// Test plugin builds kept out of tests/e2e-plugins: tests copy them into a plugin directory of
// their own.
inline const fs::path kPluginVariants = FACTOTUM_BINARY_DIR "/tests/e2e-plugin-variants";

// Publishes one of them the safe way: copy to a hidden temporary name, then rename into place.
inline void publish_variant(const fs::path& variant, const fs::path& directory,
                            const std::string& name) {
  const fs::path temporary = directory / ("." + name + ".tmp");
  fs::copy_file(kPluginVariants / variant, temporary, fs::copy_options::overwrite_existing);
  fs::permissions(temporary, fs::perms::owner_read | fs::perms::owner_write |
                                 fs::perms::group_read | fs::perms::others_read);
  fs::rename(temporary, directory / name);
}

// A producer connection to push jobs with.
inline std::unique_ptr<faktory::BlockingClient> producer_for(const TestServer& server) {
  auto client = std::make_unique<faktory::BlockingClient>(
      faktory::ClientOptions::for_url(faktory::parse_url(server.url()).value()));
  REQUIRE(client->connect());
  return client;
}

// Pushes `j` and waits until the daemon has started running it.
inline void push_and_await_start(Daemon& daemon, faktory::BlockingClient& producer,
                                 const faktory::Job& j) {
  REQUIRE(producer.push(j));
  REQUIRE(daemon.wait_for_log("job started jid=" + j.jid));
}

}  // namespace factotum::testing
