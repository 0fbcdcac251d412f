// The middleware chain: order, short-circuit, failures passing through (DESIGN.md §4, sdk.h
// factotum_middleware_fn).
#include "abi_test_support.hpp"

#include <catch2/catch.hpp>

using namespace factotum;
using namespace factotum::abi_test;

namespace {

struct MiddlewareHost {
  TempDir dir;
  LogCollector log;
  plugins::PluginHost host{log.services()};
  MiddlewareHost() {
    install("mw_a", dir.path());
    install("mw_b", dir.path());
    const auto report = host.load_directories({dir.path()}, options());
    REQUIRE(report.ok());
  }
  plugins::JobOutcome run(const std::string& jid, const std::string& custom = "{}") {
    TestJob job("MwJob", jid);
    job.custom_json = custom;
    return host.run(job.input());
  }
};

std::vector<std::string> names(const std::vector<plugins::RegistrationInfo>& infos) {
  std::vector<std::string> out;
  for (const auto& info : infos) out.push_back(info.name);
  return out;
}

}  // namespace

TEST_CASE("by default every middleware runs in plugin load order, around the job",
          "[abi][middleware]") {
  MiddlewareHost m;
  CHECK(names(m.host.middleware()) == std::vector<std::string>{"mw_a.outer", "mw_a.gate",
                                                               "mw_a.timing", "mw_b.inner",
                                                               "mw_b.timing", "mw_b.twice"});
  CHECK(m.run("j1").succeeded());
  CHECK(m.log.messages_for("j1") ==
        std::vector<std::string>{"outer>", "inner>", "job", "inner<", "outer<"});
}

TEST_CASE("a configured middleware order is followed", "[abi][middleware]") {
  MiddlewareHost m;
  REQUIRE_FALSE(m.host.set_middleware_order({"mw_b.inner", "outer"}).has_value());
  CHECK(names(m.host.middleware()) == std::vector<std::string>{"mw_b.inner", "mw_a.outer"});
  CHECK(m.run("j1").succeeded());
  CHECK(m.log.messages_for("j1") ==
        std::vector<std::string>{"inner>", "outer>", "job", "outer<", "inner<"});
}

TEST_CASE("unknown or ambiguous middleware names are refused and change nothing",
          "[abi][middleware]") {
  MiddlewareHost m;
  const auto before = names(m.host.middleware());
  const auto unknown = m.host.set_middleware_order({"outer", "nope"});
  REQUIRE(unknown.has_value());
  CHECK(*unknown == "unknown middleware 'nope' (no loaded plugin registered it)");
  const auto ambiguous = m.host.set_middleware_order({"timing"});
  REQUIRE(ambiguous.has_value());
  CHECK(*ambiguous == "middleware name 'timing' is ambiguous: write mw_a.timing or mw_b.timing");
  CHECK(names(m.host.middleware()) == before);
  CHECK_FALSE(m.host.set_middleware_order({"mw_b.timing"}).has_value());
}

TEST_CASE("a middleware that returns OK without calling next skips the job and succeeds",
          "[abi][middleware]") {
  MiddlewareHost m;
  CHECK(m.run("j1", R"({"gate":"skip"})").succeeded());
  CHECK(m.log.messages_for("j1") == std::vector<std::string>{"outer>", "gate skipped", "outer<"});
}

TEST_CASE("a middleware that fails without calling next fails the job", "[abi][middleware]") {
  MiddlewareHost m;
  const auto outcome = m.run("j1", R"({"gate":"deny"})");
  CHECK(outcome.errtype == "Denied");
  CHECK(outcome.message == "gate denied the job");
  CHECK(outcome.plugin == "mw_b");  // the jobtype's plugin
  CHECK(m.log.messages_for("j1") == std::vector<std::string>{"outer>"});
}

TEST_CASE("a job's failure passes through the middleware unchanged", "[abi][middleware]") {
  MiddlewareHost m;
  const auto outcome = m.run("j1", R"({"throw":1})");
  CHECK(outcome.errtype == "std::runtime_error");
  CHECK(outcome.message == "job threw inside the chain");
  CHECK(m.log.messages_for("j1") == std::vector<std::string>{"outer>", "inner>", "job"});
}

TEST_CASE("a middleware calling next twice gets FACTOTUM_ESTATE and the job runs once",
          "[abi][middleware]") {
  MiddlewareHost m;
  REQUIRE_FALSE(m.host.set_middleware_order({"twice"}).has_value());
  const auto outcome = m.run("j1", R"({"twice":1})");
  CHECK(outcome.errtype == "PluginError");
  CHECK(outcome.message == "job function returned status 4");
  CHECK(m.log.messages_for("j1") == std::vector<std::string>{"job"});
}
