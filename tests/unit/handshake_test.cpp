#include "faktory/handshake.hpp"

#include "faktory/password_hash.hpp"
#include "transcript.hpp"

#include <boost/json/parse.hpp>
#include "catch_result.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

using namespace factotum::faktory;

namespace {

Reply simple(std::string text) {
  return Reply{Reply::Kind::simple, std::move(text)};
}

Identity worker() {
  Identity id;
  id.hostname = "tx-host";
  id.wid = "01-worker-wid";
  id.pid = 4242;
  id.labels = {"cpp", "golden"};
  return id;
}

std::string handshake_error(const Reply& reply) {
  auto g = parse_greeting(reply);
  REQUIRE_FALSE(g.has_value());
  CHECK(g.error().is(errc::handshake_failed));
  return g.error().message;
}

}  // namespace

TEST_CASE("a greeting without a password is parsed", "[handshake]") {
  auto g = parse_greeting(simple(R"(HI {"v":2})")).value();
  CHECK(g.version == 2);
  CHECK_FALSE(g.wants_password());
  CHECK_FALSE(g.iterations.has_value());
}

TEST_CASE("a greeting with iterations and salt asks for a password", "[handshake]") {
  auto g = parse_greeting(simple(R"(HI {"v":2,"i":6575,"s":"734e0d7a41ed7c05"})")).value();
  CHECK(g.wants_password());
  CHECK(g.iterations == 6575);
  CHECK(g.salt == "734e0d7a41ed7c05");
}

TEST_CASE("every greeting in the transcripts parses", "[handshake][transcripts]") {
  for (const char* file : {"01-handshake.txt", "02-handshake-password.txt"}) {
    for (const auto& line : factotum::testing::transcript_lines(file, 'S')) {
      if (line.rfind("+HI ", 0) != 0) continue;
      auto g = parse_greeting(simple(line.substr(1, line.size() - 3)));
      CHECK(g.has_value());
      CHECK(g->wants_password() == (std::string_view(file) == "02-handshake-password.txt"));
    }
  }
}

TEST_CASE("an error reply instead of the greeting is that server error", "[handshake]") {
  auto g = parse_greeting(Reply{Reply::Kind::error, "ERR too many connections: 2001"});
  REQUIRE_FALSE(g.has_value());
  CHECK(g.error().is(errc::server_error));
  CHECK(g.error().message == "too many connections: 2001");
}

TEST_CASE("anything else instead of the greeting is handshake_failed naming what arrived",
          "[handshake]") {
  CHECK(handshake_error(simple("OK")) ==
        "expected the greeting '+HI {\"v\":2}' from the Faktory server, got the simple string "
        "'+OK' (is this a Faktory server, and TLS on both sides or neither?)");
  CHECK(handshake_error(Reply{Reply::Kind::bulk, std::string("\x15\x03\x03\x00\x02", 5)})
            .find("a bulk string '\\x15\\x03\\x03\\x00\\x02'") != std::string::npos);
  CHECK(handshake_error(Reply{}).find("got a null bulk") != std::string::npos);
  CHECK(handshake_error(simple("HI " + std::string(500, 'z')))
            .find("...' (500 bytes) is not a JSON object") != std::string::npos);
  CHECK(handshake_error(simple("HI [2]")) == "the greeting's JSON '[2]' is not a JSON object");
  CHECK(handshake_error(simple(R"(HI {"v":2,"s":7})")) ==
        "the greeting's salt 's' is not a string: '{\"v\":2,\"s\":7}'");
  CHECK(handshake_error(simple(R"(HI {"v":2,"i":"x","s":"a"})")).find("'i' is not an integer") !=
        std::string::npos);
}

TEST_CASE("a worker HELLO carries hostname, wid, pid, labels and v", "[handshake]") {
  auto line =
      hello_command(parse_greeting(simple(R"(HI {"v":2})")).value(), worker(), std::nullopt);
  // The exact line transcript 01 recorded for a worker.
  CHECK(line.value() ==
        "HELLO {\"hostname\":\"tx-host\",\"wid\":\"01-worker-wid\",\"pid\":4242,"
        "\"labels\":[\"cpp\",\"golden\"],\"v\":2}\r\n");
}

