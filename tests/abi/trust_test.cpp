// Opening plugin files safely (DESIGN.md §4.8): every directory on the way to a plugin is
// checked (sshd's StrictModes, with sticky shared directories like /tmp allowed on the way but
// never as the plugin directory itself), a plugin file is never reached through a symbolic
// link, and what was checked is what gets loaded.
#include "abi_test_support.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <future>

using namespace factotum;
using namespace factotum::abi_test;

namespace {

// <base>/<shared> (mode `shared_mode`)/plugins (0755) holding good_c.so.
struct NestedPluginDir {
  TempDir base;
  fs::path shared = base.path() / "shared";
  fs::path plugins = shared / "plugins";
  explicit NestedPluginDir(mode_t shared_mode) {
    fs::create_directories(plugins);
    ::chmod(plugins.c_str(), 0755);
    ::chmod(shared.c_str(), shared_mode);
    install("good_c", plugins);
  }
};

}  // namespace

TEST_CASE("a plugin directory below a directory others can write to is refused, naming it",
          "[abi][trust]") {
  const mode_t mode = GENERATE(mode_t{0777}, mode_t{0775}, mode_t{0757});
  NestedPluginDir nested(mode);
  plugins::PluginHost host({});
  const auto report = host.load_directories({nested.plugins}, options());
  REQUIRE(report.errors.size() == 1);
  CHECK(report.errors.front().file == nested.plugins);
  const auto& reason = report.errors.front().reason;
  INFO(reason);
  CHECK(contains(reason, "refusing to load: directory " + nested.shared.string() +
                             " (on the way to plugin directory " + nested.plugins.string() +
                             ") is writable by group or others"));
  CHECK(contains(reason, "run `chmod go-w " + nested.shared.string() + "`"));
  CHECK(host.jobtypes().empty());

  const auto single = host.load_file(nested.plugins / "good_c.so", options());
  REQUIRE(single.errors.size() == 1);
  CHECK(contains(single.errors.front().reason, "directory " + nested.shared.string() + " (on"));

  SECTION("unless strict permissions are switched off") {
    auto lax = options();
    lax.strict_permissions = false;
    CHECK(host.load_directories({nested.plugins}, lax).ok());
  }
}

TEST_CASE("a sticky shared directory (like /tmp) may lie on the way, not be the plugin directory",
          "[abi][trust]") {
  NestedPluginDir nested(01777);
  plugins::PluginHost host({});
  CHECK(host.load_directories({nested.plugins}, options()).ok());

  ::chmod(nested.plugins.c_str(), 01777);
  plugins::PluginHost other({});
  const auto report = other.load_directories({nested.plugins}, options());
  REQUIRE(report.errors.size() == 1);
  CHECK(contains(report.errors.front().reason, "plugin directory " + nested.plugins.string() +
                                                   " is writable by group or others (mode 1777)"));
}

TEST_CASE("a directory on the way owned by another user is refused", "[abi][trust]") {
  if (::geteuid() != 0) {
    WARN("not root: cannot chown a directory to another user; skipped");
    return;
  }
  NestedPluginDir nested(0755);
  REQUIRE(::chown(nested.shared.c_str(), 65534, 65534) == 0);
  plugins::PluginHost host({});
  const auto report = host.load_directories({nested.plugins}, options());
  REQUIRE(report.errors.size() == 1);
  const auto& reason = report.errors.front().reason;
  CHECK(contains(reason, "directory " + nested.shared.string() +
                             " (on the way to plugin directory " + nested.plugins.string() +
                             ") is owned by uid 65534"));
  CHECK(contains(reason, "chown root " + nested.shared.string()));
}

TEST_CASE("a plugin file that is a symbolic link is refused", "[abi][trust]") {
  TempDir dir;
  TempDir elsewhere;
  const auto target = install("good_c", elsewhere.path());
  const auto link = dir.path() / "good_c.so";
  fs::create_symlink(target, link);
  plugins::PluginHost host({});
  const auto report = host.load_directories({dir.path()}, options());
  REQUIRE(report.errors.size() == 1);
  CHECK(report.errors.front().file == link);
  CHECK(report.errors.front().reason ==
        "refusing to load: it is a symbolic link (to " + target.string() +
            "): install the plugin file itself in the plugin directory");
  CHECK(host.jobtypes().empty());
  CHECK_FALSE(host.load_file(link, options()).ok());
}

TEST_CASE("a plugin directory reached through a symbolic link is checked where it really is",
          "[abi][trust]") {
  NestedPluginDir safe(0755);
  const auto link = safe.base.path() / "link";
  fs::create_directory_symlink(safe.plugins, link);
  plugins::PluginHost host({});
  CHECK(host.load_directories({link}, options()).ok());
  CHECK(host.jobtypes().front().file == link / "good_c.so");  // named as configured

  NestedPluginDir open(0777);
  const auto open_link = safe.base.path() / "open-link";
  fs::create_directory_symlink(open.plugins, open_link);
  plugins::PluginHost other({});
  const auto report = other.load_directories({open_link}, options());
  REQUIRE(report.errors.size() == 1);
  CHECK(contains(report.errors.front().reason,
                 "directory " + open.shared.string() + " (on the way to plugin directory " +
                     open_link.string() + ") is writable by group or others"));
}

TEST_CASE("a named pipe called *.so is refused without blocking the loader", "[abi][trust]") {
  TempDir dir;
  const auto fifo = dir.path() / "pipe.so";
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  plugins::PluginHost host({});
  auto loading = std::async(std::launch::async,
                            [&] { return host.load_directories({dir.path()}, options()); });
  const bool returned = loading.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
  if (!returned) {
    // Let a loader stuck in open() go (a writer appears, then closes: it reads an empty file).
    const int writer = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    if (writer >= 0) ::close(writer);
  }
  const auto report = loading.get();
  CHECK(returned);
  REQUIRE(report.errors.size() == 1);
  CHECK(report.errors.front().reason == "not a regular file");
}

TEST_CASE(
    "in a sticky shared directory, a symbolic link is followed only if a trusted user owns it",
    "[abi][trust]") {
  if (::geteuid() != 0) {
    WARN("not root: cannot make a link owned by another user; skipped");
    return;
  }
  // <base>/shared (1777, like /tmp) holds "plugins", a link to a real plugin directory. Made by
  // root, it is followed; made by anyone else, it is refused: whoever can write to /tmp could
  // have pointed a configured but missing plugin directory at a directory of their choosing.
  NestedPluginDir nested(0755);
  const fs::path sticky = nested.base.path() / "sticky";
  fs::create_directory(sticky);
  ::chmod(sticky.c_str(), 01777);
  const fs::path link = sticky / "plugins";
  fs::create_directory_symlink(nested.plugins, link);
  {
    plugins::PluginHost host({});
    CHECK(host.load_directories({link}, options()).ok());
  }
  REQUIRE(::lchown(link.c_str(), 65534, 65534) == 0);  // nobody
  plugins::PluginHost host({});
  const auto report = host.load_directories({link}, options());
  REQUIRE(report.errors.size() == 1);
  const auto& reason = report.errors.front().reason;
  INFO(reason);
  CHECK(contains(reason, "the symbolic link " + link.string() + " is owned by"));
  CHECK(host.jobtypes().empty());
}
