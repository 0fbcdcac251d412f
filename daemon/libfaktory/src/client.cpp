// faktory::Client: the daemon's blocking client behind the public API, connecting on demand.
#include "factotum/faktory/client.hpp"

#include "internal.hpp"

#include "faktory/blocking_client.hpp"

#include <boost/json/serialize.hpp>

namespace faktory {

const char* library_version() noexcept {
  return FACTOTUM_FAKTORY_VERSION;
}

struct FACTOTUM_FAKTORY_HIDDEN Client::Impl {
  Options options;
  std::optional<internal::BlockingClient> connection;

  // A connection ready for a command: opened if there is none, or if the server closed the
  // idle one (so that a command is never sent into a connection known to be dead).
  Result<internal::BlockingClient*> ready() {
    if (connection && connection->is_connected() && !connection->closed_by_peer()) {
      return &*connection;
    }
    if (auto opened = open(); !opened) return opened.error();
    return &*connection;
  }

  Result<void> open() {
    if (connection) connection->close();
    connection.reset();
    auto settings = detail::client_options(options);
    if (!settings) return settings.error();
    connection.emplace(std::move(*settings));
    return detail::to_public(connection->connect());
  }

  template <class Call>
  auto run(Call call)
      -> decltype(detail::to_public(call(std::declval<internal::BlockingClient&>()))) {
    auto client = ready();
    if (!client) return client.error();
    return detail::to_public(call(**client));
  }

  Result<void> queue(internal::commands::QueueAction action,
                     const std::vector<std::string>& queues) {
    return run([&](internal::BlockingClient& c) { return c.queue(action, queues); });
  }
};

Client::Client(Options options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
}
Client::~Client() {
  close();
}
Client::Client(Client&& other) noexcept = default;
Client& Client::operator=(Client&& other) noexcept {
  if (this != &other) {
    close();
    impl_ = std::move(other.impl_);
  }
  return *this;
}

Result<void> Client::connect() {
  return impl_->open();
}

bool Client::is_connected() const noexcept {
  return impl_ && impl_->connection && impl_->connection->is_connected();
}

Result<void> Client::push(const Job& job) {
  auto internal_job = detail::internal_job(job);
  if (!internal_job) return internal_job.error();
  return impl_->run([&](internal::BlockingClient& c) { return c.push(*internal_job); });
}

Result<std::vector<Rejection>> Client::push_bulk(std::span<const Job> jobs) {
  if (jobs.empty()) return std::vector<Rejection>{};
  auto internal_jobs = detail::internal_jobs(jobs);
  if (!internal_jobs) return internal_jobs.error();
  auto refused =
      impl_->run([&](internal::BlockingClient& c) { return c.push_bulk(*internal_jobs); });
  if (!refused) return refused.error();
  std::vector<Rejection> out;
  for (auto& [jid, reason] : *refused) out.push_back(Rejection{jid, reason});
  return out;
}

Result<Info> Client::info() {
  auto reply = impl_->run([](internal::BlockingClient& c) { return c.info(); });
  if (!reply) return reply.error();
  return Info(boost::json::serialize(*reply));
}

Result<void> Client::queue_pause(const std::vector<std::string>& queues) {
  return impl_->queue(internal::commands::QueueAction::pause, queues);
}
Result<void> Client::queue_resume(const std::vector<std::string>& queues) {
  return impl_->queue(internal::commands::QueueAction::resume, queues);
}
Result<void> Client::queue_remove(const std::vector<std::string>& queues) {
  return impl_->queue(internal::commands::QueueAction::remove, queues);
}

Result<void> Client::mutate(Mutation mutation, Target target, const Filter& filter) {
  const auto operation = detail::mutate_operation(mutation, target, filter);
  return impl_->run([&](internal::BlockingClient& c) { return c.mutate(operation); });
}

void Client::close() noexcept {
  if (!impl_ || !impl_->connection) return;
  if (impl_->connection->is_connected()) impl_->connection->end();
  impl_->connection.reset();
}

}  // namespace faktory
