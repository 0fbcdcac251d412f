// Running jobs through the host function table (DESIGN.md §4.3–§4.5): outcomes, failures,
// cancellation, services.
#include "abi_test_support.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <thread>

using namespace factotum;
using namespace factotum::abi_test;

TEST_CASE("a job whose jobtype has no handler fails with UnknownJobtype", "[abi][job]") {
  plugins::PluginHost host({});
  REQUIRE(host.load_file(plugin("cpp_jobs"), options()).ok());
  const auto outcome = host.run(TestJob("Nobody").input());
  CHECK_FALSE(outcome.succeeded());
  CHECK(outcome.errtype == "UnknownJobtype");
  CHECK(outcome.message == "no plugin registered jobtype 'Nobody'");
  CHECK(outcome.plugin.empty());
}

TEST_CASE("a C job's job_fail details become the failure (the last call wins)", "[abi][job]") {
  plugins::PluginHost host({});
  REQUIRE(host.load_file(plugin("good_c"), options()).ok());
  const auto outcome = host.run(TestJob("CFail").input());
  CHECK_FALSE(outcome.succeeded());
  CHECK(outcome.errtype == "CError");
  CHECK(outcome.message == "the C job failed");
  CHECK(outcome.backtrace == std::vector<std::string>{"frame one", "frame two"});
  CHECK(outcome.plugin == "good_c");
}

TEST_CASE("a job returning FACTOTUM_FAILED without job_fail fails with PluginError", "[abi][job]") {
  plugins::PluginHost host({});
  REQUIRE(host.load_file(plugin("good_c"), options()).ok());
  const auto outcome = host.run(TestJob("CBare").input());
  CHECK(outcome.errtype == "PluginError");
  CHECK(outcome.message == "job function returned status 1");
  // No backtrace from the plugin: the host says where the job failed.
  REQUIRE(outcome.backtrace.size() == 1);
  CHECK(outcome.backtrace.front().starts_with("in jobtype 'CBare' of plugin 'good_c' "));
  CHECK(outcome.backtrace.front().ends_with("good_c.so)"));
}

TEST_CASE("a throwing C++ job fails with the exception's type as errtype and what() as message",
          "[abi][job]") {
  plugins::PluginHost host({});
  REQUIRE(host.load_file(plugin("cpp_jobs"), options()).ok());
  auto failure = [&](const char* jobtype) { return host.run(TestJob(jobtype).input()); };

  CHECK(host.run(TestJob("Succeeds").input()).succeeded());
  auto outcome = failure("ThrowsRuntime");
  CHECK_FALSE(outcome.succeeded());
  CHECK(outcome.errtype == "std::runtime_error");
  CHECK(outcome.message == "boom");
  CHECK(outcome.plugin == "cpp_jobs");
  REQUIRE(outcome.backtrace.size() == 1);
  CHECK(outcome.backtrace.front().starts_with("in jobtype 'ThrowsRuntime' of plugin 'cpp_jobs' "));
  outcome = failure("ThrowsOutOfRange");
  CHECK(outcome.errtype == "std::out_of_range");
  CHECK(outcome.message == "index 7 out of range");
  outcome = failure("ThrowsJobFailure");
  CHECK(outcome.errtype == "PaymentDeclined");
  CHECK(outcome.message == "card 4242 declined");
  outcome = failure("ThrowsInt");
  CHECK(outcome.errtype == "UnknownException");
}

TEST_CASE("a job sees its cancellation flag", "[abi][job]") {
  plugins::PluginHost host({});
  REQUIRE(host.load_file(plugin("good_c"), options()).ok());
  REQUIRE(host.load_file(plugin("cpp_jobs"), options()).ok());
  TestJob c_job("CCancel");
  CHECK(host.run(c_job.input()).succeeded());
  c_job.cancelled = true;
  const auto outcome = host.run(c_job.input());
  CHECK(outcome.errtype == "Cancelled");
  CHECK(outcome.message == "saw the cancellation flag");

  TestJob cpp_job("ChecksCancel");
  CHECK(host.run(cpp_job.input()).succeeded());
  cpp_job.cancelled = true;
  CHECK(host.run(cpp_job.input()).errtype == "Cancelled");

  plugins::JobInput no_flag = cpp_job.input();
  no_flag.cancelled = nullptr;  // a worker may not pass one: never cancelled
  CHECK(host.run(no_flag).succeeded());
}

