#include "accounting.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace factotum::testing {

Ledger read_ledger(const std::filesystem::path& file, std::size_t* lines) {
  Ledger ledger;
  std::ifstream in(file);
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    // A last line without its newline is still being written (the ledger is read while jobs
    // run): it is read next time.
    if (in.eof()) break;
    ++number;
    std::istringstream words(line);
    std::string jid, what, pushed_word, pushed;  // (the third word is a fail's errtype)
    words >> jid >> what >> pushed_word >> pushed;
    LedgerEntry& entry = ledger[jid];
    if (what == "start" && pushed_word.empty()) {
      ++entry.starts;
    } else if (what == "ok" && pushed_word.empty()) {
      ++entry.oks;
    } else if (what == "ok" && pushed_word == "pushed" && !pushed.empty()) {
      ++entry.oks;
      entry.pushed = pushed;
      entry.pushed_at_line = number;
    } else if (what == "fail" && !pushed_word.empty() && pushed.empty()) {
      ++entry.fails;
      entry.errtype = pushed_word;
    } else {
      throw std::runtime_error(file.string() + ":" + std::to_string(number) +
                               ": not a ledger line: " + line);
    }
  }
  if (lines != nullptr) *lines = number;
  return ledger;
}

namespace {

template <class Map>
auto value_in(const Map& map, const std::string& key, typename Map::mapped_type fallback) {
  const auto it = map.find(key);
  return it == map.end() ? fallback : it->second;
}

}  // namespace

Accounting account(const AccountingInput& input) {
  Accounting out;
  const auto problem = [&out](const std::string& jid, const std::string& what) {
    out.problems.push_back("job " + jid + ": " + what);
  };
  std::set<std::string> pushed(input.pushed.begin(), input.pushed.end());
  if (pushed.size() != input.pushed.size()) {
    out.problems.push_back("the server accepted the same jid twice");
  }
  for (const auto& [jid, entry] : input.ledger) {
    if (!pushed.contains(jid)) problem(jid, "ran, but the server never accepted it");
  }

  std::size_t stranded = 0;
  for (const std::string& jid : pushed) {
    const LedgerEntry entry = value_in(input.ledger, jid, LedgerEntry{});
    const std::string fate = value_in(input.fates, jid, std::string("gone"));
    const std::size_t fails = value_in(input.fails_received, jid, std::size_t{0});
    if (entry.starts > 1)
      problem(jid, "its function ran " + std::to_string(entry.starts) + " times");
    if (entry.oks + entry.fails != entry.starts) {
      problem(jid, "its function started " + std::to_string(entry.starts) + " time(s) but ended " +
                       std::to_string(entry.oks + entry.fails));
    }
    if (entry.oks > 0 && fails > 0) {
      problem(jid, "its function succeeded, yet the server received " + std::to_string(fails) +
                       " FAIL(s) for it");
    }
    if (fate == "acked") {
      ++out.acked;
      if (entry.oks == 0) {
        problem(jid, entry.starts == 0 ? "ACKed, but its function never ran"
                                       : "ACKed, but its function failed");
      }
    } else if (fate == "retry" || fate == "dead") {
      ++out.failed;
      const std::string errtype = value_in(input.errtypes, jid, std::string());
      if (errtype.empty()) problem(jid, "FAILed without a failure recorded");
      if (entry.oks > 0) problem(jid, "FAILed (" + errtype + "), but its function succeeded");
      if (entry.fails > 0 && errtype != entry.errtype) {
        problem(jid, "its function failed with " + entry.errtype +
                         ", but the failure recorded is '" + errtype + "'");
      }
    } else if (fate == "reserved") {
      ++stranded;
      if (entry.starts > 0) {
        problem(jid, "still reserved, but its function ran: its result never reached the server");
      }
    } else if (fate == "queued") {
      ++out.queued;
      if (!input.late_followups.contains(jid)) problem(jid, "still queued: never fetched");
    } else {
      problem(jid, "the server no longer has it (" + fate + ")");
    }
  }
  out.stranded = stranded;
  if (stranded > input.fetch_cuts) {
    out.problems.push_back(std::to_string(stranded) +
                           " job(s) still reserved without having run, but only " +
                           std::to_string(input.fetch_cuts) + " FETCH repl(ies) were cut off");
  }
  return out;
}

}  // namespace factotum::testing
