// What the library's tests share: a test server that answers an empty FETCH quickly, what the
// server holds for a jid, and Catch2 printing of faktory::Result.
#pragma once

#include "public_result_maker.hpp"
#include "test_server.hpp"

#include <chrono>
#include <string>

namespace library_test {

inline factotum::testing::TestServerOptions quick_server() {
  factotum::testing::TestServerOptions options;
  options.fetch_block = std::chrono::milliseconds(200);
  return options;
}

// Where the server holds the job ("queued", "dead", ...), or "absent".
inline std::string fate(const factotum::testing::TestServer& server, const std::string& jid) {
  const auto fates = server.job_fates();
  const auto it = fates.find(jid);
  return it == fates.end() ? "absent" : it->second;
}

}  // namespace library_test
