// The configuration module (DESIGN.md §5): every key, every default, and every error an
// operator can make, with the exact message and file:line:col the daemon prints before it
// exits 78.
#include "config/config.hpp"
#include "config/did_you_mean.hpp"
#include "config/duration.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

using namespace factotum::config;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using factotum::faktory::EnvLookup;

namespace {

EnvLookup fake_env(std::map<std::string, std::string> vars = {}) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

Config parse(std::string_view yaml, const ConfigOverrides& flags = {},
             const EnvLookup& env = fake_env()) {
  return parse_config(yaml, "t.yaml", flags, env);
}

// The full what() of the ConfigError the YAML produces.
std::string error_of(std::string_view yaml, const ConfigOverrides& flags = {},
                     const EnvLookup& env = fake_env()) {
  try {
    parse(yaml, flags, env);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

// A private scratch directory, removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "factotum-config-test-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  fs::path write(const std::string& name, std::string_view content) const {
    const fs::path file = path / name;
    std::ofstream(file, std::ios::binary) << content;
    return file;
  }
};

const fs::path kSourceDir = FACTOTUM_SOURCE_DIR;

}  // namespace

// ---------------------------------------------------------------------------------------------
// Defaults

TEST_CASE("an empty file gives every default", "[config][defaults]") {
  for (const char* yaml : {"", "# only a comment\n", "---\n", "~\n"}) {
    const Config c = parse(yaml);
    CHECK(c.source == "t.yaml");

    CHECK(c.faktory.url.host == "localhost");
    CHECK(c.faktory.url.port == 7419);
    CHECK_FALSE(c.faktory.url.tls);
    CHECK(c.faktory.url_source == ValueSource::default_value);
    CHECK(c.faktory.url_origin == "default");
    CHECK_FALSE(c.faktory.password.has_value());
    CHECK(c.faktory.password_source == PasswordSource::none);
    CHECK(c.faktory.tls.ca_file.empty());
    CHECK(c.faktory.tls.cert_file.empty());
    CHECK(c.faktory.tls.key_file.empty());
    CHECK(c.faktory.tls.verify);
    CHECK(c.faktory.timeout == 5s);

    CHECK(c.worker.concurrency == 10);
    CHECK(c.worker.concurrency_source == ValueSource::default_value);
    CHECK(c.worker.queue_mode == QueueMode::strict);
    REQUIRE(c.worker.queues.size() == 1);
    CHECK(c.worker.queues[0].name == "default");
    CHECK(c.worker.queues[0].weight == 1);
    CHECK(c.worker.labels.empty());
    CHECK(c.worker.shutdown_timeout == 25s);
    CHECK(c.worker.heartbeat_interval == 15s);
    CHECK(c.worker.wid.empty());
    CHECK(c.worker.cpu_scheduling == CpuScheduling::batch);

    CHECK(c.plugins.directories ==
          std::vector<fs::path>{"/usr/lib/factotum/plugins", "/usr/local/lib/factotum/plugins"});
    CHECK(c.plugins.strict_permissions);
    CHECK_FALSE(c.plugins.fatal_errors);
    CHECK_FALSE(c.plugins.watch);
    CHECK(c.plugins.settings.empty());

    CHECK(c.jobtypes.empty());
    CHECK(c.middleware.empty());
    CHECK(c.logging.level == LogLevel::info);
    CHECK(c.logging.level_source == ValueSource::default_value);
    CHECK(c.logging.format == LogFormat::text);
    CHECK_FALSE(c.metrics.enabled());
    CHECK_FALSE(c.metrics.queue_sizes);
    CHECK(c.warnings.empty());
  }
}

TEST_CASE("a section with no value (all its keys commented out) gives its defaults",
          "[config][defaults]") {
  const Config c = parse(
      "faktory:\nworker:\n  # concurrency: 3\nplugins:\n  config:\njobtypes:\nlogging:\n"
      "metrics:\n");
  CHECK(c.worker.concurrency == 10);
  CHECK(c.plugins.settings.empty());
  CHECK(c.jobtypes.empty());
}

// ---------------------------------------------------------------------------------------------
// Every key

TEST_CASE("every key is parsed into the struct", "[config][keys]") {
  TempDir dir;
  dir.write("ca.pem", "CA");
  dir.write("client.pem", "CERT");
  dir.write("client.key", "KEY");
  const std::string yaml = R"(
faktory:
  url: tcp+tls://faktory.example.com:7500
  password: s3cret
  tls:
    ca_file: ca.pem
    cert_file: client.pem
    key_file: client.key
    verify: true
worker:
  concurrency: 25
  queues: [critical, default, bulk]
  labels: [blue, "fast lane"]
  shutdown_timeout: 2m
  heartbeat_interval: 10s
  wid: worker-1
plugins:
  directories: [/opt/plugins, extra]
  strict_permissions: false
  fatal_errors: true
  watch: true
  config:
    shell:
      command: /bin/echo
jobtypes:
  send_email:
    timeout: 1500ms
  report: {timeout: 1h}
middleware: [auth, metrics]
logging:
  level: debug
  format: json
metrics:
  listen: 127.0.0.1:9100
  queue_sizes: true
)";
  const Config c = parse_config(yaml, (dir.path / "factotum.yaml").string(), {}, fake_env());

  CHECK(c.faktory.url.tls);
  CHECK(c.faktory.url.host == "faktory.example.com");
  CHECK(c.faktory.url.port == 7500);
  CHECK(c.faktory.url_source == ValueSource::file);
  CHECK(c.faktory.url_origin == "faktory.url at " + (dir.path / "factotum.yaml").string() + ":3:8");
  CHECK(c.faktory.password == "s3cret");
  CHECK(c.faktory.password_source == PasswordSource::config);
  CHECK(c.faktory.tls.ca_file == dir.path / "ca.pem");
  CHECK(c.faktory.tls.cert_file == dir.path / "client.pem");
  CHECK(c.faktory.tls.key_file == dir.path / "client.key");
  CHECK(c.faktory.tls.verify);

  CHECK(c.worker.concurrency == 25);
  CHECK(c.worker.concurrency_source == ValueSource::file);
  CHECK(c.worker.queue_mode == QueueMode::strict);
  REQUIRE(c.worker.queues.size() == 3);
  CHECK(c.worker.queues[0].name == "critical");
  CHECK(c.worker.queues[1].name == "default");
  CHECK(c.worker.queues[2].name == "bulk");
  CHECK(c.worker.labels == std::vector<std::string>{"blue", "fast lane"});
  CHECK(c.worker.shutdown_timeout == 2min);
  CHECK(c.worker.heartbeat_interval == 10s);
  CHECK(c.worker.wid == "worker-1");

  CHECK(c.plugins.directories == std::vector<fs::path>{"/opt/plugins", dir.path / "extra"});
  CHECK_FALSE(c.plugins.strict_permissions);
  CHECK(c.plugins.fatal_errors);
  REQUIRE(c.plugins.settings.count("shell") == 1);
  CHECK(c.plugins.settings.at("shell").json == R"({"command":"/bin/echo"})");
  CHECK(c.plugins.watch);
  CHECK(c.plugins.settings.at("shell").where.line == 23);
  CHECK(c.plugins.config_json() ==
        std::map<std::string, std::string>{{"shell", R"({"command":"/bin/echo"})"}});

  REQUIRE(c.jobtypes.size() == 2);
  CHECK(c.jobtypes.at("send_email").timeout == 1500ms);
  CHECK(c.jobtypes.at("report").timeout == 1h);
  CHECK(c.jobtype_timeout("send_email") == 1500ms);
  CHECK_FALSE(c.jobtype_timeout("other").has_value());

  REQUIRE(c.middleware.size() == 2);
  CHECK(c.middleware[0].name == "auth");
  CHECK(c.middleware[1].name == "metrics");
  CHECK(c.middleware[0].where.line == 29);
  CHECK(c.middleware[0].where.column == 14);

  CHECK(c.logging.level == LogLevel::debug);
  CHECK(c.logging.level_source == ValueSource::file);
  CHECK(c.logging.format == LogFormat::json);
  CHECK(c.metrics.enabled());
  CHECK(c.metrics.host == "127.0.0.1");
  CHECK(c.metrics.port == 9100);
  CHECK(c.metrics.queue_sizes);
  CHECK(c.warnings.empty());
}

