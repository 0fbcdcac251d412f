#include "worker/processor.hpp"

#include "service/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <random>

namespace factotum::worker {

namespace asio = boost::asio;
using service::Log;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// PROTOCOL.md §5: reserve_for 0/absent means 1800 s; the server raises values below 60 s.
std::chrono::seconds reservation_of(const faktory::Job& job) {
  const std::int64_t requested = job.reserve_for.value_or(0);
  if (requested <= 0) return std::chrono::seconds(1800);
  return std::chrono::seconds(std::max<std::int64_t>(requested, 60));
}

std::string millis_text(Clock::duration d) {
  return std::to_string(std::chrono::duration_cast<milliseconds>(d).count()) + "ms";
}

// The server answered a report with an error (e.g. FAIL of an expired reservation: "Job not
// found"); resending would get the same answer.
void log_refused(const char* verb, const RunningJob& job, const faktory::Error& error) {
  Log::warning(std::string("the server refused ") + verb,
               {{"jid", job.job.jid}, {"error", error.what()}});
}

std::uint64_t seed_for(unsigned index) {
  std::random_device rd;
  return (static_cast<std::uint64_t>(rd()) << 32) ^ index;
}

}  // namespace

Processor::Processor(Runtime& runtime, unsigned index)
    : rt_(runtime),
      index_(index),
      client_(runtime.io.get_executor(), runtime.settings.connection),
      order_(runtime.settings.queues, seed_for(index)),
      backoff_(seed_for(index + 1000)),
      sleep_timer_(runtime.io),
      job_timer_(runtime.io),
      job_thread_(runtime.host, [this](std::shared_ptr<RunningJob> job) { on_job_done(job); }) {}

void Processor::on_job_done(std::shared_ptr<RunningJob> job) {
  // On the job thread. The timer is only touched on the I/O thread, so wake the coroutine
  // through it. Post before the count drops: main() must not see zero busy threads while
  // this completion could still be queued to an io_context about to be destroyed. (`this`
  // outlives the io_context's run: the Worker ends only after it.)
  asio::post(rt_.io, [this, job = std::move(job)] {
    if (current_ == job) job_timer_.cancel();
  });
  rt_.busy_threads.fetch_sub(1);
}

void Processor::wake() {
  sleep_timer_.cancel();
}

void Processor::abandon_job_for_shutdown() {
  if (!current_) return;
  abandon_ = true;
  job_timer_.cancel();
}

void Processor::check_deadline(Clock::time_point now) {
  if (current_ && now >= current_->deadline) job_timer_.cancel();
}

std::string Processor::describe() const {
  switch (state_) {
    case State::connecting:
      return "connecting";
    case State::idle:
      return "idle";
    case State::fetching:
      return "fetching";
    case State::running:
      return "running a job";
    case State::reporting:
      return "reporting a result";
    case State::waiting:
      return "waiting to reconnect";
    case State::stopped:
      return "stopped";
  }
  return "?";
}

asio::awaitable<void> Processor::sleep(milliseconds duration, bool for_report) {
  // wake() only ends a sleep already in progress; a stop that arrived while this processor
  // was connecting or sending must still cut the next sleep short. A report being resent
  // keeps its back-off while stopping (until the stop deadline, clamped below): no tight
  // reconnect loop.
  if (!for_report && !rt_.may_fetch()) co_return;
  if (rt_.stop_deadline != Clock::time_point::max()) {
    const auto left = std::chrono::duration_cast<milliseconds>(rt_.stop_deadline - Clock::now());
    duration = std::clamp(left, milliseconds(0), duration);
  }
  const State before = state_;
  state_ = State::waiting;
  sleep_timer_.expires_after(duration);
  (void)co_await sleep_timer_.async_wait(kUseTuple);
  state_ = before;
}

asio::awaitable<bool> Processor::ensure_connected(bool for_report) {
  while (!client_.is_connected()) {
    // A report must still go out while stopping; a FETCH must not start.
    if (!for_report && !rt_.may_fetch()) co_return false;
    if (for_report && Clock::now() >= rt_.stop_deadline) co_return false;
    state_ = State::connecting;
    const auto attempt = Clock::now();
    auto connected = co_await client_.connect();
    if (connected) {
      backoff_.reset();
      connected_since_ = Clock::now();
      rt_.status.connected();
      break;
    }
    rt_.status.failed(connected.error().what(), attempt);
    co_await sleep(backoff_.next(), for_report);
  }
  co_return true;
}

