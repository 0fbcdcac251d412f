// Sans-io recovery of the jid of a FETCHed job that Job::parse refused, so the worker can
// still FAIL it by jid (errtype InvalidJob) instead of leaving it reserved until its
// reservation expires (PROTOCOL.md §0.5). A real server accepts payloads that Job::parse
// cannot take: Go's decoder allows 10000 nesting levels, Job::parse 256.
//
// Used only after the full parse failed. The scan keeps no DOM and never recurses: it walks
// the JSON structure itself, remembering one bit (array or object) per open nesting level,
// and hands each scalar (key, string, number, literal) to Boost.JSON's basic_parser, so
// every lexical rule (escapes, UTF-8, numbers) is exactly Job::parse's. Memory: one bit per
// nesting level plus a constant; time: linear in the payload. No I/O, fuzzed.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace factotum::faktory {

// Job::parse's nesting limit (job.cpp kMaxDepth; a unit test checks the two agree): past it,
// `problem` says the job nests too deeply.
inline constexpr std::size_t kJobParseMaxDepth = 256;
// A jid longer than this (decoded bytes) is not taken: a cut jid would name no job.
inline constexpr std::size_t kSalvageMaxJidBytes = 1024;
// The jobtype, for logs only, is cut to this many bytes (at a UTF-8 boundary).
inline constexpr std::size_t kSalvageMaxJobtypeBytes = 1024;
// `parse_error` is quoted in `problem` up to this many bytes.
inline constexpr std::size_t kSalvageMaxQuotedErrorBytes = 300;

struct SalvagedJob {
  // The first top-level "jid" member whose value is a non-empty string of at most
  // kSalvageMaxJidBytes, decoded (escapes resolved).
  std::string jid;
  // The first top-level "jobtype" string found before the scan stopped; empty when none.
  std::string jobtype;
  bool jobtype_truncated = false;  // longer than kSalvageMaxJobtypeBytes: `jobtype` is its start
  // One line for the FAIL message and the log, naming what is wrong, e.g. "the job's JSON
  // nests deeper than 256 levels (level 257 opens at byte 1234)" or "the job's JSON is invalid
  // at byte 1234 (syntax error) near '...'". It holds at most a 16-byte excerpt of the payload
  // (escaped) and parse_error cut to kSalvageMaxQuotedErrorBytes.
  std::string problem;
};

// Finds the jid of `payload` for a FAIL. `parse_error` is Job::parse's message; it becomes the
// problem when the scan finds the JSON itself well-formed and within the depth limit (a field
// of the wrong type, a missing field). Returns std::nullopt when the payload is not a JSON
// object or has no usable top-level string jid before its first JSON error: after an error
// the structure is unknown, and a "jid" seen there might belong to a nested value.
//
// The scan stops at the first JSON error, or once it has the jid and the jobtype and has seen
// a level past kJobParseMaxDepth; otherwise it reads to the end. Byte offsets in `problem`
// count from 0.
std::optional<SalvagedJob> salvage_job(std::string_view payload, std::string_view parse_error);

}  // namespace factotum::faktory
