// Replays every golden transcript (tests/transcripts, recorded from a real Faktory 1.9.4)
// against a fresh in-process TestServer over real TCP and compares each reply byte for byte,
// modulo what the transcripts README lists as varying from run to run (timestamps, INFO
// uptime/memory/task timings, LATENCY values, and the bulk lengths that change with them).
#include "raw_client.hpp"
#include "test_server.hpp"
#include "transcript.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

using namespace std::chrono_literals;
using factotum::testing::RawClient;
using factotum::testing::TestServer;
using factotum::testing::TestServerOptions;
using factotum::testing::TranscriptEvent;

namespace {

const std::filesystem::path kTranscripts =
    std::filesystem::path(FACTOTUM_SOURCE_DIR) / "tests/transcripts";
constexpr auto kReplyTimeout = 10s;

// ---- normalisation ----------------------------------------------------------------------

// Replaces the value after `"key":` with a placeholder: a string value up to its closing
// quote, or a number.
void blank_key(std::string& s, std::string_view key) {
  std::string needle = "\"" + std::string(key) + "\":";
  for (auto pos = s.find(needle); pos != std::string::npos; pos = s.find(needle, pos + 1)) {
    auto start = pos + needle.size();
    auto end = start;
    if (start < s.size() && s[start] == '"') {
      end = s.find('"', start + 1);
      if (end == std::string::npos) return;
      ++end;
    } else {
      while (end < s.size() &&
             std::string_view("0123456789.eE+-").find(s[end]) != std::string_view::npos)
        ++end;
    }
    s.replace(start, end - start, "<*>");
  }
}

// QUEUE LATENCY's {"q":2.003823302,...}: a flat map of numbers; fractional values vary.
void blank_latency(std::string& s) {
  if (s.size() < 2 || s.front() != '{' || s.back() != '}') return;
  std::string out = "{";
  std::size_t i = 1;
  while (i < s.size() - 1) {
    if (s[i] != '"') return;
    auto close = s.find('"', i + 1);
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') return;
    out += s.substr(i, close + 2 - i);
    std::size_t j = close + 2;
    while (j < s.size() && std::string_view("0123456789.eE+-").find(s[j]) != std::string_view::npos)
      ++j;
    std::string num = s.substr(close + 2, j - close - 2);
    if (num.empty()) return;
    out += num.find_first_of(".eE") == std::string::npos ? num : "<f>";
    if (s[j] == ',')
      out += ',';
    else if (j != s.size() - 1)
      return;
    i = j + (s[j] == ',' ? 1 : 0);
  }
  s = out + "}";
}

std::string normalise_payload(std::string s) {
  for (auto key : {"now", "server_utc_time", "created_at", "enqueued_at", "failed_at", "next_at",
                   "uptime", "used_memory_mb", "cycles", "wall_time_sec"}) {
    blank_key(s, key);
  }
  blank_latency(s);
  return s;
}

std::string normalise(const std::string& reply) {
  if (reply.size() > 1 && reply[0] == '$' && reply.compare(0, 3, "$-1") != 0) {
    auto crlf = reply.find("\r\n");
    std::string payload = reply.substr(crlf + 2, reply.size() - crlf - 4);
    return "$<len>\r\n" + normalise_payload(payload) + "\r\n";
  }
  return normalise_payload(reply);
}

// ---- replay -----------------------------------------------------------------------------

struct Replay;
// A scenario step that cannot be read from the file, run just before the first event whose
// raw text contains `match`.
struct Hook {
  std::string match;
  std::function<void(Replay&)> action;
};

struct FileSetup {
  using Options = std::function<void(TestServerOptions&)>;
  using Transform = std::function<void(std::vector<TranscriptEvent>&)>;
  FileSetup() = default;
  FileSetup(Options o, std::vector<Hook> h = {}, Transform t = {})
      : options(std::move(o)), hooks(std::move(h)), transform(std::move(t)) {}

  Options options;  // may be empty
  std::vector<Hook> hooks;
  // Rewrites the event list (only 12: the 1.10 answer where 1.9.4 crashed).
  Transform transform;  // may be empty
};

struct Replay {
  TestServer& server;
  std::map<std::string, std::unique_ptr<RawClient>> conns;
  std::set<std::string> closed;  // connections whose EOF was already consumed