asio::awaitable<void> Processor::run() {
  auto self = shared_from_this();  // keeps this processor alive while the coroutine runs
  for (;;) {
    faktory::Result<std::optional<std::string>> fetched = std::optional<std::string>();
    if (next_fetch_) {
      // The FETCH went out with the last ACK/FAIL: its reply is handled even when stopping.
      fetched = std::move(*next_fetch_);
      next_fetch_.reset();
    } else {
      if (!rt_.may_fetch()) break;
      if (!co_await ensure_connected(false)) break;
      if (!rt_.may_fetch()) break;
      // Checked only before sending: a FETCH already sent is never abandoned, because the
      // server would reserve a job pushed meanwhile for a dead connection (PROTOCOL.md §0.15).
      state_ = State::fetching;
      fetched = co_await client_.fetch_raw(order_.next());
    }
    state_ = State::idle;
    if (!fetched) {
      if (!client_.is_connected()) {
        rt_.status.failed(fetched.error().what(), connected_since_);
      } else {
        // A -ERR to FETCH (e.g. "shutdown in progress") — pace retries like a connection error.
        Log::warning("FETCH failed", {{"error", fetched.error().what()}});
      }
      co_await sleep(backoff_.next());
      continue;
    }
    backoff_.reset();
    if (!*fetched) continue;  // the queues stayed empty for the server's block time
    co_await process(std::move(**fetched));
  }
  state_ = State::stopped;
  co_await client_.end();
}

std::shared_ptr<RunningJob> Processor::prepare(std::string& payload) {
  auto parsed = faktory::Job::parse(payload);
  if (!parsed) {
    Log::error("the server sent a job that cannot be run",
               {{"error", parsed.error().message}, {"payload", payload.substr(0, 200)}});
    return nullptr;
  }
  auto job = std::make_shared<RunningJob>();
  job->payload = std::move(payload);
  job->job = std::move(*parsed);
  job->args_json = boost::json::serialize(job->job.args);
  job->custom_json = job->job.custom ? boost::json::serialize(*job->job.custom) : "{}";
  // Which plugin handles it is only needed for logs; the lookup takes the registry lock, so
  // skip it on the job path unless someone will read it.
  if (Log::enabled(service::LogLevel::debug)) {
    job->plugin = rt_.host.plugin_for(job->job.jobtype).value_or("");
  }
  job->processor = index_;
  job->id = rt_.next_job_id++;
  job->started = Clock::now();
  job->reservation_expiry = job->started + reservation_of(job->job);

  // DESIGN.md §3: the deadline is the jobtype's timeout, and in any case some margin before
  // the reservation expires so the server never re-runs a job we still hold.
  const auto reservation = job->reservation_expiry - job->started;
  const auto margin = std::min<Clock::duration>(rt_.settings.reservation_margin, reservation / 2);
  Clock::duration budget = reservation - margin;
  if (auto it = rt_.settings.jobtype_timeouts.find(job->job.jobtype);
      it != rt_.settings.jobtype_timeouts.end()) {
    budget = std::min<Clock::duration>(budget, it->second);
  }
  job->deadline = job->started + budget;
  return job;
}

asio::awaitable<void> Processor::process(std::string payload) {
  auto job = prepare(payload);
  if (!job) {
    // Without a usable payload there may be no jid to FAIL; if there is one, FAIL it so the
    // job goes through the retry path instead of waiting out its reservation.
    boost::system::error_code ec;
    auto value = boost::json::parse(payload, ec);
    const auto* obj = value.if_object();
    const auto* jid = obj ? obj->if_contains("jid") : nullptr;
    if (jid && jid->is_string()) {
      RunningJob bad;
      bad.job.jid = std::string(jid->get_string());
      bad.reservation_expiry = Clock::now() + std::chrono::seconds(60);
      const faktory::commands::FailArgs failure{
          bad.job.jid, "InvalidJobPayload", "the job payload is not a valid Faktory job", {}};
      co_await report(bad, &failure, true);
    }
    co_return;
  }

  current_ = job;
  // A FETCH still open at the shutdown deadline (or after a second TERM) may deliver a job:
  // it is cancelled and FAILed at once like the others, not waited for.
  abandon_ = Clock::now() >= rt_.stop_deadline;
  rt_.in_flight.emplace(job->id, job);
  Log::debug("job started", {{"jid", job->job.jid},
                             {"jobtype", job->job.jobtype},
                             {"queue", job->job.queue},
                             {"plugin", job->plugin}});
  state_ = State::running;

  // The job function is blocking code: it runs on this processor's job thread, never on the
  // I/O thread; on_job_done() wakes this coroutine when it returns.
  rt_.busy_threads.fetch_add(1);
  job_thread_.start(job);

  co_await wait_for_job(*job);

  rt_.in_flight.erase(job->id);
  current_.reset();
  state_ = State::idle;
}

