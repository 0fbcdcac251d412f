// C++ jobs through plugin.hpp: exceptions become FAILs (DESIGN.md §4.5).
#include <factotum/plugin.hpp>

#include <stdexcept>
#include <string>

FACTOTUM_PLUGIN("cpp_jobs", "2.1.0", [](factotum::Registrar& r) {
  r.jobtype("Succeeds", [](factotum::Job& job) {
    job.log(factotum::LogLevel::info, "ran with " + std::string(job.args_json()));
  });
  r.jobtype("ThrowsRuntime", [](factotum::Job&) { throw std::runtime_error("boom"); });
  r.jobtype("ThrowsOutOfRange",
            [](factotum::Job&) { throw std::out_of_range("index 7 out of range"); });
  r.jobtype("ThrowsJobFailure", [](factotum::Job&) {
    throw factotum::JobFailure("PaymentDeclined", "card 4242 declined");
  });
  r.jobtype("ThrowsInt", [](factotum::Job&) { throw 42; });
  r.jobtype("ChecksCancel", [](factotum::Job& job) { job.throw_if_cancelled(); });
})
