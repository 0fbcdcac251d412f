// Middleware for the order and short-circuit tests. Each logs around next().
#include <factotum/plugin.hpp>

#include <string>

FACTOTUM_PLUGIN("mw_a", "1.0.0", [](factotum::Registrar& r) {
  r.middleware("outer", [](factotum::Job& job, factotum::Next next) {
    job.log(factotum::LogLevel::info, "outer>");
    next();
    job.log(factotum::LogLevel::info, "outer<");
  });
  // custom {"gate":"skip"} short-circuits with success, {"gate":"deny"} with a failure.
  r.middleware("gate", [](factotum::Job& job, factotum::Next next) {
    const std::string custom(job.custom_json());
    if (custom.find("\"skip\"") != std::string::npos) {
      job.log(factotum::LogLevel::info, "gate skipped");
      return;
    }
    if (custom.find("\"deny\"") != std::string::npos) {
      throw factotum::JobFailure("Denied", "gate denied the job");
    }
    next();
  });
  r.middleware("timing", [](factotum::Job&, factotum::Next next) { next(); });
})
