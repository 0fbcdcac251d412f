// The worker runtime in-process: a Worker on a control thread of its own, the e2e test
// plugin loaded into a PluginHost, against a TestServer. Tests drive it through the Worker's
// public API (apply, quiet, stop) and assert on what the server saw.
#pragma once

#include "catch_result.hpp"
#include "faktory/url.hpp"
#include "plugins/plugin_host.hpp"
#include "test_server.hpp"
#include "worker/producer_pool.hpp"
#include "worker/worker.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>

#include <future>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace factotum::testing {

inline constexpr auto kDeadline = std::chrono::seconds(60);

inline TestServerOptions quick_server(
    std::chrono::milliseconds fetch_block = std::chrono::milliseconds(200)) {
  TestServerOptions options;
  options.fetch_block = fetch_block;
  return options;
}

// Settings for a worker of its own wid against `server`.
inline std::shared_ptr<worker::WorkerSettings> settings_for(const TestServer& server,
                                                            unsigned concurrency,
                                                            std::vector<std::string> queues) {
  auto connection = std::make_shared<faktory::ClientOptions>(
      faktory::ClientOptions::for_url(faktory::parse_url(server.url()).value()));
  connection->identity =
      faktory::process_identity("worker-test-" + std::to_string(std::random_device{}()), {"test"});
  auto settings = std::make_shared<worker::WorkerSettings>();
  settings->connection = std::move(connection);
  settings->concurrency = concurrency;
  settings->queues = {false, std::move(queues), {}};
  settings->shutdown_timeout = std::chrono::seconds(30);
  return settings;
}

// A copy to change and publish; it keeps the connection settings (the same pointer).
inline std::shared_ptr<worker::WorkerSettings> copy_of(const worker::WorkerSettings& settings) {
  return std::make_shared<worker::WorkerSettings>(settings);
}

class RunningWorker {
 public:
  explicit RunningWorker(std::shared_ptr<const worker::WorkerSettings> settings)
      : wid_(settings->connection->identity.wid),
        producers_(std::make_shared<worker::ProducerPool>(*settings->connection, 2)),
        host_(services(producers_)) {
    plugins::LoadOptions load;
    load.strict_permissions = false;  // a build tree may be group-writable
    const auto report = host_.load_file(FACTOTUM_BINARY_DIR "/tests/e2e-plugins/e2e_jobs.so", load);
    REQUIRE(report.ok());
    worker_ = std::make_unique<worker::Worker>(io_, std::move(settings), host_, producers_);
    worker_->start();
    control_ = std::thread([this] { io_.run(); });
  }
  ~RunningWorker() {
    if (control_.joinable() && worker_) {
      worker_->stop();
      worker_->stop();  // hurry: a failed test must not wait for jobs
      control_.join();
    }
    // Joins the processor threads; one still inside a job function abandoned at shutdown (the
    // daemon would exit without joining it) is waited for, so the host outlives it.
    worker_.reset();
  }
  RunningWorker(const RunningWorker&) = delete;
  RunningWorker& operator=(const RunningWorker&) = delete;

  worker::Worker& worker() { return *worker_; }
  plugins::PluginHost& host() { return host_; }
  worker::ProducerPool& producers() { return *producers_; }
  const std::string& wid() const { return wid_; }

  // Runs `f` on the control thread and waits for it: every call to the Worker made before
  // has been carried out when this returns.
  void on_control_thread(const std::function<void()>& f) {
    std::promise<void> done;
    boost::asio::post(io_, [&] {
      f();
      done.set_value();
    });
    REQUIRE(done.get_future().wait_for(kDeadline) == std::future_status::ready);
  }
  void sync() {
    on_control_thread([] {});
  }

  // Destroys the Worker (after wait_stopped()); the host and the producer pool live on, as a
  // plugin's own thread can outlive the worker in the daemon.
  void destroy_worker() { worker_.reset(); }

  // Waits until the worker has stopped and its control thread returned.
  bool wait_stopped() {
    auto joined = std::async(std::launch::async, [this] { control_.join(); });
    return joined.wait_for(kDeadline) == std::future_status::ready;
  }

 private:
  static plugins::HostServices services(std::shared_ptr<worker::ProducerPool> producers) {
    plugins::HostServices services;
    services.push = [producers](std::string_view job_json, std::string& jid_or_error) {
      return producers->push(job_json, jid_or_error);
    };
    return services;
  }

  std::string wid_;
  std::shared_ptr<worker::ProducerPool> producers_;
  plugins::PluginHost host_;
  boost::asio::io_context io_;
  std::unique_ptr<worker::Worker> worker_;
  std::thread control_;
};

// What the server saw from one worker (by wid), per connection.
struct ServerView {
  std::vector<TestServer::CommandRecord> log;

  ServerView(const TestServer& server, const std::string& wid) {
    for (auto& record : server.command_log()) {
      if (record.wid == wid) log.push_back(std::move(record));
    }
  }
  // Connections that FETCHed and have not sent END: the processors still running.
  std::set<std::uint64_t> live_processors() const {
    std::set<std::uint64_t> fetching, ended;
    for (const auto& r : log) {
      if (r.verb == "FETCH") fetching.insert(r.connection_id);
      if (r.verb == "END") ended.insert(r.connection_id);
    }
    std::set<std::uint64_t> live;
    for (auto id : fetching) {
      if (!ended.count(id)) live.insert(id);
    }
    return live;
  }
  std::vector<TestServer::CommandRecord> of(std::uint64_t connection) const {
    std::vector<TestServer::CommandRecord> out;
    for (const auto& r : log) {
      if (r.connection_id == connection) out.push_back(r);
    }
    return out;
  }
  std::size_t count(std::string_view line) const {
    std::size_t n = 0;
    for (const auto& r : log) n += r.line == line;
    return n;
  }
};

}  // namespace factotum::testing