TEST_CASE("a producer HELLO (empty wid) sends only v", "[handshake]") {
  Identity producer = worker();
  producer.wid.clear();
  CHECK(hello_command(Greeting{}, producer, std::nullopt).value() == "HELLO {\"v\":2}\r\n");
  producer.username = "proxy-user";
  CHECK(hello_command(Greeting{}, producer, std::nullopt).value() ==
        "HELLO {\"v\":2,\"username\":\"proxy-user\"}\r\n");
}

TEST_CASE("HELLO carries the password hash when the greeting has a salt", "[handshake]") {
  const Greeting g = parse_greeting(simple(R"(HI {"v":2,"i":1735,"s":"123456789abc"})")).value();
  auto line = hello_command(g, worker(), std::string("foobar")).value();
  CHECK(
      line.ends_with(",\"v\":2,\"pwdhash\":"
                     "\"a5a2b31ef99fae2524b571d238bab3bc1c437bdecddd3550335fdf17997e7f3f\"}\r\n"));

  Greeting no_iterations;
  no_iterations.salt = "123456789abc";
  Identity producer;
  CHECK(hello_command(no_iterations, producer, std::string("foobar")).value() ==
        "HELLO "
        "{\"v\":2,\"pwdhash\":\"d30ae2acf55b9e6896725c3b4a2c1d26554ad2e1111c1b29056aa909f8260e39\"}"
        "\r\n");
}

TEST_CASE("a password is not sent to a server that does not ask for one", "[handshake]") {
  auto line = hello_command(Greeting{}, Identity{}, std::string("secret")).value();
  CHECK(line == "HELLO {\"v\":2}\r\n");
}

TEST_CASE("a server asking for a password with none configured is password_required",
          "[handshake]") {
  Greeting g;
  g.iterations = 5000;
  g.salt = "abc";
  for (const auto& password : {std::optional<std::string>{}, std::optional<std::string>{""}}) {
    auto line = hello_command(g, worker(), password);
    REQUIRE_FALSE(line.has_value());
    CHECK(line.error().is(errc::password_required));
    CHECK(line.error().message ==
          "the Faktory server requires a password: set faktory.password, faktory.password_file or "
          "put it in the URL (tcp://:PASSWORD@host:7419)");
  }
}

TEST_CASE("HELLO stays one line whatever the identity contains", "[handshake]") {
  Identity id = worker();
  id.hostname = "evil\r\nhost";
  id.labels = {"a b", "c\nd"};
  auto line = hello_command(Greeting{}, id, std::nullopt).value();
  CHECK(line.find('\n') == line.size() - 1);
  CHECK(line.find('\r') == line.size() - 2);
  auto body = boost::json::parse(line.substr(6, line.size() - 8));
  CHECK(body.at("hostname") == "evil\r\nhost");
}

TEST_CASE("process_identity uses this host's name and this process's id", "[handshake]") {
  auto id = process_identity("wid-1", {"x"});
  CHECK(id.pid == static_cast<int>(::getpid()));
  CHECK_FALSE(id.hostname.empty());
  CHECK(id.wid == "wid-1");
  CHECK(id.labels == std::vector<std::string>{"x"});
  CHECK(id.username.empty());
}

TEST_CASE("a greeting with an absurd iteration count is refused, not hashed") {
  factotum::faktory::Reply greeting;
  greeting.kind = factotum::faktory::Reply::Kind::simple;
  greeting.text = R"(HI {"v":2,"i":2000000000,"s":"abc"})";
  auto parsed = factotum::faktory::parse_greeting(greeting);
  REQUIRE_FALSE(parsed);
  CHECK(parsed.error().is(factotum::faktory::errc::handshake_failed));
  CHECK(parsed.error().message.find("out of range") != std::string::npos);
}
