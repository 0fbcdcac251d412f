#include "supervisor/supervisor.hpp"

#include "crash/job_table.hpp"
#include "daemon_settings.hpp"
#include "faktory/blocking_client.hpp"
#include "metrics/job_metrics.hpp"
#include "service/exit_status.hpp"
#include "service/log.hpp"
#include "service/signal_text.hpp"
#include "service/signals.hpp"
#include "service/systemd_notify.hpp"
#include "supervisor/crash_report.hpp"
#include "supervisor/quarantine.hpp"
#include "worker/backoff.hpp"
#include "worker/duration_text.hpp"

#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace factotum::supervisor {

namespace {

using service::Log;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using namespace std::chrono_literals;
using service::kExitConfig;
using service::kExitOk;
using service::kExitSoftware;

// Restarts after a crash: 0.5 s, doubling up to 30 s; a worker that ran a minute without
// crashing starts the sequence again. Five crashes within a minute is a crash loop: said
// loudly, and the back-off goes on (it never spins).
constexpr milliseconds kFirstRestartDelay = 500ms;
constexpr milliseconds kMaxRestartDelay = 30s;
constexpr auto kStableRun = 60s;
constexpr auto kCrashLoopWindow = 60s;
constexpr std::size_t kCrashLoopCrashes = 5;
// How long the FAILs of a dead worker's jobs are tried while the server is unreachable or
// slow (each attempt bounded by a 2 s timeout). systemd's watchdog is answered meanwhile.
constexpr auto kFailDeadline = 10s;
constexpr milliseconds kFailTimeout = 2000ms;
// A worker killed for not answering its watchdog (SIGABRT, for a core dump) that has not died
// after this long is killed for good.
constexpr auto kKillGrace = 20s;
// With a watchdog: a (re)started worker that is not ready after this long is taken for hung
// in a plugin's init (systemd's own default start timeout).
constexpr auto kStartLimit = 90s;

// TERM/INT stop, TSTP quiet, TTIN dump, HUP reload: forwarded; CHLD: the worker ended.
constexpr int kHandledSignals[] = {SIGTERM, SIGINT, SIGTSTP, SIGTTIN, SIGHUP, SIGCHLD};

bool has_line(std::string_view message, std::string_view line) {
  while (!message.empty()) {
    const auto end = message.find('\n');
    if (message.substr(0, end) == line) return true;
    if (end == std::string_view::npos) break;
    message.remove_prefix(end + 1);
  }
  return false;
}

class Supervisor {
 public:
  Supervisor(const ConfigInputs& inputs, config::Config config, service::SystemdNotify systemd,
             const std::function<int(WorkerLaunch&)>& run_worker)
      : inputs_(inputs),
        config_(std::move(config)),
        systemd_(std::move(systemd)),
        run_worker_(run_worker) {}

  ~Supervisor() {
    for (const int fd : {signal_fd_, relay_fd_, worker_relay_fd_}) {
      if (fd >= 0) ::close(fd);
    }
  }
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  int run() {
    // Orphans of a dead worker come to the supervisor, which stops them (kill_orphans).
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    sigset_t handled;
    ::sigemptyset(&handled);
    for (const int signal : kHandledSignals) ::sigaddset(&handled, signal);
    // Blocked here too, so that each worker is forked with it blocked: the TSTP, TTIN or HUP
    // passed on to a worker in the instant after its fork, before run_child could block it,
    // would otherwise kill it (its default action), and with it the next one (a crash loop).
    sigset_t blocked = handled;
    ::sigaddset(&blocked, service::forwarded_other_signal());
    ::sigprocmask(SIG_BLOCK, &blocked, &original_mask_);
    signal_fd_ = ::signalfd(-1, &handled, SFD_NONBLOCK | SFD_CLOEXEC);
    if (signal_fd_ < 0) {
      Log::error(std::string("cannot watch signals: ") + std::strerror(errno));
      return kExitSoftware;
    }
    if (systemd_.enabled()) {
      int pair[2];
      if (::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, pair) == 0) {
        relay_fd_ = pair[0];
        worker_relay_fd_ = pair[1];
      }
    }
    if (!start_worker()) return kExitSoftware;  // nothing runs yet: fail the start
    for (;;) {
      pollfd fds[2] = {{signal_fd_, POLLIN, 0}, {relay_fd_, POLLIN, 0}};
      const nfds_t count = relay_fd_ >= 0 ? 2 : 1;
      if (::poll(fds, count, poll_timeout()) < 0 && errno != EINTR) {
        Log::error(std::string("poll failed: ") + std::strerror(errno));
        return kExitSoftware;
      }
      if (count == 2 && (fds[1].revents & POLLIN) != 0) relay_notifications();
      if ((fds[0].revents & POLLIN) != 0) {
        if (auto code = handle_signals()) return *code;
      }
      if (auto code = on_time(Clock::now())) return *code;
    }
  }

