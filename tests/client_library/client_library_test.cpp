// libfactotum-faktory through its public API only (the headers a producer includes, the shared
// library it links), against the in-repo test server. What the server holds afterwards is read
// from the server itself (job_fates(), its queues, what a FETCH returns), never from the client.
#include <factotum/faktory.hpp>

#include "catch_result.hpp"
#include "library_test_support.hpp"

#include "faktory/blocking_client.hpp"
#include "faktory/url.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <set>
#include <thread>

using factotum::testing::TestServer;
using factotum::testing::TestServerOptions;
namespace json = boost::json;
using library_test::fate;
using library_test::quick_server;
namespace internal = factotum::faktory;

namespace {

faktory::Options options_for(const TestServer& server) {
  return faktory::Options().url(server.url());
}

// The test's own connection to the server, to look at jobs as a worker would see them.
std::unique_ptr<internal::BlockingClient> worker_for(const TestServer& server) {
  auto worker = std::make_unique<internal::BlockingClient>(
      internal::ClientOptions::for_url(internal::parse_url(server.url()).value()));
  REQUIRE(worker->connect());
  return worker;
}

// The next job of a queue as the server hands it out (nullopt: none within the FETCH block).
std::optional<json::object> fetch_from(const std::unique_ptr<internal::BlockingClient>& worker,
                                       const std::string& q) {
  const std::vector<std::string> queues{q};
  auto payload = worker->fetch_raw(queues);
  REQUIRE(payload);
  if (!payload->has_value()) return std::nullopt;
  return json::parse(**payload).as_object();
}

}  // namespace

TEST_CASE("a pushed job reaches the server with every field the builder set") {
  TestServer server(quick_server());
  faktory::Client client(options_for(server));
  const auto at = std::chrono::system_clock::now() + std::chrono::hours(1);
  auto job = faktory::Job("send_email")
                 .args("bob@example.com", 3, 2.5, true, faktory::RawJson{R"({"k":[1,null]})"})
                 .queue("mail")
                 .retry(7)
                 .reserve_for(std::chrono::seconds(600))
                 .backtrace(12)
                 .custom_json(R"({"unique_for":600,"trace":"t-1"})");
  REQUIRE(client.push(job));
  auto scheduled = faktory::Job("later").at(at);
  REQUIRE(client.push(scheduled));

  auto worker = worker_for(server);
  const auto fetched = fetch_from(worker, "mail");
  REQUIRE(fetched);
  const json::object& got = *fetched;
  CHECK(got.at("jid").as_string() == job.jid());
  CHECK(job.jid().size() == 24);
  CHECK(got.at("jobtype").as_string() == "send_email");
  CHECK(json::serialize(got.at("args")) == R"(["bob@example.com",3,2.5E0,true,{"k":[1,null]}])");
  CHECK(got.at("queue").as_string() == "mail");
  CHECK(got.at("retry").as_int64() == 7);
  CHECK(got.at("reserve_for").as_int64() == 600);
  CHECK(got.at("backtrace").as_int64() == 12);
  CHECK(got.at("custom").as_object().at("unique_for").as_int64() == 600);
  CHECK(got.at("custom").as_object().at("trace").as_string() == "t-1");

  CHECK(fate(server, scheduled.jid()) == "scheduled");
  const auto held = json::parse(server.scheduled_jobs().at(0)).as_object();
  const std::string when(held.at("at").as_string());
  // Millisecond RFC 3339 in UTC, and the instant asked for.
  REQUIRE(when.size() == 24);
  CHECK(when.back() == 'Z');
  std::tm tm{};
  REQUIRE(strptime(when.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) != nullptr);
  const auto seconds = std::chrono::system_clock::from_time_t(timegm(&tm));
  CHECK(std::chrono::floor<std::chrono::seconds>(at) == seconds);
}

TEST_CASE("push_bulk enqueues every job in one command") {
  TestServer server(quick_server());
  faktory::Client client(options_for(server));
  std::vector<faktory::Job> jobs;
  for (int i = 0; i < 5; ++i) jobs.push_back(faktory::Job("bulk").args(i).queue("bulkq"));
  auto refused = client.push_bulk(jobs);
  REQUIRE(refused);
  CHECK(refused->empty());
  for (const auto& job : jobs) CHECK(fate(server, job.jid()) == "queued");
  std::size_t pushb = 0;
  for (const auto& command : server.command_log()) pushb += command.verb == "PUSHB" ? 1U : 0U;
  CHECK(pushb == 1);
}