  RawClient& conn(const std::string& name) {
    auto it = conns.find(name);
    REQUIRE(it != conns.end());
    return *it->second;
  }
};

// "# recorded 2026-11-28 14:33 UTC": the manual clock starts there, so `at` values in the
// file are in the future exactly as they were when it was recorded.
std::chrono::system_clock::time_point recorded_at(const factotum::testing::Transcript& t) {
  for (const auto& ev : t.events) {
    auto pos = ev.text.find("recorded ");
    if (pos == std::string::npos) continue;
    int y, mo, d, h, mi;
    if (std::sscanf(ev.text.c_str() + pos, "recorded %d-%d-%d %d:%d", &y, &mo, &d, &h, &mi) == 5) {
      using namespace std::chrono;
      return sys_days{year{y} / mo / d} + hours{h} + minutes{mi};
    }
  }
  FAIL("no '# recorded' header in " << t.name);
  return {};
}

// `+HI {"v":2,"i":6575,"s":"734e0d7a41ed7c05"}` → the challenge to hand the next connection.
void use_recorded_challenge(TestServer& server, const std::vector<TranscriptEvent>& events,
                            std::size_t from, const std::string& conn) {
  for (std::size_t k = from; k < events.size(); ++k) {
    const auto& ev = events[k];
    if (ev.conn != conn || ev.kind != TranscriptEvent::Kind::expect) continue;
    int i = 0;
    char salt[64] = {};
    if (std::sscanf(ev.bytes.c_str(), "+HI {\"v\":2,\"i\":%d,\"s\":\"%63[0-9a-f]\"}", &i, salt) ==
        2) {
      server.set_challenge(std::string(salt), i);
    }
    return;
  }
}

const std::map<std::string, FileSetup>& setups() {
  static const std::map<std::string, FileSetup> table = {
      {"01-handshake.txt", {}},
      // Throwaway password of the recording; the fixed salt/iterations come from each
      // connection's recorded +HI (use_recorded_challenge). A short handshake deadline makes
      // §8/§9 (late HELLO → silent close) quick.
      {"02-handshake-password.txt",
       {[](TestServerOptions& o) {
          o.password = "s3cret";
          o.handshake_timeout = 500ms;
        },
        {// §9: the client sent HELLO only after the server had closed: wait for that close.
         {"client sends HELLO 2.50 s after connect",
          [](Replay& r) {
            REQUIRE(r.conn("K").wait_eof(kReplyTimeout));
            r.closed.insert("K");
          }}}}},
      {"03-push-validation.txt", {}},
      {"04-pushb.txt", {}},
      {"05-fetch.txt",
       {{},
        {// §5: the scheduler moves the job (at = recording + ~13 s) on a later task tick.
         {"# FETCH #2: nothing after",
          [](Replay& r) {
            r.server.advance_clock(20s);
            r.server.run_tasks();
          }}}}},
      {"06-ack-fail.txt", {}},
      {"07-beat.txt", {}},
      {"08-info.txt", {}},
      {"09-queue-admin.txt",
       {{},
        {// §2: LATENCY is the age of the oldest job; let the (manual) clock run ~2 s like the
         // recording, so the values are fractional seconds as recorded.
         {"# 2. LATENCY", [](Replay& r) { r.server.advance_clock(2004ms); }}}}},
      {"10-misc.txt",
       {{},
        {// §6: "INFO\r" alone is not a line: the server must stay silent (bounded, short).
         {"(INFO\\r alone: no bytes", [](Replay& r) { CHECK(r.conn("P").silent_for(200ms)); }}}}},
      {"11-reservation.txt",
       {{},
        {// Fetched at t0 with reserve_for 60 (and 10, raised to 60). t0+25 s, a task tick:
         // nothing expired yet.
         {"fetch+25.0 s",
          [](Replay& r) {
            r.server.advance_clock(25s);
            r.server.run_tasks();
          }},
         // t0+67.2 s: past the expiry, but no tick yet: still reserved.
         {"0.6 s before the reaper tick", [](Replay& r) { r.server.advance_clock(42200ms); }},
         // The 15 s tick: reservation reaper (2 jobs → retries, ReservationExpired) and
         // heartbeat reaper (W never sent BEAT: > 60 s since HELLO → force-closed).
         {"# @eof server closed connection W at", [](Replay& r) { r.server.run_tasks(); }}}}},
      {"12-handler-panic.txt",
       {{},
        {},
        // 1.9.4 crashed on each of these (every connection dropped); we answer as 1.10 does
        // and keep every connection (PROTOCOL.md §0.13).
        [](std::vector<TranscriptEvent>& events) {
          static const std::set<std::string> panics = {
              "PUSH\r\n", "PUSHB\r\n", "ACK\r\n",         "FAIL\r\n",
              "BEAT\r\n", "QUEUE\r\n", "QUEUE PAUSE\r\n", "QUEUE REMOVE\r\n"};
          std::vector<TranscriptEvent> out;
          for (auto& ev : events) {
            if (ev.kind == TranscriptEvent::Kind::eof) continue;
            out.push_back(ev);
            if (ev.kind == TranscriptEvent::Kind::send && panics.count(ev.bytes)) {
              out.push_back({TranscriptEvent::Kind::expect, ev.conn, "-ERR internal error\r\n",
                             "(1.10 answer)", ev.line});
            }
          }
          events = std::move(out);
        }}},
      {"13-large-payload.txt", {}},
      {"14-shutdown.txt",
       {[](TestServerOptions& o) {
          o.fetch_block = 30s;  // W's FETCH must still be blocked when the shutdown begins
          o.shutdown_grace = 1s;
        },
        {// SIGTERM 0.3 s after W's FETCH: make sure the server is blocked in it first.
         {"SIGTERM sent to the server",
          [](Replay& r) {
            auto blocked = [&] {
              for (const auto& c : r.server.command_log()) {
                if (c.line == "FETCH emptyq") return true;
              }
              return false;
            };
            REQUIRE(r.server.wait_for([&](const auto&) { return blocked(); }, kReplyTimeout));
            r.server.begin_shutdown();
          }}}}},
  };
  return table;
}

void replay(const std::string& file) {
  auto transcript = factotum::testing::load_transcript(kTranscripts / file);
  auto setup_it = setups().find(file);
  REQUIRE(setup_it != setups().end());
  const FileSetup& setup = setup_it->second;

  TestServerOptions options;
  options.manual_clock = true;  // time moves only where the scenario says (hooks)
  options.start_time = recorded_at(transcript);
  options.fetch_block = 500ms;  // the real 2 s, shortened
  options.seed = 42;
  if (setup.options) setup.options(options);
  TestServer server(options);

  auto events = transcript.events;
  if (setup.transform) setup.transform(events);
  Replay r{server, {}, {}};
  std::set<std::size_t> fired;
  for (std::size_t k = 0; k < events.size(); ++k) {
    const auto& ev = events[k];
    for (std::size_t h = 0; h < setup.hooks.size(); ++h) {
      if (!fired.count(h) && ev.text.find(setup.hooks[h].match) != std::string::npos) {
        fired.insert(h);
        setup.hooks[h].action(r);
      }
    }
    INFO(file << ":" << ev.line << ": " << ev.text.substr(0, 200));
    switch (ev.kind) {
      case TranscriptEvent::Kind::open:
        use_recorded_challenge(server, events, k, ev.conn);
        r.conns[ev.conn] = std::make_unique<RawClient>(server.host(), server.port());
        break;
      case TranscriptEvent::Kind::send:
        r.conn(ev.conn).send(ev.bytes);
        break;
      case TranscriptEvent::Kind::expect: {
        auto reply = r.conn(ev.conn).read_reply(kReplyTimeout);
        REQUIRE(reply.has_value());
        REQUIRE(reply->substr(reply->size() - 2) == "\r\n");
        REQUIRE(normalise(*reply) == normalise(ev.bytes));
        // Nothing varying in it: then every byte, bulk length included, must match.
        auto n = normalise(ev.bytes);
        if (n.find("<*>") == std::string::npos && n.find("<f>") == std::string::npos) {
          REQUIRE(*reply == ev.bytes);
        }
        break;
      }
      case TranscriptEvent::Kind::eof:
        if (!r.closed.count(ev.conn)) {
          std::string unexpected;
          bool closed = r.conn(ev.conn).wait_eof(kReplyTimeout, &unexpected);
          INFO("unexpected bytes before close: " << unexpected);
          REQUIRE(closed);
          r.closed.insert(ev.conn);
        }
        break;
      case TranscriptEvent::Kind::comment:
        break;
    }
  }
  CHECK(fired.size() == setup.hooks.size());  // every scenario step found its place
}

}  // namespace

