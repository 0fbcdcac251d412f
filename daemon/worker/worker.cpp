#include "worker/worker.hpp"

#include "crash/job_record.hpp"
#include "metrics/job_metrics.hpp"

#include "service/log.hpp"
#include "worker/control_reports.hpp"
#include "worker/deadline_watch.hpp"
#include "worker/duration_text.hpp"
#include "worker/heartbeat.hpp"
#include "worker/job_deadline.hpp"
#include "worker/processor.hpp"
#include "worker/producer_pool.hpp"
#include "worker/spawn.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <vector>

namespace factotum::worker {

namespace asio = boost::asio;
using service::Log;
using Clock = std::chrono::steady_clock;

namespace {

// How long shutdown keeps trying to FAIL the jobs it gives up on while the server is
// unreachable; past it the server retries them when their reservation expires.
constexpr auto kShutdownReportGrace = std::chrono::seconds(5);
// How far ahead the deadline watch looks at least, when no job needs an earlier look.
constexpr auto kShortestLookAhead = std::chrono::milliseconds(100);

}  // namespace

struct Worker::Impl {
  asio::io_context& io;
  WorkerContext context;
  std::shared_ptr<ProducerPool> producers;
  DeadlineWatch deadlines;
  ControlReports reports;
  std::shared_ptr<Heartbeat> heartbeat;
  asio::steady_timer stop_timer;
  // Re-registration with new labels (see begin_reregistration): looks at the processors every
  // few milliseconds until every connection of the wid is closed.
  asio::steady_timer reregistration_timer;
  bool reregistering = false;
  bool started = false;
  bool hurry = false;    // a second TERM/INT: skip the waits
  bool gave_up = false;  // the shutdown deadline has come (give_up_on_jobs ran)
  bool finished = false;
  std::function<void()> on_finished;
  std::function<void()> on_stopping;
  unsigned next_index = 0;
  // Handlers posted by processor threads hold a weak reference: one that runs after the
  // worker is gone does nothing.
  std::shared_ptr<Impl*> alive = std::make_shared<Impl*>(this);
  // Last: destroyed first, joining every thread before what they use goes away.
  std::vector<std::unique_ptr<Processor>> processors;  // in start order; running and retiring

  Impl(asio::io_context& io_context, std::shared_ptr<const WorkerSettings> settings,
       plugins::PluginHost& host, std::shared_ptr<ProducerPool> producer_pool)
      : io(io_context),
        context(host, std::move(settings)),
        producers(std::move(producer_pool)),
        deadlines(io_context, [this](Clock::time_point now) { return take_over_due_jobs(now); }),
        reports(io_context, context),
        stop_timer(io_context),
        reregistration_timer(io_context) {
    reports.set_on_idle([this] { maybe_finish(); });
  }

  ~Impl() {
    // Normally every processor has exited by now; otherwise stop them without waiting (a report
    // being resent is given up), and ~Processor joins.
    context.set_phase(Phase::stopping);
    context.set_stop_deadline(std::min(context.stop_deadline(), Clock::now()));
    for (auto& p : processors) p->wake();
  }

  std::shared_ptr<const WorkerSettings> settings() const { return context.settings.current(); }

  // Once the control thread's FAIL of a taken-over job is answered, its crash-table record
  // says so: a supervisor must not FAIL it again should the worker die before its function
  // returns.
  static std::function<void()> answered_in_crash_table(const JobSlot::View& job) {
    if (job.record == nullptr || job.record_word == 0) return {};
    return [record = job.record, word = job.record_word] { record->reported_by_control(word); };
  }

  std::size_t jobs_in_flight() const {
    return static_cast<std::size_t>(std::count_if(
        processors.begin(), processors.end(), [](const auto& p) { return p->slot().current(); }));
  }

  void start() {
    started = true;
    // Said before any connection is tried: the processors connect on threads of their own,
    // and what they log comes after this line.
    const auto current = settings();
    Log::info("worker started", {{"concurrency", std::to_string(current->concurrency)},
                                 {"wid", current->connection->identity.wid},
                                 {"server", context.status.server()}});
    heartbeat = std::make_shared<Heartbeat>(io, context, [this](faktory::WorkerState state) {
      if (state == faktory::WorkerState::quiet && context.phase() == Phase::running) {
        Log::info("the Faktory server asked this worker to be quiet");
        quiet();
      } else if (state == faktory::WorkerState::terminate && context.phase() != Phase::stopping) {
        Log::info("the Faktory server asked this worker to stop");
        stop();
      }
    });
    spawn(io, heartbeat->run(), "heartbeat");
    deadlines.scan_now();
    reconcile();
  }

