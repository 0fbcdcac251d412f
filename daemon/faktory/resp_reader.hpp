// Sans-io reader for the RESP2 subset a Faktory server sends (PROTOCOL.md §2): simple
// strings `+`, errors `-`, bulk strings `$N` and the null bulk `$-1`. Bytes go in as they
// arrive from the socket (any split, several replies per buffer); complete replies come out.
// Nothing here touches a socket, so it is unit-tested and fuzzed on bytes alone.
#pragma once

#include "faktory/error.hpp"

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace factotum::faktory {

struct Reply {
  enum class Kind { simple, error, bulk, null };
  Kind kind = Kind::null;
  // simple: the text after '+'; error: the text after '-' ("ERR Job not found x");
  // bulk: the payload bytes; null: empty.
  std::string text;

  bool is_ok() const noexcept { return kind == Kind::simple && text == "OK"; }
  // For an error reply: the code word before the first space ("ERR") and the rest.
  std::string_view error_code() const noexcept;
  std::string_view error_message() const noexcept;
  // The Error value an `-CODE message` reply stands for (errc::server_error).
  Error to_error() const;
};

class RespReader {
 public:
  // Bulk replies larger than this are refused as malformed (a corrupt length must not make
  // us allocate gigabytes). Faktory jobs are small; 64 MiB is far above any real payload.
  static constexpr std::size_t kDefaultMaxBulk = 64u << 20;
  // A `+`/`-` line longer than this without CRLF is malformed for the same reason.
  static constexpr std::size_t kDefaultMaxLine = 1u << 20;

  explicit RespReader(std::size_t max_bulk = kDefaultMaxBulk,
                      std::size_t max_line = kDefaultMaxLine);

  // Copies bytes into the internal buffer.
  void feed(std::string_view bytes);

  // Zero-copy input: write up to n bytes into prepare(n), then commit() how many were written
  // (at most n; bytes prepared but not committed are dropped). The span is invalidated by the
  // next call to any non-const member.
  std::span<char> prepare(std::size_t n);
  void commit(std::size_t n);

  // When a bulk reply counts as complete. `with_crlf`: once its terminating CRLF is in.
  // `before_crlf`: once its payload is in (its length says where it ends); the CRLF is then
  // owed() and checked as it arrives, by the next calls, before any further reply. A server
  // that writes the CRLF separately (Faktory does) then costs a reader no wait for it.
  enum class BulkEnd { with_crlf, before_crlf };

  // The next complete reply, std::nullopt when more input is needed, or an errc::malformed_reply
  // error that says what was wrong ("bulk length '12x' is not a number"). After an error the
  // reader stays failed (the stream cannot be resynchronised); reset() starts over.
  Result<std::optional<Reply>> next(BulkEnd end = BulkEnd::with_crlf);

  // Bytes received but not yet consumed by next().
  std::size_t buffered() const noexcept;
  // How many more bytes the next reply needs at least: the rest of a bulk string whose
  // header has arrived (payload, and CRLF unless `end` is before_crlf), else 1. Lets a
  // blocking reader ask the kernel not to wake it before they are there (SO_RCVLOWAT).
  std::size_t missing(BulkEnd end = BulkEnd::with_crlf) const noexcept;
  // Bytes of the CRLF of a bulk that next(BulkEnd::before_crlf) returned without it, still
  // to come (0–2). They come before the next reply, and buffered() does not count them.
  std::size_t owed() const noexcept { return owed_; }
  // Checks and consumes those of the owed bytes that have arrived (next() does it too): a
  // caller that wants to name the reply they belong to in the error calls it first.
  Result<void> settle_owed();
  // Back to a fresh reader (empty buffer, not failed), keeping the limits.
  void reset();

  // An error of next() as a connection reports it: "bad reply from PEER to WHAT: ...".
  static Error named(Error error, std::string_view peer, std::string_view what);

 private:
  Result<std::optional<Reply>> fail(std::string message);
  // Where the CRLF ending the line that starts at `from` is, std::nullopt when it has not
  // arrived yet, or an error for a bare CR/LF or a line longer than `limit`.
  Result<std::optional<std::size_t>> find_crlf(std::size_t from, std::size_t limit,
                                               std::string_view what);
  void consume(std::size_t to);
  void compact();

  std::string buf_;             // [pos_, end_) holds unconsumed bytes; [end_, size) is prepared
  std::size_t pos_ = 0;         // start of unconsumed bytes in buf_
  std::size_t prepared_ = 0;    // size of the span the last prepare() handed out
  std::size_t end_ = 0;         // end of committed bytes in buf_
  std::size_t scanned_ = 0;     // bytes after pos_ already searched for CRLF without success
  std::size_t owed_ = 0;        // see owed()
  std::size_t owed_after_ = 0;  // the length of the bulk whose CRLF is owed, for the error
  std::size_t max_bulk_;
  std::size_t max_line_;
  std::optional<Error> failed_;
};

}  // namespace factotum::faktory