 private:
  // --- The worker process. ---

  bool start_worker() {
    table_.reset();
    std::cout.flush();
    std::cerr.flush();
    const pid_t parent = ::getpid();
    const pid_t child = ::fork();
    if (child < 0) {
      Log::error(std::string("cannot start the worker process: ") + std::strerror(errno));
      return false;  // the caller retries after a back-off
    }
    if (child == 0) run_child(parent);
    worker_ = child;
    worker_started_ = Clock::now();
    worker_ready_ = false;
    worker_stopping_ = false;
    last_ping_ = worker_started_;
    Log::debug("worker process started", {{"pid", std::to_string(child)}});
    return true;
  }

  [[noreturn]] void run_child(pid_t parent) {
    // Should the supervisor die (even by SIGKILL), the worker stops gracefully.
    ::prctl(PR_SET_PDEATHSIG, service::forwarded_stop_signal());
    if (::getppid() != parent) std::_Exit(kExitOk);  // it died before prctl
    ::prctl(PR_SET_NAME, "factotum-worker");         // ps, top, the journal's _COMM
    // A process group of its own: Ctrl-C in a terminal reaches the supervisor alone, which
    // passes it on once (the worker takes a second INT as "hurry").
    ::setpgid(0, 0);
    ::close(signal_fd_);
    if (relay_fd_ >= 0) ::close(relay_fd_);
    auto notify = worker_relay_fd_ >= 0 ? service::SystemdNotify::over_socket(
                                              worker_relay_fd_, systemd_.watchdog_timeout())
                                        : service::SystemdNotify{};
    systemd_ = service::SystemdNotify{};  // the supervisor's socket is not the worker's
    // Until the worker catches its signals (run_daemon, before any plugin code runs), a
    // forwarded TERM or INT ends it as TERM ends any process; the others wait, blocked: the
    // forwarded TSTP, TTIN and HUP would kill it, and those sent to it directly are to be
    // ignored (see service/signals.hpp), not to end it.
    sigset_t mask = original_mask_;
    for (const int signal : {SIGTERM, SIGINT, SIGTSTP, SIGTTIN, SIGHUP}) ::sigaddset(&mask, signal);
    ::sigaddset(&mask, service::forwarded_other_signal());
    ::sigdelset(&mask, service::forwarded_stop_signal());
    ::sigprocmask(SIG_SETMASK, &mask, nullptr);
    // Quiet is for good (as on the server): a worker started after a TSTP starts quiet.
    WorkerLaunch launch{table_, notify, quarantine_, original_mask_, ever_started_, quiet_};
    int code = kExitSoftware;
    try {
      code = run_worker_(launch);
    } catch (const std::exception& e) {
      Log::error(std::string("internal error: ") + e.what());
    }
    std::exit(code);
  }