TEST_CASE("queues as a map are weighted, in file order", "[config][queues]") {
  const Config c = parse("worker:\n  queues:\n    critical: 5\n    default: 2\n    bulk: 1\n");
  CHECK(c.worker.queue_mode == QueueMode::weighted);
  REQUIRE(c.worker.queues.size() == 3);
  CHECK(c.worker.queues[0].name == "critical");
  CHECK(c.worker.queues[0].weight == 5);
  CHECK(c.worker.queues[1].name == "default");
  CHECK(c.worker.queues[1].weight == 2);
  CHECK(c.worker.queues[2].name == "bulk");
  CHECK(c.worker.queues[2].weight == 1);
}

TEST_CASE("a list of queues is strict order with weight 1", "[config][queues]") {
  const Config c = parse("worker:\n  queues:\n    - high\n    - low\n");
  CHECK(c.worker.queue_mode == QueueMode::strict);
  REQUIRE(c.worker.queues.size() == 2);
  CHECK(c.worker.queues[0].name == "high");
  CHECK(c.worker.queues[0].weight == 1);
  CHECK(c.worker.queues[1].name == "low");
}

TEST_CASE("durations take ms, s, m and h", "[config][duration]") {
  CHECK(parse_duration("1500ms").value == 1500ms);
  CHECK(parse_duration("25s").value == 25s);
  CHECK(parse_duration("2m").value == 2min);
  CHECK(parse_duration("1h").value == 1h);
  CHECK(parse_duration("0s").value == 0ms);
  CHECK(parse_duration("0s").ok());

  CHECK(parse_duration("25").error == "missing unit in '25': write 25s, 25ms, 25m or 25h");
  CHECK(parse_duration("25sec").error == "unknown unit 'sec' in '25sec': use ms, s, m or h");
  CHECK(parse_duration("25 s").error ==
        "'25 s' has a space before the unit: write it without one, e.g. 25s");
  CHECK(parse_duration("1m30s").error ==
        "'1m30s' combines units: write it in one unit, e.g. 90s or 1500ms");
  CHECK(parse_duration("1.5s").error ==
        "'1.5s' is not a whole number: use a smaller unit, e.g. 1500ms instead of 1.5s");
  CHECK(parse_duration("-5s").error == "a duration cannot be negative, got '-5s'");
  CHECK(parse_duration("soon").error ==
        "expected a duration such as 25s, 1500ms or 2m, got 'soon'");
  CHECK(parse_duration("").error == "expected a duration such as 25s, 1500ms or 2m, got ''");
  CHECK(parse_duration("99999999999999999999h").error == "'99999999999999999999h' is too large");
  CHECK(parse_duration("9999999999999h").error == "'9999999999999h' is too large");
}

TEST_CASE("durations are printed in the largest exact unit", "[config][duration]") {
  CHECK(format_duration(0ms) == "0s");
  CHECK(format_duration(1500ms) == "1500ms");
  CHECK(format_duration(25s) == "25s");
  CHECK(format_duration(90s) == "90s");
  CHECK(format_duration(2min) == "2m");
  CHECK(format_duration(3h) == "3h");
  for (auto d : {1ms, 999ms, 1000ms, 61000ms, 3600000ms, 7200001ms}) {
    CHECK(parse_duration(format_duration(d)).value == d);
  }
}

// ---------------------------------------------------------------------------------------------
// Errors: wrong values

TEST_CASE("concurrency must be a positive integer", "[config][errors]") {
  CHECK(error_of("worker:\n  concurrency: twenty\n") ==
        "t.yaml:2:16: worker.concurrency: expected a positive integer, got 'twenty'");
  CHECK(error_of("worker:\n  concurrency: 0\n") ==
        "t.yaml:2:16: worker.concurrency: expected a positive integer, got '0'");
  CHECK(error_of("worker:\n  concurrency: -3\n") ==
        "t.yaml:2:16: worker.concurrency: expected a positive integer, got '-3'");
  CHECK(error_of("worker:\n  concurrency: 2.5\n") ==
        "t.yaml:2:16: worker.concurrency: expected a positive integer, got '2.5'");
  CHECK(error_of("worker:\n  concurrency: 5000\n") ==
        "t.yaml:2:16: worker.concurrency: must be at most 1000, got 5000");
  CHECK(error_of("worker:\n  concurrency: 99999999999999999999999\n") ==
        "t.yaml:2:16: worker.concurrency: must be at most 1000, got 99999999999999999999999");
  CHECK(error_of("worker:\n  concurrency: \"10\"\n") ==
        "t.yaml:2:16: worker.concurrency: expected a positive integer, got the string '10' "
        "(remove the quotes)");
  CHECK(error_of("worker:\n  concurrency: [1]\n") ==
        "t.yaml:2:16: worker.concurrency: expected a positive integer, got a list");
  CHECK(error_of("worker:\n  concurrency: {a: 1}\n") ==
        "t.yaml:2:16: worker.concurrency: expected a positive integer, got a map");
  CHECK(error_of("worker:\n  concurrency:\n  wid: x\n") ==
        "t.yaml:2:3: worker.concurrency: expected a positive integer, got no value");
  CHECK(parse("worker:\n  concurrency: 1000\n").worker.concurrency == 1000);
  CHECK(parse("worker:\n  concurrency: 1\n").worker.concurrency == 1);
}

