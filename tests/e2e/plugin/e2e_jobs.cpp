// Jobtypes the end-to-end tests drive the daemon with. Built like any plugin, against the
// SDK only.
#include "job_args.hpp"

#include <factotum/plugin.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

namespace {

// args_json is "[N]" or "[N,...]": the first number, in milliseconds.
long first_number(std::string_view args) {
  const auto digits = args.find_first_of("0123456789");
  return digits == std::string_view::npos ? 0 : std::strtol(args.data() + digits, nullptr, 10);
}

// One line appended to the ledger file in one write (O_APPEND): lines of jobs running at the
// same time never interleave.
void append_line(const std::string& path, const std::string& line) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot open the ledger " + path);
  const std::string text = line + "\n";
  const auto written = ::write(fd, text.data(), text.size());
  ::close(fd);
  if (written != static_cast<ssize_t>(text.size())) {
    throw std::runtime_error("cannot write the ledger " + path);
  }
}

void sleep_polling(factotum::Job& job, long ms, bool honour_cancel);

// The accounting test's job: args ["LEDGER", "ACTION"] with ACTION ok, fail, sleep:MS or
// push. It appends "<jid> start" to the ledger when its function starts and "<jid> ok" or
// "<jid> fail <errtype>" when it ends ("<jid> ok pushed <follow-up jid>" for push, whose
// follow-up is another ledger job, "ok", on the "followup" queue), so the test knows which
// functions ran and how they ended. Every failure is a JobFailure, so its errtype is known.
void ledger_job(factotum::Job& job) {
  const auto args = e2e::strings(job.args_json());
  if (args.size() != 2) throw std::runtime_error("ledger: expected [LEDGER, ACTION]");
  const std::string& ledger = args[0];
  const std::string& action = args[1];
  const std::string jid(job.jid());
  append_line(ledger, jid + " start");
  std::string done = jid + " ok";
  try {
    if (action == "fail") {
      throw factotum::JobFailure("LedgerFailure", "failed on purpose", "");
    } else if (action.starts_with("sleep:")) {
      sleep_polling(job, std::strtol(action.c_str() + 6, nullptr, 10), false);
    } else if (action == "push") {
      try {
        done +=
            " pushed " + factotum::push_job(R"({"jobtype":"ledger","queue":"followup","args":[")" +
                                            ledger + R"(","ok"]})");
      } catch (const std::exception& e) {
        throw factotum::JobFailure("FollowUpNotPushed", e.what());
      }
    } else if (action != "ok") {
      throw factotum::JobFailure("UnknownAction", action);
    }
  } catch (const factotum::JobFailure& failure) {
    append_line(ledger, jid + " fail " + failure.errtype());
    throw;
  }
  append_line(ledger, done);
}

void sleep_polling(factotum::Job& job, long ms, bool honour_cancel) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < until) {
    if (honour_cancel) job.throw_if_cancelled();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

FACTOTUM_PLUGIN("e2e_jobs", "1.0.0", [](factotum::Registrar& r) {
  // A line logged outside any job (it has no jid).
  r.log(factotum::LogLevel::info, "e2e_jobs initialised");
  // Succeeds at once.
  r.jobtype("ok", [](factotum::Job&) {});
  // Fails with std::runtime_error("boom: <args>").
  r.jobtype("throw", [](factotum::Job& job) {
    throw std::runtime_error("boom: " + std::string(job.args_json()));
  });
  // Fails through factotum::JobFailure with an errtype, message and backtrace of its own: the
  // tests check that the server receives exactly these, the backtrace line by line.
  r.jobtype("fail_with_details", [](factotum::Job& job) {
    throw factotum::JobFailure("CardDeclined", "card declined: " + std::string(job.args_json()),
                               "at charge (billing.cpp:42)\n"
                               "  at checkout (shop.cpp:7)\n"
                               "at main (main.cpp:3)");
  });
  // Pushes a follow-up "ok" job on the "followup" queue through the daemon's producer pool.
  r.jobtype("chain", [](factotum::Job& job) {
    const std::string jid = factotum::push_job(R"({"jobtype":"ok","queue":"followup","args":[]})");
    job.log(factotum::LogLevel::info, "pushed follow-up " + jid);
  });
  // Sleeps args[0] ms, stopping early (Cancelled) when cancelled.
  r.jobtype("sleep",
            [](factotum::Job& job) { sleep_polling(job, first_number(job.args_json()), true); });
  // Marks its entry (args[0] + ".entered"), then waits until the file named by args[0] exists
  // (the test opens the gate), stopping early (Cancelled) when cancelled: a job that stays in
  // flight exactly as long as a test needs.
  r.jobtype("gate", [](factotum::Job& job) {
    const std::string path = e2e::first_string(job.args_json());
    // Tells the test the job is inside the plugin's function (not merely fetched).
    std::ofstream(path + ".entered") << job.jid() << '\n';
    while (::access(path.c_str(), F_OK) != 0) {
      job.throw_if_cancelled();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  // Sleeps args[0] ms and ignores cancellation (a job that outlives its deadline).
  // Reads its args and its whole payload, as a real job would, and checks they are there.
  r.jobtype("echo_args", [](factotum::Job& job) {
    if (job.args_json().size() < 2 ||
        job.payload_json().find(job.jid()) == std::string_view::npos) {
      throw std::runtime_error("echo_args: args or payload missing");
    }
  });
  r.jobtype("ledger", ledger_job);
  r.jobtype("stubborn",
            [](factotum::Job& job) { sleep_polling(job, first_number(job.args_json()), false); });
})
