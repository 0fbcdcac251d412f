// The TLS context is built once per settings snapshot, from the daemon's configuration, and
// shared by every connection: a processor started later never reads the CA file again.
#include "worker_harness.hpp"

#include "config/config.hpp"
#include "daemon_settings.hpp"
#include "faktory/job.hpp"
#include "test_certificates.hpp"

#include <filesystem>

using namespace factotum;
using namespace factotum::testing;

TEST_CASE("processors started later share the TLS context loaded at start") {
  Certificates certs;
  TestServerOptions options = quick_server();
  options.tls_cert_file = certs.server_cert.string();
  options.tls_key_file = certs.server_key.string();
  TestServer server(options);

  // The daemon's path from YAML to settings.
  const std::string yaml = "faktory:\n  url: tcp+tls://localhost:" + std::to_string(server.port()) +
                           "\n  tls:\n    ca_file: " + certs.ca_cert.string() +
                           "\nworker:\n  concurrency: 1\n";
  const auto config = config::parse_config(yaml, (certs.dir / "factotum.yaml").string(), {},
                                           [](const std::string&) { return std::nullopt; });
  const auto wid = process_wid(config);
  const auto settings = make_worker_settings(config, wid);
  REQUIRE(settings->connection->tls_context);

  RunningWorker running(settings);
  const auto live = [&] { return ServerView(server, running.wid()).live_processors().size(); };
  REQUIRE(server.wait_for([&](const TestServer::Stats&) { return live() == 1; }, kDeadline));

  // The CA file goes away (a rotation in progress, say): connections opened from now on
  // still verify the server with the trust store loaded at start.
  std::filesystem::remove(certs.ca_cert);
  auto three = copy_of(*settings);
  three->concurrency = 3;
  running.worker().apply(three);
  REQUIRE(server.wait_for([&](const TestServer::Stats&) { return live() == 3; }, kDeadline));

  auto j = faktory::Job::create("ok");
  j.retry = 0;
  server.push_job(j.serialize());
  REQUIRE(server.wait_for([&](const TestServer::Stats&) { return server.ack_count(j.jid) == 1; },
                          kDeadline));
  running.worker().stop();
  CHECK(running.wait_stopped());
}

TEST_CASE("a TLS file that cannot be used is a configuration error at start") {
  Certificates certs;
  const auto garbage = certs.dir / "not-a-ca.pem";
  std::ofstream(garbage) << "this is not a certificate\n";
  const std::string yaml =
      "faktory:\n  url: tcp+tls://localhost:7419\n  tls:\n    ca_file: " + garbage.string() + "\n";
  const auto config = config::parse_config(yaml, (certs.dir / "factotum.yaml").string(), {},
                                           [](const std::string&) { return std::nullopt; });
  try {
    (void)make_worker_settings(config, "wid-1");
    FAIL("no error");
  } catch (const config::ConfigError& e) {
    CHECK(e.key() == "faktory.tls");
    CHECK(std::string(e.what()).find("not-a-ca.pem") != std::string::npos);
  }
}

TEST_CASE(
    "a reload keeps the connection settings object unless the server, identity or TLS files "
    "change") {
  Certificates certs;
  const auto parse = [&](const std::string& extra) {
    const std::string yaml = "faktory:\n  url: tcp+tls://localhost:7419\n  tls:\n    ca_file: " +
                             certs.ca_cert.string() + "\nworker:\n  concurrency: 1\n" + extra;
    return config::parse_config(yaml, (certs.dir / "factotum.yaml").string(), {},
                                [](const std::string&) { return std::nullopt; });
  };
  const auto first = make_worker_settings(parse(""), "wid-1");
  // Another concurrency, the same connection: processors must not reconnect.
  const auto same = make_worker_settings(parse("  shutdown_timeout: 5s\n"), "wid-1", first.get());
  CHECK(same->connection == first->connection);
  // New labels: a new connection object (the worker re-registers).
  const auto labelled = make_worker_settings(parse("  labels: [canary]\n"), "wid-1", first.get());
  CHECK(labelled->connection != first->connection);
  CHECK(labelled->connection->identity.labels == std::vector<std::string>{"canary"});
  // The CA file rotated at the same path (a new file renamed over it): a new TLS context.
  const auto rotated = certs.dir / "ca.rotated";
  std::filesystem::copy_file(certs.ca_cert, rotated);
  std::filesystem::rename(rotated, certs.ca_cert);
  const auto after_rotation = make_worker_settings(parse(""), "wid-1", first.get());
  CHECK(after_rotation->connection != first->connection);
  CHECK(after_rotation->connection->tls_context != first->connection->tls_context);
}
