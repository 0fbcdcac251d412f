// One client connection of the test server: greeting, HELLO, then commands strictly one at
// a time (F: server/server.go startConnection/processLines). Runs on the io thread.
#include "go_json.hpp"
#include "server_core.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <limits>

namespace factotum::testing::detail {
namespace {

using asio::use_awaitable;
using tcp = asio::ip::tcp;

class TcpStream final : public Stream {
 public:
  explicit TcpStream(tcp::socket s) : s_(std::move(s)) {}
  asio::awaitable<void> handshake() override { co_return; }
  asio::awaitable<std::size_t> read_some(asio::mutable_buffer b) override {
    co_return co_await s_.async_read_some(b, use_awaitable);
  }
  asio::awaitable<void> write(asio::const_buffer b) override {
    co_await asio::async_write(s_, b, use_awaitable);
  }
  void close() override {
    boost::system::error_code ec;
    s_.shutdown(tcp::socket::shutdown_both, ec);
    s_.close(ec);
  }

 private:
  tcp::socket s_;
};

class TlsStream final : public Stream {
 public:
  TlsStream(tcp::socket s, asio::ssl::context& ctx) : s_(std::move(s), ctx) {}
  asio::awaitable<void> handshake() override {
    co_await s_.async_handshake(asio::ssl::stream_base::server, use_awaitable);
  }
  asio::awaitable<std::size_t> read_some(asio::mutable_buffer b) override {
    co_return co_await s_.async_read_some(b, use_awaitable);
  }
  asio::awaitable<void> write(asio::const_buffer b) override {
    co_await asio::async_write(s_, b, use_awaitable);
  }
  void close() override {
    boost::system::error_code ec;
    s_.lowest_layer().shutdown(tcp::socket::shutdown_both, ec);
    s_.lowest_layer().close(ec);
  }

 private:
  asio::ssl::stream<tcp::socket> s_;
};

// PROTOCOL.md §3.4: SHA-256 over password ++ salt text, then over the digest, `iterations`
// times in all; lowercase hex. Computed here with EVP so the server does not share code with
// the client it tests.
std::string password_hash(std::string_view password, std::string_view salt, int iterations) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  std::string input = std::string(password) + std::string(salt);
  EVP_Digest(input.data(), input.size(), digest, &len, EVP_sha256(), nullptr);
  for (int i = 1; i < iterations; ++i) {
    EVP_Digest(digest, len, digest, &len, EVP_sha256(), nullptr);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xF];
  }
  return out;
}

// strings.Split(s, " ")[1:] — FETCH's queue list ("FETCH " is the queue named "").
std::vector<std::string> fetch_queues(std::string_view line) {
  std::vector<std::string> out;
  auto pos = line.find(' ');
  while (pos != std::string_view::npos) {
    auto next = line.find(' ', pos + 1);
    out.emplace_back(line.substr(pos + 1, next == std::string_view::npos ? next : next - pos - 1));
    pos = next;
  }
  return out;
}

}  // namespace

std::unique_ptr<Stream> make_tcp_stream(tcp::socket s) {
  return std::make_unique<TcpStream>(std::move(s));
}
std::unique_ptr<Stream> make_tls_stream(tcp::socket s, asio::ssl::context& ctx) {
  return std::make_unique<TlsStream>(std::move(s), ctx);
}

Connection::Connection(Core& core, std::uint64_t id, std::unique_ptr<Stream> stream)
    : core_(core), id_(id), stream_(std::move(stream)), deadline_(core.io), wait_(core.io) {}

void Connection::finish() {
  if (finished_) return;
  finished_ = true;
  if (hello_done_) {
    core_.state.connection_closed();
    if (!wid_.empty()) core_.state.remove_connection(id_, wid_);
  }
  core_.connections.erase(id_);  // may drop the last owner but one: run() holds `self`
}

void Connection::force_close() {
  auto self = shared_from_this();
  finish();  // before the FIN, so a client that saw it also sees the record gone
  stream_->close();
}

void Connection::on_shutdown() {
  if (!in_fetch_) return;
  fetch_shutdown_ = true;
  if (waiter_) core_.state.remove_waiter(waiter_);
  wait_.cancel();
}

void Connection::stop() {
  auto self = shared_from_this();
  stopped_ = true;
  if (waiter_) core_.state.remove_waiter(waiter_);
  deadline_.cancel();
  wait_.cancel();
  finish();
  stream_->close();
}

