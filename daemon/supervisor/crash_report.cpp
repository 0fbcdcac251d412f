#include "supervisor/crash_report.hpp"

#include "crash/job_table.hpp"
#include "service/signal_text.hpp"

#include <sys/wait.h>

#include <csignal>

#include <algorithm>
#include <cstdio>

namespace factotum::supervisor {

namespace {

std::string seconds_text(std::chrono::nanoseconds elapsed) {
  char buffer[32];
  std::snprintf(
      buffer, sizeof(buffer), "%.1f s",
      std::chrono::duration<double>(std::max(elapsed, std::chrono::nanoseconds(0))).count());
  return buffer;
}

// "jobtype 'resize' of plugin 'images' 2.1.0 (/usr/lib/factotum/plugins/images.so)"
std::string where(const crash::JobRecord& record) {
  std::string text = "jobtype '" + std::string(record.jobtype.view()) + "'";
  if (!record.plugin_known.load(std::memory_order_acquire)) return text;
  text += " of plugin '" + std::string(record.plugin.view()) + "'";
  if (record.version.size > 0) text += " " + std::string(record.version.view());
  text += " (" + std::string(record.file.view()) + ")";
  return text;
}

std::string how_it_died(const crash::JobTable& table, const WorkerDeath& death) {
  if (death.unresponsive_for) {
    return "stopped responding (no watchdog ping for " + seconds_text(*death.unresponsive_for) +
           ") and was killed";
  }
  // The crash handler's signal first: the process may have been finished off by another.
  const crash::CrashMark& mark = table.crash_mark();
  if (const int signal = mark.signal.load(std::memory_order_acquire); signal != 0) {
    std::string text = service::signal_text(signal);
    if ((signal == SIGSEGV || signal == SIGBUS) && mark.code > 0) {
      char address[32];
      std::snprintf(address, sizeof(address), " at address 0x%zx",
                    static_cast<std::size_t>(mark.address));
      text += address;
    }
    return text;
  }
  if (WIFSIGNALED(death.wait_status)) return service::signal_text(WTERMSIG(death.wait_status));
  if (WIFEXITED(death.wait_status)) {
    return "exit status " + std::to_string(WEXITSTATUS(death.wait_status));
  }
  return "wait status " + std::to_string(death.wait_status);
}

}  // namespace

CrashReport describe_crash(const crash::JobTable& table, const WorkerDeath& death,
                           std::chrono::steady_clock::time_point now) {
  CrashReport report;
  report.how = how_it_died(table, death);
  const crash::CrashMark& mark = table.crash_mark();
  const pid_t crashed_tid = mark.tid.load(std::memory_order_acquire);
  const crash::LoadingMark& loading = table.loading_mark();
  if (!death.unresponsive_for && crashed_tid != 0 &&
      loading.tid.load(std::memory_order_acquire) == crashed_tid) {
    report.load_crash =
        LoadCrash{std::filesystem::path(std::string(loading.file.view())), loading.identity};
  }

  std::vector<const crash::JobRecord*> records = table.in_flight();
  // The job whose thread crashed first (its FAIL goes out first, its line is the summary).
  std::stable_partition(records.begin(), records.end(), [](const crash::JobRecord* record) {
    return record->crash_signal.load(std::memory_order_acquire) != 0;
  });
  std::string culprit;
  for (const crash::JobRecord* record : records) {
    const auto state = record->state();
    const bool crashed_here =
        !death.unresponsive_for && record->crash_signal.load(std::memory_order_acquire) != 0;
    if (crashed_here && culprit.empty() && state != crash::JobRecord::writing) {
      culprit = where(*record) + ", job " + std::string(record->jid.view());
    }
    // FAILed by the worker's control thread already (deadline, shutdown) and answered: a
    // second FAIL could hit the job's retry, running elsewhere by now.
    if (state == crash::JobRecord::reported) {
      ++report.already_reported;
      continue;
    }
    if ((state != crash::JobRecord::running && state != crash::JobRecord::taken) ||
        record->jid.truncated) {
      ++report.incomplete;
      continue;
    }
    const std::string jid(record->jid.view());
    const std::string jobtype(record->jobtype.view());
    const auto started = std::chrono::steady_clock::time_point(
        std::chrono::steady_clock::duration(record->started_ns));
    const std::string ran = seconds_text(now - started);
    faktory::commands::FailArgs fail;
    fail.jid = jid;
    if (crashed_here) {
      fail.errtype = "PluginCrashed";
      fail.message = "the worker process crashed with " + report.how + " in this job (" +
                     where(*record) + ", after " + ran +
                     "); factotum restarted the worker, and the job will be retried";
      fail.backtrace.push_back("in " + where(*record));
    } else {
      fail.errtype = "WorkerCrashed";
      fail.message = "the worker process died (" + report.how + ") while this job ran (" +
                     where(*record) + ", for " + ran + "); it will be retried";
    }
    report.fails.push_back(
        {std::move(fail), jobtype, record->plugin_known.load(std::memory_order_acquire)});
  }

  report.summary = "the worker process died: " + report.how;
  if (!culprit.empty()) {
    report.summary += " in " + culprit;
  } else if (report.load_crash) {
    report.summary += " while loading plugin " + report.load_crash->file.string();
  }
  return report;
}

}  // namespace factotum::supervisor
