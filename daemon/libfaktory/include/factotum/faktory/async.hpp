/// @file
/// The asynchronous client, for Boost.Asio programs: every command is an Asio asynchronous
/// operation, `co_await`-able in a coroutine by default, or completed through any completion
/// token (a callback, boost::asio::use_future, boost::asio::deferred, ...).
///
/// Include this header only where you use Boost.Asio: it is the one part of the library that
/// does. It is compiled with your Boost (1.81 or later), and the library's own Asio, inside
/// libfactotum-faktory, is hidden from your program, so the two never have to match.
#pragma once

#include "factotum/faktory/admin.hpp"
#include "factotum/faktory/job.hpp"
#include "factotum/faktory/options.hpp"
#include "factotum/faktory/result.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace faktory {
namespace detail {

/// The library's side of AsyncClient: one connection, driven by an I/O thread the library
/// owns (one for the whole process), that runs commands in the order they are issued and
/// calls `done` on that thread. Every member may be called from any thread.
class FACTOTUM_FAKTORY_API AsyncCore {
 public:
  /// A connection for these options, opened by the first command.
  explicit AsyncCore(Options options);
  /// Completes the commands still queued with an error, cuts off the one under way, sends END
  /// on an idle connection, and returns when every `done` has been called.
  ~AsyncCore();
  AsyncCore(const AsyncCore&) = delete;
  AsyncCore& operator=(const AsyncCore&) = delete;

  /// See AsyncClient::connect().
  void connect(std::function<void(Result<void>)> done);
  /// See AsyncClient::push().
  void push(Job job, std::function<void(Result<void>)> done);
  /// See AsyncClient::push_bulk().
  void push_bulk(std::vector<Job> jobs, std::function<void(Result<std::vector<Rejection>>)> done);
  /// See AsyncClient::info().
  void info(std::function<void(Result<Info>)> done);
  /// See AsyncClient::queue_pause().
  void queue_pause(std::vector<std::string> queues, std::function<void(Result<void>)> done);
  /// See AsyncClient::queue_resume().
  void queue_resume(std::vector<std::string> queues, std::function<void(Result<void>)> done);
  /// See AsyncClient::queue_remove().
  void queue_remove(std::vector<std::string> queues, std::function<void(Result<void>)> done);
  /// See AsyncClient::mutate().
  void mutate(Mutation mutation, Target target, Filter filter,
              std::function<void(Result<void>)> done);
  /// See AsyncClient::close().
  void close();

  /// Implementation details (the library's own).
  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace detail

/// One connection to a Faktory server, with asynchronous commands:
/// @code
///   boost::asio::awaitable<void> produce(faktory::AsyncClient& client) {
///     auto pushed = co_await client.push(faktory::Job("send_email").args("bob@example.com"));
///     if (!pushed) std::cerr << pushed.error().what() << "\n";
///   }
/// @endcode
/// Each command completes with a faktory::Result (signature `void(faktory::Result<T>)`), on the
/// completion handler's associated executor (the coroutine's, for `use_awaitable`), or on the
/// client's executor. Commands run one after another in the order they were issued; the
/// connection is opened by the first one and again after one that lost it. A command is never
/// sent twice (see Client). Commands cannot be cancelled one by one.
///
/// Destroying the client completes the commands still queued with an error and cuts off the
/// one under way, as Asio's own objects do, and returns once their handlers are all handed to
/// their executors: destroy it before the io_context those run on. Create AsyncClients after
/// any fork(): the library's I/O thread is not copied into a child process.
///
/// Thread safety: every member may be called from any thread at once.
class AsyncClient {
 public:
  /// The executor handlers run on when they have none of their own.
  using executor_type = boost::asio::any_io_executor;
  /// The completion token used when none is given: C++20 coroutines.
  using default_token = boost::asio::use_awaitable_t<executor_type>;

  /// A client for these options whose handlers run on `executor` by default.
  explicit AsyncClient(executor_type executor, Options options = Options())
      : executor_(std::move(executor)),
        core_(std::make_unique<detail::AsyncCore>(std::move(options))) {}
  /// Not copyable nor movable: operations not yet started refer to the client.
  AsyncClient(const AsyncClient&) = delete;
  /// Not copyable nor movable: operations not yet started refer to the client.
  AsyncClient& operator=(const AsyncClient&) = delete;