TEST_CASE("a section must be a map", "[config][errors]") {
  CHECK(error_of("worker: [a]\n") == "t.yaml:1:9: worker: expected a map, got a list");
  CHECK(error_of("faktory: tcp://x\n") == "t.yaml:1:10: faktory: expected a map, got 'tcp://x'");
  CHECK(error_of("faktory:\n  tls: on\n") == "t.yaml:2:8: faktory.tls: expected a map, got 'on'");
}

TEST_CASE("booleans are true or false only", "[config][errors]") {
  CHECK(error_of("plugins:\n  strict_permissions: yes\n") ==
        "t.yaml:2:23: plugins.strict_permissions: expected true or false, got 'yes'");
  CHECK(error_of("plugins:\n  fatal_errors: \"true\"\n") ==
        "t.yaml:2:17: plugins.fatal_errors: expected true or false, got the string 'true' "
        "(remove the quotes)");
  CHECK(parse("plugins:\n  fatal_errors: True\n").plugins.fatal_errors);
}

TEST_CASE("duration keys report the unit problem and their range", "[config][errors]") {
  CHECK(error_of("worker:\n  shutdown_timeout: 25\n") ==
        "t.yaml:2:21: worker.shutdown_timeout: missing unit in '25': write 25s, 25ms, 25m or "
        "25h");
  CHECK(error_of("worker:\n  shutdown_timeout: 25 seconds\n") ==
        "t.yaml:2:21: worker.shutdown_timeout: '25 seconds' has a space before the unit: write "
        "it without one, e.g. 25s");
  CHECK(error_of("worker:\n  shutdown_timeout: 30d\n") ==
        "t.yaml:2:21: worker.shutdown_timeout: unknown unit 'd' in '30d': use ms, s, m or h");
  CHECK(error_of("worker:\n  shutdown_timeout: 25h\n") ==
        "t.yaml:2:21: worker.shutdown_timeout: must be at most 24h, got 25h");
  CHECK(parse("worker:\n  shutdown_timeout: 0s\n").worker.shutdown_timeout == 0ms);
  CHECK(error_of("worker:\n  heartbeat_interval: 2s\n") ==
        "t.yaml:2:23: worker.heartbeat_interval: must be between 5s and 60s (Faktory reaps a "
        "worker after 60s without a heartbeat), got 2s");
  CHECK(error_of("worker:\n  heartbeat_interval: 2m\n") ==
        "t.yaml:2:23: worker.heartbeat_interval: must be between 5s and 60s (Faktory reaps a "
        "worker after 60s without a heartbeat), got 2m");
  CHECK(parse("worker:\n  heartbeat_interval: 5s\n").worker.heartbeat_interval == 5s);
  CHECK(parse("worker:\n  heartbeat_interval: 60000ms\n").worker.heartbeat_interval == 60s);
  CHECK(error_of("faktory:\n  timeout: 100ms\n") ==
        "t.yaml:2:12: faktory.timeout: must be between 500ms and 5m, got 100ms");
  CHECK(error_of("faktory:\n  timeout: 1h\n") ==
        "t.yaml:2:12: faktory.timeout: must be between 500ms and 5m, got 1h");
  CHECK(error_of("faktory:\n  timeout: 5\n") ==
        "t.yaml:2:12: faktory.timeout: missing unit in '5': write 5s, 5ms, 5m or 5h");
  CHECK(parse("faktory:\n  timeout: 500ms\n").faktory.timeout == 500ms);
  CHECK(parse("faktory:\n  timeout: 5m\n").faktory.timeout == 5min);
  CHECK(error_of("jobtypes:\n  email:\n    timeout: 0s\n") ==
        "t.yaml:3:14: jobtypes.email.timeout: must be greater than zero, got 0s");
  CHECK(error_of("jobtypes:\n  email:\n    timeout: [1s]\n") ==
        "t.yaml:3:14: jobtypes.email.timeout: expected a duration such as 25s, 1500ms or 2m, "
        "got a list");
}

TEST_CASE("unknown keys are errors with a did-you-mean", "[config][errors]") {
  CHECK(error_of("worker:\n  concurency: 5\n") ==
        "t.yaml:2:3: worker.concurency: unknown key 'concurency' in worker; did you mean "
        "'concurrency'?");
  CHECK(error_of("wroker:\n  concurrency: 5\n") ==
        "t.yaml:1:1: wroker: unknown top-level key 'wroker'; did you mean 'worker'?");
  CHECK(error_of("faktory:\n  tls:\n    verfy: false\n") ==
        "t.yaml:3:5: faktory.tls.verfy: unknown key 'verfy' in faktory.tls; did you mean "
        "'verify'?");
  CHECK(error_of("jobtypes:\n  email:\n    timout: 5s\n") ==
        "t.yaml:3:5: jobtypes.email.timout: unknown key 'timout' in jobtypes.email; did you "
        "mean 'timeout'?");
  CHECK(error_of("logging:\n  Level: debug\n") ==
        "t.yaml:2:3: logging.Level: unknown key 'Level' in logging; did you mean 'level'?");
  CHECK(error_of("worker:\n  colour: blue\n") ==
        "t.yaml:2:3: worker.colour: unknown key 'colour' in worker; expected one of: "
        "concurrency, queues, labels, shutdown_timeout, heartbeat_interval, wid, "
        "cpu_scheduling");
  CHECK(error_of("server: x\n") ==
        "t.yaml:1:1: server: unknown top-level key 'server'; expected one of: faktory, worker, "
        "plugins, jobtypes, middleware, logging, metrics");
}