  // Brings the number of processors that are not retiring to the configured concurrency.
  void reconcile() {
    if (!started || context.phase() != Phase::running) return;
    const unsigned target = settings()->concurrency;
    std::vector<Processor*> active;
    for (auto& p : processors) {
      if (!p->retiring()) active.push_back(p.get());
    }
    while (active.size() < target) {
      auto processor = std::make_unique<Processor>(
          context, deadlines, next_index++,
          [weak = std::weak_ptr<Impl*>(alive), &io = io](unsigned index) {
            asio::post(io, [weak, index] {
              if (auto impl = weak.lock()) (*impl)->processor_exited(index);
            });
          });
      processor->start();
      active.push_back(processor.get());
      processors.push_back(std::move(processor));
    }
    if (active.size() <= target) return;
    // Retire those without a job first (they wait at most for their FETCH), then the newest.
    std::stable_sort(active.begin(), active.end(), [](const Processor* a, const Processor* b) {
      const bool a_busy = a->slot().current().has_value();
      const bool b_busy = b->slot().current().has_value();
      if (a_busy != b_busy) return !a_busy;
      return a->index() > b->index();
    });
    for (std::size_t i = 0; i < active.size() - target; ++i) {
      Log::debug("retiring a processor", {{"index", std::to_string(active[i]->index())}});
      active[i]->retire();
    }
  }

  // On the control thread, after apply() published `next` in place of `previous`.
  void applied(const std::shared_ptr<const WorkerSettings>& previous,
               const std::shared_ptr<const WorkerSettings>& next) {
    // A reload that finished while stopping: nothing to reconnect or start any more.
    if (context.phase() == Phase::stopping) return;
    if (next->connection != previous->connection) {
      connection_changed(*previous, *next);
    } else if (next->heartbeat_interval != previous->heartbeat_interval && heartbeat) {
      heartbeat->settings_changed();  // a shorter interval applies from now
    }
    if (started) deadlines.scan_now();  // shorter job timeouts may need an earlier look
    reconcile();
  }

  // New server, credentials, TLS or labels. Processors see it before their next FETCH and
  // reconnect then (a job in flight finishes and is reported on the connection it came from);
  // the heartbeat reconnects at once; the control thread's reporting connection and the
  // producers' connections on their next use.
  void connection_changed(const WorkerSettings& previous, const WorkerSettings& next) {
    producers->reconfigure(*next.connection);
    const auto& before = *previous.connection;
    const auto& after = *next.connection;
    if (faktory::same_server(before.url, after.url) &&
        before.identity.labels != after.identity.labels) {
      begin_reregistration();
      return;
    }
    Log::info("connection settings changed: each processor reconnects after its current job",
              {{"server", after.url.redacted()}});
    context.status.set_server(after.url.redacted());
    if (heartbeat) heartbeat->settings_changed();
  }

  // The server keeps a worker's labels from the first HELLO of its wid until every connection
  // of that wid has closed (PROTOCOL.md §4). So: no new FETCH; each processor closes its
  // connection once its FETCH has returned; a processor inside a job function has its idle
  // connection closed under it (the job goes on, its report waits); the heartbeat ENDs. When
  // all are closed, everyone reconnects with the new labels. Fetching pauses for about one
  // FETCH block (≤ 2 s); no job is interrupted.
  void begin_reregistration() {
    if (!started || context.phase() == Phase::stopping) return;
    if (reregistering) return;  // the reconnect after it uses the newest settings anyway
    reregistering = true;
    Log::info(
        "labels changed: re-registering with the Faktory server (it keeps a worker's labels "
        "until all its connections have closed); no new FETCH until then",
        {{"in_flight", std::to_string(jobs_in_flight())}});
    context.hold_connections(true);
    if (heartbeat) heartbeat->hold();
    for (auto& p : processors) p->wake();
    check_reregistration();
  }

