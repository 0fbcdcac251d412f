#include "faktory/resp_reader.hpp"

#include "transcript.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

using namespace factotum::faktory;
using Kind = Reply::Kind;

namespace {

// Drains every complete reply; fails the test on a malformed one.
std::vector<Reply> drain(RespReader& reader) {
  std::vector<Reply> out;
  for (;;) {
    auto r = reader.next();
    REQUIRE(r.has_value());
    if (!*r) return out;
    out.push_back(std::move(**r));
  }
}

// next(BulkEnd::before_crlf) on a stream that is not malformed: the next reply, or
// std::nullopt when it needs more input.
std::optional<Reply> next_early(RespReader& reader) {
  auto r = reader.next(RespReader::BulkEnd::before_crlf);
  REQUIRE(r.has_value());
  return std::move(*r);
}

std::vector<Reply> read_all(std::string_view bytes) {
  RespReader reader;
  reader.feed(bytes);
  auto replies = drain(reader);
  CHECK(reader.buffered() == 0);
  return replies;
}

// The malformed_reply message for `bytes` fed in one piece.
std::string malformed(std::string_view bytes, RespReader reader = RespReader()) {
  reader.feed(bytes);
  for (;;) {
    auto r = reader.next();
    if (!r) {
      CHECK(r.error().is(errc::malformed_reply));
      return r.error().message;
    }
    if (!*r) return "<no error: needs more input>";
  }
}

}  // namespace

TEST_CASE("a simple string reply is read", "[resp]") {
  auto replies = read_all("+OK\r\n");
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].kind == Kind::simple);
  CHECK(replies[0].text == "OK");
  CHECK(replies[0].is_ok());
}

TEST_CASE("an error reply is split into its code and message", "[resp]") {
  auto replies =
      read_all("-ERR Job not found 06-unknown-jid\r\n-NOTUNIQUE Job not unique\r\n-ERR\r\n");
  REQUIRE(replies.size() == 3);
  CHECK(replies[0].kind == Kind::error);
  CHECK(replies[0].error_code() == "ERR");
  CHECK(replies[0].error_message() == "Job not found 06-unknown-jid");
  CHECK_FALSE(replies[0].is_ok());
  CHECK(replies[1].error_code() == "NOTUNIQUE");
  CHECK(replies[1].error_message() == "Job not unique");
  CHECK(replies[2].error_code() == "ERR");
  CHECK(replies[2].error_message().empty());

  const Error e = replies[0].to_error();
  CHECK(e.is(errc::server_error));
  CHECK(e.server_code == "ERR");
  CHECK(e.message == "Job not found 06-unknown-jid");
  CHECK(e.what() == "server error: ERR Job not found 06-unknown-jid");
}

TEST_CASE("'-ERR Invalid password' becomes errc::invalid_password", "[resp]") {
  auto replies = read_all("-ERR Invalid password\r\n");
  REQUIRE(replies.size() == 1);
  const Error e = replies[0].to_error();
  CHECK(e.is(errc::invalid_password));
  CHECK(e.server_code == "ERR");
  CHECK(e.message == "Invalid password");
}

TEST_CASE("to_error on a reply that is not an error says what it was", "[resp]") {
  auto replies = read_all("+OK\r\n");
  const Error e = replies.at(0).to_error();
  CHECK(e.is(errc::unexpected_reply));
  CHECK(e.message == "expected an error reply, got a simple string 'OK'");
}

TEST_CASE("bulk and null bulk replies are read", "[resp]") {
  auto replies = read_all("$17\r\n{\"state\":\"quiet\"}\r\n$-1\r\n$0\r\n\r\n");
  REQUIRE(replies.size() == 3);
  CHECK(replies[0].kind == Kind::bulk);
  CHECK(replies[0].text == "{\"state\":\"quiet\"}");
  CHECK(replies[1].kind == Kind::null);
  CHECK(replies[1].text.empty());
  CHECK(replies[2].kind == Kind::bulk);
  CHECK(replies[2].text.empty());
}

TEST_CASE("a bulk payload may contain CR, LF and NUL bytes", "[resp]") {
  const std::string payload("a\r\nb\0c\n", 7);
  auto replies = read_all("$7\r\n" + payload + "\r\n");
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].text == payload);
}

