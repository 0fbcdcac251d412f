// describe_crash: from a dead worker's crash table and wait status to the FAILs the supervisor
// sends and the plugin it quarantines. The table is filled as the worker fills it (records
// through their own member functions, marks as the crash handler and the loading thread set
// them), then read as the supervisor reads it.
#include "supervisor/crash_report.hpp"
#include "crash/job_table.hpp"
#include "supervisor/quarantine.hpp"

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <csignal>

using namespace factotum;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// A wait status as waitpid reports a process killed by `signal`.
int killed_by(int signal) {
  return signal;  // W_EXITCODE(0, signal): WIFSIGNALED, WTERMSIG == signal
}
int exited_with(int code) {
  return code << 8;
}

std::int64_t monotonic(Clock::time_point at) {
  return at.time_since_epoch().count();
}

// A record for a job that started `ago` before `now`, in plugin "images" 2.1.0.
crash::JobRecord* running(crash::JobTable& table, const std::string& jid, Clock::time_point now,
                          std::chrono::milliseconds ago = 1500ms) {
  crash::JobRecord* record = table.acquire();
  REQUIRE(record != nullptr);
  record->begin(jid, "resize", monotonic(now - ago));
  record->set_plugin("images", "2.1.0", "/usr/lib/factotum/plugins/images.so");
  return record;
}

// What the crash handler writes when the thread that runs `record` dies of `signal`.
void crash_on(crash::JobTable& table, crash::JobRecord* record, int signal, pid_t tid = 4242) {
  table.crash().signal = signal;
  table.crash().code = SEGV_MAPERR;
  table.crash().address = 0x10;
  table.crash().tid = tid;
  if (record != nullptr) record->crash_signal = signal;
}

}  // namespace

TEST_CASE("the job whose thread crashed is PluginCrashed, the others WorkerCrashed") {
  crash::JobTable table;
  const auto now = Clock::now();
  crash::JobRecord* other = running(table, "other-jid", now, 3000ms);
  crash::JobRecord* culprit = running(table, "culprit-jid", now);
  crash::JobRecord* done = running(table, "done-jid", now);
  done->end();  // reported before the crash: nothing to FAIL
  (void)other;
  crash_on(table, culprit, SIGSEGV);

  const auto report = supervisor::describe_crash(table, {killed_by(SIGSEGV), {}}, now);
  REQUIRE(report.fails.size() == 2);
  // The culprit first, whatever its place in the table.
  const auto& crashed = report.fails[0].fail;
  CHECK(crashed.jid == "culprit-jid");
  CHECK(crashed.errtype == "PluginCrashed");
  CHECK(crashed.message ==
        "the worker process crashed with SIGSEGV (Segmentation fault) at address 0x10 in this "
        "job (jobtype 'resize' of plugin 'images' 2.1.0 "
        "(/usr/lib/factotum/plugins/images.so), after 1.5 s); factotum restarted the worker, "
        "and the job will be retried");
  CHECK(crashed.backtrace ==
        std::vector<std::string>{
            "in jobtype 'resize' of plugin 'images' 2.1.0 (/usr/lib/factotum/plugins/images.so)"});
  const auto& bystander = report.fails[1].fail;
  CHECK(bystander.jid == "other-jid");
  CHECK(bystander.errtype == "WorkerCrashed");
  CHECK(bystander.message.find("the worker process died (SIGSEGV (Segmentation fault) at address "
                               "0x10) while this job ran") == 0);
  CHECK(bystander.message.find("for 3.0 s") != std::string::npos);
  CHECK(report.summary.find("in jobtype 'resize' of plugin 'images' 2.1.0") != std::string::npos);
  CHECK_FALSE(report.load_crash);
  CHECK(report.incomplete == 0);
}

TEST_CASE("without a crash handler's mark every job is WorkerCrashed, named by wait status") {
  crash::JobTable table;
  const auto now = Clock::now();
  running(table, "a", now);
  running(table, "b", now);
  SECTION("killed (e.g. by the OOM killer)") {
    const auto report = supervisor::describe_crash(table, {killed_by(SIGKILL), {}}, now);
    REQUIRE(report.fails.size() == 2);
    for (const auto& job : report.fails) {
      CHECK(job.fail.errtype == "WorkerCrashed");
      CHECK(job.fail.message.find("SIGKILL (Killed)") != std::string::npos);
    }
  }
  SECTION("an exit status other than 0 or 78") {
    const auto report = supervisor::describe_crash(table, {exited_with(70), {}}, now);
    CHECK(report.how == "exit status 70");
    CHECK(report.fails.size() == 2);
  }
  SECTION("killed by the supervisor for missing its watchdog pings") {
    crash_on(table, nullptr, SIGABRT);  // the handler would not mark a job for a sent signal
    const auto report = supervisor::describe_crash(table, {killed_by(SIGABRT), 23500ms}, now);
    CHECK(report.how == "stopped responding (no watchdog ping for 23.5 s) and was killed");
    for (const auto& job : report.fails) CHECK(job.fail.errtype == "WorkerCrashed");
  }
}