TEST_CASE("a key given twice is an error naming the first", "[config][errors]") {
  CHECK(error_of("worker:\n  concurrency: 5\n  concurrency: 6\n") ==
        "t.yaml:3:3: worker.concurrency: duplicate key 'concurrency' (first at line 2)");
  CHECK(error_of("worker: {}\nworker: {}\n") ==
        "t.yaml:2:1: worker: duplicate key 'worker' (first at line 1)");
}

TEST_CASE("queue lists and maps are validated", "[config][queues][errors]") {
  CHECK(error_of("worker:\n  queues: []\n") ==
        "t.yaml:2:11: worker.queues: needs at least one queue");
  CHECK(error_of("worker:\n  queues: {}\n") ==
        "t.yaml:2:11: worker.queues: needs at least one queue");
  CHECK(error_of("worker:\n  queues: [a, b, a]\n") ==
        "t.yaml:2:18: worker.queues: duplicate queue 'a' (first at line 2)");
  CHECK(error_of("worker:\n  queues: [\"\"]\n") ==
        "t.yaml:2:12: worker.queues: a queue name cannot be empty");
  CHECK(error_of("worker:\n  queues: [[a]]\n") ==
        "t.yaml:2:12: worker.queues: expected a queue name, got a list");
  CHECK(error_of("worker:\n  queues: default\n") ==
        "t.yaml:2:11: worker.queues: expected a list of queue names (strict order) or a map of "
        "queue name to weight, got 'default'");
  CHECK(error_of("worker:\n  queues:\n    critical: 0\n") ==
        "t.yaml:3:15: worker.queues.critical: expected a positive integer weight, got '0'");
  CHECK(error_of("worker:\n  queues:\n    critical: high\n") ==
        "t.yaml:3:15: worker.queues.critical: expected a positive integer weight, got 'high'");
  CHECK(error_of("worker:\n  queues:\n    critical: 20000\n") ==
        "t.yaml:3:15: worker.queues.critical: must be at most 10000, got 20000");
  CHECK(error_of("worker:\n  queues:\n    critical: 2\n    critical: 3\n") ==
        "t.yaml:4:5: worker.queues.critical: duplicate key 'critical' (first at line 3)");
}

// Faktory serves only queues named [a-zA-Z0-9._-]+ and silently drops any other name from a
// FETCH, so a worker configured with one would wait for jobs that never come.
TEST_CASE("queue names may only contain ASCII letters, digits, '.', '_' and '-'",
          "[config][queues][errors]") {
  const std::string allowed =
      " may only contain ASCII letters, digits, '.', '_' and '-': the Faktory server ignores "
      "other names in FETCH";
  SECTION("in a list, at the name") {
    CHECK(error_of("worker:\n  queues: [\"a b\"]\n") ==
          "t.yaml:2:12: worker.queues: queue name 'a b'" + allowed);
    CHECK(error_of("worker:\n  queues: [default, cr!tical]\n") ==
          "t.yaml:2:21: worker.queues: queue name 'cr!tical'" + allowed);
    CHECK(error_of("worker:\n  queues:\n    - default\n    - mail/outbound\n") ==
          "t.yaml:4:7: worker.queues: queue name 'mail/outbound'" + allowed);
    CHECK(error_of("worker:\n  queues: [\"caf\u00e9\"]\n") ==
          "t.yaml:2:12: worker.queues: queue name 'caf\\xc3\\xa9'" + allowed);
  }
  SECTION("in a map, at the key") {
    CHECK(error_of("worker:\n  queues:\n    \"a\\tb\": 2\n") ==
          "t.yaml:3:5: worker.queues: queue name 'a\\tb'" + allowed);
    CHECK(error_of("worker:\n  queues:\n    default: 2\n    \"low:bulk\": 1\n") ==
          "t.yaml:4:5: worker.queues: queue name 'low:bulk'" + allowed);
  }
  SECTION("the error carries the position and the key") {
    try {
      parse("worker:\n  queues:\n    ok: 1\n    not*ok: 2\n");
      FAIL("no error");
    } catch (const ConfigError& e) {
      CHECK(e.key() == "worker.queues");
      CHECK(e.file() == "t.yaml");
      CHECK(e.line() == 4);
      CHECK(e.column() == 5);
      CHECK(e.message() == "queue name 'not*ok'" + allowed);
    }
  }
  SECTION("every allowed character passes, in both forms") {
    const Config strict = parse("worker:\n  queues: [a.b, c_d, e-f, AZaz09, 1.0-rc_2]\n");
    REQUIRE(strict.worker.queues.size() == 5);
    CHECK(strict.worker.queues[3].name == "AZaz09");
    const Config weighted = parse("worker:\n  queues: {mail.out: 2, low_prio-1: 1}\n");
    REQUIRE(weighted.worker.queues.size() == 2);
    CHECK(weighted.worker.queues[0].name == "mail.out");
    CHECK(weighted.worker.queues[1].name == "low_prio-1");
  }
}

TEST_CASE("labels, wid, middleware and metrics are validated", "[config][errors]") {
  CHECK(error_of("worker:\n  labels: blue\n") ==
        "t.yaml:2:11: worker.labels: expected a list of strings, got 'blue'");
  CHECK(error_of("worker:\n  labels: [\"\"]\n") ==
        "t.yaml:2:12: worker.labels: a label cannot be empty");
  CHECK(error_of("worker:\n  labels: [a, a]\n") ==
        "t.yaml:2:15: worker.labels: duplicate label 'a' (first at line 2)");
  CHECK(error_of("worker:\n  wid: \"a b\"\n") ==
        "t.yaml:2:8: worker.wid: 'a b' contains whitespace or control characters");
  CHECK(error_of("worker:\n  wid: \"\"\n") ==
        "t.yaml:2:8: worker.wid: cannot be empty; remove the key to generate one at start");
  CHECK(error_of("middleware: {auth: 1}\n") ==
        "t.yaml:1:13: middleware: expected a list of middleware names, got a map");
  CHECK(error_of("middleware: [auth, auth]\n") ==
        "t.yaml:1:20: middleware: duplicate middleware 'auth' (first at line 1)");
  CHECK(error_of("metrics:\n  listen: 9100\n") ==
        "t.yaml:2:11: metrics.listen: expected host:port (e.g. 127.0.0.1:9100), got '9100'");
  CHECK(error_of("metrics:\n  listen: \":9100\"\n") ==
        "t.yaml:2:11: metrics.listen: the host is empty: write 127.0.0.1:9100 for this machine "
        "only or 0.0.0.0:9100 for every interface");
  CHECK(error_of("metrics:\n  listen: localhost:http\n") ==
        "t.yaml:2:11: metrics.listen: port 'http' is not a number (1-65535)");
  CHECK(error_of("metrics:\n  listen: localhost:70000\n") ==
        "t.yaml:2:11: metrics.listen: port '70000' is out of range (1-65535)");
  const Config v6 = parse("metrics:\n  listen: \"[::1]:9100\"\n");
  CHECK(v6.metrics.host == "::1");
  CHECK(v6.metrics.port == 9100);
  CHECK_FALSE(parse("metrics:\n  listen: \"\"\n").metrics.enabled());
}

