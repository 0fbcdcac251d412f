#include "abi_test_support.hpp"

#include <stdlib.h>

#include <stdexcept>
#include <system_error>

namespace factotum::abi_test {

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "factotum-abi-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

fs::path plugin(std::string_view name) {
  return fs::path(FACTOTUM_ABI_PLUGIN_DIR) / (std::string(name) + ".so");
}

fs::path install(std::string_view name, const fs::path& dir, std::string as) {
  const fs::path target = dir / (as.empty() ? std::string(name) + ".so" : as);
  fs::copy_file(plugin(name), target, fs::copy_options::overwrite_existing);
  fs::permissions(target, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                              fs::perms::others_read);
  return target;
}

fs::path replace(std::string_view name, const fs::path& dir, const std::string& as) {
  const fs::path temporary = install(name, dir, "." + as + ".new");
  fs::rename(temporary, dir / as);
  return dir / as;
}

plugins::HostServices LogCollector::services() {
  plugins::HostServices services;
  services.log = [this](int level, std::string_view plugin, std::string_view jid,
                        std::string_view message) {
    {
      std::lock_guard lock(mutex_);
      lines_.push_back({level, std::string(plugin), std::string(jid), std::string(message),
                        std::this_thread::get_id()});
    }
    changed_.notify_all();
  };
  return services;
}

bool LogCollector::wait_for(std::string_view message, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] {
    for (const auto& line : lines_) {
      if (line.message == message) return true;
    }
    return false;
  });
}

bool LogCollector::wait_until(const std::function<bool(const std::vector<LogLine>&)>& condition,
                              std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return condition(lines_); });
}

std::vector<LogLine> LogCollector::lines() const {
  std::lock_guard lock(mutex_);
  return lines_;
}

long LogCollector::index_of(std::string_view message, std::string_view jid) const {
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < lines_.size(); ++i) {
    if (lines_[i].message == message && (jid.empty() || lines_[i].jid == jid)) {
      return static_cast<long>(i);
    }
  }
  return -1;
}

std::vector<std::string> LogCollector::messages_for(std::string_view jid) const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& line : lines_) {
    if (line.jid == jid) out.push_back(line.message);
  }
  return out;
}

std::size_t LogCollector::count(std::string_view message) const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& line : lines_) n += line.message == message ? 1u : 0u;
  return n;
}

TestJob::TestJob(std::string type, std::string job_id)
    : jid(std::move(job_id)), jobtype(std::move(type)) {
  payload_json = R"({"jid":")" + jid + R"(","jobtype":")" + jobtype + R"(","args":[]})";
}

plugins::JobInput TestJob::input() const {
  plugins::JobInput in;
  in.jid = jid;
  in.jobtype = jobtype;
  in.queue = queue;
  in.args_json = args_json;
  in.custom_json = custom_json;
  in.payload_json = payload_json;
  in.retry_count = retry_count;
  in.cancelled = &cancelled;
  return in;
}

BackgroundJob::BackgroundJob(const plugins::PluginHost& host, TestJob& job)
    : job_(job), thread_([this, &host] { outcome_ = host.run(job_.input()); }) {}

const plugins::JobOutcome& BackgroundJob::finish() {
  job_.cancelled = true;
  if (thread_.joinable()) thread_.join();
  return outcome_;
}

std::uint64_t generation_of(const plugins::PluginHost& host, std::string_view jobtype) {
  for (const auto& info : host.jobtypes()) {
    if (info.name == jobtype) return info.generation;
  }
  return 0;
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

plugins::LoadOptions options() {
  return plugins::LoadOptions{};
}

}  // namespace factotum::abi_test