TEST_CASE("no reply comes out before its last byte arrives", "[resp]") {
  RespReader reader;
  auto r = reader.next();
  REQUIRE(r.has_value());
  CHECK_FALSE(r->has_value());
  for (const std::string_view partial : {"+", "+O", "+OK", "+OK\r"}) {
    RespReader rr;
    rr.feed(partial);
    auto p = rr.next();
    REQUIRE(p.has_value());
    CHECK_FALSE(p->has_value());
    CHECK(rr.buffered() == partial.size());
  }
  for (const std::string_view partial :
       {"$", "$1", "$17\r", "$17\r\n", "$3\r\nabc", "$3\r\nabc\r"}) {
    RespReader rr;
    rr.feed(partial);
    auto p = rr.next();
    REQUIRE(p.has_value());
    CHECK_FALSE(p->has_value());
  }
}

TEST_CASE("replies fed one byte at a time come out whole and in order", "[resp]") {
  const std::string stream =
      "+HI {\"v\":2,\"i\":6575,\"s\":\"734e0d7a41ed7c05\"}\r\n+OK\r\n$-1\r\n"
      "$21\r\n{\"state\":\"terminate\"}\r\n-ERR unknown worker 01-worker-wid\r\n";
  RespReader reader;
  std::vector<Reply> replies;
  for (const char c : stream) {
    reader.feed(std::string_view(&c, 1));
    auto more = drain(reader);
    replies.insert(replies.end(), more.begin(), more.end());
  }
  REQUIRE(replies.size() == 5);
  CHECK(replies[0].text == "HI {\"v\":2,\"i\":6575,\"s\":\"734e0d7a41ed7c05\"}");
  CHECK(replies[1].is_ok());
  CHECK(replies[2].kind == Kind::null);
  CHECK(replies[3].text == "{\"state\":\"terminate\"}");
  CHECK(replies[4].error_message() == "unknown worker 01-worker-wid");
  CHECK(reader.buffered() == 0);
}

TEST_CASE("a stream split in two at any byte gives the same replies", "[resp]") {
  const std::string stream = "+OK\r\n$5\r\nhello\r\n$-1\r\n-ERR x y\r\n+HI {\"v\":2}\r\n";
  const auto whole = read_all(stream);
  REQUIRE(whole.size() == 5);
  for (std::size_t split = 0; split <= stream.size(); ++split) {
    RespReader reader;
    reader.feed(std::string_view(stream).substr(0, split));
    auto replies = drain(reader);
    reader.feed(std::string_view(stream).substr(split));
    auto rest = drain(reader);
    replies.insert(replies.end(), rest.begin(), rest.end());
    REQUIRE(replies.size() == whole.size());
    for (std::size_t i = 0; i < whole.size(); ++i) {
      CHECK(replies[i].kind == whole[i].kind);
      CHECK(replies[i].text == whole[i].text);
    }
  }
}

TEST_CASE("many replies in one buffer are all read", "[resp]") {
  std::string stream;
  for (int i = 0; i < 1000; ++i) stream += i % 2 == 0 ? "+OK\r\n" : "$3\r\nabc\r\n";
  auto replies = read_all(stream);
  CHECK(replies.size() == 1000);
}

TEST_CASE("prepare/commit is zero-copy input equivalent to feed", "[resp]") {
  RespReader reader;
  const std::string_view first = "$5\r\nhel";
  auto span = reader.prepare(64);
  REQUIRE(span.size() == 64);
  std::memcpy(span.data(), first.data(), first.size());
  reader.commit(first.size());
  CHECK(reader.buffered() == first.size());
  CHECK(drain(reader).empty());

  const std::string_view second = "lo\r\n+OK\r\n";
  span = reader.prepare(second.size());
  std::memcpy(span.data(), second.data(), second.size());
  reader.commit(1000);  // more than prepared: clamped
  auto replies = drain(reader);
  REQUIRE(replies.size() == 2);
  CHECK(replies[0].text == "hello");
  CHECK(replies[1].is_ok());
  CHECK(reader.buffered() == 0);
}

TEST_CASE("every server reply in the golden transcripts is read", "[resp][transcripts]") {
  for (const char* file :
       {"01-handshake.txt", "02-handshake-password.txt", "03-push-validation.txt", "04-pushb.txt",
        "05-fetch.txt", "06-ack-fail.txt", "07-beat.txt", "08-info.txt", "09-queue-admin.txt",
        "10-misc.txt", "11-reservation.txt", "12-handler-panic.txt", "13-large-payload.txt",
        "14-shutdown.txt"}) {
    INFO(file);
    const auto lines = factotum::testing::transcript_lines(file, 'S');
    REQUIRE_FALSE(lines.empty());
    std::string stream;
    for (const auto& line : lines) {
      // Each S: line is exactly one reply.
      auto one = read_all(line);
      CHECK(one.size() == 1);
      stream += line;
    }
    CHECK(read_all(stream).size() == lines.size());
  }
}

