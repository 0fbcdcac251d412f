#include "faktory/url.hpp"

#include "catch_result.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <string>

using namespace factotum::faktory;

namespace {

EnvLookup fake_env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string url_error(std::string_view url) {
  auto r = parse_url(url);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().is(errc::invalid_url));
  return r.error().message;
}

}  // namespace

TEST_CASE("a plain tcp URL gives host and port", "[url]") {
  auto u = parse_url("tcp://faktory.example.com:7500").value();
  CHECK_FALSE(u.tls);
  CHECK(u.host == "faktory.example.com");
  CHECK(u.port == 7500);
  CHECK(u.username.empty());
  CHECK_FALSE(u.password.has_value());
}

TEST_CASE("the port defaults to 7419 and a trailing slash is allowed", "[url]") {
  CHECK(parse_url("tcp://localhost").value().port == 7419);
  CHECK(parse_url("tcp://localhost/").value().port == 7419);
  CHECK(parse_url("tcp://localhost:7419/").value().host == "localhost");
}

TEST_CASE("tcp+tls selects TLS and the scheme is case-insensitive", "[url]") {
  CHECK(parse_url("tcp+tls://faktory:7419").value().tls);
  CHECK(parse_url("TCP+TLS://faktory:7419").value().tls);
  CHECK_FALSE(parse_url("TCP://faktory").value().tls);
}

TEST_CASE("the password is URL-decoded and the username kept", "[url]") {
  auto u = parse_url("tcp://:s3cret@localhost:7419").value();
  CHECK(u.password == "s3cret");
  CHECK(u.username.empty());

  auto v = parse_url("tcp+tls://proxy-user:p%40ss%3Aw%2Frd%20x@10.0.0.5:7419").value();
  CHECK(v.username == "proxy-user");
  CHECK(v.password == "p@ss:w/rd x");
  CHECK(v.host == "10.0.0.5");

  auto w = parse_url("tcp://user@localhost").value();
  CHECK(w.username == "user");
  CHECK_FALSE(w.password.has_value());

  auto empty = parse_url("tcp://:@localhost").value();
  CHECK(empty.password == "");
}

TEST_CASE("IPv6 literals are given without brackets", "[url]") {
  auto u = parse_url("tcp://[::1]:7419").value();
  CHECK(u.host == "::1");
  CHECK(u.port == 7419);
  CHECK(parse_url("tcp+tls://[2001:db8::7]").value().host == "2001:db8::7");
}

TEST_CASE("redacted() never shows the password", "[url]") {
  auto u = parse_url("tcp+tls://bob:hunter2%21@faktory.internal:7500").value();
  CHECK(u.redacted() == "tcp+tls://bob:***@faktory.internal:7500");
  CHECK(parse_url("tcp://:hunter2@[::1]").value().redacted() == "tcp://:***@[::1]:7419");
  CHECK(parse_url("tcp://localhost").value().redacted() == "tcp://localhost:7419");
  CHECK(ServerUrl{}.redacted() == "tcp://localhost:7419");
}

TEST_CASE("unknown schemes are refused, naming the accepted ones", "[url]") {
  CHECK(
      url_error("http://localhost:7419") ==
      "Faktory URL 'http://localhost:7419': unknown scheme 'http': expected tcp:// or tcp+tls://");
  CHECK(url_error("redis://:pw@localhost") ==
        "Faktory URL 'redis://:***@localhost': unknown scheme 'redis': expected tcp:// or "
        "tcp+tls://");
  CHECK(url_error("localhost:7419") ==
        "Faktory URL 'localhost:7419': missing scheme: expected tcp://host:port or "
        "tcp+tls://host:port");
}

