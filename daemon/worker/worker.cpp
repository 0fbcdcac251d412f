#include "worker/worker.hpp"

#include "service/log.hpp"
#include "worker/heartbeat.hpp"
#include "worker/processor.hpp"
#include "worker/producer_pool.hpp"
#include "worker/runtime.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <vector>

namespace factotum::worker {

namespace asio = boost::asio;
using service::Log;
using Clock = std::chrono::steady_clock;

namespace {

std::string seconds_text(Clock::duration d) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  return std::to_string(ms / 1000) + "." + std::to_string((ms % 1000) / 100) + "s";
}

// A coroutine that dies with an exception is a bug in the daemon, not a job failure: log it
// loudly and stop the process with EX_SOFTWARE rather than run on with a missing processor.
void spawn(asio::io_context& io, asio::awaitable<void> task, const char* what) {
  asio::co_spawn(io, std::move(task), [what](std::exception_ptr failure) {
    if (!failure) return;
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      Log::error(std::string("internal error in the ") + what + ": " + e.what());
    } catch (...) {
      Log::error(std::string("internal error in the ") + what);
    }
    std::_Exit(70);
  });
}

}  // namespace

struct Worker::Impl {
  Runtime rt;
  ProducerPool producers;
  std::vector<std::shared_ptr<Processor>> processors;
  std::shared_ptr<Heartbeat> heartbeat;
  asio::steady_timer stop_timer;
  asio::steady_timer deadline_timer;
  unsigned running_processors = 0;
  bool finished = false;
  std::function<void()> on_finished;

  Impl(asio::io_context& io, WorkerSettings settings, plugins::PluginHost& host)
      : rt(io, std::move(settings), host),
        producers(rt.settings.connection, 4),
        stop_timer(io),
        deadline_timer(io) {
    deadline_timer.expires_at(Clock::time_point::max());
    rt.watch_deadline = [this](Clock::time_point deadline) { watch_deadline(deadline); };
  }

