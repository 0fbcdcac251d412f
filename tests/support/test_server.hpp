// An in-process Faktory server for tests: speaks the wire protocol of a real Faktory 1.9.4
// byte for byte where tests/transcripts recorded it (and as 1.10 where 1.9.x would crash),
// keeps its jobs in memory and lets a test control time, faults and shutdown.
//
// It runs its own io_context on its own thread. Every public member function is thread-safe:
// it posts to that thread and waits for the answer. No Asio or JSON types leak out of here.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace factotum::testing {

struct TestServerOptions {
  std::string bind = "127.0.0.1";
  std::uint16_t port = 0;  // 0 = ephemeral
  std::optional<std::string> password;
  // Fixed challenge (transcript replay); otherwise i is random in [4000, 8095] and s is a
  // random int63 in lowercase hex, per connection (PROTOCOL.md §3.1).
  std::optional<std::string> salt;
  std::optional<int> iterations;
  std::chrono::milliseconds fetch_block{2000};  // the server's BRPOP timeout; tests shorten it
  std::chrono::milliseconds handshake_timeout{2000};
  // Heartbeat reaper: a worker silent for longer is forgotten and its connections closed.
  std::chrono::seconds heartbeat_timeout{60};
  // true: time moves only by advance_clock() and periodic tasks run only in run_tasks().
  // false: real time, tasks run every task_interval.
  bool manual_clock = false;
  // Where the manual clock starts (default: the real time at construction).
  std::optional<std::chrono::system_clock::time_point> start_time;
  std::chrono::milliseconds task_interval{1000};
  std::uint64_t seed = 0;  // RNG for back-off jitter and salts; 0 = random
  // Both set: TLS-only listener, TLS >= 1.2 (PROTOCOL.md §1).
  std::optional<std::string> tls_cert_file, tls_key_file;
  // Past it, a connection gets "-ERR too many connections: N" after +OK, then is closed.
  std::size_t max_connections = 2000;
  // After begin_shutdown(), connections still open are closed after this grace period (a
  // real server exits ~0.2–0.5 s after SIGTERM, transcript 14).
  std::chrono::milliseconds shutdown_grace{500};
  // Keep every command (command_log()), per-jid ACK/FAIL counts, ACKed and pushed jids
  // (job_fates(), pushed_jids()), for tests. Off in the
  // factotum-testserver executable: a benchmark's millions of jobs would grow it without end.
  bool record_history = true;
};

class TestServer {
 public:
  // Binds and serves; throws std::runtime_error naming the address if it cannot bind.
  explicit TestServer(TestServerOptions options = {});
  ~TestServer();  // stops cleanly and joins the io thread
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  std::uint16_t port() const;
  std::string host() const;
  // "tcp://127.0.0.1:PORT", or "tcp+tls://localhost:PORT" with TLS. Never has the password.
  std::string url() const;

  // Time and periodic tasks: scheduled → queue, retries → queue, reservation reaper,
  // heartbeat reaper, dead purge (PROTOCOL.md §7).
  void advance_clock(std::chrono::milliseconds d);
  void run_tasks();

  // Replaces the fixed HELLO challenge for connections accepted from now on (nullopt =
  // random again). Used to replay transcript 02, where every connection had its own.
  void set_challenge(std::optional<std::string> salt, std::optional<int> iterations);

  // "quiet" / "terminate", as the Web UI would set it; unknown wids are ignored.
  void set_worker_state(std::string_view wid, std::string_view state);
  std::optional<std::string> worker_state(std::string_view wid) const;  // "running", ...
  // The labels of the worker's record, as the Web UI shows them (nullopt: no such worker).
  std::optional<std::vector<std::string>> worker_labels(std::string_view wid) const;

  // Fault injection.
  void drop_all_connections();              // abrupt close of every open connection
  void refuse_connections(bool);            // while true: accept and immediately close (no +HI)
  std::size_t refused_connections() const;  // how many were refused so far
  // The next `verb` command (any connection) is applied as usual, then its connection is
  // closed instead of answering: a reply lost on its way back. One-shot.
  void lose_next_reply(std::string_view verb);
  // Like SIGTERM: new commands get "-ERR shutdown in progress" + close; a blocked FETCH gets
  // "-ERR redis: client is closed"; the listener closes; the rest is closed after
  // shutdown_grace (transcript 14).
  void begin_shutdown();

  // Enqueue as if PUSHed (same validation, same retry-default quirk); throws
  // std::invalid_argument with the server's error text.
  void push_job(std::string_view job_json);
  void flush();

  // Inspection (snapshot copies).
  struct Stats {
    std::uint64_t processed = 0, failures = 0, enqueued = 0;  // enqueued = sum of queue sizes
    std::size_t working = 0, retries = 0, dead = 0, scheduled = 0, connections = 0;
    std::map<std::string, std::size_t> queues;  // every queue seen, with its size
  };
  Stats stats() const;
  std::string info_json() const;  // the INFO payload
  // Well-formed ACK / FAIL commands received for a jid, whatever the server answered.
  std::size_t ack_count(std::string_view jid) const;
  std::size_t fail_count(std::string_view jid) const;
  struct CommandRecord {
    std::uint64_t connection_id;
    std::string wid;
    std::string verb;
    std::string line;
    std::chrono::steady_clock::time_point at;
  };
  // Every command line received after HELLO, in order (line without its line ending).
  std::vector<CommandRecord> command_log() const;
  std::vector<std::string> retry_jobs() const;  // payload JSON, next retry first
  std::vector<std::string> dead_jobs() const;
  std::vector<std::string> scheduled_jobs() const;
  std::vector<std::string> working_jids() const;  // reserved: fetched, not yet ACKed/FAILed
  // Where each job stands, by jid: "queued", "reserved", "scheduled", "retry", "dead", or
  // "acked" (an ACK ended its reservation). A job FAILed with retry 0 is gone (absent).
  std::map<std::string, std::string> job_fates() const;
  // Every jid accepted by PUSH or PUSHB (or push_job), in order.
  std::vector<std::string> pushed_jids() const;
  // Polls stats() until pred holds or the deadline passes; for tests (no sleeps as sync).
  bool wait_for(std::function<bool(const Stats&)> pred, std::chrono::milliseconds deadline) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace factotum::testing
