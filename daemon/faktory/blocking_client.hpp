// A synchronous Faktory client for tools, tests and benchmarks: the same commands as Client,
// each run to completion on a private io_context. One thread at a time per object.
#pragma once

#include "faktory/client_options.hpp"
#include "faktory/commands.hpp"
#include "faktory/error.hpp"
#include "faktory/job.hpp"

#include <boost/json/object.hpp>

#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace factotum::faktory {

enum class WorkerState;

class BlockingClient {
 public:
  explicit BlockingClient(ClientOptions options);
  ~BlockingClient();
  BlockingClient(const BlockingClient&) = delete;
  BlockingClient& operator=(const BlockingClient&) = delete;

  Result<void> connect();
  bool is_connected() const noexcept;
  Result<void> push(const Job& job);
  Result<std::map<std::string, std::string>> push_bulk(std::span<const Job> jobs);
  Result<std::optional<Job>> fetch(std::span<const std::string> queues);
  Result<void> ack(std::string_view jid);
  Result<void> fail(const commands::FailArgs& failure);
  Result<WorkerState> beat(const commands::BeatArgs& beat);
  Result<boost::json::object> info();
  Result<void> flush();
  Result<void> queue(commands::QueueAction action, std::span<const std::string> names);
  Result<void> mutate(const boost::json::object& operation);
  void end();
  void close() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace factotum::faktory