TEST_CASE("every transcript file has a replay scenario", "[transcript]") {
  for (const auto& path : factotum::testing::transcript_files(kTranscripts)) {
    INFO(path.filename().string());
    CHECK(setups().count(path.filename().string()) == 1);
  }
}

TEST_CASE("transcript 01: handshake, END, malformed HELLO replay exactly", "[transcript]") {
  replay("01-handshake.txt");
}
TEST_CASE("transcript 02: password handshake replays exactly", "[transcript]") {
  replay("02-handshake-password.txt");
}
TEST_CASE("transcript 03: PUSH validation and the retry default replay exactly", "[transcript]") {
  replay("03-push-validation.txt");
}
TEST_CASE("transcript 04: PUSHB replays exactly", "[transcript]") {
  replay("04-pushb.txt");
}
TEST_CASE("transcript 05: FETCH replays exactly", "[transcript]") {
  replay("05-fetch.txt");
}
TEST_CASE("transcript 06: ACK, FAIL and the failure object replay exactly", "[transcript]") {
  replay("06-ack-fail.txt");
}
TEST_CASE("transcript 07: BEAT and worker states replay exactly", "[transcript]") {
  replay("07-beat.txt");
}
TEST_CASE("transcript 08: INFO replays exactly", "[transcript]") {
  replay("08-info.txt");
}
TEST_CASE("transcript 09: QUEUE admin and MUTATE replay exactly", "[transcript]") {
  replay("09-queue-admin.txt");
}
TEST_CASE("transcript 10: misc framing and verbs replay exactly", "[transcript]") {
  replay("10-misc.txt");
}
TEST_CASE("transcript 11: reservation expiry and the heartbeat reaper replay exactly",
          "[transcript]") {
  replay("11-reservation.txt");
}
TEST_CASE("transcript 12: argument-less verbs get the 1.10 internal error", "[transcript]") {
  replay("12-handler-panic.txt");
}
TEST_CASE("transcript 13: a 100 KB job replays exactly", "[transcript]") {
  replay("13-large-payload.txt");
}
TEST_CASE("transcript 14: shutdown replays exactly", "[transcript]") {
  replay("14-shutdown.txt");
}