  // Returns the exit status of the supervisor when it is done.
  std::optional<int> worker_exited(int status) {
    worker_ = 0;
    kill_at_.reset();
    const auto unresponsive = std::exchange(unresponsive_, std::nullopt);
    // Stopped on purpose: exit status 0, or 78 (its configuration cannot be used).
    if (!unresponsive && WIFEXITED(status) &&
        (WEXITSTATUS(status) == kExitOk || WEXITSTATUS(status) == kExitConfig)) {
      return WEXITSTATUS(status);
    }
    // Ended by the stop forwarded to it before its handler was in place (still loading).
    if (stopping_ && !unresponsive && WIFSIGNALED(status) &&
        WTERMSIG(status) == service::forwarded_stop_signal() && table_.in_flight().empty()) {
      return kExitOk;
    }
    const auto now = Clock::now();
    // (Told by the table, not by READY=1: that is relayed only under systemd.)
    if (table_.was_started()) ever_started_ = true;
    const CrashReport report = describe_crash(table_, {status, unresponsive}, now);
    Log::error(report.summary, {{"jobs_in_flight", std::to_string(report.fails.size())}});
    // For the next worker's metrics, under the label its own counters would use.
    std::vector<std::string_view> labels;
    for (const CrashFail& job : report.fails) {
      labels.push_back(job.ran_in_plugin ? std::string_view(job.jobtype) : metrics::kUnregistered);
    }
    table_.count_crash(labels);
    fail_jobs(report);
    if (report.incomplete > 0) {
      Log::error(std::to_string(report.incomplete) +
                 " job(s) cannot be FAILed (fetched in the instant the worker died, or a jid "
                 "too long to record); the server retries them when their reservation expires");
    }
    if (report.load_crash) {
      const std::string file = report.load_crash->file.string();
      // At start, plugins.fatal_errors stops the service; once a worker has started,
      // a crash at load (a reload) quarantines the file as without it: the service stays up.
      if (config_.plugins.fatal_errors && !ever_started_) {
        Log::error("plugin " + file + " crashed the worker while loading (" + report.how +
                   "); plugins.fatal_errors is set: stopping");
        return kExitConfig;
      }
      quarantine_.add(report.load_crash->file, report.load_crash->identity, report.how);
      Log::error("plugin " + file + " crashed the worker while loading (" + report.how +
                 "); it is quarantined: workers start without it until the file changes");
    }
    kill_orphans(SIGTERM);
    if (stopping_) return kExitSoftware;
    schedule_restart(now, report.how);
    return std::nullopt;
  }

  // Processes the dead worker left behind (commands a plugin started, e.g. the shell plugin's)
  // were re-parented to the supervisor (a subreaper): their jobs are being retried, so they
  // are stopped, as systemd would stop them with the service. TERM now, KILL before the next
  // worker starts.
  void kill_orphans(int signal) {
    for (const pid_t orphan : children()) ::kill(orphan, signal);
  }

  static std::vector<pid_t> children() {
    std::vector<pid_t> pids;
    std::ifstream in("/proc/self/task/" + std::to_string(::getpid()) + "/children");
    for (pid_t pid = 0; in >> pid;) pids.push_back(pid);
    return pids;
  }

  void schedule_restart(Clock::time_point now, const std::string& how) {
    if (now - worker_started_ >= kStableRun) delay_ = kFirstRestartDelay;
    crashes_.push_back(now);
    while (!crashes_.empty() && now - crashes_.front() > kCrashLoopWindow) crashes_.pop_front();
    const std::string in = worker::millis_text(delay_);
    const bool loop = crashes_.size() >= kCrashLoopCrashes;
    if (loop) {
      Log::error("CRASH LOOP: the worker died " + std::to_string(crashes_.size()) +
                     " times within a minute; restarting it with a growing delay",
                 {{"next_restart_in", in}});
    } else {
      Log::warning("restarting the worker", {{"in", in}});
    }
    systemd_.send(std::string("STATUS=") + (loop ? "CRASH LOOP: " : "") + "the worker died (" +
                  how + "); restarting it in " + in);
    restart_at_ = now + delay_;
    delay_ = std::min(delay_ * 2, kMaxRestartDelay);
  }

  // FAILs the dead worker's jobs from a connection of the supervisor's own (the server takes
  // FAIL by jid from any connection), so they are retried now rather than when their
  // reservation expires.
  void fail_jobs(const CrashReport& report) {
    if (report.fails.empty()) return;
    faktory::ClientOptions options;
    try {
      options = *make_worker_settings(config_, "factotum-supervisor")->connection;
    } catch (const config::ConfigError& e) {
      Log::error(std::string("cannot connect to FAIL the dead worker's jobs: ") + e.what());
      return;
    }
    options.identity = faktory::Identity{};  // a producer connection: it registers no worker
    options.connect_timeout = kFailTimeout;
    options.command_timeout = kFailTimeout;
    faktory::BlockingClient client(std::move(options));
    const auto give_up_at = Clock::now() + kFailDeadline;
    worker::Backoff backoff(static_cast<std::uint64_t>(::getpid()), 250ms, 2000ms);
    std::size_t next = 0;
    while (next < report.fails.size() && Clock::now() < give_up_at) {
      ping_systemd(Clock::now());
      const CrashFail& job = report.fails[next];
      if (!client.is_connected()) {
        auto connected = client.connect();
        if (!connected) {
          Log::warning("cannot reach the Faktory server to FAIL the dead worker's jobs",
                       {{"error", connected.error().what()}});
          std::this_thread::sleep_for(backoff.next());  // signals wait in the signalfd
          continue;
        }
      }
      auto sent = client.fail(job.fail);
      if (sent) {
        Log::warning(
            "FAILed a job of the dead worker",
            {{"jid", job.fail.jid}, {"jobtype", job.jobtype}, {"errtype", job.fail.errtype}});
        ++next;
      } else if (client.is_connected()) {
        // E.g. "Job not found": its reservation had expired.
        Log::info("the server no longer holds a job of the dead worker",
                  {{"jid", job.fail.jid}, {"error", sent.error().what()}});
        ++next;
      }
    }
    for (; next < report.fails.size(); ++next) {
      Log::error(
          "could not FAIL a job of the dead worker; the server retries it when its reservation "
          "expires",
          {{"jid", report.fails[next].fail.jid}, {"jobtype", report.fails[next].jobtype}});
    }
    client.end();
  }

