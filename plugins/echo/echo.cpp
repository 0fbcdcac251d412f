// The echo plugin: jobtype "echo" logs its args and succeeds. The smallest useful plugin, and
// the template to copy when writing your own (see sdk/README.md).
#include <factotum/plugin.hpp>

#include <string>

FACTOTUM_PLUGIN("echo", "1.0.0", [](factotum::Registrar& r) {
  r.jobtype("echo", [](factotum::Job& job) {
    job.log(factotum::LogLevel::info, "echo " + std::string(job.args_json()));
  });
})