  /// The executor handlers run on when they have none of their own.
  executor_type get_executor() const noexcept { return executor_; }

  /// Connects and completes the handshake (closing any earlier connection). Optional: any
  /// command connects when needed.
  template <class Token = default_token>
  auto connect(Token&& token = default_token()) {
    return initiate<Result<void>>(std::forward<Token>(token),
                                  [](detail::AsyncCore& core, auto done) { core.connect(done); });
  }
  /// Enqueues one job (PUSH).
  template <class Token = default_token>
  auto push(Job job, Token&& token = default_token()) {
    return initiate<Result<void>>(
        std::forward<Token>(token),
        [job = std::move(job)](detail::AsyncCore& core, auto done) { core.push(job, done); });
  }
  /// Enqueues several jobs in one command (PUSHB); completes with the jobs the server refused.
  template <class Token = default_token>
  auto push_bulk(std::vector<Job> jobs, Token&& token = default_token()) {
    return initiate<Result<std::vector<Rejection>>>(
        std::forward<Token>(token), [jobs = std::move(jobs)](detail::AsyncCore& core, auto done) {
          core.push_bulk(jobs, done);
        });
  }
  /// The server's state (INFO).
  template <class Token = default_token>
  auto info(Token&& token = default_token()) {
    return initiate<Result<Info>>(std::forward<Token>(token),
                                  [](detail::AsyncCore& core, auto done) { core.info(done); });
  }
  /// Stops workers fetching from these queues ("*" alone: every queue) until resumed.
  template <class Token = default_token>
  auto queue_pause(std::vector<std::string> queues, Token&& token = default_token()) {
    return initiate<Result<void>>(std::forward<Token>(token),
                                  [queues = std::move(queues)](detail::AsyncCore& core, auto done) {
                                    core.queue_pause(queues, done);
                                  });
  }
  /// Lets workers fetch from paused queues again.
  template <class Token = default_token>
  auto queue_resume(std::vector<std::string> queues, Token&& token = default_token()) {
    return initiate<Result<void>>(std::forward<Token>(token),
                                  [queues = std::move(queues)](detail::AsyncCore& core, auto done) {
                                    core.queue_resume(queues, done);
                                  });
  }
  /// Deletes these queues and every job in them.
  template <class Token = default_token>
  auto queue_remove(std::vector<std::string> queues, Token&& token = default_token()) {
    return initiate<Result<void>>(std::forward<Token>(token),
                                  [queues = std::move(queues)](detail::AsyncCore& core, auto done) {
                                    core.queue_remove(queues, done);
                                  });
  }
  /// Requeues, discards or kills the jobs of a set that match a filter (MUTATE).
  template <class Token = default_token>
  auto mutate(Mutation mutation, Target target, Filter filter, Token&& token = default_token()) {
    return initiate<Result<void>>(
        std::forward<Token>(token),
        [mutation, target, filter = std::move(filter)](detail::AsyncCore& core, auto done) {
          core.mutate(mutation, target, filter, done);
        });
  }
  /// Sends END and closes once the commands already issued are done; a later command
  /// connects again.
  void close() { core_->close(); }

 private:
  // Starts `start(core, done)`; `done`, called on the library's thread, hands the result to
  // the completion handler on its associated executor, which is kept busy meanwhile.
  template <class R, class Token, class Start>
  auto initiate(Token&& token, Start start) {
    return boost::asio::async_initiate<Token, void(R)>(
        [this](auto handler, Start starter) {
          using Handler = decltype(handler);
          auto executor = boost::asio::get_associated_executor(handler, executor_);
          using Work = decltype(boost::asio::make_work_guard(executor));
          struct Pending {
            Handler handler;
            Work work;
          };
          // (std::function needs a copyable callable; the handler may be move-only.)
          auto pending = std::make_shared<Pending>(
              Pending{std::move(handler), boost::asio::make_work_guard(executor)});
          starter(*core_, std::function<void(R)>([pending](R outcome) {
            auto target = pending->work.get_executor();
            boost::asio::post(target, [pending, outcome = std::move(outcome)]() mutable {
              std::move(pending->handler)(std::move(outcome));
              pending->work.reset();
            });
          }));
        },
        token, std::move(start));
  }

  executor_type executor_;
  std::unique_ptr<detail::AsyncCore> core_;
};

}  // namespace faktory