  // Keeps deadline_timer at the earliest deadline of the jobs in flight. Re-armed only when a
  // new job's deadline is earlier than the pending one (rare: later jobs have later deadlines).
  void watch_deadline(Clock::time_point deadline) {
    if (deadline >= deadline_timer.expiry()) return;
    deadline_timer.expires_at(deadline);
    deadline_timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;  // re-armed earlier, or shutting down
      const auto now = Clock::now();
      for (auto& p : processors) p->check_deadline(now);
      auto next = Clock::time_point::max();
      for (const auto& [id, job] : rt.in_flight) {
        if (job->deadline > now) next = std::min(next, job->deadline);
      }
      deadline_timer.expires_at(Clock::time_point::max());
      if (next != Clock::time_point::max()) watch_deadline(next);
    });
  }

  void start() {
    heartbeat = std::make_shared<Heartbeat>(rt, [this](faktory::WorkerState state) {
      if (state == faktory::WorkerState::quiet && rt.phase == Phase::running) {
        Log::info("the Faktory server asked this worker to be quiet");
        quiet();
      } else if (state == faktory::WorkerState::terminate && rt.phase != Phase::stopping) {
        Log::info("the Faktory server asked this worker to stop");
        stop();
      }
    });
    spawn(rt.io, heartbeat->run(), "heartbeat");
    for (unsigned i = 0; i < rt.settings.concurrency; ++i) {
      auto processor = std::make_shared<Processor>(rt, i);
      processors.push_back(processor);
      ++running_processors;
      spawn(rt.io, run_processor(processor), "processor");
    }
    Log::info("worker started", {{"concurrency", std::to_string(rt.settings.concurrency)},
                                 {"wid", rt.settings.connection.identity.wid},
                                 {"server", rt.status.server()}});
  }

  asio::awaitable<void> run_processor(std::shared_ptr<Processor> processor) {
    co_await processor->run();
    if (--running_processors == 0) all_processors_done();
  }

  void quiet() {
    if (rt.phase != Phase::running) return;
    rt.phase = Phase::quiet;
    Log::info("quiet: no new jobs; jobs in flight finish",
              {{"in_flight", std::to_string(rt.in_flight.size())}});
    for (auto& p : processors) p->wake();
  }

  void stop() {
    if (rt.phase == Phase::stopping) {
      if (rt.hurry) return;
      rt.hurry = true;
      Log::warning("second stop signal: not waiting for jobs in flight");
      give_up_on_jobs();
      return;
    }
    rt.phase = Phase::stopping;
    Log::info("stopping: no new FETCH; waiting for jobs in flight",
              {{"in_flight", std::to_string(rt.in_flight.size())},
               {"shutdown_timeout", seconds_text(rt.settings.shutdown_timeout)}});
    for (auto& p : processors) p->wake();
    if (running_processors == 0) {
      all_processors_done();
      return;
    }
    stop_timer.expires_after(rt.settings.shutdown_timeout);
    stop_timer.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) give_up_on_jobs();
    });
  }

  // The shutdown deadline: cancel the jobs still running and FAIL them so they are retried
  // at once (DESIGN.md §3). Outstanding FETCHes are still allowed to return.
  void give_up_on_jobs() {
    rt.stop_deadline = Clock::now();
    if (!rt.in_flight.empty()) {
      Log::warning("shutdown timeout: cancelling the jobs still running",
                   {{"count", std::to_string(rt.in_flight.size())}});
    }
    for (auto& [id, job] : rt.in_flight) job->cancelled.store(true);
    for (auto& p : processors) {
      p->abandon_job_for_shutdown();
      p->wake();
    }
  }

  void all_processors_done() {
    if (rt.phase != Phase::stopping) return;  // quiet: keep heartbeating until told to stop
    stop_timer.cancel();
    deadline_timer.cancel();
    heartbeat->finish();
    finished = true;
    Log::info("stopped");
    if (on_finished) on_finished();
  }

  void dump_state() {
    Log::info("state", {{"phase", rt.phase == Phase::running ? "running"
                                  : rt.phase == Phase::quiet ? "quiet"
                                                             : "stopping"},
                        {"server", rt.status.describe()},
                        {"heartbeat", heartbeat ? heartbeat->describe() : "not started"},
                        {"in_flight", std::to_string(rt.in_flight.size())}});
    const auto now = Clock::now();
    for (const auto& [id, job] : rt.in_flight) {
      Log::info("job in flight", {{"jid", job->job.jid},
                                  {"jobtype", job->job.jobtype},
                                  {"plugin", rt.host.plugin_for(job->job.jobtype).value_or("")},
                                  {"processor", std::to_string(job->processor)},
                                  {"running_for", seconds_text(now - job->started)}});
    }
    for (const auto& p : processors) {
      Log::info("processor", {{"index", std::to_string(p->index())}, {"state", p->describe()}});
    }
  }
};

Worker::Worker(asio::io_context& io, WorkerSettings settings, plugins::PluginHost& host)
    : impl_(std::make_unique<Impl>(io, std::move(settings), host)) {}

Worker::~Worker() = default;

void Worker::start() {
  asio::dispatch(impl_->rt.io, [this] { impl_->start(); });
}
void Worker::quiet() {
  asio::post(impl_->rt.io, [this] { impl_->quiet(); });
}
void Worker::stop() {
  asio::post(impl_->rt.io, [this] { impl_->stop(); });
}
void Worker::dump_state() {
  asio::post(impl_->rt.io, [this] { impl_->dump_state(); });
}
bool Worker::finished() const noexcept {
  return impl_->finished;
}
void Worker::set_on_finished(std::function<void()> callback) {
  impl_->on_finished = std::move(callback);
}

bool Worker::jobs_still_running() const noexcept {
  return impl_->rt.busy_threads.load() > 0;
}

bool Worker::push(std::string_view job_json, std::string& jid_or_error) {
  return impl_->producers.push(job_json, jid_or_error);
}

}  // namespace factotum::worker
