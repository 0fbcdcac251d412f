// faktory::Pool: a bounded set of Clients lent out to threads.
#include "factotum/faktory/client.hpp"

#include "internal.hpp"

#include <condition_variable>
#include <mutex>
#include <vector>

namespace faktory {

struct FACTOTUM_FAKTORY_HIDDEN Pool::Impl {
  Options options;
  std::size_t size = 1;
  std::mutex mutex;
  std::condition_variable returned;
  std::vector<std::unique_ptr<Client>> all;  // every client made, idle or lent
  std::vector<Client*> idle;
};

Pool::Pool(Options options, std::size_t size) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->size = size == 0 ? 1 : size;
  // (So that returning a client, which must not fail, never allocates.)
  impl_->idle.reserve(impl_->size);
  impl_->all.reserve(impl_->size);
}

Pool::~Pool() = default;

Pool::Lease Pool::acquire() {
  std::unique_lock lock(impl_->mutex);
  impl_->returned.wait(lock,
                       [&] { return !impl_->idle.empty() || impl_->all.size() < impl_->size; });
  if (!impl_->idle.empty()) {
    Client* client = impl_->idle.back();
    impl_->idle.pop_back();
    return Lease(this, client);
  }
  // A new client connects on its first command, outside the lock.
  impl_->all.push_back(std::make_unique<Client>(impl_->options));
  return Lease(this, impl_->all.back().get());
}

void Pool::release(Client* client) noexcept {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->idle.push_back(client);
  }
  impl_->returned.notify_one();
}

Result<void> Pool::push(const Job& job) {
  return acquire()->push(job);
}

Result<std::vector<Rejection>> Pool::push_bulk(std::span<const Job> jobs) {
  return acquire()->push_bulk(jobs);
}

Pool::Lease::~Lease() {
  if (pool_ != nullptr) pool_->release(client_);
}

Pool::Lease::Lease(Lease&& other) noexcept : pool_(other.pool_), client_(other.client_) {
  other.pool_ = nullptr;
  other.client_ = nullptr;
}

}  // namespace faktory
