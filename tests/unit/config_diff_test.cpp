// describe_changes() (config/config_diff.hpp): what a reload logs about the settings it changes,
// one line each, and never a password or a plugin's settings.
#include "config/config_diff.hpp"
#include "config/config.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

using namespace factotum::config;
using namespace std::chrono_literals;
using Lines = std::vector<std::string>;

namespace {

factotum::faktory::ServerUrl url(std::string_view text) {
  return factotum::faktory::parse_url(text).value();
}

// The configuration a YAML text gives, with no flags and an empty environment.
Config parse(std::string_view yaml) {
  return parse_config(yaml, "t.yaml", {}, [](const std::string&) -> std::optional<std::string> {
    return std::nullopt;
  });
}

JobtypeOptions timeout(std::chrono::milliseconds t) {
  JobtypeOptions options;
  options.timeout = t;
  return options;
}

PluginSettings settings(std::string json) {
  return PluginSettings{std::move(json), {}};
}

// Whether `text` appears in any line.
bool mentions(const Lines& lines, std::string_view text) {
  for (const std::string& line : lines) {
    if (line.find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("two equal configurations have no changes", "[config][diff]") {
  CHECK(describe_changes(Config{}, Config{}).empty());
  const std::string yaml =
      "worker:\n  queues: {critical: 3, default: 1}\n  labels: [a]\n"
      "jobtypes:\n  email: {timeout: 30s}\n"
      "plugins:\n  config:\n    shell: {token: abc}\n"
      "middleware: [a, b]\nmetrics:\n  listen: 127.0.0.1:9100\n";
  CHECK(describe_changes(parse(yaml), parse(yaml)).empty());
}

TEST_CASE("where a value came from and where it was written are not changes", "[config][diff]") {
  const Config before = parse("worker:\n  concurrency: 10\nplugins:\n  config:\n    shell: {}\n");
  const Config after = parse(
      "# moved down a line\n"
      "plugins:\n  config:\n    shell: {}\nworker:\n  concurrency: 10\n");
  CHECK(describe_changes(before, after).empty());

  Config from_flag = before;
  from_flag.worker.concurrency_source = ValueSource::flag;
  from_flag.faktory.url_origin = "--url";
  from_flag.warnings.push_back("t.yaml:1:1: faktory.tls: set, but ...");
  CHECK(describe_changes(before, from_flag).empty());
}

TEST_CASE("worker settings: one line each, old value then new", "[config][diff]") {
  const Config before;
  Config after = before;
  after.worker.concurrency = 20;
  after.worker.shutdown_timeout = 40s;
  after.worker.heartbeat_interval = 10s;
  after.worker.labels = {"a", "b"};
  after.worker.wid = "worker-7";
  after.worker.cpu_scheduling = CpuScheduling::normal;
  CHECK(describe_changes(before, after) == Lines{
                                               "worker.concurrency: 10 → 20",
                                               "worker.labels: [] → [a, b]",
                                               "worker.shutdown_timeout: 25s → 40s",
                                               "worker.heartbeat_interval: 15s → 10s",
                                               "worker.wid: (generated) → worker-7",
                                               "worker.cpu_scheduling: batch → normal",
                                           });
  Config one_label = before;
  one_label.worker.labels = {"a"};
  Config two_labels = before;
  two_labels.worker.labels = {"a", "b"};
  CHECK(describe_changes(one_label, two_labels) == Lines{"worker.labels: [a] → [a, b]"});
  Config named = before;
  named.worker.wid = "worker-7";
  CHECK(describe_changes(named, before) == Lines{"worker.wid: worker-7 → (generated)"});
}

TEST_CASE("the network timeout is a change of the faktory section", "[config][diff]") {
  const Config before;
  Config after = before;
  after.faktory.timeout = 1500ms;
  CHECK(describe_changes(before, after) == Lines{"faktory.timeout: 5s → 1500ms"});
}

TEST_CASE("queues are shown as written: a list in strict order, a map with weights",
          "[config][diff]") {
  const Config strict = parse("worker:\n  queues: [critical, default]\n");
  const Config longer = parse("worker:\n  queues: [critical, default, low]\n");
  const Config reordered = parse("worker:\n  queues: [default, critical]\n");
  const Config weighted = parse("worker:\n  queues: {a: 3, b: 1}\n");
  const Config reweighted = parse("worker:\n  queues: {a: 1, b: 1}\n");
  CHECK(describe_changes(strict, longer) ==
        Lines{"worker.queues: [critical, default] → [critical, default, low]"});
  CHECK(describe_changes(strict, reordered) ==
        Lines{"worker.queues: [critical, default] → [default, critical]"});
  CHECK(describe_changes(weighted, reweighted) ==
        Lines{"worker.queues: {a: 3, b: 1} → {a: 1, b: 1}"});
  CHECK(describe_changes(strict, weighted) ==
        Lines{"worker.queues: [critical, default] → {a: 3, b: 1}"});
  // The same names as a list and as a map of weight 1 fetch differently (fixed order vs
  // shuffled): a change.
  const Config same_names = parse("worker:\n  queues: {critical: 1, default: 1}\n");
  CHECK(describe_changes(strict, same_names) ==
        Lines{"worker.queues: [critical, default] → {critical: 1, default: 1}"});
}

TEST_CASE("the Faktory URL is only ever shown redacted", "[config][diff]") {
  Config before;
  before.faktory.url = url("tcp://a:7419");
  Config after = before;
  after.faktory.url = url("tcp+tls://b:7419");
  CHECK(describe_changes(before, after) == Lines{"faktory.url: tcp://a:7419 → tcp+tls://b:7419"});

  Config with_password = before;
  with_password.faktory.url = url("tcp://:urlsecret@a:7419");
  const Lines lines = describe_changes(before, with_password);
  CHECK(lines == Lines{"faktory.url: tcp://a:7419 → tcp://:***@a:7419", "faktory.password: set"});
  CHECK_FALSE(mentions(lines, "urlsecret"));
}

TEST_CASE("a password is reported as set, changed or removed, never shown", "[config][diff]") {
  Config none;
  Config one = none;
  one.faktory.password = "hunter2";
  one.faktory.password_source = PasswordSource::config;
  Config other = one;
  other.faktory.password = "correct horse";

  CHECK(describe_changes(none, one) == Lines{"faktory.password: set"});
  CHECK(describe_changes(one, other) == Lines{"faktory.password: changed"});
  CHECK(describe_changes(other, none) == Lines{"faktory.password: removed"});
  CHECK(describe_changes(one, one).empty());

  SECTION("the URL's password counts only when faktory.password does not override it") {
    Config url_one = none;
    url_one.faktory.url = url("tcp://:hunter2@localhost:7419");
    Config url_other = none;
    url_other.faktory.url = url("tcp://:swordfish@localhost:7419");
    CHECK(describe_changes(url_one, url_other) == Lines{"faktory.password: changed"});
    Config overridden_one = url_one;
    overridden_one.faktory.password = "same";
    Config overridden_other = url_other;
    overridden_other.faktory.password = "same";
    CHECK(describe_changes(overridden_one, overridden_other).empty());
  }
  SECTION("a new password file is named, its contents are not") {
    Config from_file = one;
    from_file.faktory.password = "s3cret-from-file";
    from_file.faktory.password_source = PasswordSource::file;
    from_file.faktory.password_file = "/run/credentials/factotum/password";
    const Lines lines = describe_changes(one, from_file);
    CHECK(lines == Lines{"faktory.password: changed",
                         "faktory.password_file: (none) → /run/credentials/factotum/password"});
    CHECK_FALSE(mentions(lines, "s3cret"));
    CHECK_FALSE(mentions(lines, "hunter2"));
  }
}

TEST_CASE("TLS files and verification", "[config][diff]") {
  Config before;
  before.faktory.tls.ca_file = "/a";
  Config after = before;
  after.faktory.tls.ca_file = "/b";
  after.faktory.tls.cert_file = "/etc/factotum/client.pem";
  after.faktory.tls.key_file = "/etc/factotum/client.key";
  after.faktory.tls.verify = false;
  CHECK(describe_changes(before, after) ==
        Lines{"faktory.tls.ca_file: /a → /b",
              "faktory.tls.cert_file: (none) → /etc/factotum/client.pem",
              "faktory.tls.key_file: (none) → /etc/factotum/client.key",
              "faktory.tls.verify: true → false"});
}

TEST_CASE("plugin directories and switches", "[config][diff]") {
  const Config before;
  Config after = before;
  after.plugins.directories = {"/opt/factotum/plugins"};
  after.plugins.strict_permissions = false;
  after.plugins.fatal_errors = true;
  CHECK(describe_changes(before, after) ==
        Lines{"plugins.directories: [/usr/lib/factotum/plugins, /usr/local/lib/factotum/plugins] "
              "→ [/opt/factotum/plugins]",
              "plugins.strict_permissions: true → false", "plugins.fatal_errors: false → true"});
}

TEST_CASE("plugin settings are reported added, changed or removed, in name order, never shown",
          "[config][diff]") {
  Config before;
  before.plugins.settings.emplace("http", settings(R"({"token":"plugsecret-1"})"));
  before.plugins.settings.emplace("shell", settings(R"({"path":"/bin/echo"})"));
  before.plugins.settings.emplace("mail", settings(R"({"password":"plugsecret-2"})"));
  Config after;
  after.plugins.settings.emplace("shell", settings(R"({"path":"/bin/echo"})"));
  after.plugins.settings.emplace("http", settings(R"({"token":"plugsecret-3"})"));
  after.plugins.settings.emplace("archive", settings(R"({"key":"plugsecret-4"})"));
  const Lines lines = describe_changes(before, after);
  CHECK(lines == Lines{"plugins.config.archive: added", "plugins.config.http: changed",
                       "plugins.config.mail: removed"});
  CHECK_FALSE(mentions(lines, "plugsecret"));
  CHECK_FALSE(mentions(lines, "/bin/echo"));
}

TEST_CASE("jobtype timeouts, set, changed and removed, in name order", "[config][diff]") {
  Config before;
  before.jobtypes.emplace("email", timeout(30s));
  before.jobtypes.emplace("report", timeout(5min));
  before.jobtypes.emplace("resize", JobtypeOptions{});  // listed without a timeout
  Config after;
  after.jobtypes.emplace("email", timeout(1min));
  after.jobtypes.emplace("resize", timeout(1500ms));
  after.jobtypes.emplace("archive", timeout(30s));
  after.jobtypes.emplace("noop", JobtypeOptions{});  // no timeout before or after: no line
  CHECK(describe_changes(before, after) == Lines{
                                               "jobtypes.archive.timeout: (none) → 30s",
                                               "jobtypes.email.timeout: 30s → 1m",
                                               "jobtypes.report.timeout: 5m → (none)",
                                               "jobtypes.resize.timeout: (none) → 1500ms",
                                           });
}

TEST_CASE("middleware order, logging and metrics", "[config][diff]") {
  const Config before = parse("middleware: [a, b]\n");
  const Config after = parse(
      "middleware: [b, a]\nlogging:\n  level: debug\n  format: json\n"
      "metrics:\n  listen: 127.0.0.1:9100\n");
  CHECK(describe_changes(before, after) == Lines{
                                               "middleware: [a, b] → [b, a]",
                                               "logging.level: info → debug",
                                               "logging.format: text → json",
                                               "metrics.listen: off → 127.0.0.1:9100",
                                           });
  CHECK(describe_changes(Config{}, before) ==
        Lines{"middleware: (the order plugins registered them) → [a, b]"});
  const Config moved = parse("metrics:\n  listen: \"[::1]:9100\"\n");
  CHECK(describe_changes(after, moved).back() == "metrics.listen: 127.0.0.1:9100 → [::1]:9100");
  const Config sizes = parse("metrics:\n  listen: \"[::1]:9100\"\n  queue_sizes: true\n");
  CHECK(describe_changes(moved, sizes) == Lines{"metrics.queue_sizes: false → true"});
}

TEST_CASE("every change at once comes in the order of the settings", "[config][diff]") {
  const Config before = parse("");
  const Config after = parse(
      "metrics:\n  listen: 0.0.0.0:9100\n"
      "logging:\n  format: json\n"
      "middleware: [m]\n"
      "jobtypes:\n  email: {timeout: 30s}\n"
      "plugins:\n  fatal_errors: true\n  config:\n    shell: {token: plugsecret}\n"
      "worker:\n  wid: w1\n  concurrency: 3\n"
      "faktory:\n  url: tcp://:urlsecret@faktory:7419\n  password: hunter2\n");
  const Lines lines = describe_changes(before, after);
  CHECK(lines == Lines{
                     "faktory.url: tcp://localhost:7419 → tcp://:***@faktory:7419",
                     "faktory.password: set",
                     "worker.concurrency: 10 → 3",
                     "worker.wid: (generated) → w1",
                     "plugins.fatal_errors: false → true",
                     "plugins.config.shell: added",
                     "jobtypes.email.timeout: (none) → 30s",
                     "middleware: (the order plugins registered them) → [m]",
                     "logging.format: text → json",
                     "metrics.listen: off → 0.0.0.0:9100",
                 });
  for (const char* secret : {"hunter2", "urlsecret", "plugsecret"}) {
    INFO(secret);
    CHECK_FALSE(mentions(lines, secret));
    CHECK_FALSE(mentions(describe_changes(after, before), secret));
  }
}