TEST_CASE("bad, zero and out-of-range ports are refused", "[url]") {
  CHECK(url_error("tcp://localhost:0") ==
        "Faktory URL 'tcp://localhost:0': port 0 is not a usable port (1-65535)");
  CHECK(url_error("tcp://localhost:65536") ==
        "Faktory URL 'tcp://localhost:65536': port '65536' is out of range (1-65535)");
  CHECK(url_error("tcp://localhost:99999999999999999999") ==
        "Faktory URL 'tcp://localhost:99999999999999999999': port '99999999999999999999' is out "
        "of range (1-65535)");
  CHECK(url_error("tcp://localhost:") ==
        "Faktory URL 'tcp://localhost:': the port after ':' is empty (default is 7419)");
  CHECK(url_error("tcp://localhost:74a9") ==
        "Faktory URL 'tcp://localhost:74a9': port '74a9' is not a number");
  CHECK(parse_url("tcp://localhost:65535").value().port == 65535);
}

TEST_CASE("an empty host is refused", "[url]") {
  CHECK(url_error("tcp://:7419") == "Faktory URL 'tcp://:7419': the host is empty");
  CHECK(url_error("tcp://") == "Faktory URL 'tcp://': the host is empty");
  CHECK(url_error("tcp://:secret@:7419") == "Faktory URL 'tcp://:***@:7419': the host is empty");
}

TEST_CASE("a path, query or fragment is refused", "[url]") {
  CHECK(url_error("tcp://localhost:7419/queue") ==
        "Faktory URL 'tcp://localhost:7419/queue': unexpected path '/queue' (a Faktory URL is "
        "only scheme://[:password@]host[:port])");
  CHECK(url_error("tcp://localhost?tls=1") ==
        "Faktory URL 'tcp://localhost?tls=1': a query ('?...') is not allowed in a Faktory URL");
  CHECK(url_error("tcp://localhost#x") ==
        "Faktory URL 'tcp://localhost#x': a fragment ('#...') is not allowed in a Faktory URL");
}

TEST_CASE("bad percent-encoding is refused without showing the password", "[url]") {
  const auto message = url_error("tcp://:bad%zzpass@localhost");
  CHECK(message.find("not a valid URL") != std::string::npos);
  CHECK(message.find("bad%zzpass") == std::string::npos);
  CHECK(message.find(":***@localhost") != std::string::npos);
}

TEST_CASE("a host decoding to a control character is refused", "[url]") {
  CHECK(url_error("tcp://local%0dhost") ==
        "Faktory URL 'tcp://local%0dhost': the host 'local\\rhost' contains a space or control "
        "character");
}

TEST_CASE("FAKTORY_URL is read when FAKTORY_PROVIDER is unset", "[url][env]") {
  auto r = url_from_environment(fake_env({{"FAKTORY_URL", "tcp://q:7419"}}));
  REQUIRE(r.has_value());
  CHECK(*r == "tcp://q:7419");
}

TEST_CASE("FAKTORY_PROVIDER names the variable holding the URL and wins over FAKTORY_URL",
          "[url][env]") {
  auto r = url_from_environment(fake_env({{"FAKTORY_PROVIDER", "MY_FAKTORY"},
                                          {"MY_FAKTORY", "tcp+tls://:pw@prod:7419"},
                                          {"FAKTORY_URL", "tcp://ignored:7419"}}));
  REQUIRE(r.has_value());
  CHECK(*r == "tcp+tls://:pw@prod:7419");
}

TEST_CASE("no environment means no URL", "[url][env]") {
  auto r = url_from_environment(fake_env({}));
  REQUIRE(r.has_value());
  CHECK_FALSE(r->has_value());
  auto empty = url_from_environment(fake_env({{"FAKTORY_URL", ""}, {"FAKTORY_PROVIDER", ""}}));
  REQUIRE(empty.has_value());
  CHECK_FALSE(empty->has_value());
}

TEST_CASE("FAKTORY_PROVIDER holding a URL is an error explaining it must be a name", "[url][env]") {
  auto r = url_from_environment(fake_env({{"FAKTORY_PROVIDER", "tcp://:secret@host:7419"}}));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().is(errc::invalid_url));
  CHECK(r.error().message.find("*name*") != std::string::npos);
  CHECK(r.error().message.find("secret") == std::string::npos);
}

