#include "worker/producer_pool.hpp"

#include "faktory/blocking_client.hpp"
#include "faktory/jid.hpp"

#include <boost/json/parse.hpp>

namespace factotum::worker {

ProducerPool::ProducerPool(faktory::ClientOptions options, std::size_t max_connections)
    : options_(std::move(options)), max_(max_connections == 0 ? 1 : max_connections) {
  options_.identity = faktory::Identity{};  // a producer: HELLO without a wid
}

ProducerPool::~ProducerPool() = default;

void ProducerPool::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  available_.notify_all();
}

void ProducerPool::reconfigure(const faktory::ClientOptions& options) {
  std::vector<Pooled> outdated;
  {
    std::lock_guard lock(mutex_);
    options_ = options;
    options_.identity = faktory::Identity{};
    ++generation_;
    open_ -= idle_.size();
    outdated.swap(idle_);
  }
  available_.notify_all();
  // `outdated` closes its connections here, outside the lock.
}

ProducerPool::Pooled ProducerPool::acquire() {
  std::unique_lock lock(mutex_);
  available_.wait(lock, [&] { return closed_ || !idle_.empty() || open_ < max_; });
  if (closed_) return {};
  if (!idle_.empty()) {
    Pooled pooled = std::move(idle_.back());
    idle_.pop_back();
    return pooled;
  }
  ++open_;
  return {std::make_unique<faktory::BlockingClient>(options_), generation_};
}

void ProducerPool::release(Pooled pooled) {
  {
    std::lock_guard lock(mutex_);
    if (pooled.generation != generation_) {
      --open_;  // built with settings a reload replaced: closed below, outside the lock
    } else {
      idle_.push_back(std::move(pooled));
    }
  }
  available_.notify_one();
}

bool ProducerPool::push(std::string_view job_json, std::string& jid_or_error) {
  boost::system::error_code ec;
  auto value = boost::json::parse(job_json, ec);
  if (ec || !value.is_object()) {
    jid_or_error = "the job to push is not a JSON object" + (ec ? ": " + ec.message() : "");
    return false;
  }
  auto& object = value.as_object();
  if (!object.contains("jid")) object["jid"] = faktory::generate_jid();
  if (!object.contains("args")) object["args"] = boost::json::array();
  auto job = faktory::Job::from_json(std::move(object));
  if (!job) {
    jid_or_error = job.error().message;
    return false;
  }
  if (auto valid = job->validate(); !valid) {
    jid_or_error = valid.error().message;
    return false;
  }

  Pooled pooled = acquire();
  auto& client = pooled.client;
  if (!client) {
    jid_or_error = "the worker has stopped: no more jobs can be pushed";
    return false;
  }
  // A PUSH is sent once: should its reply be lost, the server may hold the job already, and a
  // second PUSH would enqueue it twice under one jid (the server does not deduplicate). The
  // caller's job then fails and is retried. A connection the server closed while it sat idle
  // is replaced first, and a connection that cannot be made is tried once more: in both cases
  // nothing was sent.
  faktory::Result<void> pushed = faktory::Error(faktory::errc::not_connected, "not connected");
  if (client->is_connected() && client->closed_by_peer()) client->close();
  for (int attempt = 0; attempt < 2 && !client->is_connected(); ++attempt) {
    if (auto connected = client->connect(); !connected) pushed = connected.error();
  }
  if (client->is_connected()) pushed = client->push(*job);
  release(std::move(pooled));
  if (!pushed) {
    jid_or_error = pushed.error().what();
    return false;
  }
  jid_or_error = job->jid;
  return true;
}

}  // namespace factotum::worker