TEST_CASE("the 100 KB bulk of transcript 13 is read across the recorded recv() sizes",
          "[resp][transcripts]") {
  const auto lines = factotum::testing::transcript_lines("13-large-payload.txt", 'S');
  const std::string* big = nullptr;
  for (const auto& line : lines) {
    if (line.size() > 100000) big = &line;
  }
  REQUIRE(big != nullptr);
  REQUIRE(big->size() == 9 + 32768 + 65536 + 1873);  // "# segmentation: 9+32768+65536+1873"

  RespReader reader;
  std::size_t offset = 0;
  std::vector<Reply> replies;
  for (const std::size_t chunk : {9u, 32768u, 65536u, 1873u}) {
    auto span = reader.prepare(65536);
    std::memcpy(span.data(), big->data() + offset, chunk);
    reader.commit(chunk);
    offset += chunk;
    auto more = drain(reader);
    replies.insert(replies.end(), more.begin(), more.end());
    if (offset < big->size()) CHECK(replies.empty());
  }
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].kind == Kind::bulk);
  CHECK(replies[0].text.size() == 100175);  // "# bulk length 100175 bytes"
  CHECK(replies[0].text.find(std::string(100000, 'x')) != std::string::npos);
}

TEST_CASE("a 100 KB bulk fed one byte at a time is read once complete", "[resp]") {
  const std::string payload(100 * 1024, 'y');
  const std::string stream =
      "$" + std::to_string(payload.size()) + "\r\n" + payload + "\r\n+OK\r\n";
  RespReader reader;
  std::vector<Reply> replies;
  for (const char c : stream) {
    reader.feed(std::string_view(&c, 1));
    auto more = drain(reader);
    replies.insert(replies.end(), more.begin(), more.end());
  }
  REQUIRE(replies.size() == 2);
  CHECK(replies[0].text == payload);
  CHECK(replies[1].is_ok());
}

TEST_CASE("a large bulk is read whole whether or not other replies share its buffer", "[resp]") {
  // A large reply that ends the buffer is handed over (not copied); one with bytes after it is
  // copied out and the bytes after it stay. Both read the same.
  std::string payload(600 * 1024, 'z');
  payload.front() = 'a';
  payload.back() = 'b';
  const std::string bulk = "$" + std::to_string(payload.size()) + "\r\n" + payload + "\r\n";
  for (const std::string& after : {std::string(), std::string("+OK\r\n")}) {
    RespReader reader;
    reader.feed("+OK\r\n" + bulk + after);
    auto replies = drain(reader);
    REQUIRE(replies.size() == (after.empty() ? 2u : 3u));
    CHECK(replies[0].is_ok());
    CHECK(replies[1].kind == Reply::Kind::bulk);
    CHECK(replies[1].text == payload);
    // The reader goes on as before.
    reader.feed(bulk);
    replies = drain(reader);
    REQUIRE(replies.size() == 1);
    CHECK(replies[0].text == payload);
    CHECK(reader.buffered() == 0);
  }
}

TEST_CASE("the buffer is compacted: consumed bytes do not accumulate", "[resp]") {
  RespReader reader;
  for (int i = 0; i < 100000; ++i) {
    reader.feed("+OK\r\n+O");
    REQUIRE(drain(reader).size() == 1);
    reader.feed("K\r\n");
    REQUIRE(drain(reader).size() == 1);
    REQUIRE(reader.buffered() == 0);
  }
}

TEST_CASE("RESP integers, arrays and unknown type bytes are malformed, naming the byte",
          "[resp][malformed]") {
  CHECK(malformed(":1\r\n") ==
        "unexpected reply type byte ':' (a RESP integer): Faktory never sends integers "
        "(PROTOCOL.md §2)");
  CHECK(malformed("*1\r\n+OK\r\n") ==
        "unexpected reply type byte '*' (a RESP array): Faktory never sends arrays "
        "(PROTOCOL.md §2)");
  CHECK(malformed("HTTP/1.1 400 Bad Request\r\n") ==
        "unexpected reply type byte 'H' (expected '+', '-' or '$')");
  CHECK(malformed(std::string_view("\x16\x03\x01", 3)) ==
        "unexpected reply type byte '\\x16' (expected '+', '-' or '$')");
  CHECK(malformed("+OK\r\n\r\n") == "unexpected reply type byte '\\r' (expected '+', '-' or '$')");
}

