// Feeds the input to RespReader in chunks whose sizes come from the input itself, draining
// next() after each chunk. Any crash, hang or sanitizer report is a bug; so is a reader that
// reports success after an error (failure must be sticky). A second reader, fed the same
// chunks, returns bulks before their CRLF (BulkEnd::before_crlf): it must give the same
// replies in the same order, at most one bulk ahead, and fail on the same chunk.
#include "faktory/resp_reader.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using factotum::faktory::RespReader;
  if (size == 0) return 0;
  // Byte 0 picks the chunking; small limits make the limit paths reachable.
  const std::uint8_t mode = data[0];
  ++data;
  --size;
  RespReader reader(/*max_bulk=*/(mode & 1) != 0 ? 1024 : RespReader::kDefaultMaxBulk,
                    /*max_line=*/(mode & 2) != 0 ? 64 : RespReader::kDefaultMaxLine);
  const bool zero_copy = (mode & 4) != 0;

  RespReader early(/*max_bulk=*/(mode & 1) != 0 ? 1024 : RespReader::kDefaultMaxBulk,
                   /*max_line=*/(mode & 2) != 0 ? 64 : RespReader::kDefaultMaxLine);
  std::vector<std::string> strict_texts, early_texts;
  bool early_failed = false;
  std::size_t needed = 0, fed_since_wait = 0;  // see the early reader's loop

  std::size_t offset = 0;
  bool failed = false;
  std::size_t seed = mode;
  while (offset < size) {
    seed = seed * 1103515245u + 12345u;
    const std::size_t chunk = std::min<std::size_t>(size - offset, 1 + (seed >> 8) % 17);
    const char* bytes = reinterpret_cast<const char*>(data + offset);
    if (zero_copy) {
      auto span = reader.prepare(chunk + 3);
      std::memcpy(span.data(), bytes, chunk);
      reader.commit(chunk);
    } else {
      reader.feed(std::string_view(bytes, chunk));
    }
    early.feed(std::string_view(bytes, chunk));
    offset += chunk;
    fed_since_wait += chunk;
    while (!early_failed) {
      auto reply = early.next(RespReader::BulkEnd::before_crlf);
      if (!reply) {
        early_failed = true;
      } else if (!*reply) {
        // What a blocking reader would now ask the kernel for (SO_RCVLOWAT): never more than
        // the next reply takes, or it would wait for bytes that do not come.
        needed = early.owed() + early.missing(RespReader::BulkEnd::before_crlf);
        fed_since_wait = 0;
        break;
      } else {
        if (fed_since_wait < needed) std::abort();
        needed = 0;
        early_texts.push_back(static_cast<char>((*reply)->kind) + (*reply)->text);
      }
    }
    for (;;) {
      auto reply = reader.next();
      if (!reply) {
        failed = true;
        break;
      }
      if (failed) std::abort();  // an error must be sticky
      if (!*reply) break;
      strict_texts.push_back(static_cast<char>((*reply)->kind) + (*reply)->text);
      // Exercise the accessors on every reply.
      (void)(*reply)->is_ok();
      (void)(*reply)->error_code();
      (void)(*reply)->error_message();
    }
    if (failed && reader.next().has_value()) std::abort();
    if (failed != early_failed) std::abort();
    if (early_texts.size() < strict_texts.size() || early_texts.size() > strict_texts.size() + 1 ||
        !std::equal(strict_texts.begin(), strict_texts.end(), early_texts.begin())) {
      std::abort();
    }
  }
  return 0;
}
