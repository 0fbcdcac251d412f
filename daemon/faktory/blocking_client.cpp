#include "faktory/blocking_client.hpp"

#include "faktory/client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <exception>

namespace factotum::faktory {

namespace asio = boost::asio;

struct BlockingClient::Impl {
  asio::io_context io{1};
  Client client;

  explicit Impl(ClientOptions options) : client(io.get_executor(), std::move(options)) {}

  // Runs one client operation to completion on the private io_context.
  template <class T>
  T run(asio::awaitable<T> operation) {
    std::optional<T> result;
    std::exception_ptr failure;
    asio::co_spawn(io, std::move(operation), [&](std::exception_ptr e, T value) {
      failure = e;
      if (!e) result.emplace(std::move(value));
    });
    io.restart();
    io.run();
    if (failure) std::rethrow_exception(failure);
    return std::move(*result);
  }

  void run(asio::awaitable<void> operation) {
    std::exception_ptr failure;
    asio::co_spawn(io, std::move(operation), [&](std::exception_ptr e) { failure = e; });
    io.restart();
    io.run();
    if (failure) std::rethrow_exception(failure);
  }
};

BlockingClient::BlockingClient(ClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
BlockingClient::~BlockingClient() = default;

Result<void> BlockingClient::connect() {
  return impl_->run(impl_->client.connect());
}
bool BlockingClient::is_connected() const noexcept {
  return impl_->client.is_connected();
}
Result<void> BlockingClient::push(const Job& job) {
  return impl_->run(impl_->client.push(job));
}
Result<std::map<std::string, std::string>> BlockingClient::push_bulk(std::span<const Job> jobs) {
  return impl_->run(impl_->client.push_bulk(jobs));
}
Result<std::optional<Job>> BlockingClient::fetch(std::span<const std::string> queues) {
  return impl_->run(impl_->client.fetch(queues));
}
Result<void> BlockingClient::ack(std::string_view jid) {
  return impl_->run(impl_->client.ack(jid));
}
Result<void> BlockingClient::fail(const commands::FailArgs& failure) {
  return impl_->run(impl_->client.fail(failure));
}
Result<WorkerState> BlockingClient::beat(const commands::BeatArgs& beat) {
  return impl_->run(impl_->client.beat(beat));
}
Result<boost::json::object> BlockingClient::info() {
  return impl_->run(impl_->client.info());
}
Result<void> BlockingClient::flush() {
  return impl_->run(impl_->client.flush());
}
Result<void> BlockingClient::queue(commands::QueueAction action,
                                   std::span<const std::string> names) {
  return impl_->run(impl_->client.queue(action, names));
}
Result<void> BlockingClient::mutate(const boost::json::object& operation) {
  return impl_->run(impl_->client.mutate(operation));
}
void BlockingClient::end() {
  impl_->run(impl_->client.end());
}
void BlockingClient::close() noexcept {
  impl_->client.close();
}

}  // namespace factotum::faktory
