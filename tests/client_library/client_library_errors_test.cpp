// libfactotum-faktory's public API where things go wrong or are unusual: the server's own
// refusals, a lost reply (never a second PUSH), TLS, and how the server is found.
#include <factotum/faktory.hpp>

#include "library_test_support.hpp"
#include "refusing_server.hpp"
#include "test_certificates.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>

using factotum::testing::Certificates;
using factotum::testing::RefusingServer;
using factotum::testing::TestServer;
using factotum::testing::TestServerOptions;
using library_test::quick_server;

namespace {

std::size_t commands_with_verb(const TestServer& server, const std::string& verb) {
  const auto log = server.command_log();
  return static_cast<std::size_t>(std::count_if(
      log.begin(), log.end(), [&](const auto& command) { return command.verb == verb; }));
}

}  // namespace

TEST_CASE("a -ERR reply is an error with the server's code word and text") {
  RefusingServer server("-NOTUNIQUE Job not unique");
  faktory::Client client(faktory::Options().url(server.url()));
  auto pushed = client.push(faktory::Job("unique"));
  REQUIRE_FALSE(pushed);
  CHECK(pushed.error().code == faktory::ErrorCode::server_error);
  CHECK(pushed.error().server_code == "NOTUNIQUE");
  CHECK(pushed.error().message == "Job not unique");
  CHECK(pushed.error().what() == "server error: NOTUNIQUE Job not unique");
}

TEST_CASE("push_bulk returns the jobs the server refused, with its reasons") {
  const std::string refusal = R"({"bulk-job-two":"jobs must have a jobtype parameter"})";
  RefusingServer server("$" + std::to_string(refusal.size()) + "\r\n" + refusal);
  faktory::Client client(faktory::Options().url(server.url()));
  std::vector<faktory::Job> jobs{faktory::Job("bulk").jid("bulk-job-one"),
                                 faktory::Job("bulk").jid("bulk-job-two")};
  auto refused = client.push_bulk(jobs);
  REQUIRE(refused);
  REQUIRE(refused->size() == 1);
  CHECK(refused->at(0).jid == "bulk-job-two");
  CHECK(refused->at(0).reason == "jobs must have a jobtype parameter");
}

TEST_CASE("a push whose reply is lost fails, is not sent again, and the next one reconnects") {
  TestServer server(quick_server());
  faktory::Client client(faktory::Options().url(server.url()));
  auto lost = faktory::Job("lost");
  server.lose_next_reply("PUSH");
  auto first = client.push(lost);
  REQUIRE_FALSE(first);
  CHECK(first.error().code == faktory::ErrorCode::connection_closed);
  CHECK_FALSE(client.is_connected());
  // The server has the job: it was the reply that was lost.
  CHECK(server.pushed_jids() == std::vector<std::string>{lost.jid()});

  auto next = faktory::Job("next");
  REQUIRE(client.push(next));
  CHECK(server.pushed_jids() == std::vector<std::string>{lost.jid(), next.jid()});
  CHECK(commands_with_verb(server, "PUSH") == 2);
}

TEST_CASE("TLS: verified against the CA given, refused without it") {
  Certificates certs;
  TestServerOptions options = quick_server();
  options.tls_cert_file = certs.server_cert.string();
  options.tls_key_file = certs.server_key.string();
  TestServer server(options);
  const std::string url = "tcp+tls://localhost:" + std::to_string(server.port());

  faktory::Client trusted(faktory::Options().url(url).tls_ca_file(certs.ca_cert.string()));
  auto job = faktory::Job("over_tls");
  REQUIRE(trusted.push(job));
  CHECK(server.pushed_jids() == std::vector<std::string>{job.jid()});

  faktory::Client with_certificate(
      faktory::Options()
          .url(url)
          .tls_ca_file(certs.ca_cert.string())
          .tls_client_certificate(certs.client_cert.string(), certs.client_key.string()));
  CHECK(with_certificate.connect());

  faktory::Client stranger(faktory::Options().url(url).tls_ca_file(certs.other_ca_cert.string()));
  auto refused = stranger.connect();
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == faktory::ErrorCode::tls_error);

  faktory::Client wrong_name(faktory::Options()
                                 .url(url)
                                 .tls_ca_file(certs.ca_cert.string())
                                 .tls_server_name("jobs.example.com"));
  auto mismatch = wrong_name.connect();
  REQUIRE_FALSE(mismatch);
  CHECK(mismatch.error().code == faktory::ErrorCode::tls_error);
}

TEST_CASE("FAKTORY_PROVIDER names the variable that holds the URL") {
  TestServer server(quick_server());
  REQUIRE(setenv("FAKTORY_PROVIDER", "JOBS_SERVER_URL", 1) == 0);
  REQUIRE(setenv("JOBS_SERVER_URL", server.url().c_str(), 1) == 0);
  faktory::Client client;
  auto job = faktory::Job("provided");
  const auto pushed = client.push(job);
  REQUIRE(setenv("FAKTORY_PROVIDER", "tcp://localhost:7419", 1) == 0);
  faktory::Client misused;
  const auto misuse = misused.connect();
  unsetenv("FAKTORY_PROVIDER");
  unsetenv("JOBS_SERVER_URL");
  REQUIRE(pushed);
  CHECK(server.pushed_jids() == std::vector<std::string>{job.jid()});
  REQUIRE_FALSE(misuse);
  CHECK(misuse.error().code == faktory::ErrorCode::invalid_url);
}

TEST_CASE("the library names its version") {
  CHECK(std::string(faktory::library_version()) == "0.1.0");
}

TEST_CASE("Job::args writes each C++ value as its JSON type") {
  const char* none = nullptr;
  std::string text = "with \"quotes\"\n";
  auto job =
      faktory::Job("typed").args(text, std::string_view("view"), none, nullptr, -7,
                                 18446744073709551615ULL, 0.5f, false, faktory::RawJson{"[1,{}]"});
  auto json = job.to_json();
  REQUIRE(json);
  CHECK(
      json->find(
          R"("args":["with \"quotes\"\n","view",null,null,-7,18446744073709551615,5E-1,false,[1,{}]])") !=
      std::string::npos);
}
