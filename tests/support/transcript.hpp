// Reader for the golden wire transcripts in tests/transcripts (format: README.md there,
// "Line format"): `C:` / `S:` lines with \r \n \t \\ \xNN escapes, `# @conn NAME` and
// `# @eof` markers, other `#` lines as comments, empty lines ignored.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace factotum::testing {

struct TranscriptEvent {
  enum class Kind {
    open,     // first appearance of a connection name: a new TCP connection was opened
    send,     // `C:` bytes the client sent in one send()
    expect,   // `S:` bytes of exactly one server reply
    eof,      // `# @eof`: the server closed the connection
    comment,  // any other `#` line (scenario notes, timings, actions)
  };
  Kind kind;
  std::string conn;   // connection the event belongs to (empty before the first @conn)
  std::string bytes;  // send/expect: the unescaped wire bytes
  std::string text;   // the raw line as written in the file
  std::size_t line = 0;
};

struct Transcript {
  std::string name;  // file name, e.g. "05-fetch.txt"
  std::vector<TranscriptEvent> events;
};

// Decodes the escapes of a C:/S: line body; throws std::invalid_argument on an unknown or
// truncated escape.
std::string unescape_transcript(std::string_view escaped);

// Throws std::invalid_argument naming name:line on a malformed line.
Transcript parse_transcript(std::string_view text, std::string name);
Transcript load_transcript(const std::filesystem::path& file);

// The wire bytes of every `S:` (side 'S') or `C:` (side 'C') line of one file in
// tests/transcripts/, in order: the real server's replies as test vectors.
std::vector<std::string> transcript_lines(std::string_view file, char side);

// Every *.txt transcript in `dir`, sorted by file name.
std::vector<std::filesystem::path> transcript_files(const std::filesystem::path& dir);

}  // namespace factotum::testing
