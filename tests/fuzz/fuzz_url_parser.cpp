// parse_url on arbitrary bytes must return a URL or an error; redacted() must not depend on
// the password at all (so it cannot leak it) and must parse back to the same server.
#include "faktory/url.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using factotum::faktory::parse_url;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto url = parse_url(text);
  if (!url) {
    (void)url.error().what();
    return 0;
  }
  const std::string shown = url->redacted();
  if (url->password) {
    auto other = *url;
    other.password = "a-different-secret";
    if (other.redacted() != shown) std::abort();  // the password shows through
  }
  auto back = parse_url(shown);
  if (!back) std::abort();
  if (back->host != url->host || back->port != url->port || back->tls != url->tls ||
      back->username != url->username || back->password.has_value() != url->password.has_value()) {
    std::abort();
  }
  return 0;
}
