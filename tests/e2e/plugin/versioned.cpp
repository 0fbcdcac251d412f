// A plugin built in several variants from this one source (PLUGIN_NAME, PLUGIN_VERSION and
// JOBTYPE come from the build) for the plugin-reload tests: its job says which build ran it by
// pushing a follow-up job to the queue "ran" with args [PLUGIN_NAME, PLUGIN_VERSION, jid],
// which the test reads on the server. args[0], when given, is a file to wait for (a gate
// that keeps the job in flight across a reload).
#include "job_args.hpp"

#include <factotum/plugin.hpp>

#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

#ifndef PLUGIN_NAME
#error PLUGIN_NAME, PLUGIN_VERSION and JOBTYPE are set by the build
#endif

FACTOTUM_PLUGIN(PLUGIN_NAME, PLUGIN_VERSION, [](factotum::Registrar& r) {
  r.jobtype(JOBTYPE, [](factotum::Job& job) {
    if (const std::string gate = e2e::first_string(job.args_json()); !gate.empty()) {
      while (::access(gate.c_str(), F_OK) != 0) {
        job.throw_if_cancelled();
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    const std::string note = R"({"jobtype":"noted","queue":"ran","args":[")" PLUGIN_NAME
                             R"(",")" PLUGIN_VERSION R"(",")" +
                             std::string(job.jid()) + R"("]})";
    factotum::push_job(note);
  });
})
