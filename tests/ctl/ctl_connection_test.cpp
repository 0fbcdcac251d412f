// Where factotum ctl finds the server and its password (the daemon's configuration, the
// environment, --url), and what it says when the server cannot be used.
#include "ctl_fixture.hpp"
#include "refusing_server.hpp"

#include <fstream>

using namespace factotum;
using namespace factotum::testing;

namespace {

fs::path write_config(const TempDir& dir, const std::string& yaml) {
  const auto file = dir.path / "factotum.yaml";
  std::ofstream(file) << yaml;
  return file;
}

}  // namespace

TEST_CASE("ctl takes the server's URL and password from the daemon's configuration") {
  TestServerOptions options = quick_server_options();
  options.password = "s3cret";
  TestServer server(options);
  TempDir dir;
  const auto config =
      write_config(dir, "faktory:\n  url: " + server.url() + "\n  password: s3cret\n");
  const auto run = run_ctl({"push", "ping", "--config", config.string()});
  INFO(run.err);
  CHECK(run.status == 0);
  CHECK(server.pushed_jids().size() == 1);
}

TEST_CASE("ctl with a password the server refuses exits 77 and never prints it") {
  TestServerOptions options = quick_server_options();
  options.password = "s3cret";
  TestServer server(options);
  TempDir dir;
  const auto config =
      write_config(dir, "faktory:\n  url: " + server.url() + "\n  password: wrong-one\n");
  const auto run = run_ctl({"info", "--config", config.string()});
  CHECK(run.status == 77);
  check_error_line(run, {server.url()});
  CHECK(run.err.find("wrong-one") == std::string::npos);
}

TEST_CASE("ctl with a bad configuration file exits 78 naming its file, line and column") {
  TempDir dir;
  const auto config = write_config(dir, "faktory:\n  url: tcp://localhost:7419\n  timeuot: 5s\n");
  const auto run = run_ctl({"info", "--config", config.string()});
  CHECK(run.status == 78);
  check_error_line(run, {config.string() + ":3:3", "timeuot"});
}

TEST_CASE("ctl with a bad --url exits 78 naming the flag, with the password hidden") {
  const auto run = run_ctl({"info", "--url", "http://:s3cret@localhost:7419"});
  CHECK(run.status == 78);
  check_error_line(run, {"--url"});
  CHECK(run.err.find("s3cret") == std::string::npos);
}

TEST_CASE("ctl without the default configuration file uses FAKTORY_URL") {
  if (fs::exists("/etc/factotum/factotum.yaml")) {
    WARN("skipped: /etc/factotum/factotum.yaml exists on this machine");
    return;
  }
  TestServer server(quick_server_options());
  const auto run = run_ctl({"info", "--json"}, {"FAKTORY_URL=" + server.url()});
  INFO(run.err);
  CHECK(run.status == 0);
  if (std::getenv("FAKTORY_URL") == nullptr && std::getenv("FAKTORY_PROVIDER") == nullptr) {
    // Nothing names a server: the missing file is the error, with what to do about it.
    const auto without = run_ctl({"info"});
    CHECK(without.status == 78);
    check_error_line(without, {"/etc/factotum/factotum.yaml", "--url"});
  }
}

TEST_CASE("ctl push that the server refuses exits 76 with the server's own words") {
  RefusingServer server("-NOTUNIQUE Job not unique");
  const auto run = run_ctl({"push", "ping", "--url", server.url()});
  CHECK(run.status == 76);
  check_error_line(run, {"PUSH of a ping job", "NOTUNIQUE Job not unique"});
  CHECK(run.out.empty());
}

TEST_CASE("ctl with --url reads no configuration: the server that wants a password gets none") {
  TestServerOptions options = quick_server_options();
  options.password = "s3cret";
  TestServer server(options);
  const auto run = run_ctl({"info", "--url", server.url()});
  CHECK(run.status == 77);
  check_error_line(run, {"requires a password",
                         "sent no password: with a URL ctl reads no "
                         "configuration file, and this one (from --url) "
                         "has none"});
  CHECK(run.out.empty());
}

TEST_CASE("ctl with --config and a URL (--url or FAKTORY_URL) exits 64 and connects nowhere") {
  TestServerOptions options = quick_server_options();
  options.password = "s3cret";
  TestServer server(options);
  TempDir dir;
  const auto config =
      write_config(dir, "faktory:\n  url: " + server.url() + "\n  password: s3cret\n");
  const auto flag = run_ctl({"info", "--config", config.string(), "--url", server.url()});
  CHECK(flag.status == 64);
  check_error_line(flag, {"--config and --url exclude each other"});
  const auto env = run_ctl({"info", "--config", config.string()}, {"FAKTORY_URL=" + server.url()});
  CHECK(env.status == 64);
  check_error_line(env, {"--config and FAKTORY_URL", "exclude each other"});
  CHECK(server.command_log().empty());
}

TEST_CASE("ctl names the password file whose password the server refused") {
  TestServerOptions options = quick_server_options();
  options.password = "s3cret";
  TestServer server(options);
  TempDir dir;
  const auto password = dir.path / "faktory-password";
  std::ofstream(password) << "wrong-one\n";
  const auto config = write_config(
      dir, "faktory:\n  url: " + server.url() + "\n  password_file: " + password.string() + "\n");
  const auto run = run_ctl({"info", "--config", config.string()});
  CHECK(run.status == 77);
  check_error_line(run, {"the password read from " + password.string(),
                         "faktory.password_file in " + config.string()});
  CHECK(run.err.find("wrong-one") == std::string::npos);
}

TEST_CASE("ctl says an unset CREDENTIALS_DIRECTORY was read as /etc/factotum") {
  TempDir dir;
  const auto config = write_config(
      dir, "faktory:\n  password_file: ${CREDENTIALS_DIRECTORY}/factotum-test-no-such-file\n");
  const auto run = run_ctl({"info", "--config", config.string()},
                           {"CREDENTIALS_DIRECTORY", "FAKTORY_URL", "FAKTORY_PROVIDER"});
  CHECK(run.status == 78);
  check_error_line(run, {"/etc/factotum/factotum-test-no-such-file",
                         "CREDENTIALS_DIRECTORY is unset: ctl reads it as /etc/factotum"});
}