  void check_reregistration() {
    if (!reregistering) return;
    bool all_closed = heartbeat == nullptr || heartbeat->disconnected();
    for (auto& p : processors) {
      if (p->disconnected_for_hold() || p->detach_if_running()) continue;
      all_closed = false;  // a FETCH still pending, a report being sent, a connect under way
    }
    if (all_closed) {
      end_reregistration();
      Log::info("re-registering: every connection closed; reconnecting with the new labels");
      return;
    }
    reregistration_timer.expires_after(std::chrono::milliseconds(20));
    reregistration_timer.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) check_reregistration();
    });
  }

  void end_reregistration() {
    if (!reregistering) return;
    reregistering = false;
    reregistration_timer.cancel();
    context.hold_connections(false);
    if (heartbeat) heartbeat->release();
    for (auto& p : processors) p->wake();
  }

  void processor_exited(unsigned index) {
    auto it = std::find_if(processors.begin(), processors.end(),
                           [index](const auto& p) { return p->index() == index; });
    if (it == processors.end()) return;
    if ((*it)->retiring()) Log::debug("processor retired", {{"index", std::to_string(index)}});
    processors.erase(it);  // joins: the thread has returned from its loop
    maybe_finish();
  }

  // Runs on the control thread for the DeadlineWatch: FAILs the jobs past their deadline and
  // returns when to look again: the earliest deadline still ahead, and no later than the
  // shortest budget a job can get from now. A job that starts later cannot have an earlier
  // deadline than that, so it never needs to wake this thread (a job of microseconds would
  // otherwise find nothing running each time, and every job would post a scan).
  Clock::time_point take_over_due_jobs(Clock::time_point now) {
    // (At least 100 ms: with absurdly short timeouts an idle control thread would otherwise
    // wake every few milliseconds; jobs whose deadline comes sooner ask for a scan.)
    auto next = now + std::max<Clock::duration>(shortest_budget(*settings()), kShortestLookAhead);
    for (auto& p : processors) {
      if (auto job = p->slot().take_over_if_due(now)) {
        if (job->cells != nullptr) job->cells->count(metrics::Outcome::timeout, now - job->started);
        Log::warning("job timed out", {{"jid", job->jid},
                                       {"jobtype", job->jobtype},
                                       {"plugin", plugin_of(job->jobtype)},
                                       {"processor", std::to_string(p->index())}});
        reports.fail(
            {job->jid,
             "JobTimeout",
             "the job ran past its deadline of " + millis_text(job->deadline - job->started),
             {}},
            job->jobtype, job->reservation_expiry, job->origin, answered_in_crash_table(*job));
      } else if (auto running = p->slot().current(); running && !running->taken) {
        next = std::min(next, running->deadline);
      }
    }
    return next;
  }

  std::string plugin_of(std::string_view jobtype) const {
    return context.host.plugin_for(jobtype).value_or("");
  }

  void quiet() {
    if (context.phase() != Phase::running) return;
    context.set_phase(Phase::quiet);
    Log::info("quiet: no new jobs; jobs in flight finish",
              {{"in_flight", std::to_string(jobs_in_flight())}});
    for (auto& p : processors) p->wake();
  }

  void stop() {
    if (context.phase() == Phase::stopping) {
      if (hurry) return;
      hurry = true;
      Log::warning("second stop signal: not waiting for jobs in flight");
      stop_timer.cancel();
      give_up_on_jobs();
      return;
    }
    context.set_phase(Phase::stopping);
    if (on_stopping) on_stopping();
    end_reregistration();  // reports held back go out; nothing new is fetched anyway
    const auto timeout = settings()->shutdown_timeout;
    context.set_stop_deadline(Clock::now() + timeout);
    Log::info("stopping: no new FETCH; waiting for jobs in flight",
              {{"in_flight", std::to_string(jobs_in_flight())},
               {"shutdown_timeout", seconds_text(timeout)}});
    for (auto& p : processors) p->wake();
    stop_timer.expires_after(timeout);
    stop_timer.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) give_up_on_jobs();
    });
    maybe_finish();
  }

  // The shutdown deadline: cancel the jobs still running and FAIL them from the control
  // connection so they are retried at once (DESIGN.md §3). Outstanding FETCHes may still
  // return; a job they deliver from now on is FAILed by its processor without running.
  void give_up_on_jobs() {
    if (gave_up) return;
    gave_up = true;
    const auto now = Clock::now();
    context.set_stop_deadline(std::min(context.stop_deadline(), now));
    std::vector<std::pair<unsigned, JobSlot::View>> given_up;
    for (auto& p : processors) {
      if (auto job = p->slot().close_for_shutdown()) given_up.emplace_back(p->index(), *job);
      p->wake();
    }
    if (!given_up.empty()) {
      Log::warning("shutdown timeout: cancelling the jobs still running",
                   {{"count", std::to_string(given_up.size())}});
    }
    const auto timeout = millis_text(settings()->shutdown_timeout);
    for (const auto& [index, job] : given_up) {
      if (job.cells != nullptr) job.cells->count(metrics::Outcome::failed, now - job.started);
      Log::warning("job cancelled at shutdown", {{"jid", job.jid},
                                                 {"jobtype", job.jobtype},
                                                 {"plugin", plugin_of(job.jobtype)},
                                                 {"processor", std::to_string(index)}});
      reports.fail({job.jid,
                    "WorkerShutdown",
                    "factotum stopped before the job finished (shutdown_timeout " + timeout + ")",
                    {}},
                   job.jobtype, std::min(job.reservation_expiry, now + kShutdownReportGrace),
                   job.origin, answered_in_crash_table(job));
    }
    reports.hurry(now + kShutdownReportGrace);
    maybe_finish();
  }

  // Stopping is complete when every processor has exited or is stuck in a job function that
  // was already FAILed past the shutdown deadline, and every control FAIL went out.
  void maybe_finish() {
    if (context.phase() != Phase::stopping || finished) return;
    const bool past_deadline = Clock::now() >= context.stop_deadline();
    for (const auto& p : processors) {
      if (p->exited()) continue;
      if (past_deadline && p->slot().busy_with_taken_job()) continue;
      return;
    }
    if (!reports.idle()) return;
    finished = true;
    stop_timer.cancel();
    deadlines.stop();
    if (heartbeat) heartbeat->finish();
    reports.finish();
    producers->close();
    Log::info("stopped");
    if (on_finished) on_finished();
  }

  std::string status() const {
    const auto current = settings();
    const std::size_t busy = jobs_in_flight();
    const std::string in_flight = std::to_string(busy);
    std::string text;
    switch (context.phase()) {
      case Phase::running:
        text =
            (busy > 0 ? "busy " : "idle ") + in_flight + "/" + std::to_string(current->concurrency);
        break;
      case Phase::quiet:
        text = "quiet, " + in_flight + " jobs in flight";
        break;
      case Phase::stopping:
        text = "stopping, " + in_flight + " jobs in flight";
        break;
    }
    std::string queues;
    for (const auto& name : current->queues.names) queues += (queues.empty() ? "" : ",") + name;
    text += " · queues " + queues + " · server " + context.status.describe();
    if (reregistering) text += " · re-registering (labels changed)";
    return text;
  }

  void dump_state() {
    const auto phase = context.phase();
    Log::info("state", {{"phase", phase == Phase::running ? "running"
                                  : phase == Phase::quiet ? "quiet"
                                                          : "stopping"},
                        {"server", context.status.describe()},
                        {"heartbeat", heartbeat ? heartbeat->describe() : "not started"},
                        {"in_flight", std::to_string(jobs_in_flight())}});
    const auto now = Clock::now();
    for (const auto& p : processors) {
      const auto job = p->slot().current();
      if (!job) continue;
      Log::info("job in flight", {{"jid", job->jid},
                                  {"jobtype", job->jobtype},
                                  {"plugin", plugin_of(job->jobtype)},
                                  {"processor", std::to_string(p->index())},
                                  {"running_for", seconds_text(now - job->started)},
                                  {"reported", job->taken ? "yes (FAILed, still running)" : "no"}});
    }
    for (const auto& p : processors) {
      Log::info("processor", {{"index", std::to_string(p->index())},
                              {"state", p->describe()},
                              {"retiring", p->retiring() ? "yes" : "no"}});
    }
  }
};

