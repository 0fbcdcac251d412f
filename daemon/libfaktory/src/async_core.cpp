// faktory::detail::AsyncCore: the daemon's coroutine client, run on an I/O thread of the
// library's own. The user's program never shares an io_context or any Asio type with it:
// results cross over through std::function, and async.hpp hands them to the user's executor.
#include "factotum/faktory/async.hpp"

#include "internal.hpp"

#include "faktory/client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/json/serialize.hpp>

#include <deque>
#include <future>
#include <thread>

namespace faktory::detail {
namespace asio = boost::asio;
namespace {

// The library's I/O thread: one for every AsyncClient of the process, started with the first.
// Never destroyed: a client may be released on this very thread (by its last command), and a
// thread cannot join itself nor an io_context be destroyed from inside its run(). At exit it
// is blocked in epoll, holding nothing that needs flushing.
class IoThread {
 public:
  static IoThread& instance() {
    static IoThread* const io = new IoThread();
    return *io;
  }
  asio::io_context& context() noexcept { return io_; }
  bool is_current() const noexcept { return std::this_thread::get_id() == id_; }

 private:
  IoThread() : guard_(asio::make_work_guard(io_)) {
    std::thread thread([this] {
      // Nothing may end this thread: a handler that throws (out of memory) is dropped.
      for (;;) {
        try {
          io_.run();
          return;
        } catch (...) {
        }
      }
    });
    id_ = thread.get_id();
    thread.detach();
  }
  asio::io_context io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::thread::id id_;
};

// Hands an outcome to the caller's side (async.hpp posts it to the handler's executor). That
// can only fail for lack of memory; the command's handler is then never called, which is
// still better than ending the process from a library thread.
template <class T>
void deliver(const std::function<void(Result<T>)>& done, Result<T> outcome) noexcept {
  try {
    done(std::move(outcome));
  } catch (...) {
  }
}

}  // namespace

struct FACTOTUM_FAKTORY_HIDDEN AsyncCore::Impl : std::enable_shared_from_this<Impl> {
  using Strand = asio::strand<asio::io_context::executor_type>;
  // One queued command: run on the strand, one at a time.
  using Command = std::function<asio::awaitable<void>(Impl&)>;

  explicit Impl(Options o)
      : options(std::move(o)), strand(asio::make_strand(IoThread::instance().context())) {}

  Options options;
  Strand strand;
  std::optional<internal::Client> client;
  std::deque<Command> queue;  // on the strand only
  bool draining = false;      // on the strand only
  bool destroyed = false;     // on the strand only: the AsyncClient is gone

  static void enqueue(std::shared_ptr<Impl> self, Command command) {
    Impl& core = *self;
    asio::post(core.strand, [self = std::move(self), command = std::move(command)]() mutable {
      self->queue.push_back(std::move(command));
      if (self->draining) return;
      self->draining = true;
      asio::co_spawn(self->strand, drain(self), asio::detached);
    });
  }

  // (A static coroutine: `self`, a parameter, lives in the frame and keeps the core alive.)
  static asio::awaitable<void> drain(std::shared_ptr<Impl> self) {
    while (!self->queue.empty()) {
      Command command = std::move(self->queue.front());
      self->queue.pop_front();
      try {
        co_await command(*self);
      } catch (...) {
        // A command delivers its own outcome; what escapes is out of memory. Go on.
      }
    }
    self->draining = false;
  }

  // A connected client: the one open unless the server closed it while it sat idle, else a
  // new connection (so that a PUSH is never sent into a connection known to be dead).
  asio::awaitable<Result<void>> ready() {
    if (client && client->is_connected() && !client->closed_by_peer()) co_return Result<void>();
    co_return co_await open();
  }

  asio::awaitable<Result<void>> open() {
    if (client) client->close();
    client.reset();
    auto settings = client_options(options);
    if (!settings) co_return settings.error();
    client.emplace(strand, std::move(*settings));
    co_return to_public(co_await client->connect());
  }

  static Error destroyed_error() {
    return make_error(ErrorCode::not_connected,
                      "the AsyncClient was destroyed before this command was sent");
  }

  // Queues a command: `run(client)` on a connected client, its result handed to `done`.
  template <class T, class Run>
  static void submit(std::shared_ptr<Impl> self, std::function<void(Result<T>)> done, Run run) {
    enqueue(std::move(self),
            [done = std::move(done),
             run = std::move(run)](Impl& core) mutable -> asio::awaitable<void> {
              std::optional<Result<T>> outcome;
              try {
                if (core.destroyed) {
                  outcome.emplace(destroyed_error());
                } else if (auto connected = co_await core.ready(); !connected) {
                  outcome.emplace(connected.error());
                } else {
                  outcome.emplace(co_await run(*core.client));
                }
              } catch (const std::exception& e) {
                // (Out of memory, in practice: the command's outcome is unknown.)
                outcome.emplace(make_error(ErrorCode::other, e.what()));
              }
              deliver(done, std::move(*outcome));
            });
  }

  // Queues an outcome known already (a job that cannot be sent): delivered in its turn, with
  // no connection made, and never inside the call that issued the command.
  template <class T>
  static void submit_outcome(std::shared_ptr<Impl> self, std::function<void(Result<T>)> done,
                             Result<T> outcome) {
    enqueue(std::move(self),
            [done = std::move(done),
             outcome = std::move(outcome)](Impl&) mutable -> asio::awaitable<void> {
              deliver(done, std::move(outcome));
              co_return;
            });
  }