TEST_CASE("bad bulk lengths are malformed with a specific message", "[resp][malformed]") {
  CHECK(malformed("$-5\r\n") == "negative bulk length '-5' (only -1, the null bulk, is allowed)");
  CHECK(malformed("$-0\r\n") == "negative bulk length '-0' (only -1, the null bulk, is allowed)");
  CHECK(malformed("$12x\r\n") == "bulk length '12x' is not a number");
  CHECK(malformed("$ 1\r\n") == "bulk length ' 1' is not a number");
  CHECK(malformed("$\r\n") == "bulk length is empty ('$' followed by CRLF)");
  CHECK(malformed("$99999999999999999999\r\n") ==
        "bulk length '99999999999999999999' exceeds the maximum of 67108864 bytes");
  CHECK(malformed("$1025\r\n", RespReader(1024)) ==
        "bulk length '1025' exceeds the maximum of 1024 bytes");
  CHECK(malformed("$123456789012345678901234\r\n") ==
        "bulk length line is longer than 20 bytes: '123456789012345678901234'");
}

TEST_CASE("a bulk payload not followed by CRLF is malformed", "[resp][malformed]") {
  CHECK(malformed("$3\r\nabcd\r\n") ==
        "bulk payload of 3 bytes is not followed by CRLF: got 'd\\r'");
  CHECK(malformed("$3\r\nabc\rX") == "bulk payload of 3 bytes is not followed by CRLF: got '\\rX'");
  CHECK(malformed("$3\r\nabc\n\r") ==
        "bulk payload of 3 bytes is not followed by CRLF: got '\\n\\r'");
}

TEST_CASE("lines must end in CRLF exactly", "[resp][malformed]") {
  CHECK(malformed("+OK\n") == "simple string contains a bare LF (replies end in CRLF): 'OK\\n'");
  CHECK(malformed("-ERR x\n") ==
        "error reply contains a bare LF (replies end in CRLF): 'ERR x\\n'");
  CHECK(malformed("+O\rK\r\n") == "simple string has a CR not followed by LF: 'O\\rK'");
  CHECK(malformed("$3\n") == "bulk length line contains a bare LF (replies end in CRLF): '3\\n'");
}

TEST_CASE("an over-long simple or error line is malformed", "[resp][malformed]") {
  RespReader small(1024, 8);
  CHECK(malformed("+123456789", small) == "simple string is longer than 8 bytes: '123456789'");
  CHECK(malformed("-ERR 56789\r\n", RespReader(1024, 8)) ==
        "error reply is longer than 8 bytes: 'ERR 56789'");
  CHECK(malformed("+12345678\r\n", RespReader(1024, 8)) == "<no error: needs more input>");
}

TEST_CASE("after a malformed reply the reader stays failed until reset", "[resp][malformed]") {
  RespReader reader;
  reader.feed("+OK\r\n:1\r\n+OK\r\n");
  auto first = reader.next();
  REQUIRE(first.has_value());
  REQUIRE(first->has_value());
  CHECK((*first)->is_ok());
  auto bad = reader.next();
  REQUIRE_FALSE(bad.has_value());
  reader.feed("+OK\r\n");
  auto still = reader.next();
  REQUIRE_FALSE(still.has_value());
  CHECK(still.error().message == bad.error().message);
  CHECK(reader.buffered() == 0);

  reader.reset();
  reader.feed("+OK\r\n");
  auto ok = reader.next();
  REQUIRE(ok.has_value());
  REQUIRE(ok->has_value());
  CHECK((*ok)->is_ok());
}

