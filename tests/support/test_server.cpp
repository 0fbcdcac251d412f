// TestServer: the listener, the io thread, periodic tasks, fault injection and the
// thread-safe facade over the state (every call is posted to the io thread and awaited).
#include "test_server.hpp"

#include "server_core.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <openssl/ssl.h>

#include <future>
#include <stdexcept>
#include <thread>
#include <type_traits>

namespace factotum::testing {

using detail::asio::ip::tcp;
namespace asio = detail::asio;

namespace {

detail::StateOptions state_options(const TestServerOptions& o) {
  detail::StateOptions s;
  s.manual_clock = o.manual_clock;
  auto start = o.start_time.value_or(std::chrono::system_clock::now());
  s.start_time = std::chrono::time_point_cast<std::chrono::nanoseconds>(start);
  s.heartbeat_timeout = o.heartbeat_timeout;
  s.seed = o.seed;
  s.record_history = o.record_history;
  return s;
}

}  // namespace

struct TestServer::Impl {
  explicit Impl(TestServerOptions opts)
      : work(asio::make_work_guard(io)),
        acceptor(io),
        core(io, opts, state_options(opts)),
        task_timer(io),
        shutdown_timer(io) {
    const auto& o = core.options;
    if (o.tls_cert_file.has_value() != o.tls_key_file.has_value()) {
      throw std::invalid_argument("TestServer: TLS needs both tls_cert_file and tls_key_file");
    }
    if (o.tls_cert_file) {
      ssl.emplace(asio::ssl::context::tls_server);
      // TLS-only listener, TLS 1.2 at least (PROTOCOL.md §1, Faktory 1.9.0).
      SSL_CTX_set_min_proto_version(ssl->native_handle(), TLS1_2_VERSION);
      ssl->use_certificate_chain_file(*o.tls_cert_file);
      ssl->use_private_key_file(*o.tls_key_file, asio::ssl::context::pem);
    }
    boost::system::error_code ec;
    auto address = asio::ip::make_address(o.bind, ec);
    if (ec) throw std::runtime_error("TestServer: invalid bind address '" + o.bind + "'");
    tcp::endpoint ep(address, o.port);
    acceptor.open(ep.protocol(), ec);
    if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor.bind(ep, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      throw std::runtime_error("TestServer: cannot listen on " + o.bind + ":" +
                               std::to_string(o.port) + ": " + ec.message());
    }
    port = acceptor.local_endpoint().port();
    asio::co_spawn(io, accept_loop(), asio::detached);
    if (!o.manual_clock) schedule_tasks();
    thread = std::thread([this] { io.run(); });
    thread_id = thread.get_id();
  }

  ~Impl() {
    call([this] {
      boost::system::error_code ec;
      acceptor.close(ec);
      task_timer.cancel();
      shutdown_timer.cancel();
      auto conns = core.connections;
      for (auto& [id, c] : conns) c->stop();
      work.reset();
    });
    thread.join();
  }

  // Runs f on the io thread and returns its result (exceptions are rethrown here).
  template <class F>
  auto call(F&& f) -> std::invoke_result_t<F&> {
    using R = std::invoke_result_t<F&>;
    if (std::this_thread::get_id() == thread_id) return f();
    std::promise<R> p;
    auto fut = p.get_future();
    asio::post(io, [&] {
      try {
        if constexpr (std::is_void_v<R>) {
          f();
          p.set_value();
        } else {
          p.set_value(f());
        }
      } catch (...) {
        p.set_exception(std::current_exception());
      }
    });
    return fut.get();
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket sock =
          co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (!acceptor.is_open()) co_return;
        continue;
      }
      if (refuse) {
        ++refused;
        sock.close(ec);
        continue;
      }
      // Replies leave in pieces like the real server's (transcripts README fact 5).
      sock.set_option(tcp::no_delay(true), ec);
      auto stream = ssl ? detail::make_tls_stream(std::move(sock), *ssl)
                        : detail::make_tcp_stream(std::move(sock));
      auto id = next_id++;
      auto conn = std::make_shared<detail::Connection>(core, id, std::move(stream));
      core.connections[id] = conn;
      asio::co_spawn(io, conn->run(), asio::detached);
    }
  }

  void schedule_tasks() {
    task_timer.expires_after(core.options.task_interval);
    task_timer.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      run_tasks_now();
      schedule_tasks();
    });
  }

  void run_tasks_now() {
    for (auto id : core.state.run_tasks()) {
      if (auto it = core.connections.find(id); it != core.connections.end()) {
        it->second->force_close();
      }
    }
  }

  TestServer::Stats stats() const {
    const auto& st = core.state;
    TestServer::Stats s;
    s.processed = st.processed();
    s.failures = st.failures();
    s.working = st.working();
    s.retries = st.retries();
    s.dead = st.dead();
    s.scheduled = st.scheduled();
    s.connections = st.connections();
    s.queues = st.queue_sizes();
    for (const auto& [name, size] : s.queues) s.enqueued += size;
    return s;
  }

  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  tcp::acceptor acceptor;
  std::optional<asio::ssl::context> ssl;
  detail::Core core;
  asio::steady_timer task_timer;
  asio::steady_timer shutdown_timer;
  std::uint16_t port = 0;
  bool refuse = false;
  std::size_t refused = 0;
  std::uint64_t next_id = 1;
  std::thread thread;
  std::thread::id thread_id;
};

