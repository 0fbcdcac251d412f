// factotum ctl info and queue: what they print, and what the server does (or does not do).
#include "ctl_fixture.hpp"

#include <boost/json/parse.hpp>

#include <sstream>

using namespace factotum;
using namespace factotum::testing;

namespace {

void push_to(TestServer& server, const std::string& queue, int count = 1) {
  for (int i = 0; i < count; ++i) {
    server.push_job(job("ping", {}, queue).serialize());
  }
}

// A FETCH from `queue` alone: does the server hand out a job (it keeps it: ACKed at once)?
bool fetches_a_job(const TestServer& server, const std::string& queue) {
  auto client = producer_for(server);
  const std::vector<std::string> queues{queue};
  auto fetched = client->fetch(queues);
  REQUIRE(fetched);
  if (!fetched->has_value()) return false;
  REQUIRE(client->ack((*fetched)->jid));
  return true;
}

// The whitespace-separated words of the line of `text` that starts with `first`.
std::vector<std::string> row_of(const std::string& text, const std::string& first) {
  for (const auto& line : lines_of(text)) {
    std::istringstream in(line);
    std::vector<std::string> words;
    for (std::string word; in >> word;) words.push_back(word);
    if (!words.empty() && words.front() == first) return words;
  }
  return {};
}

}  // namespace

TEST_CASE("ctl info prints the server, its totals and sets, and each queue with its size") {
  TestServer server(quick_server_options());
  push_to(server, "critical", 2);
  push_to(server, "bulk");
  const auto run = run_ctl(server, {"info"});
  INFO(run.out << run.err);
  REQUIRE(run.status == 0);
  CHECK(run.out.rfind("Faktory 1.9.4 at " + server.url() + ", up ", 0) == 0);
  CHECK(row_of(run.out, "jobs") ==
        std::vector<std::string>{"jobs", "processed", "0", "failures", "0", "enqueued", "3"});
  CHECK(row_of(run.out, "sets") == std::vector<std::string>{"sets", "scheduled", "0", "retries",
                                                            "0", "dead", "0", "working", "0"});
  CHECK(row_of(run.out, "QUEUE") == std::vector<std::string>{"QUEUE", "SIZE"});
  CHECK(row_of(run.out, "critical") == std::vector<std::string>{"critical", "2"});
  CHECK(row_of(run.out, "bulk") == std::vector<std::string>{"bulk", "1"});
}

TEST_CASE("ctl info --json prints the server's INFO as one line of JSON") {
  TestServer server(quick_server_options());
  push_to(server, "critical", 2);
  const auto run = run_ctl(server, {"info", "--json"});
  REQUIRE(run.status == 0);
  CHECK(count_of(run.out, "\n") == 1);
  const auto info = boost::json::parse(run.out).as_object();
  CHECK(info.at("faktory").at("queues").at("critical") == 2);
  CHECK(info.at("server").at("faktory_version") == "1.9.4");
}

TEST_CASE("ctl queue pause keeps the queue's jobs from workers until ctl queue resume") {
  TestServer server(quick_server_options());
  push_to(server, "mail", 2);
  const auto paused = run_ctl(server, {"queue", "pause", "mail"});
  REQUIRE(paused.status == 0);
  CHECK(paused.out == "paused: mail\n");
  CHECK(!fetches_a_job(server, "mail"));
  const auto resumed = run_ctl(server, {"queue", "resume", "mail"});
  REQUIRE(resumed.status == 0);
  CHECK(resumed.out == "resumed: mail\n");
  CHECK(fetches_a_job(server, "mail"));
}

TEST_CASE("ctl queue pause '*' pauses every queue the server has") {
  TestServer server(quick_server_options());
  push_to(server, "a");
  push_to(server, "b");
  const auto run = run_ctl(server, {"queue", "pause", "*"});
  REQUIRE(run.status == 0);
  CHECK(run.out == "paused every queue: a, b\n");
  CHECK(!fetches_a_job(server, "a"));
  CHECK(!fetches_a_job(server, "b"));
}

TEST_CASE("ctl queue remove deletes the queue with its jobs, and says how many") {
  TestServer server(quick_server_options());
  push_to(server, "old", 2);
  push_to(server, "kept");
  const auto run = run_ctl(server, {"queue", "remove", "old"});
  REQUIRE(run.status == 0);
  CHECK(run.out == "removed: old (2 jobs)\n");
  const auto queues = server.stats().queues;
  CHECK(queues.count("old") == 0);
  CHECK(queues.at("kept") == 1);
}

TEST_CASE("ctl queue on a queue the server does not know exits 1 naming it, acts on the rest") {
  TestServer server(quick_server_options());
  push_to(server, "mail");
  const auto run = run_ctl(server, {"queue", "pause", "mail", "nosuchq"});
  CHECK(run.status == 1);
  CHECK(run.out == "paused: mail\n");
  check_error_line(run, {"no queue 'nosuchq' on the server", "nothing to pause"});
  CHECK(!fetches_a_job(server, "mail"));
}

TEST_CASE("ctl queue resume '*' resumes every queue the server has") {
  TestServer server(quick_server_options());
  push_to(server, "a");
  push_to(server, "b");
  REQUIRE(run_ctl(server, {"queue", "pause", "*"}).status == 0);
  const auto run = run_ctl(server, {"queue", "resume", "*"});
  REQUIRE(run.status == 0);
  CHECK(run.out == "resumed every queue: a, b\n");
  CHECK(fetches_a_job(server, "a"));
  CHECK(fetches_a_job(server, "b"));
}

TEST_CASE("ctl queue remove '*' without --yes exits 64 and sends nothing, with --yes removes all") {
  TestServer server(quick_server_options());
  push_to(server, "a", 2);
  push_to(server, "b");
  const auto refused = run_ctl(server, {"queue", "remove", "*"});
  CHECK(refused.status == 64);
  check_error_line(refused, {"deletes every queue and all their jobs", "--yes"});
  CHECK(server.command_log().empty());
  CHECK(server.stats().queues.size() == 2);
  const auto run = run_ctl(server, {"queue", "remove", "*", "--yes"});
  REQUIRE(run.status == 0);
  CHECK(run.out == "removed every queue: a (2 jobs), b (1 job)\n");
  CHECK(server.stats().queues.empty());
}
