// Every client command against the in-repo test server over 127.0.0.1.
#include "client_test_support.hpp"
#include "faktory/client.hpp"
#include "faktory/jid.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>

using namespace factotum;
using namespace factotum::faktory;
using factotum::testing::TestServer;
using factotum::testing::TestServerOptions;
namespace json = boost::json;

namespace {

TestServerOptions quick_server() {
  TestServerOptions options;
  options.fetch_block = std::chrono::milliseconds(200);
  return options;
}

std::int64_t info_number(const json::object& info, std::string_view key) {
  return info.at("faktory").as_object().at(key).to_number<std::int64_t>();
}

}  // namespace

TEST_CASE("a pushed job is fetched with every field and acknowledged") {
  TestServer server(quick_server());
  BlockingClient client(testing::options_for(server));
  REQUIRE(client.connect());

  auto job = Job::create("Add", json::array{1, 2}, "math");
  job.custom = json::object{{"trace", "abc"}};
  job.reserve_for = 600;
  REQUIRE(client.push(job));

  const std::vector<std::string> queues{"math"};
  auto fetched = client.fetch(queues);
  REQUIRE(fetched);
  REQUIRE(fetched->has_value());
  const Job& got = **fetched;
  CHECK(got.jid == job.jid);
  CHECK(got.jobtype == "Add");
  CHECK(got.queue == "math");
  CHECK(got.args == json::array{1, 2});
  CHECK(got.retry == kDefaultRetry);
  CHECK(got.reserve_for == 600);
  REQUIRE(got.custom);
  CHECK(got.custom->at("trace") == "abc");
  CHECK(got.created_at);
  CHECK(got.enqueued_at);

  REQUIRE(client.ack(got.jid));
  auto info = client.info();
  REQUIRE(info);
  CHECK(info_number(*info, "total_processed") == 1);
  CHECK(info->at("faktory").at("sets").at("working").to_number<int>() == 0);
}

TEST_CASE("FETCH on empty queues returns no job after the server's block time") {
  TestServer server(quick_server());
  BlockingClient client(testing::options_for(server));
  REQUIRE(client.connect());
  const std::vector<std::string> queues{"nothing", "here"};
  auto fetched = client.fetch(queues);
  REQUIRE(fetched);
  CHECK_FALSE(fetched->has_value());
  CHECK(client.is_connected());
}

TEST_CASE("FETCH serves queues in the listed order") {
  TestServer server(quick_server());
  BlockingClient client(testing::options_for(server));
  REQUIRE(client.connect());
  REQUIRE(client.push(Job::create("T", {}, "low")));
  REQUIRE(client.push(Job::create("T", {}, "high")));
  const std::vector<std::string> queues{"high", "low"};
  CHECK((*client.fetch(queues))->queue == "high");
  CHECK((*client.fetch(queues))->queue == "low");
}

TEST_CASE("a command that must not be sent is refused before it reaches the server") {
  TestServer server(quick_server());
  BlockingClient client(testing::options_for(server));
  REQUIRE(client.connect());
  const std::vector<std::string> none;
  auto fetched = client.fetch(none);
  REQUIRE_FALSE(fetched);
  CHECK(fetched.error().is(errc::invalid_argument));
  CHECK(client.is_connected());
  CHECK(server.command_log().empty());
}

TEST_CASE("PUSHB reports the jobs the server refused, by jid") {
  TestServer server(quick_server());
  BlockingClient client(testing::options_for(server));
  REQUIRE(client.connect());
  std::vector<Job> jobs{Job::create("A", {1}, "bulk"), Job::create("B", {2}, "bulk")};
  // A timestamp the server cannot parse is refused by the server, not by the client.
  jobs[1].at = "tomorrow";
  auto refused = client.push_bulk(jobs);
  REQUIRE(refused);
  CHECK(refused->size() == 1);
  REQUIRE(refused->count(jobs[1].jid) == 1);
  CHECK(refused->at(jobs[1].jid).find("invalid timestamp") != std::string::npos);
  CHECK(server.stats().queues.at("bulk") == 1);
}

TEST_CASE("FAIL records errtype, message and backtrace on the job") {
  TestServer server(quick_server());
  BlockingClient client(testing::options_for(server));
  REQUIRE(client.connect());
  auto job = Job::create("Boom", {}, "failq");
  job.retry = 3;
  REQUIRE(client.push(job));
  const std::vector<std::string> queues{"failq"};
  REQUIRE(*client.fetch(queues));
  REQUIRE(client.fail({job.jid, "std::runtime_error", "it broke", {"frame 1", "frame 2"}}));

  auto retries = server.retry_jobs();
  REQUIRE(retries.size() == 1);
  auto failed = Job::parse(retries[0]);
  REQUIRE(failed);
  REQUIRE(failed->failure);
  CHECK(failed->failure->errtype == "std::runtime_error");
  CHECK(failed->failure->message == "it broke");
  CHECK(failed->failure->backtrace == std::vector<std::string>{"frame 1", "frame 2"});
  CHECK(failed->failure->remaining == 3);
}

