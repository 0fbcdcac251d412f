// Loading rules of DESIGN.md §4.2, §4.6, §4.8 and §4.9: which plugins load, which are
// refused, and what the operator is told.
#include "abi_test_support.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>

using namespace factotum;
using namespace factotum::abi_test;

namespace {

std::string only_error(const plugins::LoadReport& report) {
  REQUIRE(report.errors.size() == 1);
  return report.errors.front().reason;
}

}  // namespace

TEST_CASE("a C plugin built against the frozen 1.0 header loads and runs on this host", "[abi]") {
  LogCollector log;
  plugins::PluginHost host(log.services());
  const auto report = host.load_file(plugin("good_c"), options());
  REQUIRE(report.ok());
  REQUIRE(report.loaded.size() == 1);
  CHECK(contains(report.loaded.front(), "good_c 1.0.0 ("));
  CHECK(log.index_of("init on host " FACTOTUM_HOST_VERSION_FOR_TESTS " abi 1.0") >= 0);

  TestJob job("CEcho", "jid-echo");
  job.queue = "critical";
  job.args_json = R"([1,"two"])";
  job.custom_json = R"({"k":"v"})";
  job.retry_count = 3;
  const auto outcome = host.run(job.input());
  CHECK(outcome.succeeded());
  CHECK(outcome.plugin == "good_c");
  const std::string expected =
      "echo state jid=jid-echo jobtype=CEcho queue=critical args=[1,\"two\"] "
      "custom={\"k\":\"v\"} retry=3 payload=" +
      job.payload_json;
  CHECK(log.index_of(expected, "jid-echo") >= 0);
  CHECK(host.plugin_for("CEcho") == std::optional<std::string>("good_c"));
}

TEST_CASE("a plugin built for another SDK major is refused, naming the entry point it has",
          "[abi]") {
  plugins::PluginHost host({});
  const auto report = host.load_file(plugin("wrong_major"), options());
  CHECK(report.loaded.empty());
  CHECK(report.errors.front().file == plugin("wrong_major"));
  CHECK(only_error(report) ==
        "no factotum_plugin_v1 in wrong_major.so: built for another SDK major (found "
        "factotum_plugin_v2)?");
}

TEST_CASE("a plugin built for a newer SDK minor is refused: upgrade factotum", "[abi]") {
  plugins::PluginHost host({});
  const auto report = host.load_file(plugin("newer_minor"), options());
  CHECK(only_error(report) ==
        "built for SDK 1.99, this factotum supports up to 1.0: upgrade factotum");
  CHECK(contains(report.errors.front().message(), "newer_minor.so: built for SDK 1.99"));
}

TEST_CASE("a shared library without factotum_plugin_v1 is refused", "[abi]") {
  plugins::PluginHost host({});
  const auto report = host.load_file(plugin("no_entry"), options());
  CHECK(only_error(report) ==
        "no factotum_plugin_v1 in no_entry.so: not a factotum plugin, or built for another SDK "
        "major?");
}

TEST_CASE("a file that is not an ELF file is refused, showing how it starts", "[abi]") {
  TempDir dir;
  const auto file = dir.path() / "script.so";
  std::ofstream(file) << "#!/bin/sh\necho hi\n";
  ::chmod(file.c_str(), 0644);
  plugins::PluginHost host({});
  CHECK(only_error(host.load_file(file, options())) == "not an ELF file (starts with \"#!/b\")");

  const auto empty = dir.path() / "empty.so";
  std::ofstream{empty};
  ::chmod(empty.c_str(), 0644);
  CHECK(only_error(host.load_file(empty, options())) == "not an ELF file (it is empty)");

  const auto directory = dir.path() / "dir.so";
  fs::create_directory(directory);
  ::chmod(directory.c_str(), 0755);
  CHECK(only_error(host.load_file(directory, options())) == "not a regular file");
}

TEST_CASE("a plugin with an unresolved symbol is refused at load (RTLD_NOW, not lazy)", "[abi]") {
  plugins::PluginHost host({});
  const auto reason = only_error(host.load_file(plugin("unresolved"), options()));
  CHECK(contains(reason, "cannot be loaded: "));
  CHECK(contains(reason, "factotum_test_symbol_nobody_defines"));
  // The message names the operator's file, not the private staged copy.
  CHECK(contains(reason, plugin("unresolved").string()));
  CHECK_FALSE(contains(reason, "factotum-plugins-"));
  CHECK(host.jobtypes().empty());
}

TEST_CASE("a plugin with an invalid name is refused", "[abi]") {
  plugins::PluginHost host({});
  CHECK(only_error(host.load_file(plugin("bad_name"), options())) ==
        "invalid plugin name \"Bad Name!\": use 1 to 64 characters of [a-z0-9_-]");
}

