// Storage logic of the test server: queues, reservations, retries, scheduled and dead sets,
// periodic tasks and INFO. Command parsing lives in server_commands.cpp.
#include "server_state.hpp"

#include "go_json.hpp"

#include <unistd.h>
#include <algorithm>
#include <fstream>

namespace factotum::testing::detail {
namespace {

using namespace std::chrono;

// Dead jobs expire after 180 days (PROTOCOL.md §7, F: manager/manager.go DeadTTL).
constexpr auto kDeadTtl = hours{24 * 180};

std::int64_t used_memory_mb() {
  std::ifstream statm("/proc/self/statm");
  long long pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * ::sysconf(_SC_PAGESIZE) / (1024 * 1024);
}

}  // namespace

std::vector<std::string> Reply::pieces() const {
  switch (kind) {
    case Kind::simple:
      return {"+" + text + "\r\n"};
    case Kind::error:
      return {"-" + text + "\r\n"};
    case Kind::null:
      return {"$-1\r\n"};
    case Kind::bulk:
      break;
  }
  // Faktory writes a bulk reply's header, payload and CRLF separately, so they often arrive
  // in different recv() calls (transcripts README fact 5): a client must cope.
  return {"$" + std::to_string(text.size()) + "\r\n", text, "\r\n"};
}

std::string_view to_string(WorkerState s) {
  switch (s) {
    case WorkerState::running:
      return "running";
    case WorkerState::quiet:
      return "quiet";
    case WorkerState::terminate:
      return "terminate";
  }
  return "running";
}

ServerState::ServerState(StateOptions options)
    : options_(options),
      started_steady_(steady_clock::now()),
      rng_(options.seed != 0 ? options.seed : std::random_device{}()) {
  started_ = options_.manual_clock ? options_.start_time
                                   : time_point_cast<nanoseconds>(system_clock::now());
}

Time ServerState::now() const {
  if (options_.manual_clock) return started_ + offset_;
  return time_point_cast<nanoseconds>(system_clock::now()) + offset_;
}

seconds ServerState::uptime() const {
  return duration_cast<seconds>(now() - started_);
}

std::int64_t ServerState::backoff_seconds(std::int64_t count) {
  // F: manager/retry.go nextRetry: count⁴ + 15 + rand(30)·(count+1), count being the
  // failure's retry_count after this failure (0 first; transcript 06 shows 15–44 s, then 16–74 s).
  std::uniform_int_distribution<std::int64_t> jitter(0, 29);
  return count * count * count * count + 15 + jitter(rng_) * (count + 1);
}

void ServerState::known_queue(const std::string& name) {
  known_queues_.insert(name);
  queues_[name];
}

std::map<std::string, std::size_t> ServerState::queue_sizes() const {
  std::map<std::string, std::size_t> out;
  for (const auto& name : known_queues_) {
    auto it = queues_.find(name);
    out[name] = it == queues_.end() ? 0 : it->second.size();
  }
  return out;
}

// F: manager/manager.go Push: the validation order and texts of transcript 03.
std::string ServerState::push_job(Job job) {
  if (job.jid.size() < 8) return "jobs must have a reasonable jid parameter";
  if (job.jobtype.empty()) return "jobs must have a jobtype parameter";
  if (!job.args) return "jobs must have an args parameter";
  if (job.reserve_for > 86400) return "jobs cannot be reserved for more than one day";
  if (job.created_at.empty()) job.created_at = gotime::format_rfc3339nano(now());
  if (job.queue.empty()) job.queue = "default";
  if (!job.at.empty()) {
    auto parsed = gotime::parse_rfc3339nano(job.at);
    if (auto* err = std::get_if<std::string>(&parsed)) {
      return "invalid timestamp for 'at': " + gojson::quote(job.at) + ": " + *err;
    }
    Time at = std::get<Time>(parsed);
    if (at > now()) {
      if (options_.record_history) pushed_.push_back(job.jid);
      scheduled_.emplace(at, std::move(job));
      return {};
    }
  }
  if (options_.record_history) pushed_.push_back(job.jid);
  enqueue(std::move(job), true);
  return {};
}

void ServerState::enqueue(Job job, bool reset_enqueued_at) {
  // MUTATE requeue keeps the old enqueued_at; PUSH and the scheduler reset it (README table).
  if (reset_enqueued_at || job.enqueued_at.empty()) {
    job.enqueued_at = gotime::format_rfc3339nano(now());
  }
  std::string name = job.queue;
  known_queue(name);
  queues_[name].push_back(std::move(job));
  dispatch_waiters(name);
}

void ServerState::dispatch_waiters(const std::string& queue) {
  // BRPOP semantics: the longest-waiting client blocked on this key gets the job.
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    auto& q = queues_[queue];
    if (q.empty()) return;
    auto w = *it;
    if (std::find(w->queues.begin(), w->queues.end(), queue) == w->queues.end()) {
      ++it;
      continue;
    }
    Job job = std::move(q.front());
    q.pop_front();
    it = waiters_.erase(it);
    w->payload = reserve(std::move(job), w->wid);
    if (w->wake) w->wake();
  }
}

