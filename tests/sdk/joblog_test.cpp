// The C plugin joblog, loaded with dlopen into the fake host (tests/sdk/fake_host.hpp): its
// sleep job honours cancellation, which `factotum run-job` cannot trigger.
#include "fake_host.hpp"

#include <catch2/catch.hpp>

#include <dlfcn.h>

#include <chrono>
#include <future>
#include <string>

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Loaded once and never unloaded, like the daemon does (DESIGN.md §4.7).
const factotum_plugin_descriptor& joblog() {
  static const factotum_plugin_descriptor* descriptor = [] {
    const std::string path = FACTOTUM_BINARY_DIR "/plugins/joblog.so";
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) FAIL("cannot load " << path << ": " << ::dlerror());
    auto entry =
        reinterpret_cast<factotum_plugin_entry_fn>(::dlsym(handle, FACTOTUM_PLUGIN_ENTRY_SYMBOL));
    if (entry == nullptr) FAIL("no " FACTOTUM_PLUGIN_ENTRY_SYMBOL " in " << path);
    return entry();
  }();
  return *descriptor;
}

struct Loaded {
  Loaded() { REQUIRE(host.init(joblog()) == FACTOTUM_OK); }
  factotum_test::FakeHost host;
  factotum_job job;
};

}  // namespace

TEST_CASE("joblog registers the joblog middleware and the sleep jobtype") {
  Loaded p;
  REQUIRE(p.host.middleware.size() == 1);
  CHECK(p.host.middleware[0].name == "joblog");
  REQUIRE(p.host.jobtypes.size() == 1);
  CHECK(p.host.jobtypes[0].name == "sleep");
}

TEST_CASE("sleep sleeps args[0] milliseconds and the middleware logs the outcome") {
  Loaded p;
  p.job.jobtype = "sleep";
  p.job.args = "[ 60 ]";
  const auto start = Clock::now();
  CHECK(p.host.run(p.job) == FACTOTUM_OK);
  CHECK(Clock::now() - start >= milliseconds(60));
  CHECK(p.host.logged("job sleep jid=jid-1 succeeded in "));
}

TEST_CASE("sleep without a non-negative integer args[0] fails with ArgumentError") {
  for (const char* args : {"[]", "[\"abc\"]", "[-5]", "[\"7\"]", "{}"}) {
    INFO("args " << args);
    Loaded p;
    p.job.jobtype = "sleep";
    p.job.args = args;
    CHECK(p.host.run(p.job) == FACTOTUM_FAILED);
    CHECK(p.job.errtype == "ArgumentError");
    CHECK(p.host.logged("job sleep jid=jid-1 failed in "));
  }
}

TEST_CASE("a running sleep, once cancelled, returns ECANCELLED long before its time is up") {
  Loaded p;
  p.job.jobtype = "sleep";
  p.job.args = "[60000]";  // one minute: returning within the 30 s below proves the cancel
  auto running = std::async(std::launch::async, [&p] { return p.host.run(p.job); });

  // Cancel only once the job is known to run: it has polled job_cancelled at least once.
  const auto polling_by = Clock::now() + std::chrono::seconds(30);
  while (p.job.cancelled_polls.load() == 0 && Clock::now() < polling_by) {
    REQUIRE(running.wait_for(milliseconds(1)) == std::future_status::timeout);
  }
  REQUIRE(p.job.cancelled_polls.load() > 0);
  p.job.cancelled = true;

  // If the cancel were ignored the job would sleep its full minute; the future's destructor
  // then waits for it, so a failure here is slow but never leaves the job running.
  REQUIRE(running.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
  CHECK(running.get() == FACTOTUM_ECANCELLED);
  CHECK(p.job.fail_calls == 1);
  CHECK(p.job.errtype == "Cancelled");
  CHECK(p.host.logged("job sleep jid=jid-1 cancelled in "));
}