asio::awaitable<void> Processor::wait_for_job(RunningJob& job) {
  // Sleep until the job returns (the completion cancels the timer), its deadline passes (the
  // worker's deadline watch cancels it), or shutdown gives up on it. The timer itself never
  // expires, so arming it costs no timerfd update.
  job_timer_.expires_at(Clock::time_point::max());
  if (rt_.watch_deadline) rt_.watch_deadline(job.deadline);
  while (!job.finished.load(std::memory_order_acquire) && !abandon_ &&
         Clock::now() < job.deadline && Clock::now() < rt_.stop_deadline) {
    (void)co_await job_timer_.async_wait(kUseTuple);
  }

  const auto& jid = job.job.jid;
  const auto& jobtype = job.job.jobtype;
  if (job.finished.load(std::memory_order_acquire)) {
    const auto took = millis_text(Clock::now() - job.started);
    state_ = State::reporting;
    if (job.outcome.succeeded()) {
      Log::debug("job succeeded", {{"jid", jid}, {"jobtype", jobtype}, {"duration", took}});
      co_await report(job, nullptr, true);
    } else {
      Log::warning("job failed", {{"jid", jid},
                                  {"jobtype", jobtype},
                                  {"errtype", job.outcome.errtype},
                                  {"error", job.outcome.message},
                                  {"duration", took}});
      const faktory::commands::FailArgs failure{jid, job.outcome.errtype, job.outcome.message,
                                                job.outcome.backtrace};
      co_await report(job, &failure, true);
    }
    co_return;
  }

  // The job is still running: cancel it and FAIL it now, so Faktory retries it at once rather
  // than after its reservation (DESIGN.md §3). Its thread is never killed.
  job.cancelled.store(true);
  const bool shutdown = abandon_ || Clock::now() >= rt_.stop_deadline;
  faktory::commands::FailArgs failure;
  failure.jid = jid;
  if (shutdown) {
    failure.errtype = "WorkerShutdown";
    failure.message = "factotum stopped before the job finished (shutdown_timeout " +
                      millis_text(rt_.settings.shutdown_timeout) + ")";
  } else {
    failure.errtype = "JobTimeout";
    failure.message = "the job ran past its deadline of " + millis_text(job.deadline - job.started);
  }
  Log::warning(
      shutdown ? "job cancelled at shutdown" : "job timed out",
      {{"jid", jid}, {"jobtype", jobtype}, {"plugin", rt_.host.plugin_for(jobtype).value_or("")}});
  state_ = State::reporting;
  // No FETCH with it: the job's thread is still busy, so this slot is not free yet.
  co_await report(job, &failure, false);
  if (shutdown) co_return;  // the process is about to end; the thread is left behind

  // Keep this processor's slot until the thread is free again, so `concurrency` stays the
  // number of job threads actually in use.
  state_ = State::running;
  job_timer_.expires_at(Clock::time_point::max());
  while (!job.finished.load(std::memory_order_acquire) && !abandon_) {
    (void)co_await job_timer_.async_wait(kUseTuple);
  }
  if (job.finished.load(std::memory_order_acquire)) {
    Log::warning("a timed-out job returned; its result is dropped",
                 {{"jid", jid},
                  {"jobtype", jobtype},
                  {"result", job.outcome.succeeded() ? "success" : job.outcome.errtype},
                  {"duration", millis_text(Clock::now() - job.started)}});
  }
}

asio::awaitable<void> Processor::report(RunningJob& job, const faktory::commands::FailArgs* failure,
                                        bool fetch_next) {
  const char* verb = failure ? "FAIL" : "ACK";
  if (fetch_next && rt_.may_fetch() && client_.is_connected()) {
    // The usual case: send the next FETCH with the report (one write, one round trip less).
    // Same rule as run(): the decision to FETCH is taken before sending, never undone.
    state_ = State::reporting;
    faktory::Result<void> reported;
    if (failure) {
      reported = co_await client_.fail_then_fetch(*failure, order_.next());
    } else {
      reported = co_await client_.ack_then_fetch(job.job.jid, order_.next());
    }
    if (reported || client_.is_connected()) {
      if (!reported) log_refused(verb, job, reported.error());
      // The job is done with; what remains is an ordinary FETCH (TTIN and the stop log must
      // not count it as a job in flight).
      rt_.in_flight.erase(job.id);
      if (current_.get() == &job) current_.reset();
      if (client_.fetch_pending()) {
        state_ = State::fetching;
        next_fetch_ = co_await client_.fetch_reply();
      }
      co_return;
    }
    // The connection broke before the report was answered: resend it below. The FETCH went
    // with the connection.
    rt_.status.failed(reported.error().what(), connected_since_);
  }
  // ACK/FAIL must survive a dropped connection: reconnect and resend until the server answers,
  // or until the reservation has certainly expired (then the server re-queues it anyway).
  for (;;) {
    if (client_.is_connected()) {
      // (Two statements, not `failure ? co_await … : co_await …`: GCC 12 miscompiles
      // co_await inside a conditional expression, destroying the result too early.)
      faktory::Result<void> sent;
      if (failure) {
        sent = co_await client_.fail(*failure);
      } else {
        sent = co_await client_.ack(job.job.jid);
      }
      if (sent) co_return;
      if (client_.is_connected()) {
        log_refused(verb, job, sent.error());
        co_return;
      }
      rt_.status.failed(sent.error().what(), connected_since_);
    }
    if (Clock::now() >= job.reservation_expiry) {
      Log::error(std::string("could not ") + verb +
                     " the job before its reservation expired; the server will retry it",
                 {{"jid", job.job.jid}, {"jobtype", job.job.jobtype}});
      co_return;
    }
    if (!co_await ensure_connected(true)) {
      Log::error(std::string("gave up sending ") + verb +
                     " at shutdown; the server will retry the job when its reservation expires",
                 {{"jid", job.job.jid}, {"jobtype", job.job.jobtype}});
      co_return;
    }
  }
}

}  // namespace factotum::worker
