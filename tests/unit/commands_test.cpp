#include "faktory/commands.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace factotum::faktory;
namespace cmd = factotum::faktory::commands;
namespace json = boost::json;

namespace {

std::string refused(const Result<std::string>& r) {
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().is(errc::invalid_argument));
  return r.error().message;
}

Job sample_job(std::string jid = "06-ack-d7e79a43580d") {
  Job job;
  job.jid = std::move(jid);
  job.jobtype = "Ok";
  job.queue = "ackq";
  job.retry = 25;
  return job;
}

}  // namespace

TEST_CASE("PUSH writes the job with an explicit retry", "[commands]") {
  // Byte for byte what transcript 06 sent.
  CHECK(cmd::push(sample_job()).value() ==
        "PUSH {\"jid\":\"06-ack-d7e79a43580d\",\"jobtype\":\"Ok\",\"args\":[],\"queue\":\"ackq\","
        "\"retry\":25}\r\n");
  Job no_retry = sample_job();
  no_retry.retry.reset();
  CHECK(cmd::push(no_retry).value().find("\"retry\":25}") != std::string::npos);
}

TEST_CASE("PUSHB writes a JSON array of jobs, each with retry", "[commands]") {
  std::vector<Job> jobs{sample_job("aaaaaaaa"), sample_job("bbbbbbbb")};
  jobs[1].retry.reset();
  CHECK(
      cmd::pushb(jobs).value() ==
      "PUSHB "
      "[{\"jid\":\"aaaaaaaa\",\"jobtype\":\"Ok\",\"args\":[],\"queue\":\"ackq\",\"retry\":25},"
      "{\"jid\":\"bbbbbbbb\",\"jobtype\":\"Ok\",\"args\":[],\"queue\":\"ackq\",\"retry\":25}]\r\n");
  CHECK(refused(cmd::pushb({})) == "PUSHB needs at least one job");
}

TEST_CASE("FETCH lists the queues separated by single spaces", "[commands]") {
  const std::vector<std::string> queues{"critical", "default", "bulk"};
  CHECK(cmd::fetch(queues).value() == "FETCH critical default bulk\r\n");
  const std::vector<std::string> one{"ackq"};
  CHECK(cmd::fetch(one).value() == "FETCH ackq\r\n");
}

TEST_CASE("FETCH refuses an empty list and unsendable queue names", "[commands]") {
  CHECK(refused(cmd::fetch({})) == "FETCH needs at least one queue name");
  const std::vector<std::string> empty_name{"a", ""};
  CHECK(refused(cmd::fetch(empty_name)) == "FETCH: a queue name is empty");
  for (const char* bad : {"two words", "cr\rq", "lf\nq"}) {
    const std::vector<std::string> names{bad};
    CHECK(refused(cmd::fetch(names)).find("contains a space, CR or LF") != std::string::npos);
  }
  const std::vector<std::string> spaced{"two words"};
  CHECK(refused(cmd::fetch(spaced)) ==
        "FETCH: queue name 'two words' contains a space, CR or LF, which cannot be sent on a "
        "Faktory command line");
}

TEST_CASE("ACK sends the jid as a JSON string", "[commands]") {
  CHECK(cmd::ack("06-ack-d7e79a43580d").value() == "ACK {\"jid\":\"06-ack-d7e79a43580d\"}\r\n");
  CHECK(cmd::ack("12345678").value() == "ACK {\"jid\":\"12345678\"}\r\n");  // never a number
  CHECK(cmd::ack("we\"ird\n").value() == "ACK {\"jid\":\"we\\\"ird\\n\"}\r\n");
  CHECK(refused(cmd::ack("")) == "ACK needs a jid, got an empty one");
}