  // --- Signals. ---

  std::optional<int> handle_signals() {
    signalfd_siginfo info{};
    while (::read(signal_fd_, &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
      const int signal = static_cast<int>(info.ssi_signo);
      switch (signal) {
        case SIGCHLD: {
          int status = 0;
          pid_t pid = 0;
          while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
            if (pid != worker_) continue;
            if (auto code = worker_exited(status)) return code;
          }
          break;
        }
        case SIGTERM:
        case SIGINT:
          stopping_ = true;
          restart_at_.reset();
          if (worker_ == 0) {
            Log::info("stopping (no worker process is running)");
            return kExitOk;
          }
          forward(signal);  // a second one hurries the worker, as it would alone
          break;
        case SIGTSTP:
          quiet_ = true;
          forward(signal);
          break;
        case SIGHUP:
          reload_config();
          forward(signal);
          break;
        case SIGTTIN:
          dump_state();
          forward(signal);
          break;
        default:
          break;
      }
    }
    return std::nullopt;
  }

  void forward(int signal) const {
    if (worker_ == 0 || service::forward_signal(worker_, signal)) return;
    // EAGAIN: the real-time signal queue limit (RLIMIT_SIGPENDING) is reached.
    Log::error("cannot pass " + service::signal_text(signal) + " on to the worker",
               {{"error", std::strerror(errno)}});
  }

  // The connection the crash FAILs use and the log settings follow the file; the worker
  // reports what a reload changed, and why one failed.
  void reload_config() {
    try {
      config_ = config::load_config(inputs_.file, inputs_.overrides, inputs_.env);
      Log::set_level(config_.logging.level);
      Log::set_format(config_.logging.format);
    } catch (const config::ConfigError& e) {
      Log::debug(std::string("supervisor keeps its configuration: ") + e.what());
    }
  }

  void dump_state() const {
    Log::info("supervisor", {{"worker_pid", std::to_string(worker_)},
                             {"crashes_last_minute", std::to_string(crashes_.size())},
                             {"quarantined", quarantine_.empty() ? "none" : "some"}});
  }

  // --- systemd. ---

  // The worker's notifications are passed on as they are, but for its watchdog pings: those
  // tell the supervisor that the worker is alive, and the supervisor answers systemd's
  // watchdog itself (so a worker being replaced does not get the whole service restarted).
  void relay_notifications() {
    char buffer[4096];
    for (;;) {
      const auto n = ::recv(relay_fd_, buffer, sizeof(buffer), MSG_DONTWAIT);
      if (n <= 0) return;
      const std::string_view message(buffer, static_cast<std::size_t>(n));
      const bool ready = has_line(message, "READY=1");
      if (ready) worker_ready_ = true;
      // A worker that stops (on its own too: the server's "terminate") stops pinging.
      if (has_line(message, "STOPPING=1")) worker_stopping_ = true;
      if (ready || has_line(message, "WATCHDOG=1")) last_ping_ = Clock::now();
      if (message != "WATCHDOG=1") systemd_.send(message);
    }
  }

  std::optional<milliseconds> watchdog() const {
    if (const auto timeout = systemd_.watchdog_timeout()) {
      return std::chrono::duration_cast<milliseconds>(*timeout);
    }
    return std::nullopt;
  }