TEST_CASE("logging level and format are one of a fixed set", "[config][errors]") {
  CHECK(error_of("logging:\n  level: verbose\n") ==
        "t.yaml:2:10: logging.level: unknown log level 'verbose'; expected one of: error, "
        "warning, info, debug");
  CHECK(error_of("logging:\n  level: debgu\n") ==
        "t.yaml:2:10: logging.level: unknown log level 'debgu'; did you mean 'debug'?");
  CHECK(error_of("logging:\n  level: warn\n") ==
        "t.yaml:2:10: logging.level: unknown log level 'warn'; did you mean 'warning'?");
  CHECK(error_of("logging:\n  format: xml\n") ==
        "t.yaml:2:11: logging.format: unknown log format 'xml'; expected one of: text, json");
  CHECK(parse("logging:\n  level: error\n").logging.level == LogLevel::error);
  CHECK(parse("logging:\n  level: warning\n").logging.level == LogLevel::warning);
}

TEST_CASE("worker.cpu_scheduling is batch or normal", "[config][errors]") {
  CHECK(parse("worker:\n  cpu_scheduling: normal\n").worker.cpu_scheduling ==
        CpuScheduling::normal);
  CHECK(parse("worker:\n  cpu_scheduling: batch\n").worker.cpu_scheduling == CpuScheduling::batch);
  CHECK(error_of("worker:\n  cpu_scheduling: bach\n") ==
        "t.yaml:2:19: worker.cpu_scheduling: unknown CPU scheduling 'bach'; did you mean "
        "'batch'?");
  CHECK(error_of("worker:\n  cpu_scheduling: realtime\n") ==
        "t.yaml:2:19: worker.cpu_scheduling: unknown CPU scheduling 'realtime'; expected one "
        "of: batch, normal");
}

TEST_CASE("jobtype and plugin names are checked", "[config][errors]") {
  CHECK(error_of("jobtypes: [email]\n") == "t.yaml:1:11: jobtypes: expected a map, got a list");
  CHECK(error_of("jobtypes:\n  email: 5s\n") ==
        "t.yaml:2:10: jobtypes.email: expected a map of options (timeout), got '5s'");
  CHECK(error_of("plugins:\n  config:\n    shell: [a]\n") ==
        "t.yaml:3:12: plugins.config.shell: expected a map of settings for plugin 'shell', got "
        "a list");
  CHECK(error_of("plugins:\n  directories: /opt/plugins\n") ==
        "t.yaml:2:16: plugins.directories: expected a list of directories, got '/opt/plugins'");
  CHECK(error_of("plugins:\n  directories: [/a, /b/../a]\n") ==
        "t.yaml:2:21: plugins.directories: '/b/../a' is the same directory as '/a' (line 2)");
  // A jobtype with no options is allowed: nothing to apply.
  CHECK(parse("jobtypes:\n  email:\n").jobtypes.at("email").timeout == std::nullopt);
}

// ---------------------------------------------------------------------------------------------
// Errors: the file as a whole

TEST_CASE("the top level must be a map", "[config][errors]") {
  CHECK(error_of("- a\n- b\n") ==
        "t.yaml:1:1: the configuration must be a map of sections (faktory, worker, plugins, "
        "...), got a list");
  CHECK(error_of("hello\n") ==
        "t.yaml:1:1: the configuration must be a map of sections (faktory, worker, plugins, "
        "...), got 'hello'");
}

TEST_CASE("a YAML syntax error carries yaml-cpp's position", "[config][errors]") {
  try {
    parse("worker:\n  concurrency: 5\n queues: [a\n");
    FAIL("no error");
  } catch (const ConfigError& e) {
    CHECK(e.file() == "t.yaml");
    CHECK(e.line() >= 2);
    CHECK(e.column() >= 1);
    CHECK(e.key().empty());
    CHECK_THAT(e.what(), Catch::Matches("t\\.yaml:[0-9]+:[0-9]+: invalid YAML: .+"));
  }
  CHECK(error_of("worker: {concurrency: 5\n").rfind("t.yaml:", 0) == 0);
}

TEST_CASE("a second YAML document is refused", "[config][errors]") {
  CHECK(error_of("worker: {}\n---\nworker: {}\n") ==
        "t.yaml:3:1: the file holds more than one YAML document; put everything in one");
}

TEST_CASE("a missing config file is an error naming it", "[config][errors]") {
  try {
    load_config("/nonexistent/factotum.yaml", {}, fake_env());
    FAIL("no error");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()) ==
          "/nonexistent/factotum.yaml: cannot read the configuration file: No such file or "
          "directory");
    CHECK(e.line() == 0);
  }
  TempDir dir;
  try {
    load_config(dir.path, {}, fake_env());
    FAIL("no error");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()) ==
          dir.path.string() + ": cannot read the configuration file: it is a directory");
  }
}

TEST_CASE("ConfigError exposes its parts", "[config][errors]") {
  try {
    parse("worker:\n  concurrency: twenty\n");
    FAIL("no error");
  } catch (const ConfigError& e) {
    CHECK(e.file() == "t.yaml");
    CHECK(e.line() == 2);
    CHECK(e.column() == 16);
    CHECK(e.key() == "worker.concurrency");
    CHECK(e.message() == "expected a positive integer, got 'twenty'");
  }
  CHECK(std::string(ConfigError({}, "--url", "bad").what()) == "--url: bad");
  CHECK(std::string(ConfigError({"f.yaml", 0, 0}, "", "gone").what()) == "f.yaml: gone");
  CHECK(std::string(ConfigError({"f.yaml", 3, 4}, "k", "m").what()) == "f.yaml:3:4: k: m");
}

// ---------------------------------------------------------------------------------------------
// Faktory: URL, password, TLS

