// factotum ctl push: the job the server receives, the jid printed, and the errors.
#include "ctl_fixture.hpp"
#include "go_time.hpp"

#include <boost/json/serialize.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace factotum;
using namespace factotum::testing;

namespace {

// The job the server holds in `queue`, as a worker would fetch it.
faktory::Job fetch_from(const TestServer& server, const std::string& queue) {
  auto client = producer_for(server);
  const std::vector<std::string> queues{queue};
  auto fetched = client->fetch(queues);
  REQUIRE(fetched);
  REQUIRE(fetched->has_value());
  return std::move(**fetched);
}

gotime::Time time_of(const std::string& rfc3339) {
  auto parsed = gotime::parse_rfc3339nano(rfc3339);
  INFO(rfc3339);
  REQUIRE(std::holds_alternative<gotime::Time>(parsed));
  return std::get<gotime::Time>(parsed);
}

}  // namespace

TEST_CASE("ctl push sends the jobtype, args, queue, retry and custom given and prints the jid") {
  TestServer server(quick_server_options());
  const auto run =
      run_ctl(server, {"push", "send_mail", R"(["ops@example.com",{"n":2}])", "--queue", "mail",
                       "--retry", "-1", "--custom", R"({"trace":"abc"})"});
  INFO(run.err);
  REQUIRE(run.status == 0);
  CHECK(run.err.empty());
  REQUIRE(server.pushed_jids().size() == 1);
  const auto jid = server.pushed_jids().front();
  CHECK(run.out == jid + "\n");
  const auto job = fetch_from(server, "mail");
  CHECK(job.jid == jid);
  CHECK(job.jobtype == "send_mail");
  CHECK(boost::json::serialize(job.args) == R"(["ops@example.com",{"n":2}])");
  CHECK(job.queue == "mail");
  CHECK(job.retry == -1);
  REQUIRE(job.custom);
  CHECK(boost::json::serialize(*job.custom) == R"({"trace":"abc"})");
  CHECK(!job.at);
}

TEST_CASE("ctl push without options sends empty args to the default queue with retry 25") {
  TestServer server(quick_server_options());
  const auto run = run_ctl(server, {"push", "ping"});
  REQUIRE(run.status == 0);
  const auto job = fetch_from(server, "default");
  CHECK(job.jid + "\n" == run.out);
  CHECK(job.args.empty());
  CHECK(job.retry == 25);
}

TEST_CASE("ctl push --at schedules the job: an RFC 3339 time as written, +DURATION from now") {
  TestServer server(quick_server_options());
  const auto absolute = run_ctl(server, {"push", "later", "--at", "2099-01-02T03:04:05+01:00"});
  REQUIRE(absolute.status == 0);
  const auto before = std::chrono::system_clock::now();
  const auto relative = run_ctl(server, {"push", "soon", "--at", "+5m"});
  const auto after = std::chrono::system_clock::now();
  REQUIRE(relative.status == 0);
  const auto scheduled = server.scheduled_jobs();
  REQUIRE(scheduled.size() == 2);
  CHECK(server.stats().enqueued == 0);
  for (const auto& payload : scheduled) {
    auto job = faktory::Job::parse(payload);
    REQUIRE(job);
    REQUIRE(job->at);
    if (job->jobtype == "later") {
      CHECK(*job->at == "2099-01-02T03:04:05+01:00");
      CHECK(job->jid + "\n" == absolute.out);
    } else {
      CHECK(job->jid + "\n" == relative.out);
      const auto at = time_of(*job->at);
      CHECK(at >= std::chrono::floor<std::chrono::milliseconds>(before) + std::chrono::minutes(5));
      CHECK(at <= after + std::chrono::minutes(5));
    }
  }
}

TEST_CASE("ctl push with invalid JSON args exits 64 naming where the JSON breaks, pushes nothing") {
  TestServer server(quick_server_options());
  const auto run = run_ctl(server, {"push", "send_mail", R"(["a", tru])"});
  CHECK(run.status == 64);
  check_error_line(run, {"ARGS_JSON is not valid JSON", "at character 7"});
  CHECK(run.out.empty());
  CHECK(server.pushed_jids().empty());
  // Nothing was sent at all: the command line is checked before connecting.
  CHECK(server.command_log().empty());
}

TEST_CASE("ctl push --at with a time that is none exits 64 and pushes nothing") {
  TestServer server(quick_server_options());
  const auto run = run_ctl(server, {"push", "later", "--at", "tomorrow 9am"});
  CHECK(run.status == 64);
  check_error_line(run, {"--at 'tomorrow 9am'", "RFC 3339", "+DURATION"});
  CHECK(server.pushed_jids().empty());
}

TEST_CASE("ctl push to an unreachable server exits 69 with the redacted URL and the error") {
  // A port bound and never listened on, held for the whole test: a connection is refused for
  // sure (no other process can take the port meanwhile).
  const int bound = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(bound >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  REQUIRE(::bind(bound, reinterpret_cast<sockaddr*>(&address), length) == 0);
  REQUIRE(::getsockname(bound, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  const std::string url = "tcp://:s3cret@127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  const auto run = run_ctl({"push", "ping", "--url", url});
  ::close(bound);
  CHECK(run.status == 69);
  check_error_line(run,
                   {"cannot connect to the Faktory server at tcp://:***@127.0.0.1:", "refused"});
  CHECK(run.err.find("s3cret") == std::string::npos);
  CHECK(run.out.empty());
}
