// Configuration errors: exit 78 (EX_CONFIG) with a message naming the file, line, column and
// key; --check-config; --version and --help.
#include "daemon_fixture.hpp"

using namespace factotum;
using namespace factotum::testing;

namespace {

Run with_config(const std::string& yaml, std::vector<std::string> extra = {}) {
  TempDir dir;
  const auto file = dir.path / "factotum.yaml";
  std::ofstream(file) << yaml;
  std::vector<std::string> args{"--config", file.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_factotum(args);
}

}  // namespace

TEST_CASE("every configuration error exits 78 with a message that locates it") {
  struct Case {
    const char* yaml;
    const char* expected;
  };
  const Case cases[] = {
      {"worker:\n  concurrency: twenty\n",
       "factotum.yaml:2:16: worker.concurrency: expected a positive integer, got 'twenty'"},
      {"worker:\n  concurency: 3\n", "did you mean 'concurrency'?"},
      {"worker:\n  shutdown_timeout: 25\n", "worker.shutdown_timeout"},
      {"faktory:\n  url: http://localhost:7419\n", "faktory.url"},
      {"worker: [\n", "factotum.yaml:"},
      {"plugins:\n  directories: [/nonexistent/factotum-plugins]\n  fatal_errors: true\n",
       "/nonexistent/factotum-plugins"},
      {"plugins:\n  directories: [" FACTOTUM_BINARY_DIR "/tests/e2e-plugins]\n"
       "middleware: [no_such_middleware]\n",
       "no_such_middleware"},
  };
  for (const auto& c : cases) {
    INFO(c.yaml);
    const auto run = with_config(c.yaml);
    INFO(run.output);
    CHECK(run.exit_code == 78);
    CHECK(run.output.find(c.expected) != std::string::npos);
  }
}

TEST_CASE("a missing configuration file or a bad flag exits 78") {
  auto missing = run_factotum({"--config", "/nonexistent/factotum.yaml"});
  CHECK(missing.exit_code == 78);
  CHECK(missing.output.find("/nonexistent/factotum.yaml") != std::string::npos);
  auto bad_flag = run_factotum({"--no-such-flag"});
  CHECK(bad_flag.exit_code == 78);
  auto bad_level = with_config("", {"--log-level", "loud"});
  CHECK(bad_level.exit_code == 78);
  CHECK(bad_level.output.find("--log-level") != std::string::npos);
}

TEST_CASE("check-config prints queues, concurrency, jobtypes and middleware, and exits 0") {
  const auto run = with_config(
      "worker:\n  concurrency: 7\n  queues: {critical: 3, default: 1}\n"
      "plugins:\n  directories: [" FACTOTUM_BINARY_DIR "/tests/e2e-plugins]\n",
      {"--check-config"});
  INFO(run.output);
  CHECK(run.exit_code == 0);
  CHECK(run.output.find("critical") != std::string::npos);
  CHECK(run.output.find("7") != std::string::npos);
  CHECK(run.output.find("stubborn") != std::string::npos);
  CHECK(run.output.find("e2e_jobs") != std::string::npos);
}

TEST_CASE("version and help exit 0") {
  const auto version = run_factotum({"--version"});
  CHECK(version.exit_code == 0);
  CHECK(version.output.find("factotum ") != std::string::npos);
  const auto help = run_factotum({"--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.output.find("--check-config") != std::string::npos);
}
