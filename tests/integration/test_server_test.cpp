// Behaviour of the TestServer that the golden transcripts do not show (they could not wait
// days or inject faults): back-off, the scheduler, reapers, fault injection, TLS, the
// connection limit and the factotum-testserver executable.
#include "test_server.hpp"
#include "raw_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

using namespace std::chrono_literals;
using factotum::testing::RawClient;
using factotum::testing::TestServer;
using factotum::testing::TestServerOptions;

namespace {

constexpr auto kTimeout = 10s;

// 2026-11-28T14:30:00Z: a fixed start for the manual clock.
std::chrono::system_clock::time_point fixed_start() {
  using namespace std::chrono;
  return sys_days{year{2026} / 11 / 28} + hours{14} + minutes{30};
}

TestServerOptions manual_options() {
  TestServerOptions o;
  o.manual_clock = true;
  o.start_time = fixed_start();
  o.fetch_block = 300ms;
  o.seed = 1234;
  return o;
}

// A connection that has done the handshake.
std::unique_ptr<RawClient> connect(TestServer& server, const std::string& hello = R"({"v":2})") {
  auto c = std::make_unique<RawClient>(server.host(), server.port());
  REQUIRE(c->read_reply(kTimeout) == std::optional<std::string>("+HI {\"v\":2}\r\n"));
  c->send("HELLO " + hello + "\r\n");
  REQUIRE(c->read_reply(kTimeout) == std::optional<std::string>("+OK\r\n"));
  return c;
}

std::string command(RawClient& c, const std::string& line) {
  c.send(line + "\r\n");
  auto r = c.read_reply(kTimeout);
  REQUIRE(r.has_value());
  return *r;
}

std::string bulk_payload(const std::string& reply) {
  REQUIRE(reply.rfind("$", 0) == 0);
  auto crlf = reply.find("\r\n");
  return reply.substr(crlf + 2, reply.size() - crlf - 4);
}

std::chrono::sys_seconds parse_seconds(const std::string& ts) {
  int y, mo, d, h, mi, s;
  REQUIRE(std::sscanf(ts.c_str(), "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &s) == 6);
  using namespace std::chrono;
  return sys_days{year{y} / mo / d} + hours{h} + minutes{mi} + seconds{s};
}

}  // namespace

TEST_CASE("back-off after FAIL is c^4 + 15 + a 0-29 jitter times c+1 seconds", "[testserver]") {
  TestServer server(manual_options());
  auto w = connect(server);
  std::set<long long> first, second;
  for (int i = 0; i < 40; ++i) {
    std::string jid = "backoff-" + std::to_string(1000 + i);
    server.push_job(R"({"jid":")" + jid + R"(","jobtype":"B","args":[],"retry":5})");
    REQUIRE(command(*w, "FETCH default").rfind("$", 0) == 0);
    REQUIRE(command(*w, R"(FAIL {"jid":")" + jid + R"(","errtype":"E","message":"m"})") ==
            "+OK\r\n");
  }
  for (const auto& payload : server.retry_jobs()) {
    auto job = boost::json::parse(payload).as_object();
    auto& f = job["failure"].as_object();
    CHECK(f["retry_count"].as_int64() == 0);
    CHECK(f["remaining"].as_int64() == 5);
    auto delay = parse_seconds(std::string(f["next_at"].as_string())) -
                 parse_seconds(std::string(f["failed_at"].as_string()));
    first.insert(delay.count());
  }
  CHECK(*first.begin() >= 15);
  CHECK(*first.rbegin() <= 44);
  CHECK(first.size() > 5);  // jitter really varies

  // Second failure: c = 1 → 16 + rand[0,30)*2, i.e. 16..74 s.
  REQUIRE(command(*w, R"(MUTATE {"cmd":"requeue","target":"retries","filter":{"jobtype":"B"}})") ==
          "+OK\r\n");
  for (int i = 0; i < 40; ++i) {
    auto job = boost::json::parse(bulk_payload(command(*w, "FETCH default"))).as_object();
    std::string jid(job["jid"].as_string());
    REQUIRE(command(*w, R"(FAIL {"jid":")" + jid + R"(","errtype":"E","message":"m"})") ==
            "+OK\r\n");
  }
  for (const auto& payload : server.retry_jobs()) {
    auto job = boost::json::parse(payload).as_object();
    auto& f = job["failure"].as_object();
    CHECK(f["retry_count"].as_int64() == 1);
    CHECK(f["remaining"].as_int64() == 4);
    auto failed = parse_seconds(std::string(f["failed_at"].as_string()));
    auto delay = parse_seconds(std::string(f["next_at"].as_string())) - failed;
    second.insert(delay.count());
  }
  CHECK(*second.begin() >= 16);
  CHECK(*second.rbegin() <= 74);
  CHECK(server.stats().failures == 80);
}

TEST_CASE("scheduled jobs and due retries move to their queue on run_tasks", "[testserver]") {
  TestServer server(manual_options());
  server.push_job(
      R"({"jid":"sched-0001","jobtype":"S","args":[],"queue":"sq","retry":1,"at":"2026-11-28T14:30:30Z"})");
  CHECK(server.stats().scheduled == 1);
  server.run_tasks();
  CHECK(server.stats().scheduled == 1);  // not due yet
  server.advance_clock(31s);
  CHECK(server.stats().scheduled == 1);  // manual clock: only run_tasks moves jobs
  server.run_tasks();
  auto s = server.stats();
  CHECK(s.scheduled == 0);
  CHECK(s.queues.at("sq") == 1);
  auto w = connect(server);
  auto job = boost::json::parse(bulk_payload(command(*w, "FETCH sq"))).as_object();
  CHECK(job["enqueued_at"].as_string() == "2026-11-28T14:30:31Z");  // reset by the scheduler
  CHECK(job["at"].as_string() == "2026-11-28T14:30:30Z");

  // Reservation expiry (reserve_for absent → 1800 s) is a failure → retries → queue again.
  server.advance_clock(1801s);
  server.run_tasks();
  CHECK(server.stats().retries == 1);
  auto retry = boost::json::parse(server.retry_jobs().at(0)).as_object();
  CHECK(retry["failure"].as_object()["errtype"].as_string() == "ReservationExpired");
  server.advance_clock(1h);
  server.run_tasks();
  CHECK(server.stats().queues.at("sq") == 1);
}

TEST_CASE("the heartbeat reaper closes a silent worker's connections, not a beating one",
          "[testserver]") {
  auto o = manual_options();
  o.heartbeat_timeout = 60s;
  TestServer server(o);
  auto silent = connect(server, R"({"wid":"silent","pid":1,"v":2})");
  auto beating = connect(server, R"({"wid":"beating","pid":2,"v":2})");
  auto producer = connect(server);
  server.advance_clock(30s);
  CHECK(command(*beating, R"(BEAT {"wid":"beating"})") == "+OK\r\n");
  server.advance_clock(31s);
  server.run_tasks();
  CHECK(silent->wait_eof(kTimeout));
  CHECK_FALSE(server.worker_state("silent").has_value());
  CHECK(server.worker_state("beating") == std::optional<std::string>("running"));
  CHECK(command(*producer, R"(BEAT {"wid":"silent"})") == "-ERR unknown worker silent\r\n");
  CHECK(command(*beating, R"(BEAT {"wid":"beating"})") == "+OK\r\n");
}

TEST_CASE("set_worker_state acts like the Web UI and quiet stops FETCH on the first connection",
          "[testserver]") {
  TestServer server(manual_options());
  auto w = connect(server, R"({"wid":"ui","pid":1,"v":2})");
  auto w2 = connect(server, R"({"wid":"ui","pid":1,"v":2})");
  server.push_job(R"({"jid":"quiet-0001","jobtype":"Q","args":[],"retry":1})");
  server.set_worker_state("ui", "quiet");
  CHECK(server.worker_state("ui") == std::optional<std::string>("quiet"));
  CHECK(command(*w, R"(BEAT {"wid":"ui"})") == "$17\r\n{\"state\":\"quiet\"}\r\n");
  CHECK(command(*w, "FETCH default") == "$-1\r\n");
  CHECK(command(*w2, "FETCH default").rfind("$1", 0) == 0);  // only the first connection
  server.set_worker_state("ui", "terminate");
  CHECK(command(*w, R"(BEAT {"wid":"ui"})") == "$21\r\n{\"state\":\"terminate\"}\r\n");
  CHECK_THROWS(server.set_worker_state("ui", "running"));
}

TEST_CASE("a blocked FETCH is served at once, oldest waiter first", "[testserver]") {
  auto o = manual_options();
  o.fetch_block = 20s;
  TestServer server(o);
  auto a = connect(server);
  auto b = connect(server);
  a->send("FETCH q1 q2\r\n");
  REQUIRE(server.wait_for([&](const auto&) { return server.command_log().size() == 1; }, kTimeout));
  b->send("FETCH q2\r\n");
  REQUIRE(server.wait_for([&](const auto&) { return server.command_log().size() == 2; }, kTimeout));
  server.push_job(R"({"jid":"wake-00001","jobtype":"W","args":[],"queue":"q2","retry":0})");
  server.push_job(R"({"jid":"wake-00002","jobtype":"W","args":[],"queue":"q2","retry":0})");
  CHECK(a->read_reply(kTimeout)->find("wake-00001") != std::string::npos);
  CHECK(b->read_reply(kTimeout)->find("wake-00002") != std::string::npos);
  CHECK(server.stats().working == 2);
}

TEST_CASE("a FETCH abandoned by its client still reserves a job pushed meanwhile", "[testserver]") {
  // PROTOCOL.md §0.15: the server's BRPOP keeps running after the client closed.
  auto o = manual_options();
  o.fetch_block = 1s;
  TestServer server(o);
  auto a = connect(server);
  a->send("FETCH lost\r\n");
  REQUIRE(server.wait_for([&](const auto&) { return server.command_log().size() == 1; }, kTimeout));
  a->close();
  server.push_job(R"({"jid":"lost-00001","jobtype":"L","args":[],"queue":"lost","retry":0})");
  CHECK(server.wait_for([](const auto& s) { return s.working == 1 && s.queues.at("lost") == 0; },
                        kTimeout));
}

TEST_CASE("refuse_connections and drop_all_connections", "[testserver]") {
  TestServer server(manual_options());
  auto a = connect(server);
  auto b = connect(server);
  server.refuse_connections(true);
  RawClient refused(server.host(), server.port());
  CHECK(refused.wait_eof(kTimeout));  // closed without +HI
  server.refuse_connections(false);
  auto c = connect(server);
  CHECK(server.stats().connections == 3);
  server.drop_all_connections();
  CHECK(a->wait_eof(kTimeout));
  CHECK(b->wait_eof(kTimeout));
  CHECK(c->wait_eof(kTimeout));
  CHECK(server.stats().connections == 0);
}

TEST_CASE("past max_connections a client gets +OK, the error, then a close", "[testserver]") {
  auto o = manual_options();
  o.max_connections = 1;
  TestServer server(o);
  auto a = connect(server);
  RawClient b(server.host(), server.port());
  REQUIRE(b.read_reply(kTimeout) == std::optional<std::string>("+HI {\"v\":2}\r\n"));
  b.send("HELLO {\"v\":2}\r\n");
  CHECK(b.read_reply(kTimeout) == std::optional<std::string>("+OK\r\n"));
  CHECK(b.read_reply(kTimeout) == std::optional<std::string>("-ERR too many connections: 2\r\n"));
  CHECK(b.wait_eof(kTimeout));
  CHECK(command(*a, "INFO").rfind("$", 0) == 0);
}

TEST_CASE("a random challenge is verified with the iterated SHA-256 hash", "[testserver]") {
  auto o = manual_options();
  o.password = "foobar";
  TestServer server(o);
  RawClient c(server.host(), server.port());
  auto hi = c.read_reply(kTimeout);
  REQUIRE(hi.has_value());
  int iterations = 0;
  char salt[64] = {};
  REQUIRE(std::sscanf(hi->c_str(), "+HI {\"v\":2,\"i\":%d,\"s\":\"%63[0-9a-f]\"}", &iterations,
                      salt) == 2);
  CHECK(iterations >= 4000);
  CHECK(iterations <= 8095);
  // PROTOCOL.md §3.4 test vector, via a fixed challenge on the next connection.
  server.set_challenge("123456789abc", 1735);
  RawClient d(server.host(), server.port());
  CHECK(d.read_reply(kTimeout) ==
        std::optional<std::string>("+HI {\"v\":2,\"i\":1735,\"s\":\"123456789abc\"}\r\n"));
  d.send(
      R"(HELLO {"v":2,"pwdhash":"a5a2b31ef99fae2524b571d238bab3bc1c437bdecddd3550335fdf17997e7f3f"})"
      "\r\n");
  CHECK(d.read_reply(kTimeout) == std::optional<std::string>("+OK\r\n"));
  // v:1 → one round.
  RawClient e(server.host(), server.port());
  REQUIRE(e.read_reply(kTimeout).has_value());
  e.send(
      R"(HELLO {"v":1,"pwdhash":"d30ae2acf55b9e6896725c3b4a2c1d26554ad2e1111c1b29056aa909f8260e39"})"
      "\r\n");
  CHECK(e.read_reply(kTimeout) == std::optional<std::string>("+OK\r\n"));
}

TEST_CASE("push_job validates like PUSH and reports the server's text", "[testserver]") {
  TestServer server(manual_options());
  CHECK_THROWS_WITH(server.push_job(R"({"jid":"short","jobtype":"A","args":[]})"),
                    Catch::Contains("jobs must have a reasonable jid parameter"));
  server.push_job(R"({"jid":"valid-0001","jobtype":"A","args":[],"queue":"v","retry":2})");
  CHECK(server.stats().queues.at("v") == 1);
  CHECK(server.info_json().find("\"faktory_version\":\"1.9.4\"") != std::string::npos);
  server.flush();
  CHECK(server.stats().queues.at("v") == 0);
}

TEST_CASE("the TLS listener serves the handshake over TLS 1.2+", "[testserver][tls]") {
  auto dir =
      std::filesystem::temp_directory_path() / ("factotum-tls-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto cert = (dir / "cert.pem").string(), key = (dir / "key.pem").string();
  std::string cmd =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -keyout " + key +
      " -out " + cert + " >/dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);

  auto o = manual_options();
  o.tls_cert_file = cert;
  o.tls_key_file = key;
  TestServer server(o);
  CHECK(server.url() == "tcp+tls://localhost:" + std::to_string(server.port()));

  namespace asio = boost::asio;
  asio::io_context io;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_verify_mode(asio::ssl::verify_peer);
  ctx.load_verify_file(cert);
  asio::ssl::stream<asio::ip::tcp::socket> s(io, ctx);
  s.next_layer().connect({asio::ip::make_address("127.0.0.1"), server.port()});
  s.handshake(asio::ssl::stream_base::client);
  CHECK(SSL_version(s.native_handle()) >= TLS1_2_VERSION);
  asio::streambuf buf;
  auto read_line = [&] {
    auto n = asio::read_until(s, buf, "\r\n");
    std::string line(asio::buffers_begin(buf.data()),
                     asio::buffers_begin(buf.data()) + static_cast<std::ptrdiff_t>(n));
    buf.consume(n);
    return line;
  };
  CHECK(read_line() == "+HI {\"v\":2}\r\n");
  asio::write(s, asio::buffer(std::string("HELLO {\"v\":2}\r\n")));
  CHECK(read_line() == "+OK\r\n");

  // A plaintext client sees no greeting: the server waits for a TLS ClientHello.
  RawClient plain(server.host(), server.port());
  CHECK(plain.silent_for(200ms));
  std::filesystem::remove_all(dir);
}

TEST_CASE("factotum-testserver prints its address, serves, and exits 0 on SIGTERM",
          "[testserver][exe]") {
  std::string exe = std::string(FACTOTUM_BINARY_DIR) + "/bin/factotum-testserver";
  REQUIRE(std::filesystem::exists(exe));
  // Bad flags → exit 2.
  CHECK(WEXITSTATUS(std::system((exe + " --port nope >/dev/null 2>&1").c_str())) == 2);
  CHECK(WEXITSTATUS(std::system((exe + " --bogus >/dev/null 2>&1").c_str())) == 2);

  int out[2];
  REQUIRE(::pipe(out) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::close(out[0]);
    ::execl(exe.c_str(), exe.c_str(), "--port", "0", "--fetch-block", "100",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  FILE* f = ::fdopen(out[0], "r");
  char line[256] = {};
  REQUIRE(std::fgets(line, sizeof line, f) != nullptr);
  unsigned port = 0;
  REQUIRE(std::sscanf(line, "factotum-testserver listening on 127.0.0.1:%u", &port) == 1);
  {
    RawClient c("127.0.0.1", static_cast<std::uint16_t>(port));
    CHECK(c.read_reply(kTimeout) == std::optional<std::string>("+HI {\"v\":2}\r\n"));
    c.send("HELLO {\"v\":2}\r\nFETCH none\r\n");
    CHECK(c.read_reply(kTimeout) == std::optional<std::string>("+OK\r\n"));
    CHECK(c.read_reply(kTimeout) == std::optional<std::string>("$-1\r\n"));
  }
  ::kill(pid, SIGTERM);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  std::fclose(f);
}
