// The C plugin joblog, loaded with dlopen into the fake host (tests/sdk/fake_host.hpp): its
// sleep job honours cancellation, which `factotum run-job` cannot trigger.
#include "fake_host.hpp"

#include <catch2/catch.hpp>

#include <dlfcn.h>

#include <chrono>
#include <string>
#include <thread>

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

TEST_CASE("a cancelled sleep stops within 100 ms with ECANCELLED and errtype Cancelled") {
  Loaded p;
  p.job.jobtype = "sleep";
  p.job.args = "[60000]";
  std::thread canceller([&p] {
    std::this_thread::sleep_for(milliseconds(50));
    p.job.cancelled = true;
  });
  const auto start = Clock::now();
  const factotum_status status = p.host.run(p.job);
  const auto took = Clock::now() - start;
  canceller.join();
  CHECK(status == FACTOTUM_ECANCELLED);
  CHECK(p.job.errtype == "Cancelled");
  CHECK(took < milliseconds(50 + 100 + 50));  // 50 ms of slack for a loaded machine
  CHECK(p.host.logged("job sleep jid=jid-1 cancelled in "));
}
