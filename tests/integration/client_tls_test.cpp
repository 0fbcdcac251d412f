// TLS: a certificate made at run time, verification on, and the cases that must fail.
#include "client_test_support.hpp"
#include "test_certificates.hpp"

#include <catch2/catch.hpp>

using namespace factotum;
using namespace factotum::faktory;
using factotum::testing::Certificates;
using factotum::testing::TestServer;
using factotum::testing::TestServerOptions;

namespace {

TestServerOptions tls_server(const Certificates& certs) {
  TestServerOptions options;
  options.tls_cert_file = certs.server_cert.string();
  options.tls_key_file = certs.server_key.string();
  options.fetch_block = std::chrono::milliseconds(200);
  return options;
}

ClientOptions tls_client(const TestServer& server, const Certificates& certs,
                         std::string host = "localhost") {
  auto url = parse_url("tcp+tls://" + host + ":" + std::to_string(server.port()));
  REQUIRE(url);
  auto options = ClientOptions::for_url(*url);
  options.tls.ca_file = certs.ca_cert.string();
  return options;
}

}  // namespace

TEST_CASE("a TLS connection with peer verification round-trips a job") {
  Certificates certs;
  TestServer server(tls_server(certs));

  SECTION("by host name") {
    BlockingClient client(tls_client(server, certs));
    auto connected = client.connect();
    INFO((connected ? "" : connected.error().what()));
    REQUIRE(connected);
    auto job = Job::create("Tls", {}, "tlsq");
    REQUIRE(client.push(job));
    const std::vector<std::string> queues{"tlsq"};
    auto fetched = client.fetch(queues);
    REQUIRE(fetched);
    REQUIRE(fetched->has_value());
    CHECK(client.ack((*fetched)->jid));
  }
  SECTION("by IP address (checked against the certificate's IP SAN)") {
    BlockingClient client(tls_client(server, certs, "127.0.0.1"));
    REQUIRE(client.connect());
  }
  SECTION("with a client certificate") {
    auto options = tls_client(server, certs);
    options.tls.cert_file = certs.client_cert.string();
    options.tls.key_file = certs.client_key.string();
    BlockingClient client(options);
    REQUIRE(client.connect());
  }
}

TEST_CASE("a certificate from an untrusted CA is refused") {
  Certificates certs;
  TestServer server(tls_server(certs));
  auto options = tls_client(server, certs);
  options.tls.ca_file = certs.other_ca_cert.string();
  BlockingClient client(options);
  auto connected = client.connect();
  REQUIRE_FALSE(connected);
  CHECK(connected.error().is(errc::tls_error));
  CHECK(connected.error().message.find("certificate") != std::string::npos);
}

TEST_CASE("the system CA store does not trust a private CA (verification is on by default)") {
  Certificates certs;
  TestServer server(tls_server(certs));
  auto options = tls_client(server, certs);
  options.tls.ca_file.clear();
  BlockingClient client(options);
  auto connected = client.connect();
  REQUIRE_FALSE(connected);
  CHECK(connected.error().is(errc::tls_error));
}

TEST_CASE("a certificate for another host name is refused") {
  Certificates certs;
  TestServer server(tls_server(certs));
  auto options = tls_client(server, certs);
  options.tls.server_name = "wrong-host.example";
  BlockingClient client(options);
  auto connected = client.connect();
  REQUIRE_FALSE(connected);
  CHECK(connected.error().is(errc::tls_error));
  // The operator learns what is wrong, not just that verification failed.
  CHECK(connected.error().message.find("hostname mismatch") != std::string::npos);
}

TEST_CASE("TLS settings that cannot work are reported with the file at fault") {
  Certificates certs;
  TlsOptions tls;
  tls.ca_file = (certs.dir / "missing.pem").string();
  auto context = TlsContext::create(tls);
  REQUIRE_FALSE(context);
  CHECK(context.error().message.find("missing.pem") != std::string::npos);

  tls = {};
  tls.cert_file = certs.client_cert.string();
  tls.key_file = certs.server_key.string();  // not the client's key
  context = TlsContext::create(tls);
  REQUIRE_FALSE(context);
  CHECK(context.error().message.find("does not match") != std::string::npos);
}

TEST_CASE("a plain-TCP client against a TLS server fails with a hint") {
  Certificates certs;
  TestServer server(tls_server(certs));
  auto options =
      ClientOptions::for_url(parse_url("tcp://127.0.0.1:" + std::to_string(server.port())).value());
  options.connect_timeout = std::chrono::milliseconds(500);
  BlockingClient client(options);
  auto connected = client.connect();
  REQUIRE_FALSE(connected);
  CHECK(connected.error().message.find("tcp+tls://") != std::string::npos);
}
