#include "faktory/sync_connection.hpp"

#include "faktory/connection_errors.hpp"
#include "faktory/socket_tuning.hpp"
#include "faktory/tls_context.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <utility>

namespace factotum::faktory {

namespace {

using Clock = SyncConnection::Clock;

// Replies are read in chunks of this size; a 100 KB job arrives in a few reads.
constexpr std::size_t kReadChunk = std::size_t{16} * 1024;
// The most a read waits for at once: a larger bulk string is read in parts (a large low-water
// mark would also make the kernel grow the socket's receive buffer).
constexpr std::size_t kMaxLowWater = kReadChunk;

boost::system::error_code system_error(int error_number) {
  return {error_number, boost::system::system_category()};
}

int milliseconds_until(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, INT_MAX));
}

void set_blocking(int fd, bool blocking) {
  const int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, blocking ? flags & ~O_NONBLOCK : flags | O_NONBLOCK);
}

void set_socket_timeouts(int fd) {
  timeval tv{};
  tv.tv_sec = SyncConnection::kSocketTimeout.count() / 1000;
  tv.tv_usec = (SyncConnection::kSocketTimeout.count() % 1000) * 1000;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

bool would_block(int error_number) {
  return error_number == EAGAIN || error_number == EWOULDBLOCK || error_number == EINTR;
}

// Connects one socket to one address before the deadline; the socket stays non-blocking.
int connect_one(const addrinfo& address, Clock::time_point deadline, int& error_number) {
  const int fd = ::socket(address.ai_family, address.ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                          address.ai_protocol);
  if (fd < 0) {
    error_number = errno;
    return -1;
  }
  if (::connect(fd, address.ai_addr, address.ai_addrlen) == 0) return fd;
  if (errno != EINPROGRESS) {
    error_number = errno;
    ::close(fd);
    return -1;
  }
  pollfd ready{fd, POLLOUT, 0};
  for (;;) {
    const int n = ::poll(&ready, 1, milliseconds_until(deadline));
    if (n > 0) break;
    if (n == 0 || errno != EINTR) {
      error_number = n == 0 ? ETIMEDOUT : errno;
      ::close(fd);
      return -1;
    }
  }
  int result = 0;
  socklen_t length = sizeof result;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &result, &length);
  if (result != 0) {
    error_number = result;
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

// A BIO that moves TLS records over the connection's socket with send(MSG_NOSIGNAL) and
// recv(), using the connection's flags (MSG_DONTWAIT once poll() said the socket is ready).
// OpenSSL's own socket BIO uses write(2), which raises SIGPIPE on a connection the peer has
// closed; a library must not depend on its host process ignoring that signal.
struct SyncConnection::Bio {
  static int write(BIO* bio, const char* data, int size) {
    auto* conn = static_cast<SyncConnection*>(BIO_get_data(bio));
    BIO_clear_retry_flags(bio);
    const ssize_t n =
        ::send(conn->fd_, data, static_cast<std::size_t>(size), MSG_NOSIGNAL | conn->io_flags_);
    if (n >= 0) return static_cast<int>(n);
    conn->bio_errno_ = errno;
    if (would_block(errno)) BIO_set_retry_write(bio);
    return -1;
  }
  static int read(BIO* bio, char* data, int size) {
    auto* conn = static_cast<SyncConnection*>(BIO_get_data(bio));
    BIO_clear_retry_flags(bio);
    const ssize_t n = ::recv(conn->fd_, data, static_cast<std::size_t>(size), conn->io_flags_);
    if (n > 0) return static_cast<int>(n);
    if (n == 0) {
      conn->bio_eof_ = true;
      return 0;
    }
    conn->bio_errno_ = errno;
    if (would_block(errno)) BIO_set_retry_read(bio);
    return -1;
  }
  static long control(BIO*, int command, long, void*) {
    return command == BIO_CTRL_FLUSH ? 1 : 0;  // nothing is buffered here
  }
  static int create(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
  }
  static const BIO_METHOD* method() {
    static BIO_METHOD* const method = [] {
      BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "factotum socket");
      BIO_meth_set_write(m, &Bio::write);
      BIO_meth_set_read(m, &Bio::read);
      BIO_meth_set_ctrl(m, &Bio::control);
      BIO_meth_set_create(m, &Bio::create);
      return m;
    }();
    return method;
  }
};

SyncConnection::~SyncConnection() {
  close();
}

bool SyncConnection::closed_by_peer() const noexcept {
  return peer_has_closed(fd_);
}

void SyncConnection::interrupt() const noexcept {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

// A job returned before its CRLF (RespReader::BulkEnd) leaves those bytes unread, and a
// socket closed with unread bytes resets the connection (RST) instead of ending it. The server
// writes them right after the payload: read them if they have come, without waiting.
void SyncConnection::take_owed_crlf() noexcept {
  char crlf[2];
  const std::size_t owed = std::min(reader_.owed(), sizeof crlf);
  if (owed == 0 || fd_ < 0) return;
  if (ssl_ == nullptr) {
    (void)::recv(fd_, crlf, owed, MSG_DONTWAIT);
    return;
  }
  io_flags_ = MSG_DONTWAIT;  // the BIO's next recv
  (void)SSL_read(ssl_, crlf, static_cast<int>(owed));
  ERR_clear_error();
}

void SyncConnection::close() noexcept {
  take_owed_crlf();
  if (ssl_ != nullptr) {
    SSL_free(ssl_);  // also frees the BIO
    ssl_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  tls_context_.reset();
  reader_.reset();
}

Error SyncConnection::timed_out(std::string_view during) const {
  return connection_errors::timed_out(peer_, during);
}

Error SyncConnection::io_error(int error_number, std::string_view during) {
  if (error_number == 0 || error_number == ECONNRESET || error_number == EPIPE) {
    return connection_errors::closed(peer_, during, reader_.buffered());
  }
  return connection_errors::socket(system_error(error_number), peer_, during);
}

Error SyncConnection::tls_failure(int ssl_error, std::string_view during) {
  const unsigned long queued = ERR_peek_last_error();
  ERR_clear_error();
  if (bio_eof_ || ssl_error == SSL_ERROR_ZERO_RETURN ||
      (ssl_error == SSL_ERROR_SYSCALL && bio_errno_ == 0) ||
      ERR_GET_REASON(queued) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
    return io_error(0, during);
  }
  if (ssl_error == SSL_ERROR_SYSCALL) return io_error(bio_errno_, during);
  std::string reason;
  if (queued != 0) {
    const char* text = ERR_reason_error_string(queued);
    reason = text != nullptr ? text : "error " + std::to_string(queued);
  }
  return connection_errors::tls(peer_, during, reason, ssl_);
}

bool SyncConnection::wait_until_ready(Io io, Clock::time_point deadline) {
  pollfd ready{fd_, static_cast<short>(io == Io::read ? POLLIN : POLLOUT), 0};
  for (;;) {
    const int n = ::poll(&ready, 1, milliseconds_until(deadline));
    if (n != 0 && !(n < 0 && errno == EINTR)) return true;  // ready, or an error recv/send sees
    if (n == 0) return false;
  }
}

Result<void> SyncConnection::open(const ServerUrl& url, const TlsOptions& tls,
                                  std::shared_ptr<const TlsContext> tls_context,
                                  Clock::time_point deadline) {
  close();
  peer_ = url.host + ":" + std::to_string(url.port);

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int resolved =
      ::getaddrinfo(url.host.c_str(), std::to_string(url.port).c_str(), &hints, &found);
  if (resolved != 0) {
    return Error(system_error(resolved == EAI_SYSTEM ? errno : EHOSTUNREACH),
                 "resolving the server's address (" + peer_ + "): " + ::gai_strerror(resolved));
  }
  int error_number = 0;
  for (const addrinfo* address = found; address != nullptr && fd_ < 0; address = address->ai_next) {
    fd_ = connect_one(*address, deadline, error_number);
  }
  ::freeaddrinfo(found);
  if (fd_ < 0) {
    if (error_number == ETIMEDOUT) return timed_out("connecting");
    return connection_errors::socket(system_error(error_number), peer_, "connecting");
  }
  set_blocking(fd_, true);
  set_socket_timeouts(fd_);
  low_water_ = 1;
  tune_socket(fd_);

  if (url.tls) {
    tls_context_ = std::move(tls_context);
    ssl_ = SSL_new(tls_context_->ssl_ctx());
    BIO* bio = ssl_ != nullptr ? BIO_new(Bio::method()) : nullptr;
    if (bio == nullptr) {
      close();
      return Error(make_error_code(errc::tls_error), "cannot create a TLS session");
    }
    BIO_set_data(bio, this);
    SSL_set_bio(ssl_, bio, bio);
    if (auto prepared = tls_context_->prepare_session(ssl_, url, tls); !prepared) {
      close();
      return prepared.error();
    }
    if (auto shaken = handshake(deadline); !shaken) {
      auto err = shaken.error();
      if (err.is(errc::tls_error) || err.is(errc::connection_closed)) {
        err = connection_errors::with_plain_tcp_hint(std::move(err));
      }
      close();
      return err;
    }
  }
  return {};
}

// One step of a blocking call: it moved bytes, needs the socket ready for reading or
// writing first, or failed.
struct SyncConnection::Step {
  enum class Status { progress, want_read, want_write, failed };
  Status status = Status::failed;
  std::size_t bytes = 0;
  Error error;
};

SyncConnection::Step SyncConnection::socket_step(Io io, char* data, std::size_t size,
                                                 const During& during) {
  const ssize_t n = io == Io::read ? ::recv(fd_, data, size, io_flags_)
                                   : ::send(fd_, data, size, MSG_NOSIGNAL | io_flags_);
  if (n > 0) return {Step::Status::progress, static_cast<std::size_t>(n), {}};
  if (n < 0 && would_block(errno)) {
    return {io == Io::read ? Step::Status::want_read : Step::Status::want_write, 0, {}};
  }
  return {Step::Status::failed, 0, io_error(n < 0 ? errno : 0, during.text())};
}

SyncConnection::Step SyncConnection::tls_step(int result, const During& during) {
  if (result > 0) return {Step::Status::progress, static_cast<std::size_t>(result), {}};
  const int ssl_error = SSL_get_error(ssl_, result);
  if (ssl_error == SSL_ERROR_WANT_READ) return {Step::Status::want_read, 0, {}};
  if (ssl_error == SSL_ERROR_WANT_WRITE) return {Step::Status::want_write, 0, {}};
  return {Step::Status::failed, 0, tls_failure(ssl_error, during.text())};
}

template <class Attempt>
Result<std::size_t> SyncConnection::retry(Io io, Attempt attempt, const During& during,
                                          Clock::time_point deadline, bool poll_first) {
  bool poll_next = poll_first;
  for (;;) {
    const auto now = Clock::now();
    if (now >= deadline) return timed_out(during.text());
    io_flags_ = 0;
    bio_errno_ = 0;
    bio_eof_ = false;
    // With less time left than the socket's own timeout, a blocking call could overshoot the
    // deadline: poll for exactly what is left, then move bytes without blocking. (A first
    // attempt needs no poll: the bytes may well be there already.)
    const bool near_deadline = deadline - now < kSocketTimeout;
    if (poll_next || near_deadline) {
      if (poll_next && !wait_until_ready(io, deadline)) return timed_out(during.text());
      io_flags_ = MSG_DONTWAIT;
    }
    Step step = attempt();
    switch (step.status) {
      case Step::Status::progress:
        return step.bytes;
      case Step::Status::failed:
        return step.error;
      case Step::Status::want_read:
        io = Io::read;
        break;
      case Step::Status::want_write:
        io = Io::write;
        break;
    }
    poll_next = poll_first || near_deadline;
  }
}

Result<void> SyncConnection::handshake(Clock::time_point deadline) {
  const During during{"in the TLS handshake", {}};
  auto shaken = retry(
      Io::write, [&] { return tls_step(SSL_connect(ssl_), during); }, during, deadline, false);
  if (!shaken) return shaken.error();
  return {};
}

Result<std::size_t> SyncConnection::transfer(Io io, char* data, std::size_t size,
                                             std::string_view what, Clock::time_point deadline) {
  const During during{io == Io::read ? "waiting for the reply to " : "sending ", what};
  if (ssl_ == nullptr) {
    // With a low-water mark above 1, wait in poll(), which wakes once that many bytes are
    // queued, then read them without blocking. A blocking recv() would copy what is there,
    // sleep for the rest, and not be woken until the bytes it had not copied reached the mark
    // by themselves: a stall until the socket's timeout.
    const bool poll_first = io == Io::read && low_water_ > 1;
    return retry(
        io, [&] { return socket_step(io, data, size, during); }, during, deadline, poll_first);
  }
  const int chunk = static_cast<int>(std::min<std::size_t>(size, INT_MAX));
  return retry(
      io,
      [&] {
        return tls_step(io == Io::read ? SSL_read(ssl_, data, chunk) : SSL_write(ssl_, data, chunk),
                        during);
      },
      during, deadline, false);
}

// The deadline a caller gives bounds a silence, not a transfer: a large job on a slow link
// (60 MiB at 50 Mbit/s is 10 s) must not be cut off while its bytes keep coming, or it would
// stay reserved for a connection that is gone and fail the same way on every retry. Each
// chunk that arrives (or leaves) gives the rest as long again as the caller allowed, up to
// kMaxTransfer in all, so a peer that trickles bytes cannot hold a thread for ever.
SyncConnection::Clock::time_point SyncConnection::Progress::after_bytes() {
  return std::min(std::max(deadline, Clock::now() + window), started + kMaxTransfer);
}

Result<void> SyncConnection::write(std::string_view bytes, std::string_view what,
                                   Clock::time_point deadline) {
  if (fd_ < 0) return Error(errc::not_connected, "not connected to " + peer_);
  Progress progress{deadline};
  // OpenSSL wants a retried SSL_write to pass the same buffer: `data` only ever advances past
  // bytes that were written.
  auto* data = const_cast<char*>(bytes.data());
  std::size_t left = bytes.size();
  while (left > 0) {
    auto n = transfer(Io::write, data, left, what, progress.deadline);
    if (!n) {
      auto err = n.error();
      close();
      return err;
    }
    data += *n;
    left -= *n;
    if (*n > 0) progress.deadline = progress.after_bytes();
  }
  return {};
}

void SyncConnection::set_low_water(std::size_t bytes) noexcept {
  const int mark = static_cast<int>(std::clamp<std::size_t>(bytes, 1, kMaxLowWater));
  if (mark == low_water_) return;
  if (::setsockopt(fd_, SOL_SOCKET, SO_RCVLOWAT, &mark, sizeof mark) == 0) low_water_ = mark;
}

bool SyncConnection::read_guessed(std::size_t bytes, Clock::time_point until, Progress& progress) {
  set_low_water(bytes);
  if (!wait_until_ready(Io::read, until)) return false;
  // Without blocking: poll() may also wake below the mark (memory pressure), and a blocking
  // recv() would then sleep until the guessed bytes came, past `until`.
  auto space = reader_.prepare(kReadChunk);
  const ssize_t n = ::recv(fd_, space.data(), space.size(), MSG_DONTWAIT);
  reader_.commit(n > 0 ? static_cast<std::size_t>(n) : 0);
  if (n <= 0) return false;  // nothing after all, the peer's close or an error: see below
  progress.deadline = progress.after_bytes();
  return true;
}

Result<Reply> SyncConnection::read_reply(std::string_view what, Clock::time_point deadline,
                                         std::size_t at_least, LikelyReply likely,
                                         RespReader::BulkEnd bulk_end) {
  if (fd_ < 0) return Error(errc::not_connected, "not connected to " + peer_);
  Progress progress{deadline};
  bool guess = ssl_ == nullptr && likely.bytes > at_least;  // the first wait only
  for (;;) {
    // The CRLF of a job returned before it (RespReader::BulkEnd) comes first; a wrong byte
    // there is a bad reply to that job's FETCH, not to this command.
    if (auto settled = reader_.settle_owed(); !settled) {
      close();
      return RespReader::named(settled.error(), peer_, owed_what_);
    }
    auto next = reader_.next(bulk_end);
    if (!next) {
      close();  // the stream cannot be resynchronised
      return RespReader::named(next.error(), peer_, what);
    }
    if (*next) {
      if (reader_.owed() > 0) owed_what_.assign(what);
      return std::move(**next);
    }
    // Plain TCP only: TLS records carry their own framing, and OpenSSL may hold part of a
    // record already, so a mark counted in reply bytes could ask for more than will come.
    // Bytes still to come: the CRLF owed by the last bulk reply, then the replies.
    const std::size_t buffered = reader_.buffered();
    const std::size_t owed = reader_.owed();
    const std::size_t needed = owed + at_least;
    const std::size_t certain =
        ssl_ != nullptr
            ? 1
            : std::max(reader_.missing(bulk_end), needed > buffered ? needed - buffered : 1);
    if (std::exchange(guess, false) && owed + likely.bytes > buffered + certain &&
        read_guessed(owed + likely.bytes - buffered,
                     std::min(progress.deadline, Clock::now() + likely.within), progress)) {
      continue;
    }
    set_low_water(certain);
    auto space = reader_.prepare(kReadChunk);
    auto got = transfer(Io::read, space.data(), space.size(), what, progress.deadline);
    if (!got) {
      auto err = got.error();
      close();
      return err;
    }
    reader_.commit(*got);
    if (*got > 0) progress.deadline = progress.after_bytes();
  }
}

}  // namespace factotum::faktory