TEST_CASE("a record the worker died writing is counted, never FAILed with half a jid") {
  crash::JobTable table;
  const auto now = Clock::now();
  crash::JobRecord* record = table.acquire();
  record->begin("complete", "resize", monotonic(now));
  // As if the process died inside begin().
  record->word = (record->word.load() & ~std::uint64_t{0xff}) | crash::JobRecord::writing;
  crash::JobRecord* long_jid = table.acquire();
  long_jid->begin(std::string(300, 'j'), "resize", monotonic(now));  // cut: unusable
  const auto report = supervisor::describe_crash(table, {killed_by(SIGKILL), {}}, now);
  CHECK(report.fails.empty());
  CHECK(report.incomplete == 2);
}

TEST_CASE("a job the control thread took over is FAILed again only if its FAIL went unanswered") {
  crash::JobTable table;
  const auto now = Clock::now();
  crash::JobRecord* answered = running(table, "answered", now);
  crash::JobRecord* pending = running(table, "pending", now);
  const auto answered_word = answered->take_over();
  REQUIRE(answered_word != 0);
  answered->reported_by_control(answered_word);
  REQUIRE(pending->take_over() != 0);  // its JobTimeout FAIL was still being sent
  crash_on(table, answered, SIGSEGV);  // the timed-out function crashed later on
  const auto report = supervisor::describe_crash(table, {killed_by(SIGSEGV), {}}, now);
  REQUIRE(report.fails.size() == 1);
  CHECK(report.fails[0].fail.jid == "pending");
  CHECK(report.fails[0].fail.errtype == "WorkerCrashed");
  CHECK(report.already_reported == 1);
  // The crash is still told where it happened.
  CHECK(report.summary.find("job answered") != std::string::npos);

  // A stale answer for a job the processor has finished never touches its next job.
  pending->end();
  pending->begin("next", "resize", monotonic(now));
  const auto stale = answered_word;
  answered->end();
  answered->begin("later", "resize", monotonic(now));
  answered->reported_by_control(stale);
  CHECK(answered->state() == crash::JobRecord::running);
}

TEST_CASE("a crash on the loading thread names the plugin file to quarantine") {
  crash::JobTable table;
  const auto now = Clock::now();
  const service::FileIdentity identity{1, 2, 3, 4, 5};
  table.loading("/plugins/bad.so", identity);
  const pid_t loader = table.loading_mark().tid;

  SECTION("the loading thread crashed") {
    crash_on(table, nullptr, SIGSEGV, loader);
    const auto report = supervisor::describe_crash(table, {killed_by(SIGSEGV), {}}, now);
    REQUIRE(report.load_crash);
    CHECK(report.load_crash->file == "/plugins/bad.so");
    CHECK(report.load_crash->identity == identity);
    CHECK(report.summary ==
          "the worker process died: SIGSEGV (Segmentation fault) at address "
          "0x10 while loading plugin /plugins/bad.so");
  }
  SECTION("another thread crashed while a plugin was loading: not the plugin's fault") {
    crash_on(table, running(table, "job", now), SIGSEGV, loader + 1);
    const auto report = supervisor::describe_crash(table, {killed_by(SIGSEGV), {}}, now);
    CHECK_FALSE(report.load_crash);
    CHECK(report.fails.at(0).fail.errtype == "PluginCrashed");
  }
  SECTION("loading was over") {
    table.loaded();
    crash_on(table, nullptr, SIGSEGV, loader);
    CHECK_FALSE(supervisor::describe_crash(table, {killed_by(SIGSEGV), {}}, now).load_crash);
  }
}

TEST_CASE("a reset table is empty for the next worker, and records are reused") {
  crash::JobTable table;
  const auto now = Clock::now();
  crash::JobRecord* record = running(table, "old", now);
  crash_on(table, record, SIGSEGV);
  table.reset();
  CHECK(table.in_flight().empty());
  CHECK(table.crash_mark().signal == 0);
  CHECK(table.acquire() == record);  // the first record again: the pages already touched
}

TEST_CASE("quarantine refuses exactly the version of the file that crashed") {
  supervisor::Quarantine quarantine;
  const service::FileIdentity crashed{1, 2, 3, 4, 5};
  quarantine.add("/plugins/bad.so", crashed, "SIGSEGV (Segmentation fault)");
  const auto reason = quarantine.refuse("/plugins/bad.so", crashed);
  REQUIRE(reason);
  CHECK(*reason ==
        "quarantined: it crashed the worker while loading (SIGSEGV (Segmentation fault)); it is "
        "loaded again once the file changes");
  service::FileIdentity rebuilt = crashed;
  rebuilt.mtime_sec += 60;
  CHECK_FALSE(quarantine.refuse("/plugins/bad.so", rebuilt));
  CHECK_FALSE(quarantine.refuse("/plugins/other.so", crashed));
  // A new crash of the rebuilt file replaces the entry.
  quarantine.add("/plugins/bad.so", rebuilt, "SIGABRT (Aborted)");
  CHECK_FALSE(quarantine.refuse("/plugins/bad.so", crashed));
  CHECK(quarantine.refuse("/plugins/bad.so", rebuilt));
}
