// plugin.hpp against a fake host (tests/sdk/fake_host.hpp): what a C++ plugin author is
// promised — exceptions become FAILs with the exception's type as errtype, middleware wraps
// the job koa-style, views, config, push, shutdown — without loading anything.
#include "fake_host.hpp"

#include <factotum/plugin.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace demo {
struct QuotaExceeded : std::runtime_error {
  using std::runtime_error::runtime_error;
};
}  // namespace demo

namespace {

// Names a plugin may well use for its own globals: FACTOTUM_PLUGIN's locals must not shadow
// them (this file is compiled with -Wshadow -Werror).
[[maybe_unused]] const int api = 0;
[[maybe_unused]] const int plugin = 0;
[[maybe_unused]] const int descriptor = 0;

std::atomic<int> shutdowns{0};
std::string seen;  // what the Views job read, for the accessor test

// The plugin under test. Its config decides how init behaves, so init failures can be tested
// with the one entry point a program can have.
void plugin_init(factotum::Registrar& r) {
  const std::string_view config = r.config_json();
  if (config.find("\"refuse\"") != std::string_view::npos) {
    throw std::invalid_argument("plugins.config.test.refuse: refusing to load");
  }
  r.jobtype("Ok", [](factotum::Job&) {});
  if (config.find("\"duplicate\"") != std::string_view::npos)
    r.jobtype("Ok", [](factotum::Job&) {});
  r.jobtype("Views", [](factotum::Job& job) {
    seen = std::string(job.jid()) + "|" + std::string(job.jobtype()) + "|" +
           std::string(job.queue()) + "|" + std::string(job.args_json()) + "|" +
           std::string(job.custom_json()) + "|" + std::string(job.payload_json()) + "|" +
           std::to_string(job.retry_count());
  });
  r.jobtype("OutOfRange", [](factotum::Job&) { throw std::out_of_range("index 7"); });
  r.jobtype("Quota", [](factotum::Job&) { throw demo::QuotaExceeded("over quota"); });
  r.jobtype("Custom", [](factotum::Job&) {
    throw factotum::JobFailure("PaymentDeclined", "card declined", "pay.cpp:12\ncharge.cpp:3");
  });
  r.jobtype("Int", [](factotum::Job&) { throw 42; });
  r.jobtype("Cancellable", [](factotum::Job& job) { job.throw_if_cancelled(); });
  r.jobtype("RegistersLate", [](factotum::Job&) {
    const auto& host = *factotum::detail::state().api;
    factotum::Registrar(&host, factotum::detail::state().plugin)
        .jobtype("Late", [](factotum::Job&) {});
  });
  r.jobtype("Pushes", [](factotum::Job& job) {
    const std::string jid = factotum::push_job(R"({"jobtype":"Next","args":[1]})");
    job.log(factotum::LogLevel::info, "pushed " + jid);
  });
  r.jobtype("ByArgs", [](factotum::Job& job) {
    const std::string args(job.args_json());
    if (args == "[\"range\"]") throw std::out_of_range("range");
    if (args == "[\"custom\"]") throw factotum::JobFailure("Mine", "mine");
  });
  r.log(factotum::LogLevel::info, "host " + std::string(r.host_version()));
}

}  // namespace

FACTOTUM_PLUGIN_WITH_SHUTDOWN("test", "1.2.3", plugin_init, [] { ++shutdowns; })

namespace {

using factotum_test::FakeHost;

// A fake host with the plugin loaded and, optionally, middleware registered by the test.
struct Loaded {
  explicit Loaded(std::string config = "{}") {
    host.plugin.config = std::move(config);
    status = host.init(*factotum_plugin_v1());
  }
  factotum_status run(const std::string& jobtype, const std::string& args = "[]") {
    job.jobtype = jobtype;
    job.args = args;
    return host.run(job);
  }
  FakeHost host;
  factotum_job job;
  factotum_status status = FACTOTUM_EINTERNAL;
};

// Adds a middleware through plugin.hpp's own trampoline, as Registrar::middleware does.
void add_middleware(FakeHost& host, factotum::MiddlewareFunction fn) {
  auto* holder = new factotum::MiddlewareFunction(std::move(fn));
  host.middleware.push_back({"mw" + std::to_string(host.middleware.size()),
                             &factotum::detail::middleware_trampoline, holder,
                             &factotum::detail::destroy<factotum::MiddlewareFunction>});
}

}  // namespace