  void queue_command(internal::commands::QueueAction action, std::vector<std::string> queues,
                     std::function<void(Result<void>)> done) {
    submit<void>(
        shared_from_this(), std::move(done),
        [action, queues = std::move(queues)](internal::Client& c) -> asio::awaitable<Result<void>> {
          co_return to_public(co_await c.queue(action, queues));
        });
  }
};

AsyncCore::AsyncCore(Options options) : impl_(std::make_shared<Impl>(std::move(options))) {}

// Commands still queued complete with an error and one under way is cut off, as Asio's own
// objects do; an idle connection gets its END. The destructor returns once every handler has
// been handed back, so that nothing of the library refers to the caller's executor after it.
AsyncCore::~AsyncCore() {
  auto finished = std::make_shared<std::promise<void>>();
  auto handed_back = finished->get_future();
  asio::post(impl_->strand, [impl = impl_] {
    impl->destroyed = true;
    if (impl->draining && impl->client) impl->client->close();
  });
  Impl::enqueue(impl_, [finished](Impl& core) -> asio::awaitable<void> {
    // (Set however this ends, even by an exception: the destructor waits for it.)
    struct Signal {
      std::shared_ptr<std::promise<void>> promise;
      ~Signal() { promise->set_value(); }
    } signal{finished};
    if (core.client && core.client->is_connected() && !core.client->closed_by_peer()) {
      co_await core.client->end();
    }
    core.client.reset();
  });
  // (On the library's own thread, only a handler with an inline executor could get here: it
  // cannot wait for itself.)
  if (!IoThread::instance().is_current()) handed_back.wait();
}

void AsyncCore::connect(std::function<void(Result<void>)> done) {
  Impl::enqueue(impl_, [done = std::move(done)](Impl& core) -> asio::awaitable<void> {
    std::optional<Result<void>> outcome;
    try {
      if (core.destroyed) {
        outcome.emplace(Impl::destroyed_error());
      } else {
        outcome.emplace(co_await core.open());
      }
    } catch (const std::exception& e) {
      outcome.emplace(make_error(ErrorCode::other, e.what()));
    }
    deliver(done, std::move(*outcome));
  });
}

void AsyncCore::push(Job job, std::function<void(Result<void>)> done) {
  auto converted = internal_job(job);
  if (!converted) {
    Impl::submit_outcome<void>(impl_, std::move(done), converted.error());
    return;
  }
  Impl::submit<void>(
      impl_, std::move(done),
      [j = std::move(*converted)](internal::Client& c) -> asio::awaitable<Result<void>> {
        co_return to_public(co_await c.push(j));
      });
}

void AsyncCore::push_bulk(std::vector<Job> jobs,
                          std::function<void(Result<std::vector<Rejection>>)> done) {
  using Outcome = Result<std::vector<Rejection>>;
  auto converted = internal_jobs(jobs);
  if (!converted || converted->empty()) {
    Impl::submit_outcome<std::vector<Rejection>>(
        impl_, std::move(done),
        converted ? Outcome(std::vector<Rejection>{}) : Outcome(converted.error()));
    return;
  }
  Impl::submit<std::vector<Rejection>>(
      impl_, std::move(done),
      [converted = std::move(*converted)](internal::Client& c) -> asio::awaitable<Outcome> {
        auto refused = co_await c.push_bulk(converted);
        if (!refused) co_return to_public(refused.error());
        std::vector<Rejection> out;
        for (auto& [jid, reason] : *refused) out.push_back(Rejection{jid, reason});
        co_return out;
      });
}

void AsyncCore::info(std::function<void(Result<Info>)> done) {
  Impl::submit<Info>(impl_, std::move(done),
                     [](internal::Client& c) -> asio::awaitable<Result<Info>> {
                       auto reply = co_await c.info();
                       if (!reply) co_return to_public(reply.error());
                       co_return Info(boost::json::serialize(*reply));
                     });
}

void AsyncCore::queue_pause(std::vector<std::string> queues,
                            std::function<void(Result<void>)> done) {
  impl_->queue_command(internal::commands::QueueAction::pause, std::move(queues), std::move(done));
}
void AsyncCore::queue_resume(std::vector<std::string> queues,
                             std::function<void(Result<void>)> done) {
  impl_->queue_command(internal::commands::QueueAction::resume, std::move(queues), std::move(done));
}
void AsyncCore::queue_remove(std::vector<std::string> queues,
                             std::function<void(Result<void>)> done) {
  impl_->queue_command(internal::commands::QueueAction::remove, std::move(queues), std::move(done));
}

void AsyncCore::mutate(Mutation mutation, Target target, Filter filter,
                       std::function<void(Result<void>)> done) {
  Impl::submit<void>(impl_, std::move(done),
                     [operation = mutate_operation(mutation, target, filter)](
                         internal::Client& c) -> asio::awaitable<Result<void>> {
                       co_return to_public(co_await c.mutate(operation));
                     });
}

void AsyncCore::close() {
  Impl::enqueue(impl_, [](Impl& core) -> asio::awaitable<void> {
    if (core.client && core.client->is_connected()) co_await core.client->end();
    core.client.reset();
  });
}

}  // namespace faktory::detail