TEST_CASE("a job the server would refuse is not sent, and the error says why") {
  TestServer server(quick_server());
  faktory::Client client(options_for(server));

  auto bad_args = client.push(faktory::Job("x").args_json(R"(["a", {"b": ]])"));
  REQUIRE_FALSE(bad_args);
  CHECK(bad_args.error().code == faktory::ErrorCode::invalid_argument);
  CHECK(bad_args.error().message.find("args is not valid JSON (at byte 13") == 0);

  auto not_array = client.push(faktory::Job("x").args_json(R"({"a":1})"));
  REQUIRE_FALSE(not_array);
  CHECK(not_array.error().message == "args is not a JSON array");

  auto bad_custom = client.push(faktory::Job("x").custom_json("[1]"));
  REQUIRE_FALSE(bad_custom);
  CHECK(bad_custom.error().message == "custom is not a JSON object");

  auto infinite = client.push(faktory::Job("x").args(1.0 / 0.0));
  REQUIRE_FALSE(infinite);
  CHECK(infinite.error().code == faktory::ErrorCode::invalid_argument);

  auto huge = client.push(faktory::Job("x").args_json("[1e400]"));  // infinite as a double
  REQUIRE_FALSE(huge);
  CHECK(huge.error().code == faktory::ErrorCode::invalid_job);

  std::string deep(1001, '[');
  deep += std::string(1001, ']');
  auto too_deep = client.push(faktory::Job("x").args_json(deep));
  REQUIRE_FALSE(too_deep);
  CHECK(too_deep.error().code == faktory::ErrorCode::invalid_argument);

  auto long_reservation = client.push(faktory::Job("x").reserve_for(std::chrono::hours(25)));
  REQUIRE_FALSE(long_reservation);
  CHECK(long_reservation.error().code == faktory::ErrorCode::invalid_job);

  std::vector<faktory::Job> jobs{faktory::Job("ok"), faktory::Job("x").jid("short")};
  auto bulk = client.push_bulk(jobs);
  REQUIRE_FALSE(bulk);
  CHECK(bulk.error().message.find("job short: ") == 0);

  CHECK(server.pushed_jids().empty());
  for (const auto& command : server.command_log()) CHECK(command.verb != "PUSHB");
}

TEST_CASE("info reads the server's figures") {
  TestServer server(quick_server());
  faktory::Client client(options_for(server));
  REQUIRE(client.push(faktory::Job("a").queue("q1")));
  REQUIRE(client.push(faktory::Job("a").queue("q1")));
  REQUIRE(client.push(faktory::Job("a").queue("q2")));
  auto info = client.info();
  REQUIRE(info);
  CHECK(info->total_enqueued() == 3);
  CHECK(info->total_processed() == 0);
  CHECK(info->set_size("scheduled") == 0);
  CHECK(info->set_size("nonsense") == -1);
  CHECK_FALSE(info->server_version().empty());
  const auto queues = info->queues();
  CHECK(queues == std::vector<std::pair<std::string, std::int64_t>>{{"q1", 2}, {"q2", 1}});
  CHECK(json::parse(info->json()).at("faktory").at("total_enqueued").to_number<int>() == 3);
}

TEST_CASE("queue pause, resume and remove act on the server's queues") {
  TestServer server(quick_server());
  faktory::Client client(options_for(server));
  auto job = faktory::Job("a").queue("held");
  REQUIRE(client.push(job));
  REQUIRE(client.queue_pause({"held"}));
  auto worker = worker_for(server);
  CHECK_FALSE(fetch_from(worker, "held"));  // paused: the FETCH finds nothing
  REQUIRE(client.queue_resume({"held"}));
  const auto fetched = fetch_from(worker, "held");
  REQUIRE(fetched);
  CHECK(fetched->at("jid").as_string() == job.jid());

  auto doomed = faktory::Job("a").queue("doomed");
  REQUIRE(client.push(doomed));
  REQUIRE(client.queue_remove({"doomed"}));
  CHECK(fate(server, doomed.jid()) == "absent");

  auto bad = client.queue_pause({"two words"});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == faktory::ErrorCode::invalid_argument);
}

TEST_CASE("mutate kills, requeues and discards the jobs its filter selects") {
  TestServer server(quick_server());
  faktory::Client client(options_for(server));
  auto worker = worker_for(server);

  // A job in the retry set: pushed with one retry, fetched and FAILed.
  auto failing = faktory::Job("flaky").queue("m").retry(1);
  REQUIRE(client.push(failing));
  REQUIRE(fetch_from(worker, "m"));
  internal::commands::FailArgs failure;
  failure.jid = failing.jid();
  failure.message = "boom";
  REQUIRE(worker->fail(failure));
  REQUIRE(fate(server, failing.jid()) == "retry");

  // A filter that matches nothing changes nothing.
  REQUIRE(client.mutate(faktory::Mutation::kill, faktory::Target::retries,
                        faktory::Filter().jobtype("no_such_jobtype")));
  CHECK(fate(server, failing.jid()) == "retry");

  REQUIRE(client.mutate(faktory::Mutation::kill, faktory::Target::retries,
                        faktory::Filter().jobtype("flaky")));
  CHECK(fate(server, failing.jid()) == "dead");

  REQUIRE(client.mutate(faktory::Mutation::requeue, faktory::Target::dead,
                        faktory::Filter().jids({failing.jid()})));
  CHECK(fate(server, failing.jid()) == "queued");

  auto later = faktory::Job("later").at(std::chrono::system_clock::now() + std::chrono::hours(1));
  auto kept = faktory::Job("later").at(std::chrono::system_clock::now() + std::chrono::hours(1));
  REQUIRE(client.push(later));
  REQUIRE(client.push(kept));
  REQUIRE(client.mutate(faktory::Mutation::discard, faktory::Target::scheduled,
                        faktory::Filter().regexp("*" + later.jid() + "*")));
  CHECK(fate(server, later.jid()) == "absent");
  CHECK(fate(server, kept.jid()) == "scheduled");

  // And the line on the wire is the one the protocol asks for.
  std::vector<std::string> mutates;
  for (const auto& command : server.command_log()) {
    if (command.verb == "MUTATE") mutates.push_back(command.line);
  }
  REQUIRE(mutates.size() == 4);
  CHECK(mutates[1] == R"(MUTATE {"cmd":"kill","target":"retries","filter":{"jobtype":"flaky"}})");
}