TEST_CASE("the descriptor carries the SDK version, the plugin's name and version") {
  const factotum_plugin_descriptor* d = factotum_plugin_v1();
  CHECK(d->size == sizeof(factotum_plugin_descriptor));
  CHECK(d->abi_major == FACTOTUM_ABI_MAJOR);
  CHECK(d->abi_minor == FACTOTUM_ABI_MINOR);
  CHECK(std::string(d->name) == "test");
  CHECK(std::string(d->version) == "1.2.3");
  REQUIRE(d->init != nullptr);
  REQUIRE(d->shutdown != nullptr);
}

TEST_CASE("init registers the jobtypes and sees the host's version") {
  Loaded p;
  REQUIRE(p.status == FACTOTUM_OK);
  CHECK(p.host.jobtypes.size() == 10);
  CHECK(p.host.logged("host 9.9.9-test"));
}

TEST_CASE("a job function that returns normally succeeds") {
  Loaded p;
  CHECK(p.run("Ok") == FACTOTUM_OK);
  CHECK(p.job.fail_calls == 0);
}

TEST_CASE("the job's fields are string_views of what the host hands over") {
  Loaded p;
  p.job.jid = "abc";
  p.job.queue = "critical";
  p.job.custom = R"({"k":1})";
  p.job.payload = R"({"jid":"abc"})";
  p.job.retries = 3;
  REQUIRE(p.run("Views", "[1,\"two\"]") == FACTOTUM_OK);
  CHECK(seen == R"(abc|Views|critical|[1,"two"]|{"k":1}|{"jid":"abc"}|3)");
}

TEST_CASE("a job that throws a standard exception is FAILed with its type name as errtype") {
  Loaded p;
  CHECK(p.run("OutOfRange") == FACTOTUM_FAILED);
  CHECK(p.job.errtype == "std::out_of_range");
  CHECK(p.job.message == "index 7");
}

TEST_CASE("a job that throws the plugin's own exception type is FAILed with its qualified name") {
  Loaded p;
  CHECK(p.run("Quota") == FACTOTUM_FAILED);
  CHECK(p.job.errtype == "demo::QuotaExceeded");
  CHECK(p.job.message == "over quota");
}

TEST_CASE("factotum::JobFailure chooses the errtype and may carry a backtrace") {
  Loaded p;
  CHECK(p.run("Custom") == FACTOTUM_FAILED);
  CHECK(p.job.errtype == "PaymentDeclined");
  CHECK(p.job.message == "card declined");
  CHECK(p.job.backtrace == "pay.cpp:12\ncharge.cpp:3");
}

TEST_CASE("an exception not derived from std::exception is FAILed as UnknownException naming it") {
  Loaded p;
  CHECK(p.run("Int") == FACTOTUM_FAILED);
  CHECK(p.job.errtype == "UnknownException");
  CHECK(p.job.message.find("(type int)") != std::string::npos);
}

TEST_CASE("throw_if_cancelled FAILs the job with errtype Cancelled once it is cancelled") {
  Loaded p;
  CHECK(p.run("Cancellable") == FACTOTUM_OK);
  p.job.cancelled = true;
  CHECK(p.run("Cancellable") == FACTOTUM_FAILED);
  CHECK(p.job.errtype == "Cancelled");
}

TEST_CASE("registering after init throws, naming the refusal") {
  Loaded p;
  CHECK(p.run("RegistersLate") == FACTOTUM_FAILED);
  CHECK(p.job.errtype == "std::runtime_error");
  CHECK(p.job.message.find("registering jobtype 'Late' failed: FACTOTUM_ESTATE") !=
        std::string::npos);
}

TEST_CASE("an init that throws refuses the load and logs why") {
  Loaded p(R"({"refuse":true})");
  CHECK(p.status == FACTOTUM_EINTERNAL);
  CHECK(p.host.logged("init failed: plugins.config.test.refuse: refusing to load"));
}

TEST_CASE("a jobtype registered twice refuses the load") {
  Loaded p(R"({"duplicate":true})");
  CHECK(p.status == FACTOTUM_EINTERNAL);
  CHECK(p.host.logged("registering jobtype 'Ok' failed: FACTOTUM_EEXIST"));
}