TEST_CASE("push_job reaches HostServices.push and hands back the jid", "[abi][job]") {
  LogCollector log;
  auto services = log.services();
  std::vector<std::string> pushed;
  services.push = [&](std::string_view json, std::string& jid_or_error) {
    pushed.emplace_back(json);
    jid_or_error = "abcdefghijkl";
    return true;
  };
  plugins::PluginHost host(services);
  REQUIRE(host.load_file(plugin("good_c"), options()).ok());
  CHECK(host.run(TestJob("CPush", "jid-push").input()).succeeded());
  REQUIRE(pushed.size() == 1);  // the second (invalid JSON) push never reached the service
  CHECK(pushed.front() == R"({"jobtype":"Next","args":[1]})");
  CHECK(log.index_of("pushed abcdefg", "jid-push") >= 0);  // truncated to jid_out_size - 1

  SECTION("without a push service, push_job answers FACTOTUM_EUNAVAILABLE") {
    plugins::PluginHost offline({});
    REQUIRE(offline.load_file(plugin("good_c"), options()).ok());
    CHECK(offline.run(TestJob("CPush").input()).message == "job function returned status 5");
  }
  SECTION("a failing push service answers FACTOTUM_EUNAVAILABLE and logs why") {
    LogCollector failing_log;
    auto failing = failing_log.services();
    failing.push = [](std::string_view, std::string& error) {
      error = "server unreachable";
      return false;
    };
    plugins::PluginHost down(failing);
    REQUIRE(down.load_file(plugin("good_c"), options()).ok());
    CHECK(down.run(TestJob("CPush", "j").input()).message == "job function returned status 5");
    CHECK(failing_log.index_of("push_job failed: server unreachable", "j") >= 0);
  }
}

TEST_CASE("log lines carry the plugin's name and the jid, and config_json is the plugin's subtree",
          "[abi][job]") {
  LogCollector log;
  plugins::PluginHost host(log.services());
  auto opts = options();
  opts.config_json["good_c"] = R"({"greeting":"hi"})";
  opts.config_json["other"] = R"({"secret":1})";
  REQUIRE(host.load_file(plugin("good_c"), opts).ok());
  CHECK(host.run(TestJob("CConfig", "jid-config").input()).succeeded());
  const auto lines = log.lines();
  const auto at = log.index_of(R"(config={"greeting":"hi"})", "jid-config");
  REQUIRE(at >= 0);
  CHECK(lines[static_cast<std::size_t>(at)].plugin == "good_c");
  CHECK(lines[static_cast<std::size_t>(at)].level == 6);
  // Lines outside a job (init) carry no jid.
  CHECK(lines.front().jid.empty());

  plugins::PluginHost bare(log.services());
  REQUIRE(bare.load_file(plugin("good_c"), options()).ok());
  CHECK(bare.run(TestJob("CConfig", "jid-empty").input()).succeeded());
  CHECK(log.index_of("config={}", "jid-empty") >= 0);
}

TEST_CASE("registering after init is refused with FACTOTUM_ESTATE", "[abi][job]") {
  plugins::PluginHost host({});
  REQUIRE(host.load_file(plugin("good_c"), options()).ok());
  CHECK(host.run(TestJob("CLateRegister").input()).message == "job function returned status 4");
  CHECK_FALSE(host.plugin_for("TooLate").has_value());
}

TEST_CASE("a generation's user_data is destroyed once, after its shutdown", "[abi][job]") {
  int destroy_counter = 0;
  LogCollector log;
  {
    plugins::PluginHost host(log.services());
    auto opts = options();
    opts.config_json["good_c"] =
        R"({"destroy_counter":)" +
        std::to_string(reinterpret_cast<std::uintptr_t>(&destroy_counter)) + "}";
    REQUIRE(host.load_file(plugin("good_c"), opts).ok());
    CHECK(host.run(TestJob("CEcho").input()).succeeded());
    CHECK(destroy_counter == 0);
  }
  CHECK(log.count("good_c shutdown") == 1);
  CHECK(destroy_counter == 1);  // 100 would mean destroy ran before shutdown
}

TEST_CASE("many threads run jobs at once", "[abi][job]") {
  LogCollector log;
  plugins::PluginHost host(log.services());
  REQUIRE(host.load_file(plugin("cpp_jobs"), options()).ok());
  REQUIRE(host.load_file(plugin("good_c"), options()).ok());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        TestJob ok(i % 2 == 0 ? "Succeeds" : "CEcho", "t" + std::to_string(t));
        TestJob bad("ThrowsRuntime");
        if (!host.run(ok.input()).succeeded()) ++failures;
        if (host.run(bad.input()).message != "boom") ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(failures == 0);
  CHECK(log.messages_for("t3").size() == 100);
}
