// The accounting rules of the reliability tests, as a pure function of what the test server
// and the plugin's ledger saw: every job pushed is accounted for exactly once, and none runs
// twice or is reported against what its function did.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace factotum::testing {

// What the ledger job (e2e_jobs "ledger") wrote about one jid.
struct LedgerEntry {
  unsigned starts = 0;
  unsigned oks = 0;
  unsigned fails = 0;
  std::string errtype;             // the failure its function raised, if it failed
  std::string pushed;              // the follow-up it pushed, if any
  std::size_t pushed_at_line = 0;  // the ledger line that says so (1-based)
};
using Ledger = std::map<std::string, LedgerEntry>;

// Reads a ledger file (absent: empty). Lines: "<jid> start", "<jid> ok", "<jid> ok pushed
// <jid>", "<jid> fail <errtype>". Throws std::runtime_error on a line of any other shape.
Ledger read_ledger(const std::filesystem::path& file, std::size_t* lines = nullptr);

struct AccountingInput {
  std::vector<std::string> pushed;                    // every jid the server accepted
  std::map<std::string, std::string> fates;           // TestServer::job_fates()
  std::map<std::string, std::size_t> fails_received;  // FAIL commands per jid
  std::map<std::string, std::string> errtypes;        // the failure recorded, per FAILed jid
  Ledger ledger;
  // Follow-ups pushed once the daemon was told to stop: no one is left to fetch them.
  std::set<std::string> late_followups;
  std::uint64_t fetch_cuts = 0;  // FETCH replies the proxy cut off
};

struct Accounting {
  std::size_t acked = 0, failed = 0, stranded = 0, queued = 0;
  std::vector<std::string> problems;  // empty: every job accounted for
};

// The rules:
// - a function runs at most once (nothing here makes the server deliver a job twice);
// - a job is ACKed only when its function succeeded, and then never FAILed;
// - a FAILed job has its failure recorded: the one its function raised, when it ran;
// - a job is still reserved only when its function never ran, and such jobs are no more
//   than the FETCH replies that were cut off (PROTOCOL.md §0.15);
// - nothing is still queued but follow-ups pushed after the stop, and nothing is lost.
Accounting account(const AccountingInput& input);

}  // namespace factotum::testing