asio::awaitable<void> Connection::run() {
  auto self = shared_from_this();
  try {
    if (co_await handshake()) {
      for (;;) {
        auto line = co_await read_line();
        if (!line) break;
        if (core_.shutting_down) {
          // F: server/server.go processLines after SIGTERM (transcript 14).
          co_await send(Reply::error("shutdown in progress"));
          break;
        }
        std::string_view verb = *line;
        verb = verb.substr(0, verb.find(' '));
        if (core_.options.record_history) {
          core_.log.push_back(
              {id_, wid_, std::string(verb), *line, std::chrono::steady_clock::now()});
        }
        // END: no reply, close at once; pipelined commands are dropped (PROTOCOL.md §0.1).
        if (verb == "END") {
          core_.state.count_command();
          break;
        }
        Reply reply = co_await dispatch(verb, *line);
        if (stopped_) break;
        if (core_.lose_reply_to == verb) {
          core_.lose_reply_to.reset();
          break;  // applied, never answered: the connection closes below
        }
        co_await send(reply);
      }
    }
  } catch (const std::exception&) {
    // Peer gone or socket closed by us: nothing to report to anyone.
  }
  deadline_.cancel();
  finish();
  stream_->close();
}

asio::awaitable<bool> Connection::handshake() {
  // The client has handshake_timeout from accept to a complete HELLO (PROTOCOL.md §3.2);
  // past it the socket is closed without a word (transcript 02 §8).
  deadline_.expires_after(core_.options.handshake_timeout);
  deadline_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (ec) return;
    if (auto self = weak.lock(); self && !self->hello_done_) self->stream_->close();
  });

  co_await stream_->handshake();

  std::string salt;
  int iterations = 0;
  std::string greeting = "{\"v\":2}";
  if (core_.options.password) {
    salt = core_.salt.value_or("");
    if (!core_.salt) {
      // A random int63 in unpadded lowercase hex, like the server's strconv.FormatInt.
      std::uniform_int_distribution<std::int64_t> d(0, std::numeric_limits<std::int64_t>::max());
      static constexpr char kHex[] = "0123456789abcdef";
      auto n = static_cast<std::uint64_t>(d(core_.rng));
      do {
        salt.insert(salt.begin(), kHex[n & 0xF]);
        n >>= 4;
      } while (n != 0);
    }
    iterations =
        core_.iterations.value_or(std::uniform_int_distribution<int>(4000, 8095)(core_.rng));
    greeting = "{\"v\":2,\"i\":" + std::to_string(iterations) + ",\"s\":\"" + salt + "\"}";
  }
  // The greeting goes out in two writes, as the real server splits it (transcript 01 §1).
  co_await stream_->write(asio::buffer(std::string_view("+HI ")));
  std::string rest = greeting + "\r\n";
  co_await stream_->write(asio::buffer(rest));

  auto line = co_await read_line();
  // Anything but "HELLO {" closes silently: other verbs, "hello", "HELLO{" (transcripts 01, 10).
  if (!line || line->rfind("HELLO {", 0) != 0) co_return false;

  HelloData hello;
  GoUint8 version;
  std::string err;
  if (auto syntax = gojson::syntax_error(std::string_view(*line).substr(6))) {
    err = *syntax;
  } else {
    auto doc = gojson::parse(std::string_view(*line).substr(6));
    err = decode_struct(doc,
                        {{"hostname", &hello.hostname},
                         {"wid", &hello.wid},
                         {"pid", &hello.pid},
                         {"labels", &hello.labels},
                         {"pwdhash", &hello.pwdhash},
                         {"v", &version},
                         {"username", &hello.username}},
                        "ClientData", "server.ClientData");
  }
  if (!err.empty()) co_return false;  // bad types (pid "4242", v 300): silent close
  hello.version = version.value;

  if (core_.options.password) {
    // v < 2 → a single round (transcript 02 §6); the compare is exact, so upper-case hex fails.
    std::string expected =
        password_hash(*core_.options.password, salt, hello.version < 2 ? 1 : iterations);
    bool ok = expected.size() == hello.pwdhash.size() &&
              CRYPTO_memcmp(expected.data(), hello.pwdhash.data(), expected.size()) == 0;
    if (!ok) {
      co_await send(Reply::error("Invalid password"));
      co_return false;
    }
  }
  // Count the connection and register the wid before +OK goes out, so a client (or a test)
  // that has read +OK always finds them.
  hello_done_ = true;
  deadline_.cancel();
  core_.state.connection_opened();
  if (!hello.wid.empty()) {
    wid_ = hello.wid;
    primary_ = core_.state.register_worker(id_, hello);
  }
  co_await send(Reply::ok());

  // PROTOCOL.md §3.6: checked after +OK, before the first command.
  if (core_.state.connections() > core_.options.max_connections) {
    co_await send(
        Reply::error("too many connections: " + std::to_string(core_.state.connections())));
    co_return false;
  }
  co_return true;
}

