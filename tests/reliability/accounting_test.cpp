// The accounting rules on made-up evidence: a clean run passes, and each way of losing or
// misreporting a job is named.
#include "accounting.hpp"
#include "test_jobs.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using namespace factotum::testing;

namespace {

LedgerEntry ran(bool ok) {
  LedgerEntry e;
  e.starts = 1;
  (ok ? e.oks : e.fails) = 1;
  if (!ok) e.errtype = "LedgerFailure";
  return e;
}

// a: succeeded and ACKed; b: failed and FAILed; c: stranded by a cut FETCH reply.
AccountingInput clean() {
  AccountingInput in;
  in.pushed = {"a", "b", "c"};
  in.fates = {{"a", "acked"}, {"b", "retry"}, {"c", "reserved"}};
  in.fails_received = {{"b", 1}};
  in.errtypes = {{"b", "LedgerFailure"}};
  in.ledger = {{"a", ran(true)}, {"b", ran(false)}};
  in.fetch_cuts = 1;
  return in;
}

bool names(const Accounting& a, const std::string& text) {
  for (const auto& p : a.problems) {
    if (p.find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("a run where every job is accounted for has no problems") {
  const Accounting a = account(clean());
  CHECK(a.problems.empty());
  CHECK(a.acked == 1);
  CHECK(a.failed == 1);
  CHECK(a.stranded == 1);
}

TEST_CASE("each way of losing or misreporting a job is a problem naming the job") {
  AccountingInput in = clean();
  SECTION("a function that ran twice") {
    in.ledger["a"].starts = 2;
    in.ledger["a"].oks = 2;
    CHECK(names(account(in), "job a: its function ran 2 times"));
  }
  SECTION("a function that never ended") {
    in.ledger["a"].oks = 0;
    CHECK(names(account(in), "job a: its function started 1 time(s) but ended 0"));
  }
  SECTION("a success that was FAILed") {
    in.fates["a"] = "retry";
    in.fails_received["a"] = 1;
    in.errtypes["a"] = "JobTimeout";
    const Accounting a = account(in);
    CHECK(names(a, "job a: its function succeeded, yet the server received 1 FAIL(s)"));
    CHECK(names(a, "job a: FAILed (JobTimeout), but its function succeeded"));
  }
  SECTION("a failure that was ACKed") {
    in.fates["b"] = "acked";
    CHECK(names(account(in), "job b: ACKed, but its function failed"));
  }
  SECTION("an ACK for a job that never ran") {
    in.fates["c"] = "acked";
    CHECK(names(account(in), "job c: ACKed, but its function never ran"));
  }
  SECTION("a failure recorded with another errtype, or none") {
    in.errtypes["b"] = "WorkerShutdown";
    CHECK(names(account(in),
                "job b: its function failed with LedgerFailure, but the failure recorded is "
                "'WorkerShutdown'"));
    in.errtypes.erase("b");
    CHECK(names(account(in), "job b: FAILed without a failure recorded"));
  }
  SECTION("a result that never reached the server") {
    in.fates["a"] = "reserved";
    in.fetch_cuts = 2;
    CHECK(names(account(in), "job a: still reserved, but its function ran"));
  }
  SECTION("more stranded jobs than cut FETCH replies") {
    in.fetch_cuts = 0;
    CHECK(names(account(in), "1 job(s) still reserved without having run, but only 0"));
  }
  SECTION("a job never fetched, unless pushed after the stop") {
    in.fates["c"] = "queued";
    CHECK(names(account(in), "job c: still queued"));
    in.late_followups = {"c"};
    CHECK(account(in).problems.empty());
  }
  SECTION("a job the server lost") {
    in.fates.erase("a");
    CHECK(names(account(in), "job a: the server no longer has it (gone)"));
  }
  SECTION("a jid enqueued twice (a PUSH sent again after its reply was lost)") {
    in.pushed.push_back("a");
    CHECK(names(account(in), "the server accepted the same jid twice"));
  }
  SECTION("a job that ran without being pushed") {
    in.ledger["z"] = ran(true);
    CHECK(names(account(in), "job z: ran, but the server never accepted it"));
  }
}

TEST_CASE("the ledger is read line by line, and a line of another shape is an error") {
  TempDir dir;
  const auto file = dir.path / "ledger";
  std::ofstream(file) << "j1 start\nj2 start\nj1 ok pushed j3\nj2 fail Oops\nj3 start\nj3 ok\n";
  std::size_t lines = 0;
  const Ledger ledger = read_ledger(file, &lines);
  CHECK(lines == 6);
  CHECK(ledger.at("j1").oks == 1);
  CHECK(ledger.at("j1").pushed == "j3");
  CHECK(ledger.at("j1").pushed_at_line == 3);
  CHECK(ledger.at("j2").fails == 1);
  CHECK(ledger.at("j2").errtype == "Oops");
  CHECK(ledger.at("j3").starts == 1);
  CHECK(read_ledger(dir.path / "absent").empty());
  // A line still being written (no newline yet) is left for the next read.
  std::ofstream(file, std::ios::app) << "j9 sta";
  CHECK_FALSE(read_ledger(file, &lines).contains("j9"));
  CHECK(lines == 6);
  std::ofstream(file, std::ios::app) << "rt\n";
  CHECK(read_ledger(file).at("j9").starts == 1);
  std::ofstream(file, std::ios::app) << "j4 exploded\n";
  CHECK_THROWS_WITH(read_ledger(file), Catch::Contains(":8: not a ledger line: j4 exploded"));
}
