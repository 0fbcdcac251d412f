// Everything the test server remembers — queues, the working/retry/scheduled/dead sets,
// the worker registry, counters — and every command's effect on it. Pure and clock-driven:
// no sockets, no timers, no threads. The server owns one ServerState and touches it only
// from its io thread (test_server.cpp), so nothing here locks.
#pragma once

#include "go_time.hpp"
#include "server_job.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace factotum::testing::detail {

using gotime::Time;

// One reply, already framed as RESP bytes (PROTOCOL.md §2).
struct Reply {
  enum class Kind { simple, error, bulk, null };
  Kind kind = Kind::simple;
  std::string text;  // simple/error: without the prefix; bulk: the payload

  static Reply ok() { return {Kind::simple, "OK"}; }
  static Reply error(std::string msg) { return {Kind::error, "ERR " + std::move(msg)}; }
  static Reply bulk(std::string payload) { return {Kind::bulk, std::move(payload)}; }
  static Reply null() { return {Kind::null, {}}; }
  // The reply as written by Faktory: a bulk reply is three writes ($N, payload, CRLF).
  std::vector<std::string> pieces() const;
};

enum class WorkerState { running, quiet, terminate };
std::string_view to_string(WorkerState s);

// A FETCH that found nothing and waits (Redis BRPOP). ServerState hands it the first job
// pushed to any of its queues, oldest waiter first, and calls wake().
struct FetchWaiter {
  std::vector<std::string> queues;
  std::string wid;
  std::optional<std::string> payload;  // set when a job was delivered
  std::function<void()> wake;
};

struct HelloData {
  std::string hostname, wid, pwdhash, username;
  std::int64_t pid = 0;
  std::int64_t version = 0;
  std::vector<std::string> labels;
};

struct StateOptions {
  bool manual_clock = false;
  Time start_time{};
  std::chrono::seconds heartbeat_timeout{60};
  std::uint64_t seed = 0;
  bool record_history = true;  // TestServerOptions::record_history
};

struct TaskStats {
  std::uint64_t cycles = 0, enqueued = 0;
  double wall_time_sec = 0;
};

class ServerState {
 public:
  explicit ServerState(StateOptions options);

  Time now() const;
  void advance_clock(std::chrono::nanoseconds d) { offset_ += d; }
  std::chrono::seconds uptime() const;

  // Commands (the argument is the text after "VERB "; see server_commands.cpp).
  Reply push(std::string_view payload);
  Reply pushb(std::string_view payload);
  Reply ack(std::string_view payload);
  Reply fail(std::string_view payload);
  Reply beat(std::string_view payload);
  Reply mutate(std::string_view line);
  Reply queue(std::string_view line);
  Reply info() const;
  Reply flush();

  // FETCH building blocks (the waiting itself is the connection's business).
  std::vector<std::string> unpaused(const std::vector<std::string>& queues) const;
  std::optional<std::string> try_fetch(const std::vector<std::string>& queues,
                                       std::string_view wid);
  void add_waiter(std::shared_ptr<FetchWaiter> w) { waiters_.push_back(std::move(w)); }
  void remove_waiter(const std::shared_ptr<FetchWaiter>& w);

  // Workers (PROTOCOL.md §4). register_worker returns true when this connection created
  // the record: only that connection has quiet enforced on FETCH (PROTOCOL.md §0.9).
  bool register_worker(std::uint64_t conn_id, const HelloData& hello);
  void remove_connection(std::uint64_t conn_id, const std::string& wid);
  std::optional<WorkerState> worker_state(std::string_view wid) const;
  // The labels the worker record holds (from the first HELLO of its wid); nullopt: no record.
  std::optional<std::vector<std::string>> worker_labels(std::string_view wid) const;
  void signal_worker(std::string_view wid, WorkerState s);

  // Periodic tasks; returns the connections the heartbeat reaper wants closed.
  std::vector<std::uint64_t> run_tasks();

  void connection_opened() { ++connections_; }
  void connection_closed() {
    if (connections_ > 0) --connections_;
  }
  void count_command() { ++command_count_; }

  // Inspection.
  std::uint64_t processed() const { return processed_; }
  std::uint64_t failures() const { return failures_; }
  std::size_t working() const { return working_.size(); }
  // Jids currently reserved (fetched, not yet ACKed or FAILed), in jid order.
  std::vector<std::string> working_jids() const {
    std::vector<std::string> jids;
    for (const auto& [jid, reservation] : working_) jids.push_back(jid);
    return jids;
  }
  std::size_t retries() const { return retries_.size(); }
  std::size_t dead() const { return dead_.size(); }
  std::size_t scheduled() const { return scheduled_.size(); }
  std::size_t connections() const { return connections_; }
  std::map<std::string, std::size_t> queue_sizes() const;
  std::size_t ack_count(std::string_view jid) const;
  std::size_t fail_count(std::string_view jid) const;
  std::vector<std::string> set_payloads(std::string_view target) const;
  // TestServer::job_fates / pushed_jids.
  std::map<std::string, std::string> job_fates() const;
  const std::vector<std::string>& pushed_jids() const { return pushed_; }

 private:
  struct Reservation {
    Job job;
    Time expiry;
    std::string wid;
  };
  struct Worker {
    HelloData hello;
    WorkerState state = WorkerState::running;
    Time last_beat;
    std::int64_t rss_kb = 0;
    std::set<std::uint64_t> connections;
  };
  using SortedSet = std::multimap<Time, Job>;

  std::string push_job(Job job);  // validation + store; "" or the error text
  void enqueue(Job job, bool reset_enqueued_at);
  void known_queue(const std::string& name);
  std::string reserve(Job job, std::string_view wid);
  void process_failure(Job job, std::string errtype, std::string message,
                       std::vector<std::string> backtrace);
  SortedSet* set_for(std::string_view target);
  void dispatch_waiters(const std::string& queue);
  std::int64_t backoff_seconds(std::int64_t count);

  StateOptions options_;
  std::chrono::steady_clock::time_point started_steady_;
  Time started_;
  std::chrono::nanoseconds offset_{0};
  std::mt19937_64 rng_;

  // PROTOCOL.md §0.6 / transcript 03 §7: the process-wide retry default a PUSH carrying
  // "retry" overwrites (faithfully reproduced).
  std::int64_t default_retry_ = 25;

  std::map<std::string, std::deque<Job>> queues_;  // front = oldest (FIFO)
  std::set<std::string> known_queues_;             // survive FLUSH (transcript 10 §8)
  std::set<std::string> paused_;
  std::map<std::string, Reservation> working_;  // by jid
  SortedSet scheduled_, retries_, dead_;
  std::map<std::string, Worker, std::less<>> workers_;
  std::deque<std::shared_ptr<FetchWaiter>> waiters_;

  std::uint64_t processed_ = 0, failures_ = 0, command_count_ = 0;
  std::size_t connections_ = 0;
  TaskStats scheduled_task_, retries_task_, dead_task_;
  std::uint64_t busy_reaped_ = 0, workers_reaped_ = 0;
  std::map<std::string, std::size_t, std::less<>> ack_counts_, fail_counts_;
  std::set<std::string> acked_;      // jids whose ACK ended their reservation (record_history)
  std::vector<std::string> pushed_;  // jids accepted by PUSH/PUSHB, in order (record_history)
};

}  // namespace factotum::testing::detail