TEST_CASE("FAIL sends jid, errtype, message and a backtrace array", "[commands]") {
  cmd::FailArgs args;
  args.jid = "06-fail-6d662fa8aec5";
  args.errtype = "RuntimeError";
  args.message = "boom";
  args.backtrace = {"app.rb:10:in `perform'", "worker.rb:20:in `run'"};
  CHECK(cmd::fail(args).value() ==
        "FAIL {\"jid\":\"06-fail-6d662fa8aec5\",\"errtype\":\"RuntimeError\",\"message\":\"boom\","
        "\"backtrace\":[\"app.rb:10:in `perform'\",\"worker.rb:20:in `run'\"]}\r\n");
  args.backtrace.clear();
  args.message = "multi\nline";
  CHECK(cmd::fail(args).value() ==
        "FAIL {\"jid\":\"06-fail-6d662fa8aec5\",\"errtype\":\"RuntimeError\","
        "\"message\":\"multi\\nline\",\"backtrace\":[]}\r\n");
  args.jid.clear();
  CHECK(refused(cmd::fail(args)) == "FAIL needs a jid, got an empty one");
}

TEST_CASE("FAIL fields past what the server keeps are cut with a visible marker", "[commands]") {
  // Faktory keeps 100 bytes of errtype, 1000 of message, 50 backtrace lines, and drops the
  // rest silently (PROTOCOL.md §5).
  const std::string euro = "\xE2\x82\xAC";  // 3 bytes in UTF-8
  cmd::FailArgs args;
  args.jid = "0123456789abcdef";
  args.errtype = std::string(300, 'E');
  // 4978 bytes, a 3-byte character where a cut at 976 bytes (1000 less the marker) would fall.
  args.message = std::string(975, 'm') + euro + std::string(4000, 'm');
  for (int i = 0; i < 80; ++i) args.backtrace.push_back("frame " + std::to_string(i));
  auto sent = boost::json::parse(cmd::fail(args).value().substr(5));
  const auto& body = sent.as_object();
  const std::string errtype(body.at("errtype").as_string());
  const std::string message(body.at("message").as_string());
  const auto& backtrace = body.at("backtrace").as_array();
  CHECK(errtype.size() <= cmd::kFailErrtypeBytes);
  CHECK(errtype == std::string(97, 'E') + "\xE2\x80\xA6");
  CHECK(message.size() <= cmd::kFailMessageBytes);
  const std::string marker = "\xE2\x80\xA6 (truncated, 4.9 KiB)";
  CHECK(message.ends_with(marker));
  // The cut never splits the euro sign: it is left out whole.
  CHECK(message == std::string(975, 'm') + marker);
  REQUIRE(backtrace.size() == cmd::kFailBacktraceLines);
  CHECK(backtrace[48] == "frame 48");
  CHECK(backtrace[49] == "\xE2\x80\xA6 (31 more lines)");

  // What fits is sent as it is.
  args.errtype = std::string(100, 'E');
  args.message = std::string(1000, 'm');
  args.backtrace.resize(50);
  sent = boost::json::parse(cmd::fail(args).value().substr(5));
  CHECK(sent.at("errtype").as_string() == args.errtype);
  CHECK(sent.at("message").as_string() == args.message);
  CHECK(sent.at("backtrace").as_array().size() == 50);
}

TEST_CASE("BEAT sends the wid and optionally current_state and rss_kb", "[commands]") {
  CHECK(cmd::beat({"01-worker-wid", std::nullopt, std::nullopt}).value() ==
        "BEAT {\"wid\":\"01-worker-wid\"}\r\n");
  CHECK(cmd::beat({"w1", "quiet", 12345}).value() ==
        "BEAT {\"wid\":\"w1\",\"current_state\":\"quiet\",\"rss_kb\":12345}\r\n");
  CHECK(cmd::beat({"w1", "terminate", std::nullopt}).value() ==
        "BEAT {\"wid\":\"w1\",\"current_state\":\"terminate\"}\r\n");
}

TEST_CASE("BEAT refuses an empty wid and unknown states", "[commands]") {
  CHECK(refused(cmd::beat({"", std::nullopt, std::nullopt})) ==
        "BEAT needs the worker's wid (`BEAT {}` only earns '-ERR unknown worker')");
  CHECK(refused(cmd::beat({"w1", "running", std::nullopt})) ==
        "BEAT current_state must be \"quiet\" or \"terminate\", got 'running'");
}

