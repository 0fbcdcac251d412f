#include "faktory/password_hash.hpp"

#include <openssl/evp.h>

#include <array>
#include <stdexcept>

namespace factotum::faktory {
namespace {

using Digest = std::array<unsigned char, 32>;

// One-shot EVP digest; failure means OpenSSL itself is broken (no SHA-256 provider), which
// no caller can handle, so it throws.
Digest sha256(const void* data, std::size_t size) {
  Digest out{};
  unsigned int out_size = 0;
  if (EVP_Digest(data, size, out.data(), &out_size, EVP_sha256(), nullptr) != 1 ||
      out_size != out.size()) {
    throw std::runtime_error("OpenSSL SHA-256 failed (is the default provider available?)");
  }
  return out;
}

}  // namespace

std::string password_hash(std::string_view password, std::string_view salt, int iterations) {
  // PROTOCOL.md §3.4: the salt is hashed as its hex *text*, appended to the password; the
  // first round hashes that string, each further round the previous 32-byte digest.
  std::string input;
  input.reserve(password.size() + salt.size());
  input.append(password);
  input.append(salt);
  Digest digest = sha256(input.data(), input.size());
  for (int i = 1; i < iterations; ++i) digest = sha256(digest.data(), digest.size());

  static constexpr char kHex[] = "0123456789abcdef";  // the server compares lowercase hex
  std::string hex;
  hex.reserve(digest.size() * 2);
  for (const unsigned char byte : digest) {
    hex += kHex[byte >> 4];
    hex += kHex[byte & 0xf];
  }
  return hex;
}

}  // namespace factotum::faktory