TEST_CASE("FAKTORY_PROVIDER naming an unset or empty variable is an error naming it",
          "[url][env]") {
  for (const auto& env : {fake_env({{"FAKTORY_PROVIDER", "MISSING_URL"}}),
                          fake_env({{"FAKTORY_PROVIDER", "MISSING_URL"}, {"MISSING_URL", ""}})}) {
    auto r = url_from_environment(env);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message ==
          "FAKTORY_PROVIDER names the environment variable 'MISSING_URL', which is not set or "
          "empty");
  }
}

TEST_CASE("resolve_url takes flag, then environment, then configured, then the default",
          "[url][env]") {
  const auto env = fake_env({{"FAKTORY_URL", "tcp://from-env:1"}});
  const auto none = fake_env({});
  CHECK(resolve_url("tcp://from-flag:2", env, "tcp://from-config:3").value().host == "from-flag");
  CHECK(resolve_url(std::nullopt, env, "tcp://from-config:3").value().host == "from-env");
  CHECK(resolve_url(std::nullopt, none, "tcp://from-config:3").value().host == "from-config");
  auto d = resolve_url(std::nullopt, none, std::nullopt).value();
  CHECK(d.host == "localhost");
  CHECK(d.port == 7419);
  CHECK_FALSE(d.tls);
}

TEST_CASE("a broken environment does not matter when a flag is given", "[url][env]") {
  const auto broken = fake_env({{"FAKTORY_PROVIDER", "NOPE"}});
  CHECK(resolve_url("tcp://flag:1", broken, std::nullopt).value().host == "flag");
  auto r = resolve_url(std::nullopt, broken, "tcp://config:1");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message.find("'NOPE'") != std::string::npos);
}

TEST_CASE("resolve_url errors name where the bad URL came from", "[url][env]") {
  auto from_flag = resolve_url("http://x", fake_env({}), std::nullopt);
  REQUIRE_FALSE(from_flag.has_value());
  CHECK(from_flag.error().message.rfind("--url: Faktory URL 'http://x'", 0) == 0);

  auto from_provider =
      resolve_url(std::nullopt, fake_env({{"FAKTORY_PROVIDER", "MY_URL"}, {"MY_URL", "tcp://h:0"}}),
                  std::nullopt);
  REQUIRE_FALSE(from_provider.has_value());
  CHECK(from_provider.error().message.rfind("MY_URL: ", 0) == 0);

  auto from_env = resolve_url(std::nullopt, fake_env({{"FAKTORY_URL", "tcp://h/x"}}), std::nullopt);
  REQUIRE_FALSE(from_env.has_value());
  CHECK(from_env.error().message.rfind("FAKTORY_URL: ", 0) == 0);

  auto from_config = resolve_url(std::nullopt, fake_env({}), "tcp://");
  REQUIRE_FALSE(from_config.has_value());
  CHECK(from_config.error().message.rfind("faktory.url: ", 0) == 0);
}

TEST_CASE("process_environment reads the real environment", "[url][env]") {
  ::setenv("FACTOTUM_URL_TEST_VAR", "tcp://envhost:7419", 1);
  const auto env = process_environment();
  CHECK(env("FACTOTUM_URL_TEST_VAR") == std::optional<std::string>("tcp://envhost:7419"));
  ::unsetenv("FACTOTUM_URL_TEST_VAR");
  CHECK_FALSE(env("FACTOTUM_URL_TEST_VAR").has_value());
}

TEST_CASE("a password with an unencoded '/' is refused without showing any of it") {
  auto url = factotum::faktory::parse_url("tcp://:ab/cd+ef@host:7419");
  REQUIRE_FALSE(url);
  const auto& message = url.error().message;
  CHECK(message.find("ab") == std::string::npos);
  CHECK(message.find("cd+ef") == std::string::npos);
  CHECK(message.find("percent-encoded") != std::string::npos);
}