TEST_CASE("INFO, FLUSH and END are bare verbs", "[commands]") {
  CHECK(cmd::info() == "INFO\r\n");
  CHECK(cmd::flush() == "FLUSH\r\n");
  CHECK(cmd::end() == "END\r\n");
}

TEST_CASE("QUEUE PAUSE, RESUME and REMOVE take names or '*'", "[commands]") {
  const std::vector<std::string> names{"adminq", "otherq"};
  const std::vector<std::string> all{"*"};
  CHECK(cmd::queue(cmd::QueueAction::pause, names).value() == "QUEUE PAUSE adminq otherq\r\n");
  CHECK(cmd::queue(cmd::QueueAction::resume, all).value() == "QUEUE RESUME *\r\n");
  CHECK(cmd::queue(cmd::QueueAction::remove, names).value() == "QUEUE REMOVE adminq otherq\r\n");
}

TEST_CASE("QUEUE refuses an empty list, bad names and '*' among names", "[commands]") {
  // PROTOCOL.md §0.13: QUEUE PAUSE with no names crashes a 1.9.x server.
  CHECK(refused(cmd::queue(cmd::QueueAction::pause, {})) ==
        "QUEUE PAUSE needs at least one queue name");
  CHECK(refused(cmd::queue(cmd::QueueAction::remove, {})) ==
        "QUEUE REMOVE needs at least one queue name");
  const std::vector<std::string> spaced{"a b"};
  CHECK(refused(cmd::queue(cmd::QueueAction::resume, spaced))
            .find("QUEUE RESUME: queue name 'a b'") == 0);
  const std::vector<std::string> mixed{"a", "*"};
  CHECK(refused(cmd::queue(cmd::QueueAction::remove, mixed)) ==
        "QUEUE REMOVE: '*' (every queue) must be the only name");
}

TEST_CASE("MUTATE JSON carries no space characters", "[commands]") {
  const json::object op{
      {"cmd", "requeue"}, {"target", "retries"}, {"filter", json::object{{"jobtype", "FailMe"}}}};
  CHECK(cmd::mutate(op).value() ==
        "MUTATE "
        "{\"cmd\":\"requeue\",\"target\":\"retries\",\"filter\":{\"jobtype\":\"FailMe\"}}\r\n");

  const json::object spaced{
      {"cmd", "kill"},
      {"target", "dead"},
      {"filter", json::object{{"regexp", "*a b*"}, {"jids", json::array{"x y"}}}}};
  const std::string line = cmd::mutate(spaced).value();
  CHECK(line ==
        "MUTATE {\"cmd\":\"kill\",\"target\":\"dead\",\"filter\":{\"regexp\":\"*a\\u0020b*\","
        "\"jids\":[\"x\\u0020y\"]}}\r\n");
  const std::string body = line.substr(7, line.size() - 9);
  CHECK(body.find(' ') == std::string::npos);
  CHECK(json::parse(body) == json::value(spaced));  // the escapes decode to the same JSON
  CHECK(refused(cmd::mutate({})) == "MUTATE needs an operation object, got {}");
}

TEST_CASE("no command can contain CR or LF before its final CRLF", "[commands]") {
  cmd::FailArgs args{"j\r\n1", "E\r\n", "m\r\n", {"b\r\n"}};
  std::vector<Job> jobs{Job::create("T\r\n", json::array{"\r\n"}, "q")};
  for (const auto& line :
       {cmd::fail(args).value(), cmd::ack("a\r\nb").value(),
        cmd::beat({"w\r\n", "quiet", 1}).value(), cmd::push(jobs[0]).value(),
        cmd::pushb(jobs).value(), cmd::mutate(json::object{{"cmd", "\r\n"}}).value()}) {
    INFO(line);
    CHECK(line.find_first_of("\r\n") == line.size() - 2);
  }
}