TestServer::TestServer(TestServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

TestServer::~TestServer() = default;

std::uint16_t TestServer::port() const {
  return impl_->port;
}
std::string TestServer::host() const {
  return impl_->core.options.bind;
}

std::string TestServer::url() const {
  // A certificate names a host, not an address, so TLS URLs use localhost.
  if (impl_->ssl) return "tcp+tls://localhost:" + std::to_string(port());
  return "tcp://" + host() + ":" + std::to_string(port());
}

void TestServer::advance_clock(std::chrono::milliseconds d) {
  impl_->call([&] { impl_->core.state.advance_clock(d); });
}

void TestServer::run_tasks() {
  impl_->call([&] { impl_->run_tasks_now(); });
}

void TestServer::set_challenge(std::optional<std::string> salt, std::optional<int> iterations) {
  impl_->call([&] {
    impl_->core.salt = std::move(salt);
    impl_->core.iterations = iterations;
  });
}

void TestServer::set_worker_state(std::string_view wid, std::string_view state) {
  detail::WorkerState s;
  if (state == "quiet") {
    s = detail::WorkerState::quiet;
  } else if (state == "terminate") {
    s = detail::WorkerState::terminate;
  } else {
    throw std::invalid_argument("TestServer::set_worker_state: state must be quiet or terminate");
  }
  impl_->call([&] { impl_->core.state.signal_worker(wid, s); });
}

std::optional<std::string> TestServer::worker_state(std::string_view wid) const {
  return impl_->call([&]() -> std::optional<std::string> {
    auto s = impl_->core.state.worker_state(wid);
    if (!s) return std::nullopt;
    return std::string(detail::to_string(*s));
  });
}

std::optional<std::vector<std::string>> TestServer::worker_labels(std::string_view wid) const {
  return impl_->call([&] { return impl_->core.state.worker_labels(wid); });
}

void TestServer::drop_all_connections() {
  impl_->call([&] {
    auto conns = impl_->core.connections;
    for (auto& [id, c] : conns) c->force_close();
  });
}

void TestServer::refuse_connections(bool refuse) {
  impl_->call([&] { impl_->refuse = refuse; });
}

std::size_t TestServer::refused_connections() const {
  return impl_->call([&] { return impl_->refused; });
}

void TestServer::lose_next_reply(std::string_view verb) {
  impl_->call([&] { impl_->core.lose_reply_to = std::string(verb); });
}

void TestServer::begin_shutdown() {
  impl_->call([&] {
    auto& impl = *impl_;
    if (impl.core.shutting_down) return;
    impl.core.shutting_down = true;
    boost::system::error_code ec;
    impl.acceptor.close(ec);
    auto conns = impl.core.connections;
    for (auto& [id, c] : conns) c->on_shutdown();
    impl.shutdown_timer.expires_after(impl.core.options.shutdown_grace);
    impl.shutdown_timer.async_wait([&impl](boost::system::error_code e) {
      if (e) return;
      auto open = impl.core.connections;
      for (auto& [id, c] : open) c->force_close();
    });
  });
}

void TestServer::push_job(std::string_view job_json) {
  auto reply = impl_->call([&] { return impl_->core.state.push(job_json); });
  if (reply.kind == detail::Reply::Kind::error) {
    throw std::invalid_argument("TestServer::push_job: " + reply.text);
  }
}

void TestServer::flush() {
  impl_->call([&] { impl_->core.state.flush(); });
}

TestServer::Stats TestServer::stats() const {
  return impl_->call([&] { return impl_->stats(); });
}

std::string TestServer::info_json() const {
  return impl_->call([&] { return impl_->core.state.info().text; });
}

std::size_t TestServer::ack_count(std::string_view jid) const {
  return impl_->call([&] { return impl_->core.state.ack_count(jid); });
}

std::size_t TestServer::fail_count(std::string_view jid) const {
  return impl_->call([&] { return impl_->core.state.fail_count(jid); });
}

std::vector<TestServer::CommandRecord> TestServer::command_log() const {
  return impl_->call([&] { return impl_->core.log; });
}

std::vector<std::string> TestServer::retry_jobs() const {
  return impl_->call([&] { return impl_->core.state.set_payloads("retries"); });
}

std::vector<std::string> TestServer::dead_jobs() const {
  return impl_->call([&] { return impl_->core.state.set_payloads("dead"); });
}

std::vector<std::string> TestServer::scheduled_jobs() const {
  return impl_->call([&] { return impl_->core.state.set_payloads("scheduled"); });
}

std::map<std::string, std::string> TestServer::job_fates() const {
  return impl_->call([&] { return impl_->core.state.job_fates(); });
}

std::vector<std::string> TestServer::pushed_jids() const {
  return impl_->call([&] { return impl_->core.state.pushed_jids(); });
}

std::vector<std::string> TestServer::working_jids() const {
  return impl_->call([&] { return impl_->core.state.working_jids(); });
}

bool TestServer::wait_for(std::function<bool(const Stats&)> pred,
                          std::chrono::milliseconds deadline) const {
  auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    if (pred(stats())) return true;
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace factotum::testing