asio::awaitable<std::optional<std::string>> Connection::read_line() {
  for (;;) {
    // Only '\n' ends a line; one '\r' before it is dropped, a lone '\r' is data (transcript 10 §6).
    auto pos = buf_.find('\n');
    if (pos != std::string::npos) {
      std::string line = buf_.substr(0, pos);
      buf_.erase(0, pos + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      co_return line;
    }
    char chunk[65536];
    std::size_t n = 0;
    try {
      n = co_await stream_->read_some(asio::buffer(chunk));
    } catch (const boost::system::system_error&) {
      co_return std::nullopt;
    }
    buf_.append(chunk, n);
  }
}

asio::awaitable<void> Connection::send(const Reply& reply) {
  for (const auto& piece : reply.pieces()) co_await stream_->write(asio::buffer(piece));
}

asio::awaitable<Reply> Connection::dispatch(std::string_view verb, std::string_view line) {
  auto& st = core_.state;
  // A verb whose handler slices the line past its end panics 1.9.x (transcript 12); 1.10
  // recovers with "-ERR internal error", which is what we answer (PROTOCOL.md §0.13).
  auto arg = [&](std::size_t skip) -> std::optional<std::string_view> {
    if (line.size() < skip) return std::nullopt;
    return line.substr(skip);
  };
  static const Reply kInternal = Reply::error("internal error");
  if (verb == "FETCH") {
    st.count_command();
    co_return co_await fetch(line);
  }
  if (verb == "PUSH") {
    st.count_command();
    auto a = arg(5);
    co_return a ? st.push(*a) : kInternal;
  }
  if (verb == "PUSHB") {
    st.count_command();
    auto a = arg(6);
    co_return a ? st.pushb(*a) : kInternal;
  }
  if (verb == "ACK") {
    st.count_command();
    auto a = arg(4);
    co_return a ? st.ack(*a) : kInternal;
  }
  if (verb == "FAIL") {
    st.count_command();
    auto a = arg(5);
    co_return a ? st.fail(*a) : kInternal;
  }
  if (verb == "BEAT") {
    st.count_command();
    auto a = arg(5);
    co_return a ? st.beat(*a) : kInternal;
  }
  if (verb == "INFO") {
    st.count_command();
    co_return st.info();
  }
  if (verb == "FLUSH") {
    st.count_command();
    co_return st.flush();
  }
  if (verb == "MUTATE") {
    st.count_command();
    co_return st.mutate(line);
  }
  if (verb == "QUEUE") {
    st.count_command();
    co_return st.queue(line);
  }
  if (verb == "BATCH") {
    st.count_command();
    co_return Reply::error("batch subsystem is only available in Faktory Enterprise");
  }
  if (verb == "TRACK") {
    st.count_command();
    co_return Reply::error("tracking subsystem is only available in Faktory Enterprise");
  }
  // Case-sensitive; HELLO after the handshake is unknown too (transcript 10 §2, §5).
  co_return Reply::error("unknown command " + std::string(verb));
}

asio::awaitable<void> Connection::block() {
  wait_.expires_after(core_.options.fetch_block);
  boost::system::error_code ec;
  co_await wait_.async_wait(asio::redirect_error(use_awaitable, ec));
}

asio::awaitable<Reply> Connection::fetch(std::string_view line) {
  in_fetch_ = true;
  fetch_shutdown_ = false;
  struct Guard {
    bool& flag;
    ~Guard() { flag = false; }
  } guard{in_fetch_};
  auto& st = core_.state;
  auto shutdown_reply = [] { return Reply::error("redis: client is closed"); };

  // Quiet/terminate is enforced only on the connection that registered the wid
  // (PROTOCOL.md §0.9, transcript 07 §3-4): it sleeps the block time and gets nothing.
  if (primary_) {
    auto s = st.worker_state(wid_);
    if (s && *s != WorkerState::running) {
      co_await block();
      co_return fetch_shutdown_ ? shutdown_reply() : Reply::null();
    }
  }
  auto queues = fetch_queues(line);
  if (queues.empty()) co_return Reply::error("must call fetch with at least one queue");
  auto active = st.unpaused(queues);
  if (active.empty()) {
    co_await block();
    co_return fetch_shutdown_ ? shutdown_reply() : Reply::null();
  }
  if (auto payload = st.try_fetch(active, wid_)) co_return Reply::bulk(std::move(*payload));

  // Nothing there: wait like BRPOP for a push to any of the queues (PROTOCOL.md §0.4).
  auto w = std::make_shared<FetchWaiter>();
  w->queues = std::move(active);
  w->wid = wid_;
  w->wake = [this] { wait_.cancel(); };
  waiter_ = w;
  st.add_waiter(w);
  co_await block();
  st.remove_waiter(w);
  waiter_.reset();
  if (w->payload) co_return Reply::bulk(std::move(*w->payload));
  co_return fetch_shutdown_ ? shutdown_reply() : Reply::null();
}

}  // namespace factotum::testing::detail