TEST_CASE("errors carry what went wrong: no server, a bad URL, a refused password") {
  std::uint16_t closed_port = 0;
  {
    TestServer gone;
    closed_port = gone.port();
  }
  faktory::Client nowhere(faktory::Options()
                              .url("tcp://127.0.0.1:" + std::to_string(closed_port))
                              .timeout(std::chrono::seconds(5)));
  auto refused = nowhere.push(faktory::Job("a"));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == faktory::ErrorCode::not_connected);
  CHECK(refused.error().message.find("127.0.0.1:" + std::to_string(closed_port)) !=
        std::string::npos);
  CHECK_THROWS_AS(refused.value(), faktory::Exception);

  faktory::Client bad_url(faktory::Options().url("http://jobs:7419"));
  auto url = bad_url.connect();
  REQUIRE_FALSE(url);
  CHECK(url.error().code == faktory::ErrorCode::invalid_url);

  TestServerOptions locked = quick_server();
  locked.password = "s3cret";
  TestServer server(locked);
  faktory::Client wrong(options_for(server).password("guess"));
  auto denied = wrong.info();
  REQUIRE_FALSE(denied);
  CHECK(denied.error().code == faktory::ErrorCode::invalid_password);
  CHECK(denied.error().what().find("guess") == std::string::npos);
  faktory::Client right(options_for(server).password("s3cret"));
  CHECK(right.info());
  faktory::Client none(options_for(server));
  auto missing = none.info();
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == faktory::ErrorCode::password_required);
}

TEST_CASE("a server that turns the connection away: its words reach the caller") {
  TestServerOptions one = quick_server();
  one.max_connections = 1;
  TestServer server(one);
  faktory::Client first(options_for(server));
  REQUIRE(first.connect());
  faktory::Client second(options_for(server));
  // (The server says so after its +OK to HELLO: the first command gets it.)
  auto busy = second.info();
  REQUIRE_FALSE(busy);
  CHECK(busy.error().code == faktory::ErrorCode::connection_closed);
  CHECK(busy.error().message.find("too many connections") != std::string::npos);
  CHECK_FALSE(second.is_connected());
}

TEST_CASE("the URL comes from FAKTORY_URL when none is given") {
  TestServer server(quick_server());
  REQUIRE(setenv("FAKTORY_URL", server.url().c_str(), 1) == 0);
  faktory::Client client;
  auto job = faktory::Job("env");
  const auto pushed = client.push(job);
  unsetenv("FAKTORY_URL");
  REQUIRE(pushed);
  CHECK(fate(server, job.jid()) == "queued");
}

TEST_CASE("a connection the server dropped is replaced, and no push is sent twice") {
  TestServer server(quick_server());
  faktory::Client client(options_for(server));
  REQUIRE(client.push(faktory::Job("a")));
  server.drop_all_connections();
  REQUIRE(server.wait_for([](const TestServer::Stats& s) { return s.connections == 0; },
                          std::chrono::seconds(30)));
  // The idle connection is seen closed and replaced before the PUSH is sent.
  auto job = faktory::Job("a");
  auto pushed = client.push(job);
  REQUIRE(pushed);
  const auto jids = server.pushed_jids();
  CHECK(std::count(jids.begin(), jids.end(), job.jid()) == 1);
}

TEST_CASE("a pool shares a bounded number of connections between threads") {
  TestServer server(quick_server());
  faktory::Pool pool(options_for(server), 2);
  constexpr int kThreads = 4, kEach = 25;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        if (!pool.push(faktory::Job("pooled").args(t, i))) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(failures == 0);
  CHECK(server.pushed_jids().size() == kThreads * kEach);
  std::set<std::uint64_t> connections;
  for (const auto& command : server.command_log()) connections.insert(command.connection_id);
  CHECK(connections.size() <= 2);

  auto lease = pool.acquire();
  CHECK(lease->info());
}