void ServerState::remove_waiter(const std::shared_ptr<FetchWaiter>& w) {
  waiters_.erase(std::remove(waiters_.begin(), waiters_.end(), w), waiters_.end());
}

std::vector<std::string> ServerState::unpaused(const std::vector<std::string>& queues) const {
  std::vector<std::string> out;
  for (const auto& q : queues) {
    if (!paused_.count(q)) out.push_back(q);
  }
  return out;
}

std::optional<std::string> ServerState::try_fetch(const std::vector<std::string>& queues,
                                                  std::string_view wid) {
  // Strict order over the listed queues (PROTOCOL.md §0.4), FIFO inside each.
  for (const auto& name : queues) {
    auto it = queues_.find(name);
    if (it == queues_.end() || it->second.empty()) continue;
    Job job = std::move(it->second.front());
    it->second.pop_front();
    return reserve(std::move(job), wid);
  }
  return std::nullopt;
}

std::string ServerState::reserve(Job job, std::string_view wid) {
  // F: manager/working.go reserve: 0 → 1800 s, below 60 → 60, above a day → a day.
  std::int64_t timeout = job.reserve_for;
  if (timeout == 0) timeout = 1800;
  if (timeout < 60) timeout = 60;
  if (timeout > 86400) timeout = 86400;
  std::string payload = encode_job(job);
  std::string jid = job.jid;
  working_[jid] = Reservation{std::move(job), now() + seconds{timeout}, std::string(wid)};
  return payload;
}

void ServerState::process_failure(Job job, std::string errtype, std::string message,
                                  std::vector<std::string> backtrace) {
  // F: manager/retry.go processFailure; shapes as transcript 06 shows them.
  ++failures_;
  ++processed_;
  const std::int64_t retry = job.retry.value_or(default_retry_);
  Time t = now();
  if (job.failure) {
    job.failure->retry_count += 1;
    job.failure->message = std::move(message);
    job.failure->errtype = std::move(errtype);
    job.failure->backtrace = std::move(backtrace);
  } else {
    Failure f;
    f.failed_at = gotime::format_rfc3339nano(t);
    f.message = std::move(message);
    f.errtype = std::move(errtype);
    f.backtrace = std::move(backtrace);
    job.failure = std::move(f);
  }
  Failure& f = *job.failure;
  f.remaining = retry - f.retry_count;
  if (retry == 0) return;  // retry:0: the job is gone (transcript 06 §5)
  if (f.retry_count < retry) {
    Time next = t + seconds{backoff_seconds(f.retry_count)};
    f.next_at = gotime::format_rfc3339nano(next);
    retries_.emplace(next, std::move(job));
  } else {
    f.next_at.clear();  // dead jobs carry no next_at (transcript 06 §6)
    dead_.emplace(t, std::move(job));
  }
}

ServerState::SortedSet* ServerState::set_for(std::string_view target) {
  if (target == "retries") return &retries_;
  if (target == "scheduled") return &scheduled_;
  if (target == "dead") return &dead_;
  return nullptr;
}