TEST_CASE("a -ERR reply is an error value carrying the server's code and text") {
  TestServer server(quick_server());
  BlockingClient client(testing::options_for(server));
  REQUIRE(client.connect());
  const auto jid = generate_jid();
  auto failed = client.fail({jid, "E", "m", {}});
  REQUIRE_FALSE(failed);
  CHECK(failed.error().is(errc::server_error));
  CHECK(failed.error().server_code == "ERR");
  CHECK(failed.error().message == "Job not found " + jid);
  // The connection stays usable after an error reply.
  CHECK(client.ack(jid));
}

TEST_CASE("BEAT reports running, quiet and terminate, and an unknown worker") {
  TestServer server(quick_server());
  BlockingClient worker(testing::worker_options_for(server, "beat-wid-1"));
  REQUIRE(worker.connect());

  auto beat = worker.beat({"beat-wid-1", std::nullopt, 1234});
  REQUIRE(beat);
  CHECK(*beat == WorkerState::running);

  server.set_worker_state("beat-wid-1", "quiet");
  beat = worker.beat({"beat-wid-1", std::nullopt, 1234});
  REQUIRE(beat);
  CHECK(*beat == WorkerState::quiet);

  beat = worker.beat({"beat-wid-1", std::string("terminate"), 1234});
  REQUIRE(beat);
  CHECK(*beat == WorkerState::terminate);

  beat = worker.beat({"no-such-wid", std::nullopt, std::nullopt});
  REQUIRE_FALSE(beat);
  CHECK(is_unknown_worker(beat.error()));
}

TEST_CASE("END closes the connection without waiting for a reply") {
  TestServer server(quick_server());
  BlockingClient worker(testing::worker_options_for(server, "end-wid"));
  REQUIRE(worker.connect());
  REQUIRE(server.worker_state("end-wid"));
  worker.end();
  CHECK_FALSE(worker.is_connected());
  // The server forgets the worker once its last connection is gone (PROTOCOL.md §4).
  REQUIRE(server.wait_for([&](const TestServer::Stats& s) { return s.connections == 0; },
                          std::chrono::seconds(10)));
  CHECK_FALSE(server.worker_state("end-wid"));
}

TEST_CASE("QUEUE PAUSE, RESUME and REMOVE act on the server's queues") {
  TestServer server(quick_server());
  BlockingClient client(testing::options_for(server));
  REQUIRE(client.connect());
  REQUIRE(client.push(Job::create("T", {}, "adminq")));
  const std::vector<std::string> names{"adminq"};

  REQUIRE(client.queue(commands::QueueAction::pause, names));
  CHECK_FALSE(client.fetch(names)->has_value());  // paused: skipped
  REQUIRE(client.queue(commands::QueueAction::resume, names));
  auto job = client.fetch(names);
  REQUIRE(job->has_value());
  REQUIRE(client.ack((*job)->jid));

  REQUIRE(client.push(Job::create("T", {}, "adminq")));
  REQUIRE(client.queue(commands::QueueAction::remove, names));
  CHECK(server.stats().queues.count("adminq") == 0);
}

TEST_CASE("MUTATE moves jobs between sets and FLUSH empties the server") {
  TestServer server(quick_server());
  BlockingClient client(testing::options_for(server));
  REQUIRE(client.connect());
  auto job = Job::create("Dead Job", {}, "mutq");  // a space in a value must not break MUTATE
  job.retry = -1;
  REQUIRE(client.push(job));
  const std::vector<std::string> queues{"mutq"};
  REQUIRE(*client.fetch(queues));
  REQUIRE(client.fail({job.jid, "E", "to the dead set", {}}));
  CHECK(server.stats().dead == 1);

  REQUIRE(client.mutate(json::object{
      {"cmd", "requeue"}, {"target", "dead"}, {"filter", json::object{{"jobtype", "Dead Job"}}}}));
  CHECK(server.stats().dead == 0);
  CHECK(server.stats().queues.at("mutq") == 1);

  REQUIRE(client.flush());
  CHECK(server.stats().queues.at("mutq") == 0);
}

TEST_CASE("the asynchronous client runs several connections on one io_context") {
  TestServer server(quick_server());
  boost::asio::io_context io;
  int acked = 0;
  BlockingClient producer(testing::options_for(server));
  REQUIRE(producer.connect());
  for (int i = 0; i < 20; ++i) REQUIRE(producer.push(Job::create("T", {i}, "asyncq")));

  auto consume = [&]() -> boost::asio::awaitable<void> {
    Client client(io.get_executor(), testing::options_for(server));
    auto connected = co_await client.connect();
    REQUIRE(connected);
    const std::vector<std::string> queues{"asyncq"};
    for (;;) {
      auto job = co_await client.fetch(queues);
      REQUIRE(job);
      if (!*job) break;
      // (Awaited outside REQUIRE: GCC 12 evaluates a co_await inside Catch's macros twice.)
      auto acked_job = co_await client.ack((**job).jid);
      REQUIRE(acked_job);
      ++acked;
    }
    co_await client.end();
  };
  for (int i = 0; i < 4; ++i) boost::asio::co_spawn(io, consume(), boost::asio::detached);
  io.run();
  CHECK(acked == 20);
  CHECK(server.stats().processed == 20);
}