TEST_CASE("a plugin whose init fails is refused, its registrations destroyed, no shutdown",
          "[abi]") {
  LogCollector log;
  int destroy_counter = 0;
  {
    plugins::PluginHost host(log.services());
    auto opts = options();
    opts.config_json["init_fails"] =
        R"({"destroy_counter":)" +
        std::to_string(reinterpret_cast<std::uintptr_t>(&destroy_counter)) + "}";
    const auto report = host.load_file(plugin("init_fails"), opts);
    CHECK(only_error(report) ==
          "init of plugin 'init_fails' failed (status 1): cannot start: no database configured");
    CHECK(destroy_counter == 1);  // destroyed at once, shutdown (+100) never called
    CHECK(host.jobtypes().empty());
    CHECK(host.run(TestJob("NeverRuns").input()).errtype == "UnknownJobtype");
  }
  CHECK(destroy_counter == 1);
}

TEST_CASE("two plugins registering one jobtype: the second is a load error naming both files",
          "[abi]") {
  TempDir dir;
  const auto a = install("dup_a", dir.path());
  const auto b = install("dup_b", dir.path());
  LogCollector log;
  plugins::PluginHost host(log.services());
  const auto report = host.load_directories({dir.path()}, options());
  REQUIRE(report.loaded.size() == 1);
  CHECK(contains(report.loaded.front(), "dup_a 1.0.0"));
  REQUIRE(report.errors.size() == 1);
  CHECK(report.errors.front().file == b);
  CHECK(report.errors.front().reason ==
        "jobtype 'Dup' is already registered by plugin 'dup_a' (" + a.string() + ")");
  // dup_b is discarded whole (OnlyB too); its init had succeeded, so it was shut down.
  CHECK(host.plugin_for("Dup") == std::optional<std::string>("dup_a"));
  CHECK_FALSE(host.plugin_for("OnlyB").has_value());
  CHECK(log.index_of("dup_b shutdown") >= 0);
}

TEST_CASE("a world-writable plugin file is refused with the command that fixes it", "[abi]") {
  TempDir dir;
  const auto file = install("good_c", dir.path());
  ::chmod(file.c_str(), 0666);
  plugins::PluginHost host({});
  const auto reason = only_error(host.load_file(file, options()));
  CHECK(contains(reason,
                 "plugin file " + file.string() + " is writable by group or others (mode 0666)"));
  CHECK(contains(reason, "run `chmod go-w " + file.string() + "`"));

  SECTION("unless strict permissions are switched off") {
    auto lax = options();
    lax.strict_permissions = false;
    CHECK(host.load_file(file, lax).ok());
    CHECK(host.plugin_for("CEcho").has_value());
  }
}

TEST_CASE("a plugin in a group-writable directory is refused", "[abi]") {
  TempDir dir;
  const auto file = install("good_c", dir.path());
  ::chmod(dir.path().c_str(), 0770);
  plugins::PluginHost host({});
  const auto reason = only_error(host.load_file(file, options()));
  CHECK(contains(reason, "plugin directory " + dir.path().string() +
                             " is writable by group or others (mode 0770)"));
  CHECK(contains(reason, "chmod go-w " + dir.path().string()));
}

TEST_CASE("a plugin owned by another user is refused", "[abi]") {
  if (::geteuid() != 0) {
    WARN("not root: cannot chown a file to another user; skipped");
    return;
  }
  TempDir dir;
  const auto file = install("good_c", dir.path());
  REQUIRE(::chown(file.c_str(), 65534, 65534) == 0);
  plugins::PluginHost host({});
  const auto reason = only_error(host.load_file(file, options()));
  CHECK(contains(reason, "is owned by uid 65534"));
  CHECK(contains(reason, "not by root or the daemon's user (uid 0"));
  CHECK(contains(reason, "chown root " + file.string()));
}

TEST_CASE("loading a directory loads every .so in name order and skips the bad ones", "[abi]") {
  TempDir dir;
  install("good_c", dir.path(), "b_good_c.so");
  install("cpp_jobs", dir.path(), "a_cpp_jobs.so");
  install("newer_minor", dir.path(), "c_newer_minor.so");
  install("good_c", dir.path(), "notes.txt");  // not *.so: ignored
  plugins::PluginHost host({});
  const auto report = host.load_directories({dir.path()}, options());
  REQUIRE(report.loaded.size() == 2);
  CHECK(contains(report.loaded[0], "cpp_jobs 2.1.0"));
  CHECK(contains(report.loaded[1], "good_c 1.0.0"));
  REQUIRE(report.errors.size() == 1);
  CHECK(report.errors.front().file == dir.path() / "c_newer_minor.so");
  CHECK(host.run(TestJob("Succeeds").input()).succeeded());
  CHECK(host.run(TestJob("CEcho").input()).succeeded());

  const auto listed = host.jobtypes();
  REQUIRE_FALSE(listed.empty());
  CHECK(listed.front().name == "CBare");  // sorted by jobtype
  CHECK(listed.front().plugin == "good_c");
  CHECK(listed.front().file == dir.path() / "b_good_c.so");
}