TEST_CASE("push_job returns the new job's jid") {
  Loaded p;
  REQUIRE(p.run("Pushes") == FACTOTUM_OK);
  REQUIRE(p.host.pushed.size() == 1);
  CHECK(p.host.pushed[0] == R"({"jobtype":"Next","args":[1]})");
  CHECK(p.host.logged("pushed pushed-1"));
}

TEST_CASE("shutdown runs the plugin's shutdown callable") {
  const int before = shutdowns;
  factotum_plugin_v1()->shutdown(nullptr);
  CHECK(shutdowns == before + 1);
}

TEST_CASE("a middleware wraps the job: code before and after next() runs around it") {
  Loaded p;
  std::vector<std::string> order;
  add_middleware(p.host, [&order](factotum::Job& job, factotum::Next next) {
    order.push_back("before " + std::string(job.jobtype()));
    next();
    order.push_back("after");
  });
  CHECK(p.run("Ok") == FACTOTUM_OK);
  CHECK(order == std::vector<std::string>{"before Ok", "after"});
}

TEST_CASE("a failure passes through a middleware unchanged") {
  Loaded p;
  bool after_next = false;
  add_middleware(p.host, [&after_next](factotum::Job&, factotum::Next next) {
    next();
    after_next = true;
  });
  CHECK(p.run("Custom") == FACTOTUM_FAILED);
  CHECK_FALSE(after_next);
  CHECK(p.job.errtype == "PaymentDeclined");
  CHECK(p.job.fail_calls == 1);  // recorded once, by the job, never rewritten
}

TEST_CASE("a middleware may catch a downstream failure and rethrow its own") {
  Loaded p;
  add_middleware(p.host, [](factotum::Job&, factotum::Next next) {
    try {
      next();
    } catch (const factotum::Next::Passthrough&) {
      throw factotum::JobFailure("Wrapped", "the job failed");
    }
  });
  CHECK(p.run("OutOfRange") == FACTOTUM_FAILED);
  CHECK(p.job.errtype == "Wrapped");
}

TEST_CASE("a middleware that does not call next() short-circuits the job") {
  SECTION("returning skips the job and succeeds") {
    Loaded p;
    add_middleware(p.host, [](factotum::Job&, factotum::Next) {});
    CHECK(p.run("OutOfRange") == FACTOTUM_OK);  // skipped, so it never threw
  }
  SECTION("throwing FAILs the job without running it") {
    Loaded p;
    add_middleware(p.host, [](factotum::Job&, factotum::Next) { throw std::runtime_error("no"); });
    CHECK(p.run("Custom") == FACTOTUM_FAILED);
    CHECK(p.job.errtype == "std::runtime_error");
  }
}

TEST_CASE("calling next() twice runs the job once and FAILs it with the host's ESTATE") {
  Loaded p;
  int runs = 0;
  add_middleware(p.host, [](factotum::Job&, factotum::Next next) {
    next();
    next();
  });
  add_middleware(p.host, [&runs](factotum::Job&, factotum::Next next) {
    ++runs;
    next();
  });
  CHECK(p.run("Ok") == FACTOTUM_ESTATE);
  CHECK(runs == 1);
  CHECK(p.job.errtype == "PluginError");  // the host's word for a status without job_fail
}

TEST_CASE("jobs run concurrently through one registered function keep their own outcome") {
  Loaded p;
  const std::vector<std::string> args = {"[\"range\"]", "[\"custom\"]", "[\"ok\"]"};
  std::vector<factotum_job> jobs(90);
  std::vector<factotum_status> statuses(jobs.size());
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (std::size_t i = t; i < jobs.size(); i += 6) {
        jobs[i].jobtype = "ByArgs";
        jobs[i].args = args[i % 3];
        // The fake host's chain state is per job, so running jobs directly is thread-safe.
        const auto& fn = p.host.jobtypes;
        for (const auto& r : fn) {
          if (r.name == "ByArgs") statuses[i] = r.fn(&jobs[i], r.user_data);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    INFO("job " << i);
    switch (i % 3) {
      case 0:
        CHECK(jobs[i].errtype == "std::out_of_range");
        break;
      case 1:
        CHECK(jobs[i].errtype == "Mine");
        break;
      default:
        CHECK(statuses[i] == FACTOTUM_OK);
    }
  }
}
