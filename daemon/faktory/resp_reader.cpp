#include "faktory/resp_reader.hpp"

#include "faktory/quote.hpp"

#include <algorithm>
#include <cstring>

namespace factotum::faktory {
namespace {

// "$" + at most 20 digits covers every 64-bit length; a longer header is garbage, and bounding
// it keeps a stream of digits from being buffered forever.
constexpr std::size_t kMaxLengthLine = 20;

// Largest bulk whose whole buffer is reserved as soon as its length is known.
constexpr std::size_t kEagerReserve = 1u << 20;

// After a huge bulk the buffer keeps its capacity; give it back once it is empty so one
// 50 MB job does not pin 50 MB per connection for the connection's lifetime.
constexpr std::size_t kKeepCapacity = 256u << 10;

std::string describe_type_byte(char c) {
  return quote(std::string_view(&c, 1));
}

}  // namespace

std::string_view Reply::error_code() const noexcept {
  if (kind != Kind::error) return {};
  const std::string_view t = text;
  return t.substr(0, t.find(' '));
}

std::string_view Reply::error_message() const noexcept {
  if (kind != Kind::error) return {};
  const std::string_view t = text;
  const auto space = t.find(' ');
  return space == std::string_view::npos ? std::string_view{} : t.substr(space + 1);
}

Error Reply::to_error() const {
  if (kind != Kind::error) {
    return Error(errc::unexpected_reply,
                 "expected an error reply, got a " +
                     std::string(kind == Kind::simple ? "simple string " + quote(text)
                                 : kind == Kind::bulk ? "bulk string " + quote(text)
                                                      : "null bulk"));
  }
  const std::string_view code = error_code();
  const std::string_view message = error_message();
  // The only server error with a fixed meaning for the client: wrong pwdhash in HELLO
  // (PROTOCOL.md §3.5). Giving it its own errc lets callers stop retrying at once.
  const errc kind_of = (code == "ERR" && message == "Invalid password") ? errc::invalid_password
                                                                        : errc::server_error;
  return Error(make_error_code(kind_of), std::string(message), std::string(code));
}

RespReader::RespReader(std::size_t max_bulk, std::size_t max_line)
    : max_bulk_(max_bulk), max_line_(max_line) {}

void RespReader::feed(std::string_view bytes) {
  if (failed_) return;  // the stream is dead; do not let it grow
  compact();
  if (buf_.size() < end_ + bytes.size()) buf_.resize(end_ + bytes.size());
  if (!bytes.empty()) std::memcpy(buf_.data() + end_, bytes.data(), bytes.size());
  end_ += bytes.size();
}

std::span<char> RespReader::prepare(std::size_t n) {
  compact();
  // buf_ only grows: bytes past end_ are scratch. Growing it once, instead of resizing up
  // and down around every read, keeps std::string from zero-filling each read's space.
  if (buf_.size() < end_ + n) buf_.resize(end_ + n);
  prepared_ = n;
  return {buf_.data() + end_, n};
}

void RespReader::commit(std::size_t n) {
  end_ += std::min(n, prepared_);
  prepared_ = 0;
  if (failed_) {
    buf_.clear();
    pos_ = end_ = 0;
  }
}

std::size_t RespReader::buffered() const noexcept {
  return end_ - pos_;
}

std::size_t RespReader::missing(BulkEnd end) const noexcept {
  if (pos_ == end_ || buf_[pos_] != '$') return 1;
  // "$N\r\n": a length of a few digits; anything else is for next() to judge.
  std::size_t length = 0;
  std::size_t i = pos_ + 1;
  for (; i < end_ && i < pos_ + 19 && buf_[i] >= '0' && buf_[i] <= '9'; ++i) {
    length = length * 10 + static_cast<std::size_t>(buf_[i] - '0');
  }
  if (i == pos_ + 1 || i + 1 >= end_ || buf_[i] != '\r' || buf_[i + 1] != '\n') return 1;
  if (length > max_bulk_) return 1;  // next() refuses it
  const std::size_t crlf = end == BulkEnd::with_crlf ? 2 : 0;
  const std::size_t needed = (i + 2 - pos_) + length + crlf;  // header, payload[, CRLF]
  const std::size_t have = end_ - pos_;
  return needed > have ? needed - have : 1;
}

Error RespReader::named(Error error, std::string_view peer, std::string_view what) {
  error.message =
      "bad reply from " + std::string(peer) + " to " + std::string(what) + ": " + error.message;
  return error;
}

void RespReader::reset() {
  buf_.clear();
  if (buf_.capacity() > kKeepCapacity) std::string().swap(buf_);
  pos_ = end_ = scanned_ = prepared_ = owed_ = 0;
  failed_.reset();
}

// Moves the unconsumed bytes to the front, but only when at least as many bytes have been
// consumed as remain: every byte is then moved at most once per byte consumed before it, so
// compaction costs O(total input) however the input is split.
void RespReader::compact() {
  if (pos_ == 0) return;
  if (pos_ == end_) {
    // Keep the (already zero-filled) space for the next read unless a huge reply grew it.
    if (buf_.capacity() > kKeepCapacity) std::string().swap(buf_);
    pos_ = end_ = 0;
    return;
  }
  const std::size_t remaining = end_ - pos_;
  if (pos_ < remaining) return;
  std::memmove(buf_.data(), buf_.data() + pos_, remaining);
  pos_ = 0;
  end_ = remaining;
}

void RespReader::consume(std::size_t to) {
  pos_ = to;
  scanned_ = 0;
}

Result<std::optional<Reply>> RespReader::fail(std::string message) {
  failed_ = Error(errc::malformed_reply, std::move(message));
  buf_.clear();
  pos_ = end_ = scanned_ = prepared_ = owed_ = 0;
  return *failed_;
}

Result<std::optional<std::size_t>> RespReader::find_crlf(std::size_t from, std::size_t limit,
                                                         std::string_view what) {
  // Resume where the last call stopped so a line fed byte by byte is scanned once, not
  // quadratically.
  std::size_t i = std::max(from, pos_ + scanned_);
  const char* const data = buf_.data();
  for (; i < end_; ++i) {
    if (data[i] == '\n') {
      // PROTOCOL.md §2: replies end in CRLF; a bare LF means we are out of sync.
      (void)fail(std::string(what) + " contains a bare LF (replies end in CRLF): " +
                 quote(std::string_view(data + from, i + 1 - from)));
      return *failed_;
    }
    if (data[i] == '\r') break;
  }
  if (i - from > limit) {
    (void)fail(std::string(what) + " is longer than " + std::to_string(limit) +
               " bytes: " + quote(std::string_view(data + from, i - from)));
    return *failed_;
  }
  if (i + 1 >= end_) {  // no CR yet, or a CR whose LF has not arrived
    scanned_ = i - pos_;
    return std::optional<std::size_t>{};
  }
  if (data[i + 1] != '\n') {
    (void)fail(std::string(what) + " has a CR not followed by LF: " +
               quote(std::string_view(data + from, i + 2 - from)));
    return *failed_;
  }
  return std::optional<std::size_t>{i};
}

Result<void> RespReader::settle_owed() {
  if (failed_) return *failed_;
  for (; owed_ > 0 && pos_ < end_; --owed_) {
    const char expected = owed_ == 2 ? '\r' : '\n';
    if (buf_[pos_] != expected) {
      // Quoted as the strict reader quotes it: the CR already seen, and the bytes in its place.
      std::string got = owed_ == 1 ? "\r" : "";
      got.append(buf_, pos_, std::min(owed_, end_ - pos_));
      (void)fail("bulk payload of " + std::to_string(owed_after_) +
                 " bytes is not followed by CRLF: got " + quote(got));
      return *failed_;
    }
    consume(pos_ + 1);
  }
  return {};
}

Result<std::optional<Reply>> RespReader::next(BulkEnd end) {
  if (failed_) return *failed_;
  if (owed_ > 0) {
    if (auto settled = settle_owed(); !settled) return settled.error();
    if (owed_ > 0) return std::optional<Reply>{};
  }
  if (pos_ == end_) return std::optional<Reply>{};

  const char type = buf_[pos_];
  switch (type) {
    case '+':
    case '-': {
      auto crlf = find_crlf(pos_ + 1, max_line_, type == '+' ? "simple string" : "error reply");
      if (!crlf) return crlf.error();
      if (!*crlf) return std::optional<Reply>{};
      Reply reply;
      reply.kind = type == '+' ? Reply::Kind::simple : Reply::Kind::error;
      reply.text.assign(buf_, pos_ + 1, **crlf - pos_ - 1);
      consume(**crlf + 2);
      return std::optional<Reply>{std::move(reply)};
    }
    case '$': {
      auto crlf = find_crlf(pos_ + 1, kMaxLengthLine, "bulk length line");
      if (!crlf) return crlf.error();
      if (!*crlf) return std::optional<Reply>{};
      const std::string_view digits(buf_.data() + pos_ + 1, **crlf - pos_ - 1);
      if (digits == "-1") {  // the null bulk: FETCH found nothing (PROTOCOL.md §2)
        consume(**crlf + 2);
        return std::optional<Reply>{Reply{}};
      }
      if (digits.empty()) return fail("bulk length is empty ('$' followed by CRLF)");
      if (digits.front() == '-') {
        return fail("negative bulk length " + quote(digits) +
                    " (only -1, the null bulk, is allowed)");
      }
      std::size_t length = 0;
      for (const char d : digits) {
        if (d < '0' || d > '9') return fail("bulk length " + quote(digits) + " is not a number");
        length = length * 10 + static_cast<std::size_t>(d - '0');
        if (length > max_bulk_) {
          return fail("bulk length " + quote(digits) + " exceeds the maximum of " +
                      std::to_string(max_bulk_) + " bytes");
        }
      }
      const std::size_t payload = **crlf + 2;
      const std::size_t available = end_ - payload;
      // Fail as soon as a wrong terminator byte is visible rather than waiting for both.
      const auto bad_terminator = [&] {
        return fail("bulk payload of " + std::to_string(length) +
                    " bytes is not followed by CRLF: got " +
                    quote(std::string_view(buf_.data() + payload + length,
                                           std::min<std::size_t>(available - length, 2))));
      };
      if (available > length && buf_[payload + length] != '\r') return bad_terminator();
      const bool early = end == BulkEnd::before_crlf && available >= length;
      if (available < length + 2 && !early) {
        // One allocation for the whole reply instead of repeated doubling on a large bulk,
        // but only up to a size real jobs have: a corrupt length must not reserve max_bulk_
        // bytes before a single payload byte has arrived.
        if (length <= kEagerReserve && buf_.capacity() < payload + length + 2) {
          buf_.reserve(payload + length + 2);
        }
        return std::optional<Reply>{};
      }
      // The CRLF bytes that are here (the first is checked above); the rest are owed.
      const std::size_t crlf_here = std::min<std::size_t>(available - length, 2);
      if (crlf_here == 2 && buf_[payload + length + 1] != '\n') return bad_terminator();
      owed_ = 2 - crlf_here;
      owed_after_ = length;
      Reply reply;
      reply.kind = Reply::Kind::bulk;
      if (length > kKeepCapacity && end_ == payload + length + crlf_here) {
        // A large reply alone in the buffer (a big job): hand the buffer over rather than hold
        // the payload twice. Its few header bytes are moved out of the way in place.
        buf_.resize(end_);
        reply.text = std::move(buf_);
        reply.text.erase(0, payload);
        reply.text.resize(length);
        buf_ = std::string();
        pos_ = end_ = scanned_ = prepared_ = 0;
        return std::optional<Reply>{std::move(reply)};
      }
      reply.text.assign(buf_, payload, length);
      consume(payload + length + crlf_here);
      return std::optional<Reply>{std::move(reply)};
    }
    case ':':
      return fail(
          "unexpected reply type byte ':' (a RESP integer): Faktory never sends integers "
          "(PROTOCOL.md §2)");
    case '*':
      return fail(
          "unexpected reply type byte '*' (a RESP array): Faktory never sends arrays "
          "(PROTOCOL.md §2)");
    default:
      return fail("unexpected reply type byte " + describe_type_byte(type) +
                  " (expected '+', '-' or '$')");
  }
}

}  // namespace factotum::faktory
