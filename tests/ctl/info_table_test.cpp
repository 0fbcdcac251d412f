// ctl info's table, from the INFO payload a real Faktory 1.9.4 sent (transcripts/09).
#include "ctl/info_table.hpp"

#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

using namespace factotum::ctl;

namespace {

constexpr const char* kInfo =
    R"({"now":"2026-11-28T14:31:20.207204234Z","server_utc_time":"14:31:20 UTC","faktory":{)"
    R"("queues":{"adminq":1,"nosuchq":0,"otherq":12345},"sets":{"dead":4,"retries":3,)"
    R"("scheduled":2,"working":1},"tasks":{"Busy":{"reaped":0,"size":0}},"total_failures":7,)"
    R"("total_processed":3,"total_enqueued":12346,"total_queues":3},"server":{"description":)"
    R"("Faktory","faktory_version":"1.9.4","uptime":7384,"connections":2,"command_count":26,)"
    R"("used_memory_mb":12}})";

}  // namespace

TEST_CASE("info shows the server, the totals, the sets and each queue's size") {
  const auto info = boost::json::parse(kInfo).as_object();
  CHECK(format_info(info, "tcp://:***@faktory:7419") ==
        "Faktory 1.9.4 at tcp://:***@faktory:7419, up 2h 3m, 2 connections, 12 MB\n"
        "\n"
        "jobs   processed 3  failures 7  enqueued 12346\n"
        "sets   scheduled 2  retries 3  dead 4  working 1\n"
        "\n"
        "QUEUE     SIZE\n"
        "adminq       1\n"
        "nosuchq      0\n"
        "otherq   12345\n");
}

TEST_CASE("info of a server that leaves fields out shows them as '?'") {
  const auto info = boost::json::parse(R"({"faktory":{"queues":{}}})").as_object();
  CHECK(format_info(info, "tcp://h:7419") ==
        "? ? at tcp://h:7419, up ?, ? connections, ? MB\n"
        "\n"
        "jobs   processed ?  failures ?  enqueued ?\n"
        "sets   scheduled ?  retries ?  dead ?  working ?\n"
        "\n"
        "no queues\n");
}

TEST_CASE("the uptime shows its two largest units") {
  CHECK(format_uptime(0) == "0s");
  CHECK(format_uptime(59) == "59s");
  CHECK(format_uptime(65) == "1m 5s");
  CHECK(format_uptime(3600) == "1h 0m");
  CHECK(format_uptime(90061) == "1d 1h");
}
