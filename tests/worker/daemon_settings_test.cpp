// The worker settings made from a configuration: the connection's timeouts.
#include "daemon_settings.hpp"
#include "config/config.hpp"

#include <catch2/catch.hpp>

using namespace factotum;
using namespace std::chrono_literals;

namespace {

std::shared_ptr<const worker::WorkerSettings> settings_for(const std::string& yaml) {
  const auto config =
      config::parse_config(yaml, "t.yaml", {}, [](const std::string&) { return std::nullopt; });
  return make_worker_settings(config, "wid-1");
}

}  // namespace

TEST_CASE("faktory.timeout bounds connect and replies, and a FETCH waits out the server's hold") {
  // The server holds an idle FETCH for 2 s (PROTOCOL.md): a FETCH given up sooner would be
  // abandoned with a job possibly reserved for it (§0.15), even at the shortest timeout.
  for (const auto& [text, timeout] : {std::pair{"500ms", 500ms}, std::pair{"5s", 5000ms}}) {
    INFO(text);
    const auto settings = settings_for(std::string("faktory:\n  timeout: ") + text + "\n");
    CHECK(settings->connection->connect_timeout == timeout);
    CHECK(settings->connection->command_timeout == timeout);
    CHECK(settings->connection->fetch_timeout == timeout + 2s);
  }
  CHECK(settings_for("")->connection->fetch_timeout == 7s);
}