  // A ready worker that has not pinged for this long is taken for wedged: the unit's
  // WatchdogSec, but never less than 10 s (a loaded machine can delay a timer by a second).
  static milliseconds worker_silence_limit(milliseconds timeout) {
    return std::max(timeout, milliseconds(10'000));
  }

  bool worker_watched() const noexcept {
    return worker_ != 0 && !stopping_ && !worker_stopping_ && !kill_at_;
  }

  // When the watched worker is taken for hung: no ping for the silence limit once ready, or
  // not ready within the start limit.
  Clock::time_point hung_at(milliseconds timeout) const {
    return worker_ready_ ? last_ping_ + worker_silence_limit(timeout)
                         : worker_started_ + kStartLimit;
  }

  void ping_systemd(Clock::time_point now) {
    const auto timeout = watchdog();
    if (!timeout || now < next_own_ping_) return;
    systemd_.send("WATCHDOG=1");
    next_own_ping_ = now + *timeout / 2;
  }

  std::optional<int> on_time(Clock::time_point now) {
    if (restart_at_ && now >= *restart_at_) {
      restart_at_.reset();
      kill_orphans(SIGKILL);
      if (!start_worker()) schedule_restart(now, "it could not be started");
    }
    if (kill_at_ && now >= *kill_at_ && worker_ != 0) {
      ::kill(worker_, SIGKILL);
      kill_at_ = Clock::time_point::max();
    }
    const auto timeout = watchdog();
    if (!timeout) return std::nullopt;
    if (worker_watched() && now >= hung_at(*timeout)) {
      const auto silent = std::chrono::duration_cast<milliseconds>(now - last_ping_);
      Log::error(worker_ready_ ? "the worker stopped responding; killing it"
                               : "the worker did not get ready in time; killing it",
                 {{"silent_for", worker::millis_text(silent)}, {"pid", std::to_string(worker_)}});
      unresponsive_ = silent;
      // A core dump shows where it hung. (A stopped process holds the SIGABRT back until the
      // SIGKILL below: continuing it would let its threads send FETCHes first.)
      ::kill(worker_, SIGABRT);
      kill_at_ = now + kKillGrace;
    }
    ping_systemd(now);
    return std::nullopt;
  }

  int poll_timeout() const {
    const auto now = Clock::now();
    auto next = Clock::time_point::max();
    if (restart_at_) next = std::min(next, *restart_at_);
    if (kill_at_) next = std::min(next, *kill_at_);
    if (const auto timeout = watchdog()) {
      next = std::min(next, next_own_ping_);
      if (worker_watched()) next = std::min(next, hung_at(*timeout));
    }
    if (next == Clock::time_point::max()) return -1;
    const auto wait = std::chrono::ceil<milliseconds>(next - now).count();
    return static_cast<int>(std::clamp<long long>(wait, 0, 60'000));
  }

  const ConfigInputs& inputs_;
  config::Config config_;
  service::SystemdNotify systemd_;
  const std::function<int(WorkerLaunch&)>& run_worker_;
  crash::JobTable table_;
  Quarantine quarantine_;
  sigset_t original_mask_{};
  int signal_fd_ = -1;
  int relay_fd_ = -1;         // the supervisor's end of the notification relay
  int worker_relay_fd_ = -1;  // the worker's end, inherited by each worker

  pid_t worker_ = 0;  // 0: none running
  Clock::time_point worker_started_{};
  bool worker_ready_ = false;
  bool worker_stopping_ = false;  // it said STOPPING=1
  bool ever_started_ = false;     // a worker has started (the service's start is over)
  Clock::time_point last_ping_{};
  Clock::time_point next_own_ping_{};
  std::optional<Clock::time_point> kill_at_;  // SIGKILL for a worker that ignored SIGABRT
  std::optional<milliseconds> unresponsive_;  // the worker was killed by the watchdog
  std::optional<Clock::time_point> restart_at_;
  std::deque<Clock::time_point> crashes_;  // within the crash-loop window
  milliseconds delay_ = kFirstRestartDelay;
  bool stopping_ = false;
  bool quiet_ = false;
};

}  // namespace

int run_supervisor(const ConfigInputs& inputs, config::Config config,
                   service::SystemdNotify systemd,
                   const std::function<int(WorkerLaunch&)>& run_worker) {
  Supervisor supervisor(inputs, std::move(config), std::move(systemd), run_worker);
  return supervisor.run();
}

}  // namespace factotum::supervisor