TEST_CASE("with fatal_errors one bad plugin aborts the whole load", "[abi]") {
  TempDir dir;
  install("cpp_jobs", dir.path());
  install("wrong_major", dir.path());
  plugins::PluginHost host({});
  auto fatal = options();
  fatal.fatal_errors = true;
  const auto report = host.load_directories({dir.path()}, fatal);
  CHECK_FALSE(report.ok());
  CHECK(host.jobtypes().empty());
  CHECK(host.run(TestJob("Succeeds").input()).errtype == "UnknownJobtype");
}

TEST_CASE("a missing plugin directory is an error naming it", "[abi]") {
  TempDir dir;
  plugins::PluginHost host({});
  const auto missing = dir.path() / "nope";
  const auto report = host.load_directories({missing, dir.path()}, options());
  REQUIRE(report.errors.size() == 1);
  CHECK(report.errors.front().file == missing);
  CHECK(report.errors.front().message() == missing.string() + ": plugin directory does not exist");
}

TEST_CASE("plugins are loaded from a private staged copy, unique per generation", "[abi]") {
  TempDir dir;
  const auto staging = dir.path() / "staging";
  auto opts = options();
  opts.staging_dir = staging;
  plugins::PluginHost host({});
  REQUIRE(host.load_file(plugin("good_c"), opts).ok());
  struct stat st {};
  REQUIRE(::stat(staging.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  std::vector<fs::path> staged;
  for (const auto& entry : fs::directory_iterator(staging)) staged.push_back(entry.path());
  REQUIRE(staged.size() == 1);
  CHECK(staged.front().filename().string().starts_with("good_c."));
  CHECK(staged.front().filename() != "good_c.so");

  SECTION("a staging directory others can read is refused") {
    ::chmod(staging.c_str(), 0755);
    plugins::PluginHost other({});
    const auto reason = only_error(other.load_file(plugin("cpp_jobs"), opts));
    CHECK(contains(reason, "must be private to the daemon's user"));
  }
}

TEST_CASE("two files with the same plugin name: the second is refused", "[abi]") {
  TempDir dir;
  install("good_c", dir.path(), "one.so");
  install("good_c", dir.path(), "two.so");
  plugins::PluginHost host({});
  const auto report = host.load_directories({dir.path()}, options());
  CHECK(report.loaded.size() == 1);
  CHECK(only_error(report) ==
        "plugin name 'good_c' is already used by " + (dir.path() / "one.so").string());
}

TEST_CASE("a staged copy is removed when its generation ends, or at once on request", "[abi]") {
  TempDir dir;
  const auto staging = dir.path() / "staging";
  auto opts = options();
  opts.staging_dir = staging;
  auto staged_files = [&] {
    return std::distance(fs::directory_iterator(staging), fs::directory_iterator());
  };
  {
    plugins::PluginHost host({});
    REQUIRE(host.load_file(plugin("good_c"), opts).ok());
    CHECK(staged_files() == 1);
  }
  CHECK(staged_files() == 0);  // a configured staging directory does not fill up
  {
    // A file refused after its copy was made (its plugin name is taken) leaves no copy.
    TempDir plugins_dir;
    install("good_c", plugins_dir.path(), "one.so");
    install("good_c", plugins_dir.path(), "two.so");
    plugins::PluginHost host({});
    const auto report = host.load_directories({plugins_dir.path()}, opts);
    CHECK(report.loaded.size() == 1);
    CHECK(staged_files() == 1);
  }

  // An exit that skips destructors removes the copies first; the loaded code stays mapped.
  plugins::PluginHost host({});
  REQUIRE(host.load_file(plugin("good_c"), opts).ok());
  host.remove_staged_files();
  CHECK(staged_files() == 0);
  CHECK(host.run(TestJob("CEcho").input()).succeeded());
}

TEST_CASE("a plugin file is a *.so that is not hidden (one being published is hidden)",
          "[abi][loader]") {
  CHECK(plugins::is_plugin_file_name("echo.so"));
  CHECK(plugins::is_plugin_file_name("a.so"));
  CHECK_FALSE(plugins::is_plugin_file_name(".echo.so"));
  CHECK_FALSE(plugins::is_plugin_file_name(".echo.so.tmp"));
  CHECK_FALSE(plugins::is_plugin_file_name("echo.so.tmp"));
  CHECK_FALSE(plugins::is_plugin_file_name(".so"));
  CHECK_FALSE(plugins::is_plugin_file_name("echo.so.1"));
}
