// ctl stop's timeout comes from worker.shutdown_timeout, read from the configuration with its
// faktory section left out (a password file an operator may not be able to read).
#include "ctl/stop_timeout.hpp"

#include <catch2/catch.hpp>

TEST_CASE("stop reads the configuration without its faktory section, keeping line numbers") {
  using factotum::ctl::without_faktory_section;
  CHECK(without_faktory_section("faktory:\n  password_file: /x\n  tls:\n    ca_file: /y\n"
                                "# a comment\n\nworker:\n  shutdown_timeout: 7s\n") ==
        "\n\n\n\n\n\nworker:\n  shutdown_timeout: 7s\n");
  CHECK(without_faktory_section("worker: {}\n\"faktory\" :\n  url: x\nlogging: {}") ==
        "worker: {}\n\n\nlogging: {}");
  CHECK(without_faktory_section("{faktory: {}}\n") == "{faktory: {}}\n");
}
