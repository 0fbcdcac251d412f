// One byte stream to a Faktory server (plain TCP or TLS) for a thread of its own: blocking
// calls, each bounded by a deadline, RESP framing on the way in. This is what a processor's
// loop runs on (DESIGN.md §3): a reply wakes exactly the thread waiting for it, with no event
// loop in between, and a waiting read costs one recv(2).
//
// How deadlines are kept: the socket blocks with a receive/send timeout of kSocketTimeout, so
// a read with plenty of time left is a single recv(2) that returns as soon as bytes arrive;
// once less than kSocketTimeout is left, the call polls for exactly what is left instead.
//
// How wake-ups are saved: Faktory writes a bulk reply's header, payload and CRLF separately,
// and a report's reply and the next FETCH's come one after the other, so a reply often arrives
// in several TCP segments. Three things keep that to one wake-up per job:
// - Before blocking, the connection sets the socket's low-water mark (SO_RCVLOWAT) to the
//   number of bytes it certainly needs — the rest of a bulk string whose header is in, or what
//   the caller says the replies take at least — and waits for them in poll(), so the kernel
//   wakes the thread once for them instead of once per segment.
// - A caller that can guess how long the replies will be (a worker whose jobs are about the
//   same size) asks for that many first, for a while, so that a job's header does not wake it
//   without its payload (read_reply's `likely`).
// - A bulk reply is returned once its payload is in; its CRLF, which comes in a segment of its
//   own, is checked when it arrives, before the next reply (RespReader::BulkEnd).
// The syscalls cost a fraction of a wake-up. Marks are for plain TCP only; TLS reads wake per
// record.
// TLS runs on the same socket through OpenSSL with a BIO that sends with MSG_NOSIGNAL, so a
// peer that has gone away is an error, never a SIGPIPE.
//
// Not thread-safe: one thread uses a connection at a time. Internal to the client; no Asio.
#pragma once

#include "faktory/client_options.hpp"
#include "faktory/error.hpp"
#include "faktory/resp_reader.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

struct ssl_st;  // OpenSSL's SSL

namespace factotum::faktory {

class TlsContext;

// A guess at how many bytes the replies still to come take, and how long to wait for that
// many before settling for what they certainly take (SyncConnection::read_reply).
struct LikelyReply {
  std::size_t bytes = 0;
  std::chrono::steady_clock::duration within{};
};

class SyncConnection {
 public:
  using Clock = std::chrono::steady_clock;
  // The socket's own timeout; see above.
  static constexpr std::chrono::milliseconds kSocketTimeout{1000};

  SyncConnection() = default;
  ~SyncConnection();
  SyncConnection(const SyncConnection&) = delete;
  SyncConnection& operator=(const SyncConnection&) = delete;

  // Resolves, connects (TCP keep-alive and no-delay on), and for TLS handshakes with SNI and
  // peer verification. The whole sequence shares one deadline. Name resolution itself
  // (getaddrinfo) is bounded only by the resolver's own timeouts.
  Result<void> open(const ServerUrl& url, const TlsOptions& tls,
                    std::shared_ptr<const TlsContext> tls_context, Clock::time_point deadline);

  // `what` names the command for error messages ("FETCH"). Any error closes the connection.
  Result<void> write(std::string_view bytes, std::string_view what, Clock::time_point deadline);
  // `at_least`: how many bytes the replies still to come take at least, counting this one
  // (e.g. 10 for a report's reply and the FETCH reply after it: "+OK\r\n" and "$-1\r\n"). It
  // must never be more, or a complete reply would wait for bytes that never come.
  // `likely` may be more: the first wait asks the kernel for `likely.bytes` (plain TCP), and
  // only when they have not all come within `likely.within` does it settle for `at_least`. A
  // reply shorter than the guess is late by at most `likely.within`, never lost.
  // `bulk_end`: before_crlf returns a bulk reply (a job) once its payload is in; its CRLF is
  // then checked by the next read, and an error in it names this reply's `what`.
  Result<Reply> read_reply(std::string_view what, Clock::time_point deadline,
                           std::size_t at_least = 1, LikelyReply likely = {},
                           RespReader::BulkEnd bulk_end = RespReader::BulkEnd::with_crlf);

  bool is_open() const noexcept { return fd_ >= 0; }
  // For a connection that sat idle: whether the server has closed or reset it meanwhile, so
  // that a command sent on it would be lost without it being known whether it arrived.
  bool closed_by_peer() const noexcept;
  // Closes at once. Safe to call twice.
  void close() noexcept;
  // Shuts the socket down (both ways) without closing it: the server sees the connection close
  // and the next read or write here fails. Callable from another thread while no other call
  // is under way on this connection (the caller guarantees it: the fd stays valid).
  void interrupt() const noexcept;

 private:
  enum class Io { read, write };
  // How long a transfer may go on while its bytes keep moving (see sync_connection.cpp).
  static constexpr std::chrono::minutes kMaxTransfer{30};
  struct Progress {
    explicit Progress(Clock::time_point d)
        : deadline(d), window(std::max(d - started, Clock::duration::zero())) {}
    Clock::time_point started = Clock::now();
    Clock::time_point deadline;
    Clock::duration window;
    Clock::time_point after_bytes();
  };
  struct Bio;
  struct Step;
  // What an operation was doing, for error messages (built only when one is needed).
  struct During {
    const char* doing;
    std::string_view what;
    std::string text() const { return doing + std::string(what); }
  };

  // One read or write of at most `size` bytes, retried until it moves a byte, fails (the
  // peer closing is an error) or the deadline passes.
  Result<std::size_t> transfer(Io io, char* data, std::size_t size, std::string_view what,
                               Clock::time_point deadline);
  // The TLS handshake, with the same deadline rules.
  Result<void> handshake(Clock::time_point deadline);
  // Runs `attempt` until it makes progress, fails or the deadline passes; see the header.
  // `poll_first`: wait in poll() before every attempt (which then does not block).
  template <class Attempt>
  Result<std::size_t> retry(Io io, Attempt attempt, const During& during,
                            Clock::time_point deadline, bool poll_first);
  Step socket_step(Io io, char* data, std::size_t size, const During& during);
  Step tls_step(int result, const During& during);
  // Waits until the socket is ready for `io`; false when the deadline passed first.
  bool wait_until_ready(Io io, Clock::time_point deadline);
  Error io_error(int error_number, std::string_view during);
  Error tls_failure(int ssl_error, std::string_view during);
  Error timed_out(std::string_view during) const;
  void set_low_water(std::size_t bytes) noexcept;
  // The first wait of read_reply when the caller guessed the replies' length: true when
  // bytes were read (then the mark stays at the guess, as the next job will want it).
  bool read_guessed(std::size_t bytes, Clock::time_point until, Progress& progress);
  void take_owed_crlf() noexcept;

  int fd_ = -1;
  ssl_st* ssl_ = nullptr;
  std::shared_ptr<const TlsContext> tls_context_;  // keeps SSL_CTX alive while ssl_ uses it
  RespReader reader_;
  std::string peer_;  // "host:port" for error messages
  // Set by the TLS BIO, read after an OpenSSL call fails: the flags for the next recv/send
  // (MSG_DONTWAIT once poll said the socket is ready), what the last socket call saw.
  int io_flags_ = 0;
  int bio_errno_ = 0;
  bool bio_eof_ = false;
  int low_water_ = 1;      // the socket's SO_RCVLOWAT
  std::string owed_what_;  // the command whose bulk reply's CRLF the reader still owes
};

}  // namespace factotum::faktory