TEST_CASE("missing() is what the next reply certainly still needs, never more", "[resp]") {
  RespReader reader;
  CHECK(reader.missing() == 1);  // nothing yet: at least a byte
  reader.feed("$1");
  CHECK(reader.missing() == 1);  // the length is not known until its CRLF
  reader.feed("0\r\n");
  CHECK(reader.missing() == 12);  // ten bytes of payload and the CRLF
  reader.feed("0123456789\r");
  CHECK(reader.missing() == 1);
  reader.feed("\n");
  CHECK(reader.missing() == 1);  // complete: nothing is owed
  auto bulk = reader.next();
  REQUIRE(bulk.has_value());
  REQUIRE(bulk->has_value());
  CHECK((*bulk)->text == "0123456789");

  // Simple strings, errors and the null bulk end at a CRLF nobody can count on.
  for (const char* start : {"+O", "-ERR x", "$-1\r", "$"}) {
    RespReader partial;
    partial.feed(start);
    CHECK(partial.missing() == 1);
  }
  // A length past the bulk limit is for next() to refuse, not a reason to wait.
  RespReader huge(100);
  huge.feed("$1000\r\n");
  CHECK(huge.missing() == 1);
  CHECK_FALSE(huge.next().has_value());
}

TEST_CASE("before_crlf returns a bulk once its payload is in and checks the CRLF as it comes",
          "[resp]") {
  constexpr auto early = RespReader::BulkEnd::before_crlf;
  RespReader reader;
  reader.feed("$5\r\nhel");
  CHECK(reader.missing(early) == 2);  // the payload only
  CHECK(reader.missing() == 4);       // and the CRLF
  CHECK_FALSE(next_early(reader));
  reader.feed("lo");
  auto bulk = next_early(reader);
  REQUIRE(bulk);
  CHECK(bulk->text == "hello");
  CHECK(reader.owed() == 2);
  CHECK(reader.buffered() == 0);
  reader.feed("\r");
  CHECK_FALSE(next_early(reader));
  CHECK(reader.owed() == 1);
  reader.feed("\n+OK\r\n$3\r\nabc\r");  // the CR of this bulk is here, its LF is not
  auto ok = next_early(reader);
  REQUIRE(ok);
  CHECK(ok->is_ok());
  CHECK(reader.owed() == 0);
  auto abc = next_early(reader);
  REQUIRE(abc);
  CHECK(abc->text == "abc");
  CHECK(reader.owed() == 1);
  reader.feed("\n");
  CHECK_FALSE(next_early(reader));
  CHECK(reader.owed() == 0);
  CHECK(reader.buffered() == 0);
}

TEST_CASE("a wrong byte where an early bulk's CRLF belongs fails the stream", "[resp][malformed]") {
  constexpr auto early = RespReader::BulkEnd::before_crlf;
  // The same messages as the strict reader's ("a bulk payload not followed by CRLF...").
  const std::pair<const char*, const char*> cases[] = {
      {"X+OK\r\n", "got 'X+'"}, {"\rX", "got '\\rX'"}, {"\n\r", "got '\\n\\r'"}};
  for (const auto& [after, got] : cases) {
    INFO(after);
    RespReader reader;
    reader.feed("$3\r\nabc");
    REQUIRE(next_early(reader));
    reader.feed(after);
    auto next = reader.next(early);
    REQUIRE_FALSE(next.has_value());
    CHECK(next.error().is(errc::malformed_reply));
    CHECK(next.error().message ==
          std::string("bulk payload of 3 bytes is not followed by CRLF: ") + got);
    CHECK_FALSE(reader.next(early).has_value());  // failure is sticky
    CHECK(reader.owed() == 0);
  }
}

TEST_CASE("before_crlf reads every split of a stream as with_crlf does", "[resp]") {
  // Same replies, same order; only when a bulk comes out may differ.
  const std::string large(300 * 1024, 'x');
  const std::string stream = "+OK\r\n$5\r\nhello\r\n$-1\r\n$0\r\n\r\n-ERR x y\r\n$" +
                             std::to_string(large.size()) + "\r\n" + large + "\r\n+OK\r\n";
  const auto whole = read_all(stream);
  REQUIRE(whole.size() == 7);
  for (std::size_t split = 0; split <= stream.size();
       split += split < 60 || split > stream.size() - 60 ? std::size_t{1} : std::size_t{4099}) {
    RespReader reader;
    std::vector<Reply> replies;
    for (const auto part :
         {std::string_view(stream).substr(0, split), std::string_view(stream).substr(split)}) {
      reader.feed(part);
      while (auto reply = next_early(reader)) replies.push_back(std::move(*reply));
    }
    CHECK(reader.owed() == 0);
    CHECK(reader.buffered() == 0);
    REQUIRE(replies.size() == whole.size());
    for (std::size_t i = 0; i < whole.size(); ++i) {
      CHECK(replies[i].kind == whole[i].kind);
      CHECK(replies[i].text == whole[i].text);
    }
  }
}
