// Every server reply recorded in the golden transcripts (tests/transcripts) must parse with
// the client's RESP codec into exactly one reply, consuming every byte — fed whole and fed
// one byte at a time (replies really do arrive split: transcripts README fact 5).
#include "faktory/resp_reader.hpp"
#include "transcript.hpp"

#include <catch2/catch.hpp>

#include <string>

using factotum::faktory::Reply;
using factotum::faktory::RespReader;
using factotum::testing::TranscriptEvent;

namespace {

const std::filesystem::path kTranscripts =
    std::filesystem::path(FACTOTUM_SOURCE_DIR) / "tests/transcripts";

// What the reply should decode to, read straight off the recorded bytes.
Reply expected_reply(const std::string& bytes) {
  REQUIRE(bytes.size() >= 3);
  REQUIRE(bytes.substr(bytes.size() - 2) == "\r\n");
  switch (bytes[0]) {
    case '+':
      return {Reply::Kind::simple, bytes.substr(1, bytes.size() - 3)};
    case '-':
      return {Reply::Kind::error, bytes.substr(1, bytes.size() - 3)};
    case '$': {
      if (bytes == "$-1\r\n") return {Reply::Kind::null, {}};
      auto crlf = bytes.find("\r\n");
      auto len = std::stoul(bytes.substr(1, crlf - 1));
      REQUIRE(bytes.size() == crlf + 2 + len + 2);  // N counts bytes
      return {Reply::Kind::bulk, bytes.substr(crlf + 2, len)};
    }
    default:
      FAIL("unexpected reply prefix in transcript: " << bytes.substr(0, 20));
  }
  return {};
}

}  // namespace

TEST_CASE("the transcript parser reads every golden file", "[transcript]") {
  auto files = factotum::testing::transcript_files(kTranscripts);
  REQUIRE(files.size() == 14);
  for (const auto& f : files) {
    INFO(f.filename().string());
    auto t = factotum::testing::load_transcript(f);
    std::size_t sends = 0, expects = 0, opens = 0;
    for (const auto& ev : t.events) {
      sends += ev.kind == TranscriptEvent::Kind::send;
      expects += ev.kind == TranscriptEvent::Kind::expect;
      opens += ev.kind == TranscriptEvent::Kind::open;
    }
    CHECK(sends > 0);
    CHECK(expects > 0);
    CHECK(opens > 0);
  }
}

TEST_CASE("transcript escapes decode as the README says", "[transcript]") {
  using factotum::testing::unescape_transcript;
  CHECK(unescape_transcript(R"(a\r\n\t\\b)") == "a\r\n\t\\b");
  CHECK(unescape_transcript(R"(gr\xc3\xbc\xc3\x9fe)") ==
        "gr\xc3\xbc\xc3\x9f"
        "e");
  CHECK(unescape_transcript(R"(\\")") == "\\\"");
  CHECK_THROWS(unescape_transcript(R"(\q)"));
  CHECK_THROWS(unescape_transcript(R"(\x4)"));
  auto t = factotum::testing::parse_transcript(
      "# head\n# @conn A\nS: +HI {\"v\":2}\\r\\n\nC: END\\r\\n\n# @eof closed\n", "x.txt");
  REQUIRE(t.events.size() == 5);
  CHECK(t.events[1].kind == TranscriptEvent::Kind::open);
  CHECK(t.events[2].kind == TranscriptEvent::Kind::expect);
  CHECK(t.events[2].bytes == "+HI {\"v\":2}\r\n");
  CHECK(t.events[3].bytes == "END\r\n");
  CHECK(t.events[4].kind == TranscriptEvent::Kind::eof);
  CHECK(t.events[4].conn == "A");
}

TEST_CASE("every recorded server reply parses with RespReader into exactly one reply",
          "[transcript][codec]") {
  std::size_t checked = 0;
  for (const auto& f : factotum::testing::transcript_files(kTranscripts)) {
    auto t = factotum::testing::load_transcript(f);
    for (const auto& ev : t.events) {
      if (ev.kind != TranscriptEvent::Kind::expect) continue;
      INFO(t.name << ":" << ev.line << ": " << ev.text.substr(0, 120));
      Reply want = expected_reply(ev.bytes);

      // Whole.
      RespReader whole;
      whole.feed(ev.bytes);
      auto r = whole.next();
      REQUIRE(r.has_value());
      REQUIRE(r->has_value());
      CHECK((*r)->kind == want.kind);
      CHECK((*r)->text == want.text);
      CHECK(whole.buffered() == 0);
      auto again = whole.next();
      REQUIRE(again.has_value());
      CHECK_FALSE(again->has_value());

      // Byte by byte: nothing before the last byte, exactly one reply after it.
      RespReader split;
      std::size_t replies = 0;
      for (std::size_t i = 0; i < ev.bytes.size(); ++i) {
        split.feed(std::string_view(ev.bytes).substr(i, 1));
        for (;;) {
          auto n = split.next();
          REQUIRE(n.has_value());
          if (!n->has_value()) break;
          ++replies;
          CHECK(i == ev.bytes.size() - 1);
          CHECK((*n)->kind == want.kind);
          CHECK((*n)->text == want.text);
        }
      }
      CHECK(replies == 1);
      CHECK(split.buffered() == 0);
      ++checked;
    }
  }
  CHECK(checked > 200);
}
