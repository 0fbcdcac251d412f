// A second middleware plugin plus the job they wrap.
#include <factotum/plugin.hpp>

#include <stdexcept>
#include <string>

FACTOTUM_PLUGIN("mw_b", "1.0.0", [](factotum::Registrar& r) {
  r.middleware("inner", [](factotum::Job& job, factotum::Next next) {
    job.log(factotum::LogLevel::info, "inner>");
    next();
    job.log(factotum::LogLevel::info, "inner<");
  });
  r.middleware("timing", [](factotum::Job&, factotum::Next next) { next(); });
  r.middleware("twice", [](factotum::Job& job, factotum::Next next) {
    next();
    // A second call is refused by the host (FACTOTUM_ESTATE) and fails the job.
    if (std::string(job.custom_json()).find("\"twice\"") != std::string::npos) next();
  });
  r.jobtype("MwJob", [](factotum::Job& job) {
    job.log(factotum::LogLevel::info, "job");
    if (std::string(job.custom_json()).find("\"throw\"") != std::string::npos) {
      throw std::runtime_error("job threw inside the chain");
    }
  });
})