Worker::Worker(asio::io_context& io, std::shared_ptr<const WorkerSettings> settings,
               plugins::PluginHost& host, std::shared_ptr<ProducerPool> producers,
               crash::JobTable* job_table, metrics::JobMetrics* job_metrics)
    : impl_(std::make_unique<Impl>(io, std::move(settings), host, std::move(producers))) {
  impl_->context.job_table = job_table;
  impl_->context.job_metrics = job_metrics;
}

Worker::~Worker() = default;

void Worker::start() {
  asio::dispatch(impl_->io, [this] { impl_->start(); });
}
void Worker::apply(std::shared_ptr<const WorkerSettings> settings) {
  // Published here, on the caller's thread: when apply() returns, every processor takes the
  // new snapshot before its next FETCH or job. What else follows (processors started or
  // retired, reconnects) is the control thread's.
  auto previous = impl_->context.settings.current();
  impl_->context.settings.publish(settings);
  asio::dispatch(impl_->io, [this, previous = std::move(previous), settings = std::move(settings)] {
    impl_->applied(previous, settings);
  });
}
void Worker::quiet() {
  asio::post(impl_->io, [this] { impl_->quiet(); });
}
void Worker::stop() {
  asio::post(impl_->io, [this] { impl_->stop(); });
}
void Worker::dump_state() {
  asio::post(impl_->io, [this] { impl_->dump_state(); });
}
bool Worker::finished() const noexcept {
  return impl_->finished;
}
void Worker::set_on_finished(std::function<void()> callback) {
  impl_->on_finished = std::move(callback);
}
void Worker::set_on_stopping(std::function<void()> callback) {
  impl_->on_stopping = std::move(callback);
}
std::string Worker::status() const {
  return impl_->status();
}
std::chrono::milliseconds Worker::shutdown_timeout() const {
  return impl_->settings()->shutdown_timeout;
}
std::shared_ptr<const WorkerSettings> Worker::settings() const {
  return impl_->settings();
}
Worker::Gauges Worker::gauges() const {
  const Phase phase = impl_->context.phase();
  return {impl_->settings()->concurrency, phase == Phase::quiet, phase == Phase::stopping,
          impl_->context.status.up()};
}
bool Worker::jobs_still_running() const noexcept {
  return std::any_of(impl_->processors.begin(), impl_->processors.end(),
                     [](const auto& p) { return !p->exited(); });
}

}  // namespace factotum::worker
