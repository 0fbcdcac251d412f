// Helpers for the ABI tests: temp dirs, test plugin paths, a thread-safe log collector.
#pragma once

#include "plugins/plugin_host.hpp"

#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace factotum::abi_test {

namespace fs = std::filesystem;

// A fresh mkdtemp() directory, removed with everything in it at scope end.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const noexcept { return path_; }

 private:
  fs::path path_;
};

// A built test plugin: FACTOTUM_ABI_PLUGIN_DIR/<name>.so.
fs::path plugin(std::string_view name);
// Copies test plugin `name` into `dir` as `as` (default: <name>.so), mode 0644.
fs::path install(std::string_view name, const fs::path& dir, std::string as = {});
// Replaces `dir/as` with test plugin `name` the way package managers do: a new file renamed
// over the old one (a new inode, so reload() sees the change however fast it comes).
fs::path replace(std::string_view name, const fs::path& dir, const std::string& as);

struct LogLine {
  int level = 0;
  std::string plugin;
  std::string jid;
  std::string message;
  std::thread::id thread;  // the thread that logged it
};

// Collects plugin log lines from any thread; tests wait on it instead of sleeping.
class LogCollector {
 public:
  plugins::HostServices services();
  // Waits (up to `timeout`) until a line with this message was logged.
  bool wait_for(std::string_view message,
                std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // Waits (up to `timeout`) until `condition` holds for the lines logged so far.
  bool wait_until(const std::function<bool(const std::vector<LogLine>&)>& condition,
                  std::chrono::milliseconds timeout = std::chrono::seconds(60));
  std::vector<LogLine> lines() const;
  // Index of the first line with this message (and jid when given), or -1.
  long index_of(std::string_view message, std::string_view jid = {}) const;
  std::vector<std::string> messages_for(std::string_view jid) const;
  std::size_t count(std::string_view message) const;

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<LogLine> lines_;
};

// Owns a job's strings; input() gives the views the host reads.
struct TestJob {
  std::string jid = "jid-1";
  std::string jobtype;
  std::string queue = "default";
  std::string args_json = "[]";
  std::string custom_json = "{}";
  std::string payload_json;
  int retry_count = 0;
  std::atomic<bool> cancelled{false};

  explicit TestJob(std::string type, std::string job_id = "jid-1");
  plugins::JobInput input() const;
};

// One job run on its own thread. Destruction cancels and joins it, so a failed REQUIRE never
// leaves the thread running.
class BackgroundJob {
 public:
  BackgroundJob(const plugins::PluginHost& host, TestJob& job);
  ~BackgroundJob() { finish(); }
  BackgroundJob(const BackgroundJob&) = delete;
  BackgroundJob& operator=(const BackgroundJob&) = delete;

  std::thread::id thread_id() const noexcept { return thread_id_; }
  // Cancels the job (gen.c's waiting job returns then) and waits until run() returned.
  const plugins::JobOutcome& finish();

 private:
  TestJob& job_;
  plugins::JobOutcome outcome_;
  std::thread thread_;  // last: starts once the members above exist
  std::thread::id thread_id_ = thread_.get_id();
};

// The generation serving `jobtype` in the host's current registry, or 0.
std::uint64_t generation_of(const plugins::PluginHost& host, std::string_view jobtype);

bool contains(std::string_view text, std::string_view part);
// The default options for tests: strict, non-fatal, the host's own staging dir.
plugins::LoadOptions options();

}  // namespace factotum::abi_test
