// Log formats on stderr (DESIGN.md §6): JSON lines for machines; journald priority prefixes
// when stderr is the journal, timestamps and level names otherwise.
#include "daemon_fixture.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <csignal>
#include <optional>

using namespace factotum;
using namespace factotum::testing;

namespace {

struct TwoJobs {
  std::string ok_jid;     // an "ok" job, ACKed
  std::string throw_jid;  // a "throw" job, FAILed
  std::string stderr_text;
};

// Runs one job that succeeds and one that throws, then stops the daemon.
TwoJobs run_two_jobs(Daemon& daemon, const TestServer& server) {
  auto producer = producer_for(server);
  auto ok = job("ok");
  auto bad = job("throw", {"x"});
  REQUIRE(producer->push(ok));
  REQUIRE(producer->push(bad));
  REQUIRE(server.wait_for(
      [&](const TestServer::Stats&) {
        return server.ack_count(ok.jid) == 1 && server.fail_count(bad.jid) == 1;
      },
      kDeadline));
  daemon.process().signal(SIGTERM);
  REQUIRE(daemon.process().wait_exit(kDeadline) == 0);
  return {ok.jid, bad.jid, daemon.process().error_output()};
}

const boost::json::object* find_line(const std::vector<boost::json::object>& lines,
                                     std::string_view msg, std::string_view jid) {
  for (const auto& line : lines) {
    const auto* m = line.if_contains("msg");
    const auto* j = line.if_contains("jid");
    if (m && m->is_string() && m->get_string() == msg && j && j->is_string() &&
        j->get_string() == jid) {
      return &line;
    }
  }
  return nullptr;
}

std::string string_field(const boost::json::object& line, std::string_view key) {
  const auto* value = line.if_contains(key);
  return value && value->is_string() ? std::string(value->get_string()) : std::string();
}

// The line of `lines` that contains `text`, if any.
std::optional<std::string> line_with(const std::vector<std::string>& lines, std::string_view text) {
  for (const auto& line : lines) {
    if (line.find(text) != std::string::npos) return line;
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("logging format json writes every stderr line as a JSON object with time, level, msg") {
  TestServer server(quick_server_options());
  Daemon::Settings settings;
  settings.log_format = "json";
  Daemon daemon(server, settings);
  daemon.start();
  const auto [ok_jid, throw_jid, stderr_text] = run_two_jobs(daemon, server);
  INFO(stderr_text);

  std::vector<boost::json::object> lines;
  for (const auto& text : lines_of(stderr_text)) {
    INFO("line: " << text);
    boost::system::error_code ec;
    auto value = boost::json::parse(text, ec);
    REQUIRE(!ec);
    REQUIRE(value.is_object());
    const auto& obj = value.get_object();
    CHECK(!string_field(obj, "time").empty());
    const auto level = string_field(obj, "level");
    CHECK((level == "error" || level == "warning" || level == "info" || level == "debug"));
    CHECK(!string_field(obj, "msg").empty());
    lines.push_back(obj);
  }
  REQUIRE(lines.size() >= 6);
  CHECK(stderr_text.back() == '\n');  // no partial line left over

  // Job start and finish at debug with jid, jobtype and (at the finish) duration.
  const auto* started = find_line(lines, "job started", ok_jid);
  REQUIRE(started);
  CHECK(string_field(*started, "level") == "debug");
  CHECK(string_field(*started, "jobtype") == "ok");
  const auto* succeeded = find_line(lines, "job succeeded", ok_jid);
  REQUIRE(succeeded);
  CHECK(string_field(*succeeded, "level") == "debug");
  CHECK(string_field(*succeeded, "jobtype") == "ok");
  const auto duration = string_field(*succeeded, "duration");
  CHECK(duration.size() > 2);
  CHECK(duration.find_first_of("0123456789") == 0);

  // A failure at warning with jid, jobtype and the error.
  const auto* failed = find_line(lines, "job failed", throw_jid);
  REQUIRE(failed);
  CHECK(string_field(*failed, "level") == "warning");
  CHECK(string_field(*failed, "jobtype") == "throw");
  CHECK(string_field(*failed, "errtype") == "std::runtime_error");
  CHECK(string_field(*failed, "error") == "boom: [\"x\"]");
  CHECK(!string_field(*failed, "duration").empty());

  // A plugin's line from outside any job (its init) names the plugin and has no jid field.
  const auto from_init = std::find_if(lines.begin(), lines.end(), [](const auto& line) {
    return string_field(line, "msg") == "e2e_jobs initialised";
  });
  REQUIRE(from_init != lines.end());
  CHECK(string_field(*from_init, "plugin") == "e2e_jobs");
  CHECK_FALSE(from_init->contains("jid"));
}

TEST_CASE("with stderr on the journal, text lines carry syslog priority prefixes") {
  TestServer server(quick_server_options());
  Daemon::Settings settings;
  settings.stderr_mode = ChildProcess::Stderr::journal;
  Daemon daemon(server, settings);
  daemon.start();
  const auto [ok_jid, throw_jid, stderr_text] = run_two_jobs(daemon, server);
  INFO(stderr_text);

  const auto lines = lines_of(stderr_text);
  REQUIRE(lines.size() >= 6);
  for (const auto& line : lines) {
    INFO("line: " << line);
    // "<N>message": journald reads the priority and adds its own timestamp.
    REQUIRE(line.size() > 3);
    CHECK(line[0] == '<');
    CHECK((line[1] == '3' || line[1] == '4' || line[1] == '6' || line[1] == '7'));
    CHECK(line[2] == '>');
    CHECK(line[3] != ' ');
    CHECK(line.find("Z info ") == std::string::npos);
  }
  CHECK(line_with(lines, "<6>worker started").has_value());
  CHECK(line_with(lines, "<6>received SIGTERM").has_value());
  CHECK(line_with(lines, "<7>job started jid=" + ok_jid).has_value());
  CHECK(line_with(lines, "<7>job succeeded jid=" + ok_jid).has_value());
  CHECK(line_with(lines, "<4>job failed jid=" + throw_jid).has_value());
}

TEST_CASE("a JOURNAL_STREAM that is not stderr's leaves text lines with timestamp and level") {
  TestServer server(quick_server_options());
  Daemon::Settings settings;
  // A parent's journal stream, inherited by a process whose stderr was redirected elsewhere.
  settings.env = {"JOURNAL_STREAM=1:1"};
  Daemon daemon(server, settings);
  daemon.start();
  const auto [ok_jid, throw_jid, stderr_text] = run_two_jobs(daemon, server);
  INFO(stderr_text);

  const auto lines = lines_of(stderr_text);
  REQUIRE(lines.size() >= 6);
  for (const auto& line : lines) {
    INFO("line: " << line);
    // "2024-05-01T12:00:00.000Z info message"
    REQUIRE(line.size() > 25);
    CHECK(line[0] != '<');
    CHECK(line[4] == '-');
    CHECK(line[10] == 'T');
    CHECK(line[23] == 'Z');
  }
  const auto started = line_with(lines, "job started jid=" + ok_jid);
  REQUIRE(started);
  CHECK(started->find("Z debug job started jid=") != std::string::npos);
  const auto failed = line_with(lines, "job failed jid=" + throw_jid);
  REQUIRE(failed);
  CHECK(failed->find("Z warning job failed jid=") != std::string::npos);
  CHECK(line_with(lines, "Z info worker started").has_value());
  // A plugin's line from its init: no empty jid= field.
  const auto from_init = line_with(lines, "e2e_jobs initialised");
  REQUIRE(from_init);
  CHECK(from_init->ends_with("e2e_jobs initialised plugin=e2e_jobs"));
}
