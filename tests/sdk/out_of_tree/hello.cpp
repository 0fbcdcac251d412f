// An out-of-tree plugin: greets, and fails with a custom errtype when asked to.
#include <factotum/plugin.hpp>

#include <string>

FACTOTUM_PLUGIN("hello", "0.1.0", [](factotum::Registrar& r) {
  r.jobtype("Hello", [](factotum::Job& job) {
    if (job.args_json() == "[\"fail\"]") throw factotum::JobFailure("HelloError", "asked to fail");
    job.log(factotum::LogLevel::info, "hello " + std::string(job.args_json()));
  });
})