bool ServerState::register_worker(std::uint64_t conn_id, const HelloData& hello) {
  auto it = workers_.find(hello.wid);
  bool created = false;
  if (it == workers_.end()) {
    // Only the first HELLO of a wid fills the record (PROTOCOL.md §4).
    Worker w;
    w.hello = hello;
    w.last_beat = now();
    it = workers_.emplace(hello.wid, std::move(w)).first;
    created = true;
  }
  it->second.connections.insert(conn_id);
  return created;
}

void ServerState::remove_connection(std::uint64_t conn_id, const std::string& wid) {
  auto it = workers_.find(wid);
  if (it == workers_.end() || !it->second.connections.erase(conn_id)) return;
  // The record goes with its last connection (PROTOCOL.md §0.10, transcript 07 §7).
  if (it->second.connections.empty()) workers_.erase(it);
}

std::optional<WorkerState> ServerState::worker_state(std::string_view wid) const {
  auto it = workers_.find(wid);
  if (it == workers_.end()) return std::nullopt;
  return it->second.state;
}

std::optional<std::vector<std::string>> ServerState::worker_labels(std::string_view wid) const {
  auto it = workers_.find(wid);
  if (it == workers_.end()) return std::nullopt;
  return it->second.hello.labels;
}

void ServerState::signal_worker(std::string_view wid, WorkerState s) {
  auto it = workers_.find(wid);
  if (it == workers_.end()) return;
  // running → quiet → terminate, never backwards (F: server/workers.go Signal).
  auto& cur = it->second.state;
  if (s == WorkerState::running) return;
  if (cur == WorkerState::running || (cur == WorkerState::quiet && s == WorkerState::terminate)) {
    cur = s;
  }
}

