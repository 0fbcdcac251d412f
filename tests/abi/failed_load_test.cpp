// A plugin file that failed to load is remembered (its identity and the plugin config it was
// tried with): a rescan reports it again without loading it again, until the file or its
// config changes. A load refused before the plugin's init ran leaves nothing mapped.
#include "abi_test_support.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <fstream>
#include <set>

using namespace factotum;
using namespace factotum::abi_test;

namespace {

constexpr std::string_view init_fails_reason =
    "init of plugin 'init_fails' failed (status 1): cannot start: no database configured";
constexpr std::string_view not_retried = " (unchanged since it failed; not retried)";

// The files under `dir` this process has mapped (staged copies are unlinked once loaded, so
// the kernel shows them as "<path> (deleted)").
std::set<std::string> mapped_under(const fs::path& dir) {
  std::set<std::string> files;
  std::ifstream maps("/proc/self/maps");
  const std::string prefix = dir.string() + "/";
  for (std::string line; std::getline(maps, line);) {
    const auto at = line.find(prefix);
    if (at == std::string::npos) continue;
    std::string file = line.substr(at);
    if (const auto deleted = file.find(" (deleted)"); deleted != std::string::npos) {
      file.erase(deleted);
    }
    files.insert(file);
  }
  return files;
}

std::size_t files_in(const fs::path& dir) {
  return static_cast<std::size_t>(
      std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

}  // namespace

TEST_CASE("a plugin whose init failed is not tried again until its file or config changes",
          "[abi][failed]") {
  TempDir dir;
  TempDir staging_parent;
  install("init_fails", dir.path());
  install("good_c", dir.path());
  const auto file = dir.path() / "init_fails.so";
  LogCollector log;
  plugins::PluginHost host(log.services());
  auto opts = options();
  opts.staging_dir = staging_parent.path() / "staging";
  const std::string init_line = "cannot start: no database configured";

  auto report = host.load_directories({dir.path()}, opts);
  REQUIRE(report.errors.size() == 1);
  CHECK(report.errors.front().reason == init_fails_reason);
  CHECK_FALSE(report.errors.front().repeated);
  CHECK(log.count(init_line) == 1);

  for (int i = 0; i < 3; ++i) {
    report = host.reload({dir.path()}, opts);
    REQUIRE(report.errors.size() == 1);
    CHECK(report.errors.front().file == file);
    CHECK(report.errors.front().reason ==
          std::string(init_fails_reason) + std::string(not_retried));
    CHECK(report.errors.front().repeated);
    CHECK(report.applied);
  }
  CHECK(log.count(init_line) == 1);
  // Its init ran, so its code stays mapped (DESIGN.md §4.7), but only once.
  const auto init_fails_copies = [&] {
    std::size_t n = 0;
    for (const auto& mapped : mapped_under(opts.staging_dir)) {
      n += fs::path(mapped).filename().string().starts_with("init_fails.") ? 1u : 0u;
    }
    return n;
  };
  CHECK(init_fails_copies() == 1);
  CHECK(host.plugin_for("CEcho").has_value());  // the rest loaded all the same

  SECTION("with fatal_errors a reload still fails on it, and changes nothing") {
    install("cpp_jobs", dir.path());
    auto fatal = opts;
    fatal.fatal_errors = true;
    report = host.reload({dir.path()}, fatal);
    CHECK_FALSE(report.ok());
    CHECK_FALSE(report.applied);
    CHECK(report.changes.empty());
    CHECK_FALSE(host.plugin_for("Succeeds").has_value());
    CHECK(log.count(init_line) == 1);
  }
  SECTION("a new file is tried again") {
    replace("init_fails", dir.path(), "init_fails.so");
    report = host.reload({dir.path()}, opts);
    REQUIRE(report.errors.size() == 1);
    CHECK(report.errors.front().reason == init_fails_reason);
    CHECK(log.count(init_line) == 2);
    CHECK(init_fails_copies() == 2);
  }
  SECTION("a changed plugin config is tried again") {
    opts.config_json["init_fails"] = R"({"retry":1})";
    report = host.reload({dir.path()}, opts);
    REQUIRE(report.errors.size() == 1);
    CHECK(report.errors.front().reason == init_fails_reason);
    CHECK(log.count(init_line) == 2);
    report = host.reload({dir.path()}, opts);
    CHECK(log.count(init_line) == 2);
  }
}

TEST_CASE("a plugin refused before its init ran is unloaded again and its copy removed",
          "[abi][failed]") {
  const auto name =
      GENERATE(as<std::string>{}, "wrong_major", "newer_minor", "no_entry", "bad_name");
  TempDir dir;
  TempDir staging_parent;
  auto opts = options();
  opts.staging_dir = staging_parent.path() / "staging";
  plugins::PluginHost host({});
  const auto report = host.load_file(plugin(name), opts);
  REQUIRE(report.errors.size() == 1);
  INFO(report.errors.front().reason);
  CHECK(mapped_under(opts.staging_dir).empty());
  CHECK(files_in(opts.staging_dir) == 0);
}

TEST_CASE("a file that failed to load is not loaded again by a rescan", "[abi][failed]") {
  TempDir dir;
  TempDir staging_parent;
  const auto file = install("newer_minor", dir.path());
  plugins::PluginHost host({});
  auto opts = options();
  opts.staging_dir = staging_parent.path() / "staging";
  REQUIRE(host.load_directories({dir.path()}, opts).errors.size() == 1);
  // Watch the staging directory: a load attempt stages a copy there first.
  const auto staged_before = fs::last_write_time(opts.staging_dir);
  fs::last_write_time(opts.staging_dir, staged_before - std::chrono::hours(1));
  const auto report = host.reload({dir.path()}, opts);
  REQUIRE(report.errors.size() == 1);
  CHECK(report.errors.front().reason ==
        "built for SDK 1.99, this factotum supports up to 1.0: upgrade factotum" +
            std::string(not_retried));
  CHECK(fs::last_write_time(opts.staging_dir) == staged_before - std::chrono::hours(1));
}

TEST_CASE("a plugin refused for a jobtype another plugin holds is tried again once it is free",
          "[abi][failed]") {
  TempDir dir;
  const auto a = install("dup_a", dir.path());
  const auto b = install("dup_b", dir.path());
  LogCollector log;
  plugins::PluginHost host(log.services());
  REQUIRE(host.load_directories({dir.path()}, options()).errors.size() == 1);
  CHECK(log.count("dup_b shutdown") == 1);  // its init ran, then it was refused

  const auto again = host.reload({dir.path()}, options());
  REQUIRE(again.errors.size() == 1);
  CHECK(again.errors.front().file == b);
  CHECK(again.errors.front().reason == "jobtype 'Dup' is already registered by plugin 'dup_a' (" +
                                           a.string() + ")" + std::string(not_retried));
  CHECK(log.count("dup_b shutdown") == 1);  // not initialised again

  SECTION("with fatal_errors, a reload fails on it before loading anything") {
    install("gen_v1", dir.path(), "gen.so");
    auto fatal = options();
    fatal.fatal_errors = true;
    const auto report = host.reload({dir.path()}, fatal);
    CHECK_FALSE(report.applied);
    REQUIRE(report.errors.size() == 1);
    CHECK(report.errors.front().repeated);
    CHECK(log.count("v1 init") == 0);
  }
  SECTION("it loads once the jobtype is free") {
    fs::remove(a);
    const auto freed = host.reload({dir.path()}, options());
    CHECK(freed.ok());
    CHECK(host.plugin_for("Dup") == std::optional<std::string>("dup_b"));
    CHECK(host.plugin_for("OnlyB") == std::optional<std::string>("dup_b"));
  }
}

TEST_CASE("permission checks run again at every rescan, with no memory of an earlier refusal",
          "[abi][failed]") {
  TempDir dir;
  const auto file = install("good_c", dir.path());
  ::chmod(file.c_str(), 0666);
  plugins::PluginHost host({});
  const auto refused = host.load_directories({dir.path()}, options());
  REQUIRE(refused.errors.size() == 1);
  CHECK(contains(refused.errors.front().reason, "is writable by group or others"));
  CHECK(host.reload({dir.path()}, options()).errors.size() == 1);
  ::chmod(file.c_str(), 0644);
  CHECK(host.reload({dir.path()}, options()).ok());
  CHECK(host.plugin_for("CEcho").has_value());
}
