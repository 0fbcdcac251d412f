// The payload-carrying commands: decode the argument the way the Go handler does (F:
// server/commands.go, server/mutate.go) and apply it to the state. Every error text here is
// one a transcript shows, or PROTOCOL.md names.
#include "go_json.hpp"
#include "server_state.hpp"

#include <algorithm>
#include <cctype>

namespace factotum::testing::detail {
namespace {

namespace json = boost::json;

// strings.Split(s, " ") — empty parts included, exactly like Go.
std::vector<std::string> split_spaces(std::string_view s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto pos = s.find(' ', start);
    if (pos == std::string_view::npos) {
      out.emplace_back(s.substr(start));
      return out;
    }
    out.emplace_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

// Redis stringmatchlen: the "regexp" of a MUTATE filter is a SCAN glob (PROTOCOL.md §5).
bool glob_match(std::string_view p, std::string_view s) {
  while (!p.empty()) {
    switch (p[0]) {
      case '*': {
        while (p.size() > 1 && p[1] == '*') p.remove_prefix(1);
        if (p.size() == 1) return true;
        for (std::size_t i = 0; i <= s.size(); ++i) {
          if (glob_match(p.substr(1), s.substr(i))) return true;
        }
        return false;
      }
      case '?':
        if (s.empty()) return false;
        s.remove_prefix(1);
        p.remove_prefix(1);
        break;
      case '[': {
        if (s.empty()) return false;
        p.remove_prefix(1);
        bool negate = !p.empty() && p[0] == '^';
        if (negate) p.remove_prefix(1);
        bool match = false;
        while (!p.empty() && p[0] != ']') {
          if (p[0] == '\\' && p.size() >= 2) {
            p.remove_prefix(1);
            if (p[0] == s[0]) match = true;
            p.remove_prefix(1);
          } else if (p.size() >= 3 && p[1] == '-') {
            char lo = std::min(p[0], p[2]), hi = std::max(p[0], p[2]);
            if (s[0] >= lo && s[0] <= hi) match = true;
            p.remove_prefix(3);
          } else {
            if (p[0] == s[0]) match = true;
            p.remove_prefix(1);
          }
        }
        if (!p.empty()) p.remove_prefix(1);  // ']'
        if (negate) match = !match;
        if (!match) return false;
        s.remove_prefix(1);
        break;
      }
      case '\\':
        if (p.size() >= 2) p.remove_prefix(1);
        [[fallthrough]];
      default:
        if (s.empty() || p[0] != s[0]) return false;
        s.remove_prefix(1);
        p.remove_prefix(1);
    }
  }
  return s.empty();
}

// Decodes `payload` or returns the Go error text ("" when fine).
std::string decode_doc(std::string_view payload, json::value& out) {
  if (auto err = gojson::syntax_error(payload)) return *err;
  out = gojson::parse(payload);
  return {};
}

}  // namespace

// PUSH (F: server/commands.go push). The handler points job.Retry at the process-wide
// default and decodes into it, so any "retry" written by the decoder — even in a job that
// then fails validation or has a type error elsewhere — becomes the new default
// (PROTOCOL.md §0.6, transcript 03 §7). Faithful on purpose: clients must always send retry.
Reply ServerState::push(std::string_view payload) {
  json::value doc;
  if (auto err = decode_doc(payload, doc); !err.empty())
    return Reply::error("invalid JSON: " + err);
  Job job;
  std::string type_err;
  decode_job(doc, job, type_err);
  if (job.retry) default_retry_ = *job.retry;
  if (!type_err.empty()) return Reply::error("invalid JSON: " + type_err);
  job.retry = default_retry_;
  if (auto err = push_job(std::move(job)); !err.empty()) return Reply::error(err);
  return Reply::ok();
}

// PUSHB: all-or-nothing decode, then one Push per job; reply {jid: error} with sorted keys.
// Jobs without retry read (but never write) the server-wide default.
Reply ServerState::pushb(std::string_view payload) {
  json::value doc;
  if (auto err = decode_doc(payload, doc); !err.empty())
    return Reply::error("invalid JSON: " + err);
  std::vector<Job> jobs;
  std::string type_err;
  if (doc.is_array()) {
    for (const auto& e : doc.get_array()) {
      Job job;
      decode_job(e, job, type_err);
      jobs.push_back(std::move(job));
    }
  } else if (!doc.is_null()) {
    type_err = "json: cannot unmarshal " + std::string(gojson::kind_name(doc)) +
               " into Go value of type []client.Job";
  }
  if (!type_err.empty()) return Reply::error("invalid JSON: " + type_err);
  std::map<std::string, std::string> result;
  for (auto& job : jobs) {
    if (!job.retry) job.retry = default_retry_;
    std::string jid = job.jid;
    if (auto err = push_job(std::move(job)); !err.empty()) result[jid] = err;
  }
  std::string out = "{";
  for (const auto& [jid, err] : result) {
    if (out.size() > 1) out += ',';
    gojson::write_string(out, jid);
    out += ':';
    gojson::write_string(out, err);
  }
  out += '}';
  return Reply::bulk(std::move(out));
}

// ACK: a map[string]string with a non-empty "jid"; +OK even for unknown jids
// (PROTOCOL.md §0.12). Only an existing reservation counts as processed.
Reply ServerState::ack(std::string_view payload) {
  json::value doc;
  std::string jid;
  bool ok = decode_doc(payload, doc).empty() && (doc.is_object() || doc.is_null());
  if (ok && doc.is_object()) {
    for (const auto& kv : doc.get_object()) {
      if (!kv.value().is_string() && !kv.value().is_null()) ok = false;
      if (kv.key() == "jid" && kv.value().is_string()) jid = kv.value().get_string();
    }
  }
  if (!ok || jid.empty()) return Reply::error("invalid ACK " + std::string(payload));
  if (options_.record_history) ++ack_counts_[jid];
  if (working_.erase(jid)) {
    ++processed_;
    if (options_.record_history) acked_.insert(jid);
  }
  return Reply::ok();
}

namespace {

std::string trim(std::string s) {
  auto ws = [](unsigned char c) { return std::isspace(c) != 0; };
  while (!s.empty() && ws(static_cast<unsigned char>(s.back()))) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && ws(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

// F: manager/retry.go: trimmed, cut to `max` bytes, "unknown" when empty.
std::string cleanse(std::string s, std::size_t max) {
  s = trim(std::move(s));
  if (s.size() > max) s.resize(max);
  if (s.empty()) s = "unknown";
  return s;
}

}  // namespace

Reply ServerState::fail(std::string_view payload) {
  json::value doc;
  std::string jid, message, errtype;
  std::vector<std::string> backtrace;
  std::string err = decode_doc(payload, doc);
  if (err.empty()) {
    err = decode_struct(
        doc,
        {{"jid", &jid}, {"message", &message}, {"errtype", &errtype}, {"backtrace", &backtrace}},
        "FailPayload", "server.FailPayload");
  }
  if (!err.empty()) return Reply::error("invalid FAIL " + std::string(payload));
  if (jid.empty()) return Reply::error("missing JID");
  if (options_.record_history) ++fail_counts_[jid];
  auto it = working_.find(jid);
  if (it == working_.end()) return Reply::error("Job not found " + jid);
  Job job = std::move(it->second.job);
  working_.erase(it);
  if (backtrace.size() > 50) backtrace.resize(50);
  process_failure(std::move(job), cleanse(std::move(errtype), 100),
                  cleanse(std::move(message), 1000), std::move(backtrace));
  return Reply::ok();
}

// BEAT (F: server/commands.go heartbeat; transcript 07).
Reply ServerState::beat(std::string_view payload) {
  json::value doc;
  std::string wid, current_state;
  std::int64_t rss_kb = 0;
  std::string err = decode_doc(payload, doc);
  if (err.empty()) {
    err =
        decode_struct(doc, {{"wid", &wid}, {"current_state", &current_state}, {"rss_kb", &rss_kb}},
                      "ClientBeat", "server.ClientBeat");
  }
  if (!err.empty()) return Reply::error("invalid BEAT " + std::string(payload));
  auto it = workers_.find(wid);
  if (it == workers_.end()) return Reply::error("unknown worker " + wid);
  it->second.last_beat = now();
  it->second.rss_kb = rss_kb;
  if (!current_state.empty()) {
    // Unknown state names mean "running", which Signal ignores (transcript 07 §5).
    WorkerState s = current_state == "quiet"       ? WorkerState::quiet
                    : current_state == "terminate" ? WorkerState::terminate
                                                   : WorkerState::running;
    signal_worker(wid, s);
  }
  WorkerState s = it->second.state;
  if (s == WorkerState::running) return Reply::ok();
  // A bulk reply, not a simple string (PROTOCOL.md §0.2).
  return Reply::bulk("{\"state\":\"" + std::string(to_string(s)) + "\"}");
}

// MUTATE (F: server/mutate.go; transcript 09 §7 for every error text).
Reply ServerState::mutate(std::string_view line) {
  auto parts = split_spaces(line);
  if (parts.size() != 2) return Reply::error("invalid format");
  json::value doc;
  std::string err = decode_doc(parts[1], doc);
  std::string cmd, target, regexp, jobtype;
  std::vector<std::string> jids;
  if (err.empty()) {
    const std::vector<GoField> filter{{"regexp", &regexp}, {"jids", &jids}, {"jobtype", &jobtype}};
    err = decode_struct(doc, {{"cmd", &cmd}, {"target", &target}, {"filter", &filter}}, "Operation",
                        "client.Operation");
  }
  // The decoder's own message, no prefix (transcript 09: "invalid character 'b' ...").
  if (!err.empty()) return Reply::error(err);
  if (cmd != "clear" && cmd != "kill" && cmd != "discard" && cmd != "requeue") {
    return Reply::error("unknown mutate operation");
  }
  SortedSet* set = set_for(target);
  if (!set) return Reply::error("invalid target for mutation command");
  if (cmd == "clear") {
    set->clear();
    return Reply::ok();
  }
  // With jids the other filters are ignored; otherwise the glob (default "*", or one built
  // from the jobtype) is matched against the stored payload as Redis SCAN MATCH would.
  std::string pattern = !regexp.empty()    ? regexp
                        : !jobtype.empty() ? "*\"jobtype\":\"" + jobtype + "\"*"
                                           : "*";
  auto matches = [&](const Job& job) {
    if (!jids.empty()) return std::find(jids.begin(), jids.end(), job.jid) != jids.end();
    return glob_match(pattern, encode_job(job));
  };
  std::vector<Job> picked;
  for (auto it = set->begin(); it != set->end();) {
    if (matches(it->second)) {
      picked.push_back(std::move(it->second));
      it = set->erase(it);
    } else {
      ++it;
    }
  }
  for (auto& job : picked) {
    if (cmd == "kill") {
      if (job.failure) job.failure->next_at.clear();
      dead_.emplace(now(), std::move(job));
    } else if (cmd == "requeue") {
      enqueue(std::move(job), false);  // keeps its old enqueued_at (README table)
    }
    // discard: dropped.
  }
  return Reply::ok();
}

// QUEUE PAUSE|RESUME|REMOVE|LATENCY (transcript 09 §1-6). "QUEUE" alone and PAUSE/REMOVE
// without names crash 1.9.x; we answer as 1.10 does (PROTOCOL.md §0.13, transcript 12).
Reply ServerState::queue(std::string_view line) {
  auto parts = split_spaces(line);
  if (parts.size() < 2) return Reply::error("internal error");
  std::string sub = parts[1];
  for (auto& c : sub) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::vector<std::string> names(parts.begin() + 2, parts.end());
  bool star = std::find(names.begin(), names.end(), "*") != names.end();
  // Only queues the server already knows are paused/removed (transcript 09 §4).
  auto targets = [&] {
    std::vector<std::string> out;
    for (const auto& q :
         star ? std::vector<std::string>(known_queues_.begin(), known_queues_.end()) : names) {
      if (known_queues_.count(q)) out.push_back(q);
    }
    return out;
  };
  if (sub == "PAUSE") {
    if (names.empty()) return Reply::error("internal error");
    for (const auto& q : targets()) paused_.insert(q);
    return Reply::ok();
  }
  if (sub == "RESUME") {
    for (const auto& q : targets()) paused_.erase(q);
    return Reply::ok();
  }
  if (sub == "REMOVE") {
    if (names.empty()) return Reply::error("internal error");
    for (const auto& q : targets()) {
      queues_.erase(q);
      known_queues_.erase(q);
      paused_.erase(q);
    }
    return Reply::ok();
  }
  if (sub == "LATENCY") {
    if (star) return Reply::error("QUEUE LATENCY does not support wildcards");
    std::map<std::string, double> lat;
    for (const auto& q : names) {
      double v = 0;
      auto it = queues_.find(q);
      if (it != queues_.end() && !it->second.empty()) {
        auto parsed = gotime::parse_rfc3339nano(it->second.front().enqueued_at);
        if (auto* t = std::get_if<Time>(&parsed)) {
          v = std::chrono::duration<double>(now() - *t).count();
        }
      }
      lat[q] = v;
    }
    std::string out = "{";
    for (const auto& [q, v] : lat) {
      if (out.size() > 1) out += ',';
      gojson::write_string(out, q);
      out += ':';
      gojson::write_float(out, v);
    }
    out += '}';
    return Reply::bulk(std::move(out));
  }
  return Reply::error("no such QUEUE subcommand: " + sub);
}

}  // namespace factotum::testing::detail