std::vector<std::uint64_t> ServerState::run_tasks() {
  const Time t = now();
  auto started = steady_clock::now();
  auto elapsed = [&] { return duration<double>(steady_clock::now() - started).count(); };

  // Scheduled and retries: due jobs go to their queue with a fresh enqueued_at.
  auto drain = [&](SortedSet& set, TaskStats& stats) {
    started = steady_clock::now();
    while (!set.empty() && set.begin()->first <= t) {
      Job job = std::move(set.begin()->second);
      set.erase(set.begin());
      enqueue(std::move(job), true);
      ++stats.enqueued;
    }
    ++stats.cycles;
    stats.wall_time_sec += elapsed();
  };
  drain(scheduled_, scheduled_task_);
  drain(retries_, retries_task_);

  // Reservation reaper: an expired reservation is a failure (PROTOCOL.md §0.5).
  std::vector<Job> expired;
  for (auto it = working_.begin(); it != working_.end();) {
    if (it->second.expiry < t) {
      expired.push_back(std::move(it->second.job));
      it = working_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& job : expired) {
    ++busy_reaped_;
    process_failure(std::move(job), "ReservationExpired", "Faktory job reservation expired", {});
  }

  // Heartbeat reaper: silent workers are forgotten and their connections force-closed
  // (PROTOCOL.md §4, transcript 11).
  std::vector<std::uint64_t> to_close;
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (it->second.last_beat < t - options_.heartbeat_timeout) {
      to_close.insert(to_close.end(), it->second.connections.begin(), it->second.connections.end());
      ++workers_reaped_;
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }

  // Dead-set purge.
  started = steady_clock::now();
  while (!dead_.empty() && dead_.begin()->first + kDeadTtl < t) dead_.erase(dead_.begin());
  ++dead_task_.cycles;
  dead_task_.wall_time_sec += elapsed();
  return to_close;
}

std::size_t ServerState::ack_count(std::string_view jid) const {
  auto it = ack_counts_.find(jid);
  return it == ack_counts_.end() ? 0 : it->second;
}

std::size_t ServerState::fail_count(std::string_view jid) const {
  auto it = fail_counts_.find(jid);
  return it == fail_counts_.end() ? 0 : it->second;
}

std::map<std::string, std::string> ServerState::job_fates() const {
  std::map<std::string, std::string> fates;
  for (const auto& jid : acked_) fates[jid] = "acked";
  for (const auto& [name, queue] : queues_) {
    for (const auto& job : queue) fates[job.jid] = "queued";
  }
  for (const auto& [jid, reservation] : working_) fates[jid] = "reserved";
  for (const auto& [at, job] : scheduled_) fates[job.jid] = "scheduled";
  for (const auto& [at, job] : retries_) fates[job.jid] = "retry";
  for (const auto& [at, job] : dead_) fates[job.jid] = "dead";
  return fates;
}

std::vector<std::string> ServerState::set_payloads(std::string_view target) const {
  const SortedSet* set = target == "retries"     ? &retries_
                         : target == "scheduled" ? &scheduled_
                                                 : &dead_;
  std::vector<std::string> out;
  for (const auto& [at, job] : *set) out.push_back(encode_job(job));
  return out;
}

// INFO: key order and nesting of transcript 08 (struct fields in declaration order, Go maps
// with sorted keys).
Reply ServerState::info() const {
  const Time t = now();
  std::string out = "{\"now\":\"" + gotime::format_rfc3339nano(t) + "\",\"server_utc_time\":\"" +
                    gotime::format_clock(t) + "\",\"faktory\":{\"queues\":{";
  std::size_t total_enqueued = 0;
  bool first = true;
  for (const auto& [name, size] : queue_sizes()) {
    if (!first) out += ',';
    first = false;
    gojson::write_string(out, name);
    out += ':' + std::to_string(size);
    total_enqueued += size;
  }
  auto task = [&](const char* name, const TaskStats& s) {
    out += std::string("\"") + name + "\":{\"cycles\":" + std::to_string(s.cycles) +
           ",\"enqueued\":" + std::to_string(s.enqueued) + ",\"size\":";
  };
  out += "},\"sets\":{\"dead\":" + std::to_string(dead_.size()) +
         ",\"retries\":" + std::to_string(retries_.size()) +
         ",\"scheduled\":" + std::to_string(scheduled_.size()) +
         ",\"working\":" + std::to_string(working_.size()) + "},\"tasks\":{";
  out += "\"Busy\":{\"reaped\":" + std::to_string(busy_reaped_) +
         ",\"size\":" + std::to_string(working_.size()) + "},";
  auto wall = [&](double w) {
    out += ",\"wall_time_sec\":";
    gojson::write_float(out, w);
    out += "}";
  };
  task("Dead", dead_task_);
  out += std::to_string(dead_.size());
  wall(dead_task_.wall_time_sec);
  out += ',';
  task("Retries", retries_task_);
  out += std::to_string(retries_.size());
  wall(retries_task_.wall_time_sec);
  out += ',';
  task("Scheduled", scheduled_task_);
  out += std::to_string(scheduled_.size());
  wall(scheduled_task_.wall_time_sec);
  out += ",\"Workers\":{\"reaped\":" + std::to_string(workers_reaped_) +
         ",\"size\":" + std::to_string(workers_.size()) + "}}";
  out += ",\"total_failures\":" + std::to_string(failures_) +
         ",\"total_processed\":" + std::to_string(processed_) +
         ",\"total_enqueued\":" + std::to_string(total_enqueued) +
         ",\"total_queues\":" + std::to_string(known_queues_.size()) + "}";
  out += ",\"server\":{\"description\":\"Faktory\",\"faktory_version\":\"1.9.4\",\"uptime\":" +
         std::to_string(uptime().count()) + ",\"connections\":" + std::to_string(connections_) +
         ",\"command_count\":" + std::to_string(command_count_) +
         ",\"used_memory_mb\":" + std::to_string(used_memory_mb()) + "}}";
  return Reply::bulk(std::move(out));
}

Reply ServerState::flush() {
  // Redis FLUSHDB: jobs and counters go; the queue names the server has seen stay listed
  // (transcript 10 §8), the in-memory worker registry and retry default stay too.
  for (auto& [name, q] : queues_) q.clear();
  working_.clear();
  scheduled_.clear();
  retries_.clear();
  dead_.clear();
  processed_ = 0;
  failures_ = 0;
  return Reply::ok();
}

}  // namespace factotum::testing::detail