TEST_CASE("a bad faktory.url keeps its location", "[config][url][errors]") {
  CHECK(error_of("faktory:\n  url: http://x:7419\n") ==
        "t.yaml:2:8: faktory.url: Faktory URL 'http://x:7419': unknown scheme 'http': expected "
        "tcp:// or tcp+tls://");
  CHECK(error_of("faktory:\n  url: tcp://x:99999\n") ==
        "t.yaml:2:8: faktory.url: Faktory URL 'tcp://x:99999': port '99999' is out of range "
        "(1-65535)");
  // A password inside a bad URL is blanked out.
  const std::string e = error_of("faktory:\n  url: tcp://:hunter2@x:0\n");
  CHECK(e.rfind("t.yaml:2:8: faktory.url: ", 0) == 0);
  CHECK(e.find("hunter2") == std::string::npos);
}

TEST_CASE("URL precedence: flag > environment > file > default", "[config][url]") {
  const std::string yaml = "faktory:\n  url: tcp://from-file:1\n";
  const auto env = fake_env({{"FAKTORY_URL", "tcp://from-env:2"}});
  ConfigOverrides flag;
  flag.url = "tcp://from-flag:3";

  Config c = parse(yaml, flag, env);
  CHECK(c.faktory.url.host == "from-flag");
  CHECK(c.faktory.url_source == ValueSource::flag);
  CHECK(c.faktory.url_origin == "--url");

  c = parse(yaml, {}, env);
  CHECK(c.faktory.url.host == "from-env");
  CHECK(c.faktory.url_source == ValueSource::environment);
  CHECK(c.faktory.url_origin == "FAKTORY_URL");

  c = parse(yaml, {}, fake_env());
  CHECK(c.faktory.url.host == "from-file");
  CHECK(c.faktory.url_source == ValueSource::file);
  CHECK(c.faktory.url_origin == "faktory.url at t.yaml:2:8");

  c = parse("", {}, fake_env());
  CHECK(c.faktory.url.host == "localhost");
  CHECK(c.faktory.url_source == ValueSource::default_value);

  c = parse(yaml, {},
            fake_env({{"FAKTORY_PROVIDER", "MY_URL"},
                      {"MY_URL", "tcp://from-provider:4"},
                      {"FAKTORY_URL", "tcp://from-env:2"}}));
  CHECK(c.faktory.url.host == "from-provider");
  CHECK(c.faktory.url_origin == "MY_URL (named by FAKTORY_PROVIDER)");
}

TEST_CASE("URL errors from a flag or the environment name their origin", "[config][url]") {
  ConfigOverrides flag;
  flag.url = "http://x";
  CHECK(error_of("", flag) ==
        "--url: Faktory URL 'http://x': unknown scheme 'http': expected tcp:// or tcp+tls://");
  CHECK(error_of("", {}, fake_env({{"FAKTORY_URL", "tcp://x:abc"}})) ==
        "FAKTORY_URL: Faktory URL 'tcp://x:abc': port 'abc' is not a number");
  const std::string provider = error_of("", {}, fake_env({{"FAKTORY_PROVIDER", "NOPE"}}));
  CHECK(provider ==
        "FAKTORY_PROVIDER names the environment variable 'NOPE', which is not set or empty");
  // The flag wins over a broken environment, so --url is always a way out.
  CHECK(parse("", ConfigOverrides{"tcp://ok", {}, {}}, fake_env({{"FAKTORY_PROVIDER", "NOPE"}}))
            .faktory.url.host == "ok");
  // The file's URL is validated even when the environment overrides it.
  CHECK(error_of("faktory:\n  url: http://x\n", {}, fake_env({{"FAKTORY_URL", "tcp://ok"}}))
            .rfind("t.yaml:2:8: faktory.url: ", 0) == 0);
}

TEST_CASE("password and password_file", "[config][password]") {
  TempDir dir;
  const fs::path pw = dir.write("pw", "hunter2\n");
  Config c = parse_config("faktory:\n  password_file: pw\n", (dir.path / "factotum.yaml").string(),
                          {}, fake_env());
  CHECK(c.faktory.password == "hunter2");
  CHECK(c.faktory.password_source == PasswordSource::file);
  CHECK(c.faktory.password_file == pw);

  dir.write("pw-crlf", "hunter2\r\n");
  c = parse("faktory:\n  password_file: " + (dir.path / "pw-crlf").string() + "\n");
  CHECK(c.faktory.password == "hunter2");

  // systemd's LoadCredential= puts the file under $CREDENTIALS_DIRECTORY.
  c = parse("faktory:\n  password_file: ${CREDENTIALS_DIRECTORY}/pw\n", {},
            fake_env({{"CREDENTIALS_DIRECTORY", dir.path.string()}}));
  CHECK(c.faktory.password == "hunter2");
  CHECK(error_of("faktory:\n  password_file: $CREDENTIALS_DIRECTORY/pw\n") ==
        "t.yaml:2:18: faktory.password_file: $CREDENTIALS_DIRECTORY is not set (set "
        "LoadCredential= in the unit, or give a plain path)");

  c = parse("faktory:\n  password: \"12345\"\n");
  CHECK(c.faktory.password == "12345");
  CHECK(c.faktory.password_source == PasswordSource::config);

  c = parse("faktory:\n  url: tcp://:inurl@x\n");
  CHECK(c.faktory.password_source == PasswordSource::url);
  CHECK_FALSE(c.faktory.password.has_value());
}

TEST_CASE("password errors never show the password", "[config][password][errors]") {
  TempDir dir;
  dir.write("pw", "hunter2\n");
  dir.write("empty", "\n");
  const std::string both =
      "faktory:\n  password: hunter2\n  password_file: " + (dir.path / "pw").string() + "\n";
  CHECK(error_of(both) ==
        "t.yaml:3:18: faktory.password_file: set together with faktory.password (line 2); use "
        "only one");
  CHECK(error_of("faktory:\n  password_file: /nonexistent/pw\n") ==
        "t.yaml:2:18: faktory.password_file: cannot read '/nonexistent/pw': No such file or "
        "directory");
  CHECK(error_of("faktory:\n  password_file: " + (dir.path / "empty").string() + "\n") ==
        "t.yaml:2:18: faktory.password_file: '" + (dir.path / "empty").string() + "' is empty");
  CHECK(error_of("faktory:\n  password_file: " + dir.path.string() + "\n") ==
        "t.yaml:2:18: faktory.password_file: cannot read '" + dir.path.string() +
            "': it is a directory");
  CHECK(error_of("faktory:\n  password: \"\"\n") ==
        "t.yaml:2:13: faktory.password: is empty; remove the key for no password");
  CHECK(error_of("faktory:\n  password: [hunter2]\n") ==
        "t.yaml:2:13: faktory.password: expected a string, got a list");
  // A mistyped key next to a password: the message names keys, never values.
  const std::string typo = error_of("faktory:\n  password: hunter2\n  pasword: hunter2\n");
  CHECK(typo.find("hunter2") == std::string::npos);
  CHECK(typo.find("did you mean 'password'?") != std::string::npos);
}

