#include "worker/processor.hpp"

#include "crash/crash_handler.hpp"
#include "crash/job_table.hpp"
#include "faktory/job.hpp"
#include "faktory/job_salvage.hpp"
#include "metrics/job_metrics.hpp"
#include "service/log.hpp"
#include "worker/deadline_watch.hpp"
#include "worker/duration_text.hpp"
#include "worker/job_deadline.hpp"

#include <boost/json/serialize.hpp>

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <random>

namespace factotum::worker {

using service::Log;
using std::chrono::milliseconds;

namespace {

using Clock = std::chrono::steady_clock;

// A job's text as fetched is kept for payload_json up to this size (nearly every job); above
// it the job is held parsed only (see run_job).
constexpr std::size_t kKeepPayloadBytes = std::size_t{1} << 20;

std::uint64_t random_seed(unsigned index) {
  std::random_device rd;
  return (static_cast<std::uint64_t>(rd()) << 32) ^ index;
}

}  // namespace

Processor::Processor(WorkerContext& context, DeadlineWatch& deadlines, unsigned index,
                     std::function<void(unsigned)> on_exit)
    : context_(context),
      deadlines_(deadlines),
      index_(index),
      on_exit_(std::move(on_exit)),
      record_(context.job_table != nullptr ? context.job_table->acquire() : nullptr),
      metrics_(context.job_metrics != nullptr ? &context.job_metrics->acquire() : nullptr),
      registered_([&host = context.host](std::string_view jobtype) {
        return host.plugin_for(jobtype).has_value();
      }),
      seed_(random_seed(index)),
      backoff_(seed_ ^ 0x9e3779b97f4a7c15ULL) {}

Processor::~Processor() {
  if (thread_.joinable()) thread_.join();
  if (context_.job_table != nullptr) context_.job_table->release(record_);
  if (metrics_ != nullptr) context_.job_metrics->release(*metrics_);
}

void Processor::start() {
  thread_ = std::thread([this] { run(); });
}

void Processor::retire() {
  retiring_.store(true, std::memory_order_release);
  wake();
}

void Processor::wake() {
  {
    std::lock_guard lock(sleep_mutex_);
    woken_ = true;
  }
  sleep_cv_.notify_all();
}

bool Processor::detach_if_running() {
  State expected = State::running;
  // The job function runs: this thread owns client_ until it leaves State::running, which it
  // cannot do while the state is `detaching` (finish_running waits). So the connection is idle
  // and its fd stays valid while it is shut down here.
  if (!state_.compare_exchange_strong(expected, State::detaching, std::memory_order_acq_rel)) {
    return false;
  }
  // (No FETCH can be pending while a job runs: its reply was the job.) A connection that was
  // already lost counts as closed too.
  if (client_ && client_->is_connected()) client_->interrupt();
  detached_.store(true, std::memory_order_release);
  state_.store(State::running, std::memory_order_release);
  return true;
}

bool Processor::disconnected_for_hold() const noexcept {
  if (exited()) return true;
  const State state = state_.load(std::memory_order_acquire);
  if (state == State::held || state == State::stopped) return true;
  return state == State::running && detached_.load(std::memory_order_acquire);
}

std::string Processor::describe() const {
  switch (state_.load(std::memory_order_relaxed)) {
    case State::starting:
      return "starting";
    case State::connecting:
      return "connecting";
    case State::fetching:
      return "fetching";
    case State::running:
    case State::detaching:
      return "running a job";
    case State::reporting:
      return "reporting a result";
    case State::waiting:
      return "waiting to reconnect";
    case State::held:
      return "disconnected while the worker re-registers";
    case State::stopped:
      return "stopped";
  }
  return "?";
}

// The whole life of a processor. FETCH (queues from the current settings); while the server
// hands over jobs, run each inline and report it in one write with the next FETCH. Stop when
// the worker is quiet or stopping or this processor is retired — checked only before a FETCH
// is sent: a FETCH already sent is never abandoned, because the server would reserve a job
// pushed meanwhile for a dead connection (PROTOCOL.md §0.15).
void Processor::run() {
  const std::string name = "factotum-p" + std::to_string(index_);
  ::pthread_setname_np(::pthread_self(), name.substr(0, 15).c_str());  // top -H, core dumps
  // Plugin code runs on this thread: a crash names this processor's job (crash_handler.hpp).
  const crash::ThreadCrashScope crash_scope(record_);
  while (may_fetch()) {
    // (Checked again after connecting: a stop may have come while it blocked.)
    if (!ensure_connected() || !may_fetch() || context_.connections_held()) continue;
    Fetched fetched = fetch();
    while (fetched && *fetched) fetched = report_and_fetch(run_job(std::move(**fetched)));
    if (!fetched) fetch_failed(fetched.error());
  }
  // END first: a re-registration counts a stopped processor as closed.
  end_connection();
  set_state(State::stopped);
  exited_.store(true, std::memory_order_release);
  on_exit_(index_);
}

void Processor::refresh_settings() {
  if (!context_.settings.refresh(settings_, settings_version_)) return;
  if (!order_ || order_->selection() != settings_->queues) order_.emplace(settings_->queues, seed_);
  if (batch_scheduling_ != settings_->batch_scheduling) {
    // Allowed without privileges (SCHED_OTHER ↔ SCHED_BATCH). Should a sandbox refuse it,
    // the thread keeps the default policy: a matter of speed, not of correctness.
    const sched_param priority{};
    if (::pthread_setschedparam(::pthread_self(),
                                settings_->batch_scheduling ? SCHED_BATCH : SCHED_OTHER,
                                &priority) == 0) {
      batch_scheduling_ = settings_->batch_scheduling;
    }
  }
}

bool Processor::connection_outdated() const noexcept {
  return connection_ != settings_->connection;
}

const std::vector<std::string>& Processor::next_queues() {
  return order_->next();
}

void Processor::wait_while_held() {
  if (!context_.connections_held()) return;
  end_connection();
  const State before = state_.load(std::memory_order_relaxed);
  set_state(State::held);
  {
    std::unique_lock lock(sleep_mutex_);
    sleep_cv_.wait(lock, [this] { return !context_.connections_held(); });
    woken_ = false;
  }
  set_state(before);
}

void Processor::finish_running() {
  State expected = State::running;
  while (!state_.compare_exchange_weak(expected, State::reporting, std::memory_order_acq_rel)) {
    // `detaching`: the control thread is shutting the socket down; it takes microseconds.
    expected = State::running;
    std::this_thread::yield();
  }
  if (metrics_ != nullptr) metrics_->set_state(metrics::ProcessorState::reporting);
  // Closed for the server by a re-registration while the job ran: drop it quietly (it is not
  // an outage); the report goes out on the next connection.
  if (detached_.exchange(false, std::memory_order_acq_rel) && client_) client_->close();
}

bool Processor::ensure_connected() {
  wait_while_held();
  if (!may_fetch()) return false;  // released by a stop: no new connection just to END it
  refresh_settings();
  // New connection settings (url, password, TLS): reconnect, between jobs.
  if (connection_outdated()) end_connection();
  if (client_ && client_->is_connected()) return true;
  return connect_once(false);
}

bool Processor::connect_once(bool for_report) {
  wait_while_held();
  // A report goes to the server its job came from: after a reload that changed the server,
  // the old one (an ACK would mean nothing to the new one).
  const bool keep_server =
      for_report && client_ && !faktory::same_server(connection_->url, settings_->connection->url);
  if (!client_ || (connection_outdated() && !keep_server)) {
    client_.emplace(*settings_->connection);
    connection_ = settings_->connection;
  }
  set_state(State::connecting);
  const auto attempt = Clock::now();
  auto connected = client_->connect();
  if (connected) {
    backoff_.reset();
    connected_since_ = Clock::now();
    if (ever_connected_ && metrics_ != nullptr) metrics_->reconnected();
    ever_connected_ = true;
    context_.status.connected();
    return true;
  }
  context_.status.failed(connected.error().what(), attempt);
  sleep(backoff_.next(), for_report);
  return false;
}

void Processor::end_connection() {
  if (client_) client_->end();
}

Processor::Fetched Processor::fetch() {
  set_state(State::fetching);
  const auto sent = Clock::now();
  auto fetched = client_->fetch_raw(next_queues());
  if (fetched) {
    backoff_.reset();
    if (metrics_ != nullptr) metrics_->fetched(Clock::now() - sent);
  }
  return fetched;
}

void Processor::fetch_failed(const faktory::Error& error) {
  if (!client_->is_connected()) {
    context_.status.failed(error.what(), connected_since_);
  } else {
    // A -ERR to FETCH (e.g. "shutdown in progress"): pace retries like a connection error.
    Log::warning("FETCH failed", {{"error", error.what()}});
  }
  sleep(backoff_.next());
}

std::optional<Processor::Report> Processor::run_job(std::string payload) {
  set_state(State::running);
  // A job fetched by a FETCH sent before a reload still gets the newest settings (its
  // jobtype's timeout): a reload applies to every job that starts after it. One atomic load.
  refresh_settings();
  auto parsed = faktory::Job::parse(payload);
  if (!parsed) return invalid_job(payload, parsed.error().message);
  faktory::Job& job = *parsed;
  // A large job is held parsed only, with its args as text only, and the whole job is made
  // again for a plugin that asks for it (payload_json): it is not held twice while it runs (a
  // 60 MiB payload peaks at about 2x its size). Up to kKeepPayloadBytes, the text as fetched
  // is kept and given as it is.
  const bool keep_payload = payload.size() <= kKeepPayloadBytes;
  if (!keep_payload) std::string().swap(payload);
  const auto started = Clock::now();
  // From here until it is reported, a supervisor FAILs the job should this process die.
  if (record_ != nullptr) {
    record_->begin(job.jid, job.jobtype, started.time_since_epoch().count());
  }
  Report report{job.jid, job.jobtype, std::nullopt, started + reservation_of(job)};
  const auto deadline = deadline_for(*settings_, job.jobtype, started, report.reservation_expiry);
  metrics::JobtypeCells* const cells = cells_for(job.jobtype);

  if (!slot_.begin(job.jid, job.jobtype, started, deadline, report.reservation_expiry, connection_,
                   record_, cells)) {
    // The FETCH was answered after shutdown gave up on the jobs in flight: FAIL the job now so
    // it is retried at once, without running any plugin code.
    Log::warning("a job arrived after the shutdown deadline; FAILing it without running it",
                 {{"jid", job.jid}, {"jobtype", job.jobtype}});
    report.failure = faktory::commands::FailArgs{
        job.jid,
        "WorkerShutdown",
        "factotum was shutting down and did not start the job (it arrived after the shutdown "
        "deadline)",
        {}};
    if (cells != nullptr) cells->count(metrics::Outcome::failed);
    return report;
  }
  deadlines_.job_started(deadline);
  // The job's plugin generation is chosen here, once, and the job runs on it: "job started"
  // names it, and a reload that removes or replaces the plugin from now on leaves this job
  // alone, as one in flight (DESIGN.md §4.7). (Resolved again inside run(), after this line, a
  // job logged as started on a plugin could fail as UnknownJobtype.) Should it hold the last
  // reference to a retired generation, it hands it to the retirement thread after the job.
  const plugins::ResolvedJob resolved = context_.host.resolve(job.jobtype);
  if (Log::enabled(service::LogLevel::debug)) {
    // (Its fields are copies: built only for someone who reads them, not on every job.)
    Log::debug("job started", {{"jid", job.jid},
                               {"jobtype", job.jobtype},
                               {"queue", job.queue},
                               {"plugin", resolved.plugin()}});
  }

  const std::string args_json = boost::json::serialize(job.args);
  job.args = boost::json::array();
  const std::string custom_json = job.custom ? boost::json::serialize(*job.custom) : "{}";
  plugins::JobInput input;
  input.jid = job.jid;
  input.jobtype = job.jobtype;
  input.queue = job.queue;
  input.args_json = args_json;
  input.custom_json = custom_json;
  const plugins::LazyText payload_text{
      [&job, &args_json] { return job.serialize_with_args(args_json); }};
  if (keep_payload) {
    input.payload_json = payload;
  } else {
    input.payload_source = &payload_text;
  }
  // failure.retry_count counts from 0 at the first failure (PROTOCOL.md §6).
  input.retry_count = job.failure ? job.failure->retry_count + 1 : 0;
  input.cancelled = slot_.cancelled_flag();
  input.record = record_;
  plugins::JobOutcome outcome = context_.host.run(resolved, input);

  const auto duration = Clock::now() - started;
  const auto took = millis_text(duration);
  if (!slot_.end()) {
    // The control thread FAILed it when its deadline passed (or at shutdown), and counted it
    // then.
    Log::warning("a timed-out job returned; its result is dropped",
                 {{"jid", job.jid},
                  {"jobtype", job.jobtype},
                  {"result", outcome.succeeded() ? "success" : outcome.errtype},
                  {"duration", took}});
    return std::nullopt;
  }
  if (cells != nullptr) {
    // (No plugin ran it: its jobtype is not registered.)
    cells->count(outcome.succeeded()      ? metrics::Outcome::succeeded
                 : outcome.plugin.empty() ? metrics::Outcome::unknown_jobtype
                                          : metrics::Outcome::failed,
                 duration);
  }
  if (outcome.succeeded()) {
    Log::debug("job succeeded", {{"jid", job.jid}, {"jobtype", job.jobtype}, {"duration", took}});
    return report;
  }
  Log::warning("job failed", {{"jid", job.jid},
                              {"jobtype", job.jobtype},
                              {"errtype", outcome.errtype},
                              {"error", outcome.message},
                              {"duration", took}});
  report.failure =
      faktory::commands::FailArgs{job.jid, std::move(outcome.errtype), std::move(outcome.message),
                                  std::move(outcome.backtrace)};
  return report;
}

std::optional<Processor::Report> Processor::invalid_job(const std::string& payload,
                                                        const std::string& error) {
  // Every job the server hands over must end ACKed or FAILed: recover the jid with a lenient
  // scan and FAIL it, so the operator sees why instead of a job that silently waits out its
  // reservation on every retry.
  auto salvaged = faktory::salvage_job(payload, error);
  if (!salvaged) {
    Log::error(
        "the server sent a job that cannot be run and has no jid to FAIL it by; it stays "
        "reserved until its reservation expires",
        {{"error", error}, {"payload", payload.substr(0, 200)}});
    return std::nullopt;
  }
  Log::warning(
      "the server sent a job that cannot be run; FAILing it as InvalidJob",
      {{"jid", salvaged->jid}, {"jobtype", salvaged->jobtype}, {"error", salvaged->problem}});
  if (record_ != nullptr) {
    record_->begin(salvaged->jid, salvaged->jobtype, Clock::now().time_since_epoch().count());
  }
  if (auto* cells = cells_for(salvaged->jobtype)) cells->count(metrics::Outcome::failed);
  // Its reserve_for is unknown: assume the shortest reservation the server grants (60 s).
  return Report{salvaged->jid, salvaged->jobtype,
                faktory::commands::FailArgs{salvaged->jid, "InvalidJob", salvaged->problem, {}},
                Clock::now() + std::chrono::seconds(60)};
}

Processor::Fetched Processor::report_and_fetch(const std::optional<Report>& report) {
  const Fetched no_job = std::optional<std::string>();
  finish_running();
  refresh_settings();  // the next FETCH uses the newest queues
  // Nothing to report (the control thread did): the loop FETCHes anew.
  if (!report) {
    end_record();
    return no_job;
  }
  bool sent_before = false;  // went out once on a connection that broke before the answer
  if (may_fetch() && !connection_outdated() && !context_.connections_held() &&
      client_->is_connected()) {
    // The usual case: the next FETCH goes out in the same write as the report. Same rule as
    // run(): the decision to FETCH is taken before sending, never undone.
    set_state(State::reporting);
    const auto sent = Clock::now();  // the FETCH's round trip starts with this write
    const auto& queues = next_queues();
    faktory::Result<void> reported = report->failure
                                         ? client_->fail_then_fetch(*report->failure, queues)
                                         : client_->ack_then_fetch(report->jid, queues);
    if (reported || client_->is_connected()) {
      // Connected but no FETCH pending: nothing went out (a command that could not be
      // encoded). Send the report alone; the loop FETCHes anew.
      if (!client_->fetch_pending()) {
        report_until_answered(*report);
        end_record();
        return no_job;
      }
      end_record();  // answered (or refused): the server no longer holds it for this worker
      if (!reported) log_refused(*report, reported.error());
      set_state(State::fetching);
      auto fetched = client_->fetch_reply();
      if (fetched) {
        backoff_.reset();
        if (metrics_ != nullptr) metrics_->fetched(Clock::now() - sent);
      }
      return fetched;
    }
    // The connection broke before the report was answered: resend it below. The FETCH went
    // with the connection.
    context_.status.failed(reported.error().what(), connected_since_);
    sent_before = true;
  }
  report_until_answered(*report, sent_before);
  end_record();
  return no_job;
}

void Processor::set_state(State state) noexcept {
  state_.store(state);
  if (metrics_ == nullptr) return;
  switch (state) {
    case State::starting:
    case State::connecting:
    case State::waiting:
    case State::held:
      metrics_->set_state(metrics::ProcessorState::connecting);
      break;
    case State::fetching:
      metrics_->set_state(metrics::ProcessorState::fetching);
      break;
    case State::running:
    case State::detaching:
      metrics_->set_state(metrics::ProcessorState::running);
      break;
    case State::reporting:
      metrics_->set_state(metrics::ProcessorState::reporting);
      break;
    case State::stopped:
      metrics_->set_state(context_.phase() == Phase::quiet ? metrics::ProcessorState::quiet
                                                           : metrics::ProcessorState::stopped);
      break;
  }
}

metrics::JobtypeCells* Processor::cells_for(std::string_view jobtype) {
  if (metrics_ == nullptr) return nullptr;
  return &metrics_->jobtype(jobtype, registered_);
}

void Processor::end_record() noexcept {
  if (record_ != nullptr) record_->end();
}

void Processor::report_until_answered(const Report& report, bool sent_before) {
  const std::string verb(report.verb());
  set_state(State::reporting);
  for (;;) {
    if (client_ && client_->is_connected()) {
      if (std::exchange(sent_before, true) && metrics_ != nullptr) {
        metrics_->resent(report.failure.has_value());
      }
      auto sent = report.failure ? client_->fail(*report.failure) : client_->ack(report.jid);
      if (sent) return;
      if (client_->is_connected()) {
        log_refused(report, sent.error());
        return;
      }
      context_.status.failed(sent.error().what(), connected_since_);
    }
    const auto now = Clock::now();
    if (now >= report.reservation_expiry) {
      Log::error(
          "could not " + verb + " the job before its reservation expired; the server will retry it",
          {{"jid", report.jid}, {"jobtype", report.jobtype}});
      return;
    }
    if (now >= context_.stop_deadline()) {
      Log::error("gave up sending " + verb +
                     " at shutdown; the server will retry the job when its reservation expires",
                 {{"jid", report.jid}, {"jobtype", report.jobtype}});
      return;
    }
    connect_once(true);
  }
}

void Processor::log_refused(const Report& report, const faktory::Error& error) {
  // E.g. FAIL of an expired reservation ("Job not found"): resending gets the same answer.
  // A report that could not even be encoded never reached the server: say so.
  const std::string verb(report.verb());
  Log::warning(error.is(faktory::errc::invalid_argument) ? "could not send " + verb
                                                         : "the server refused " + verb,
               {{"jid", report.jid}, {"error", error.what()}});
}

void Processor::sleep(milliseconds duration, bool for_report) {
  // Reconnect back-off. Cut short by wake() (quiet, stop, retire); a FETCH back-off does not
  // even start once the processor may no longer fetch. A report being resent keeps its
  // back-off while stopping (no tight reconnect loop), but never past the shutdown deadline.
  if (!for_report && !may_fetch()) return;
  const auto until = std::min(Clock::now() + duration, context_.stop_deadline());
  const State before = state_.load(std::memory_order_relaxed);
  set_state(State::waiting);
  {
    std::unique_lock lock(sleep_mutex_);
    sleep_cv_.wait_until(lock, until, [this] { return woken_; });
    woken_ = false;
  }
  set_state(before);
}

}  // namespace factotum::worker
