// The asynchronous API (factotum/faktory/async.hpp): coroutines, other completion tokens, and
// handlers run on the caller's executor, never on the library's own thread.
#include <factotum/faktory.hpp>
#include <factotum/faktory/async.hpp>

#include "library_test_support.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <numeric>
#include <optional>
#include <set>
#include <thread>

using factotum::testing::TestServer;
using factotum::testing::TestServerOptions;
namespace asio = boost::asio;
using library_test::fate;
using library_test::quick_server;

namespace {

// Runs a coroutine on a fresh io_context on this thread; rethrows what it threw.
template <class Coroutine>
void run(Coroutine coroutine) {
  asio::io_context io;
  std::exception_ptr failure;
  asio::co_spawn(io, coroutine(io), [&](std::exception_ptr e) { failure = e; });
  io.run();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace

// (GCC 12 cannot compile Catch's assertion macros inside a coroutine: it records what it
// sees, and the test checks afterwards.)
TEST_CASE("coroutines push, read INFO, pause queues and mutate") {
  TestServer server(quick_server());
  const auto caller = std::this_thread::get_id();
  std::vector<std::string> jids;
  std::vector<std::pair<std::string, faktory::Result<void>>> outcomes;
  std::optional<faktory::Result<std::vector<faktory::Rejection>>> refused;
  std::optional<faktory::Result<faktory::Info>> info;
  bool resumed_on_caller = false;
  std::string later_jid;
  run([&](asio::io_context& io) -> asio::awaitable<void> {
    faktory::AsyncClient client(io.get_executor(), faktory::Options().url(server.url()));
    auto job = faktory::Job("async").args("one").queue("aq");
    outcomes.emplace_back("push", co_await client.push(job));
    resumed_on_caller = std::this_thread::get_id() == caller;
    jids.push_back(job.jid());

    std::vector<faktory::Job> bulk;
    bulk.push_back(faktory::Job("async").queue("aq"));
    bulk.push_back(faktory::Job("async").queue("aq"));
    refused.emplace(co_await client.push_bulk(bulk));
    for (const auto& j : bulk) jids.push_back(j.jid());
    info.emplace(co_await client.info());
    // (Named: GCC 12 cannot compile a braced list inside a co_await expression.)
    const std::vector<std::string> queues{"aq"};
    outcomes.emplace_back("pause", co_await client.queue_pause(queues));
    outcomes.emplace_back("resume", co_await client.queue_resume(queues));
    auto later = faktory::Job("later").at(std::chrono::system_clock::now() + std::chrono::hours(1));
    later_jid = later.jid();
    outcomes.emplace_back("push later", co_await client.push(later));
    outcomes.emplace_back(
        "mutate", co_await client.mutate(faktory::Mutation::kill, faktory::Target::scheduled,
                                         faktory::Filter().jobtype("later")));
    outcomes.emplace_back("invalid", co_await client.push(faktory::Job("x").args_json("[1,")));
  });
  REQUIRE(outcomes.size() == 6);
  for (std::size_t i = 0; i + 1 < outcomes.size(); ++i) {
    INFO(outcomes[i].first);
    CHECK(outcomes[i].second);
  }
  REQUIRE_FALSE(outcomes.back().second);
  CHECK(outcomes.back().second.error().code == faktory::ErrorCode::invalid_argument);
  CHECK(resumed_on_caller);
  REQUIRE(refused);
  REQUIRE(*refused);
  CHECK((*refused)->empty());
  REQUIRE(info);
  REQUIRE(*info);
  CHECK((*info)->total_enqueued() == 3);
  CHECK(fate(server, later_jid) == "dead");
  for (const auto& jid : jids) CHECK(fate(server, jid) == "queued");
  // The client's destruction sent END; the server reads it in its own time.
  const auto ended = [&] {
    const auto log = server.command_log();
    return !log.empty() && log.back().verb == "END";
  };
  REQUIRE(
      server.wait_for([&](const TestServer::Stats&) { return ended(); }, std::chrono::seconds(30)));
  std::vector<std::string> verbs;
  for (const auto& command : server.command_log()) verbs.push_back(command.verb);
  CHECK(verbs == std::vector<std::string>{"PUSH", "PUSHB", "INFO", "QUEUE", "QUEUE", "PUSH",
                                          "MUTATE", "END"});
}

TEST_CASE("commands issued together run in order on one connection") {
  TestServer server(quick_server());
  asio::io_context io;
  faktory::AsyncClient client(io.get_executor(), faktory::Options().url(server.url()));
  std::vector<faktory::Job> jobs;
  std::vector<int> completed;
  for (int i = 0; i < 20; ++i) {
    jobs.push_back(faktory::Job("ordered").args(i));
    client.push(jobs.back(), [&completed, i](faktory::Result<void> r) {
      CHECK(r);
      completed.push_back(i);
    });
  }
  io.run();
  std::vector<int> expected(20);
  std::iota(expected.begin(), expected.end(), 0);
  CHECK(completed == expected);
  std::vector<std::string> pushed;
  for (const auto& job : jobs) pushed.push_back(job.jid());
  CHECK(server.pushed_jids() == pushed);
  std::set<std::uint64_t> connections;
  for (const auto& command : server.command_log()) connections.insert(command.connection_id);
  CHECK(connections.size() == 1);
}

TEST_CASE("a future and an unreachable server") {
  std::uint16_t closed_port = 0;
  {
    TestServer gone;
    closed_port = gone.port();
  }
  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  faktory::AsyncClient client(
      io.get_executor(), faktory::Options().url("tcp://127.0.0.1:" + std::to_string(closed_port)));
  auto outcome = client.info(asio::use_future).get();
  guard.reset();
  runner.join();
  REQUIRE_FALSE(outcome);
  CHECK(outcome.error().code == faktory::ErrorCode::not_connected);
}

TEST_CASE(
    "async: a lost reply fails the push, never sent again, and an idle connection the "
    "server closed is replaced") {
  TestServer server(quick_server());
  asio::io_context io;
  faktory::AsyncClient client(io.get_executor(), faktory::Options().url(server.url()));
  std::vector<faktory::Result<void>> outcomes;
  const auto record = [&](faktory::Result<void> r) { outcomes.push_back(std::move(r)); };

  auto first = faktory::Job("first");
  client.push(first, record);
  io.run();
  io.restart();
  server.drop_all_connections();
  REQUIRE(server.wait_for([](const TestServer::Stats& s) { return s.connections == 0; },
                          std::chrono::seconds(30)));
  auto second = faktory::Job("second");
  client.push(second, record);  // on a new connection, not into the dropped one
  io.run();
  io.restart();
  auto lost = faktory::Job("lost");
  server.lose_next_reply("PUSH");
  client.push(lost, record);
  auto after = faktory::Job("after");
  client.push(after, record);
  io.run();

  REQUIRE(outcomes.size() == 4);
  CHECK(outcomes[0]);
  CHECK(outcomes[1]);
  REQUIRE_FALSE(outcomes[2]);
  CHECK(outcomes[2].error().code == faktory::ErrorCode::connection_closed);
  CHECK(outcomes[3]);
  CHECK(server.pushed_jids() ==
        std::vector<std::string>{first.jid(), second.jid(), lost.jid(), after.jid()});
}

TEST_CASE("async: a job that cannot be sent fails at once, with no server needed") {
  asio::io_context io;
  faktory::AsyncClient client(io.get_executor(), faktory::Options().url("tcp://127.0.0.1:1"));
  std::optional<faktory::Result<void>> invalid;
  std::optional<faktory::Result<std::vector<faktory::Rejection>>> empty;
  client.push(faktory::Job("x").args_json("[1,"), [&](faktory::Result<void> r) { invalid = r; });
  client.push_bulk({}, [&](faktory::Result<std::vector<faktory::Rejection>> r) { empty = r; });
  io.run();
  REQUIRE(invalid);
  REQUIRE_FALSE(*invalid);
  CHECK(invalid->error().code == faktory::ErrorCode::invalid_argument);
  REQUIRE(empty);
  REQUIRE(*empty);
  CHECK((*empty)->empty());
}

TEST_CASE("async: destroying the client completes its commands with an error, at once") {
  // A server that accepts connections (the kernel does, from the backlog) and never greets:
  // the first command waits in the handshake until the client is destroyed.
  const int silent = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  REQUIRE(::bind(silent, reinterpret_cast<sockaddr*>(&address), length) == 0);
  REQUIRE(::listen(silent, 4) == 0);
  REQUIRE(::getsockname(silent, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  const std::string url = "tcp://127.0.0.1:" + std::to_string(ntohs(address.sin_port));

  asio::io_context io;
  std::vector<faktory::Result<void>> outcomes;
  {
    faktory::AsyncClient client(io.get_executor(),
                                faktory::Options().url(url).timeout(std::chrono::minutes(5)));
    for (int i = 0; i < 3; ++i) {
      client.push(faktory::Job("never"), [&](faktory::Result<void> r) { outcomes.push_back(r); });
    }
    // Destroyed here: returns once the three handlers are handed to `io` (not in 5 minutes).
  }
  io.run();
  ::close(silent);
  REQUIRE(outcomes.size() == 3);
  for (const auto& outcome : outcomes) {
    REQUIRE_FALSE(outcome);
    CHECK(outcome.error().code != faktory::ErrorCode::timeout);
  }
}

TEST_CASE("async: commands issued from several threads at once all run, once each") {
  TestServer server(quick_server());
  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  std::atomic<int> succeeded{0};
  std::atomic<int> completed{0};
  std::vector<std::string> jids;
  std::mutex jids_mutex;
  std::condition_variable all_done;
  {
    faktory::AsyncClient client(io.get_executor(), faktory::Options().url(server.url()));
    std::vector<std::thread> producers;
    for (int t = 0; t < 4; ++t) {
      producers.emplace_back([&, t] {
        for (int i = 0; i < 25; ++i) {
          auto job = faktory::Job("threaded").args(t, i);
          {
            std::lock_guard lock(jids_mutex);
            jids.push_back(job.jid());
          }
          client.push(job, [&](faktory::Result<void> r) {
            if (r) ++succeeded;
            std::lock_guard lock(jids_mutex);
            if (++completed == 100) all_done.notify_all();
          });
        }
      });
    }
    for (auto& producer : producers) producer.join();
    // (Destroying the client would cut its queued commands off: wait for them first.)
    std::unique_lock lock(jids_mutex);
    REQUIRE(all_done.wait_for(lock, std::chrono::seconds(60), [&] { return completed == 100; }));
  }
  guard.reset();
  runner.join();
  CHECK(completed == 100);
  CHECK(succeeded == 100);
  auto pushed = server.pushed_jids();
  std::sort(pushed.begin(), pushed.end());
  std::sort(jids.begin(), jids.end());
  CHECK(pushed == jids);
}