TEST_CASE("TLS files must be readable, certificate and key together", "[config][tls]") {
  TempDir dir;
  const std::string cert = dir.write("c.pem", "C").string();
  const std::string key = dir.write("k.pem", "K").string();
  CHECK(error_of("faktory:\n  tls:\n    cert_file: " + cert + "\n") ==
        "t.yaml:3:16: faktory.tls.cert_file: set without faktory.tls.key_file; a client "
        "certificate needs its private key");
  CHECK(error_of("faktory:\n  tls:\n    key_file: " + key + "\n") ==
        "t.yaml:3:15: faktory.tls.key_file: set without faktory.tls.cert_file; a private key "
        "needs its client certificate");
  CHECK(error_of("faktory:\n  tls:\n    ca_file: /nonexistent/ca.pem\n") ==
        "t.yaml:3:14: faktory.tls.ca_file: cannot read '/nonexistent/ca.pem': No such file or "
        "directory");
  CHECK(error_of("faktory:\n  tls:\n    verify: maybe\n") ==
        "t.yaml:3:13: faktory.tls.verify: expected true or false, got 'maybe'");

  const Config c = parse("faktory:\n  url: tcp+tls://x\n  tls:\n    cert_file: " + cert +
                         "\n    key_file: " + key + "\n    verify: false\n");
  CHECK(c.faktory.tls.cert_file == cert);
  CHECK_FALSE(c.faktory.tls.verify);
  REQUIRE(c.warnings.size() == 1);
  CHECK(c.warnings[0] ==
        "t.yaml:6:13: faktory.tls.verify: false: the server's certificate is not checked; "
        "anyone on the network path can impersonate it");
}

TEST_CASE("TLS settings with a tcp:// URL are reported as unused", "[config][tls]") {
  const Config c = parse("faktory:\n  tls:\n    verify: true\n");
  REQUIRE(c.warnings.size() == 1);
  CHECK(c.warnings[0] ==
        "t.yaml:2:3: faktory.tls: set, but the Faktory URL tcp://localhost:7419 (default) does "
        "not use TLS; write tcp+tls:// to use it");
}

// ---------------------------------------------------------------------------------------------
// Flags

TEST_CASE("flags override the file and are validated like it", "[config][flags]") {
  ConfigOverrides flags;
  flags.log_level = "debug";
  flags.concurrency = "3";
  const Config c = parse("worker:\n  concurrency: 7\nlogging:\n  level: error\n", flags);
  CHECK(c.worker.concurrency == 3);
  CHECK(c.worker.concurrency_source == ValueSource::flag);
  CHECK(c.logging.level == LogLevel::debug);
  CHECK(c.logging.level_source == ValueSource::flag);

  CHECK(error_of("", ConfigOverrides{{}, "verbose", {}}) ==
        "--log-level: unknown log level 'verbose'; expected one of: error, warning, info, "
        "debug");
  CHECK(error_of("", ConfigOverrides{{}, {}, "many"}) ==
        "--concurrency: expected a positive integer, got 'many'");
  CHECK(error_of("", ConfigOverrides{{}, {}, "0"}) ==
        "--concurrency: expected a positive integer, got '0'");
  // The file is still validated under a flag that overrides the key.
  CHECK(error_of("worker:\n  concurrency: twenty\n", ConfigOverrides{{}, {}, "3"}) ==
        "t.yaml:2:16: worker.concurrency: expected a positive integer, got 'twenty'");
}

// ---------------------------------------------------------------------------------------------
// plugins.config → JSON

TEST_CASE("plugin settings become JSON with YAML 1.2 core typing", "[config][json]") {
  const Config c = parse(R"(
plugins:
  config:
    shell:
      zeta: 1
      alpha: -42
      big: 18446744073709551615
      huge: 123456789012345678901234567890
      hex: 0x1F
      float: 2.5
      exp: 1e3
      inf: .inf
      yes_word: yes
      t: true
      f: False
      n: null
      tilde: ~
      empty:
      quoted_number: "42"
      quoted_bool: 'true'
      quoted_null: "null"
      text: hello world
      list: [1, two, "3"]
      nested: {a: {b: [true]}}
      "quoted key": 1
      7: seven
    other:
)");
  CHECK(c.plugins.settings.at("shell").json ==
        R"({"zeta":1,"alpha":-42,"big":18446744073709551615,)"
        R"("huge":"123456789012345678901234567890","hex":31,"float":2.5E0,"exp":1E3,)"
        R"("inf":".inf","yes_word":"yes","t":true,"f":false,"n":null,"tilde":null,)"
        R"("empty":null,"quoted_number":"42","quoted_bool":"true","quoted_null":"null",)"
        R"("text":"hello world","list":[1,"two","3"],"nested":{"a":{"b":[true]}},)"
        R"("quoted key":1,"7":"seven"})");
  CHECK(c.plugins.settings.at("other").json == "{}");
}

TEST_CASE("plugin settings with a duplicate or complex key are errors", "[config][json]") {
  CHECK(error_of("plugins:\n  config:\n    shell:\n      a: 1\n      a: 2\n") ==
        "t.yaml:5:7: plugins.config.shell.a: duplicate key 'a' (first at line 4)");
  CHECK(error_of("plugins:\n  config:\n    shell:\n      ? [a]\n      : 1\n") ==
        "t.yaml:4:9: plugins.config.shell: a key must be a plain string, got a list");
}

// ---------------------------------------------------------------------------------------------
// Paths

TEST_CASE("relative plugin directories are resolved against the config file's directory",
          "[config][paths]") {
  const Config c = parse_config("plugins:\n  directories: [plugins, ../lib/p/, /abs/dir]\n",
                                "/etc/factotum/factotum.yaml", {}, fake_env());
  CHECK(c.plugins.directories ==
        std::vector<fs::path>{"/etc/factotum/plugins", "/etc/lib/p", "/abs/dir"});
}

// ---------------------------------------------------------------------------------------------
// describe()

TEST_CASE("describe() summarises without the password", "[config][describe]") {
  TempDir dir;
  dir.write("pw", "hunter2\n");
  const std::string yaml = "faktory:\n  url: tcp://:urlsecret@faktory:7419\n  password_file: " +
                           (dir.path / "pw").string() +
                           "\nworker:\n  queues: {critical: 3, default: 1}\n"
                           "jobtypes:\n  email: {timeout: 90s}\n"
                           "plugins:\n  config:\n    shell: {token: plugsecret}\n";
  const Config c = parse(yaml);
  const std::string text = describe(c);
  CHECK(text.find("hunter2") == std::string::npos);
  CHECK(text.find("urlsecret") == std::string::npos);
  CHECK(text.find("plugsecret") == std::string::npos);
  CHECK(text.find("tcp://:***@faktory:7419") != std::string::npos);
  CHECK(text.find("critical=3, default=1") != std::string::npos);
  CHECK(text.find("concurrency: 10") != std::string::npos);
  CHECK(text.find("email: timeout 90s") != std::string::npos);
  CHECK(text.find("/usr/lib/factotum/plugins") != std::string::npos);
  CHECK(text.find("password: set (from faktory.password_file") != std::string::npos);

  const Config d = parse("faktory:\n  password: hunter2\n");
  CHECK(describe(d).find("hunter2") == std::string::npos);
  try {
    parse("faktory:\n  password: hunter2\n  password_file: /nonexistent\n");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()).find("hunter2") == std::string::npos);
  }
}

// ---------------------------------------------------------------------------------------------
// did_you_mean

TEST_CASE("did_you_mean suggests close names only", "[config][did_you_mean]") {
  const std::vector<std::string> keys{"concurrency", "queues", "labels", "wid"};
  CHECK(did_you_mean("concurency", keys) == "concurrency");
  CHECK(did_you_mean("queus", keys) == "queues");
  CHECK(did_you_mean("Labels", keys) == "labels");
  CHECK(did_you_mean("wdi", keys) == "wid");
  CHECK_FALSE(did_you_mean("x", keys).has_value());
  CHECK_FALSE(did_you_mean("timeout", keys).has_value());
  CHECK(edit_distance("wroker", "worker") == 1);
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(edit_distance("", "abc") == 3);
}

// ---------------------------------------------------------------------------------------------
// The shipped files

TEST_CASE("config/factotum.yaml loads and gives the defaults", "[config][files]") {
  const Config c = load_config(kSourceDir / "config/factotum.yaml", {}, fake_env());
  const Config d = parse_config("", (kSourceDir / "config/factotum.yaml").string(), {}, fake_env());
  CHECK(describe(c) == describe(d));
  CHECK(c.worker.concurrency == 10);
  CHECK(c.worker.queues.size() == 1);
  CHECK(c.plugins.directories == d.plugins.directories);
  CHECK(c.warnings.empty());
}

TEST_CASE("config/factotum.yaml documents every key", "[config][files]") {
  std::ifstream in(kSourceDir / "config/factotum.yaml");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const char* key : {"faktory:",
                          "url:",
                          "password:",
                          "password_file:",
                          "tls:",
                          "ca_file:",
                          "cert_file:",
                          "key_file:",
                          "verify:",
                          "worker:",
                          "concurrency:",
                          "queues:",
                          "labels:",
                          "shutdown_timeout:",
                          "heartbeat_interval:",
                          "wid:",
                          "cpu_scheduling:",
                          "plugins:",
                          "directories:",
                          "strict_permissions:",
                          "fatal_errors:",
                          "config:",
                          "jobtypes:",
                          "timeout:",
                          "middleware:",
                          "logging:",
                          "level:",
                          "format:",
                          "metrics:",
                          "listen:"}) {
    INFO(key);
    CHECK(text.find(key) != std::string::npos);
  }
}

TEST_CASE("config/demo.yaml loads", "[config][files]") {
  const fs::path file = kSourceDir / "config/demo.yaml";
  const Config c = load_config(file, {}, fake_env());
  CHECK(c.plugins.directories ==
        std::vector<fs::path>{(kSourceDir / "build/default/plugins").lexically_normal()});
  CHECK(c.plugins.strict_permissions);
  CHECK(c.worker.concurrency == 5);
  CHECK(c.worker.queue_mode == QueueMode::weighted);
  CHECK(c.plugins.settings.count("shell") == 1);
  CHECK(c.plugins.settings.at("shell").json.find("/bin/echo") != std::string::npos);
  CHECK_FALSE(c.jobtypes.empty());
  CHECK(c.logging.level == LogLevel::debug);
  CHECK(c.warnings.empty());
}

// Found by tests/fuzz/fuzz_config_yaml: each was a hang, a crash or a broken message before.
TEST_CASE("YAML the fuzzer found is refused with one clear line", "[config][errors]") {
  SECTION("a comma where a document starts (yaml-cpp would loop until memory ran out)") {
    CHECK(error_of(",\n") == "t.yaml:1:1: invalid YAML: unexpected ','");
  }
  SECTION("an alias inside the node it names (a stack overflow)") {
    CHECK(error_of("plugins:\n  config:\n    shell: &x {b: *x}\n").find("nests deeper than 64") !=
          std::string::npos);
  }
  SECTION("aliases of aliases (a billion-fold expansion)") {
    std::string yaml = "plugins:\n  config:\n    shell:\n      a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1]\n";
    for (int i = 1; i < 9; ++i) {
      const std::string prev = "*a" + std::to_string(i - 1);
      yaml += "      a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + prev + ", " +
              prev + ", " + prev + ", " + prev + ", " + prev + ", " + prev + ", " + prev + ", " +
              prev + "]\n";
    }
    CHECK(error_of(yaml).find("plugin settings hold more than 100000 values") != std::string::npos);
  }
  SECTION("plugin settings that are not UTF-8 (no plugin could parse them as JSON)") {
    CHECK(error_of("plugins:\n  config:\n    shell:\n      a: \xff\n") ==
          "t.yaml:4:10: plugins.config.shell.a: is not valid UTF-8; plugin settings are handed "
          "to the plugin as JSON, which must be");
  }
  SECTION("a key holding a newline keeps the message on one line") {
    const std::string error = error_of("\"work\\ner\": 1\n");
    CHECK(error.find('\n') == std::string::npos);
    CHECK(error.find("work\\ner") != std::string::npos);
  }
}
