// salvage_job on arbitrary bytes must return a jid or nothing, never crash, and agree with
// Boost.JSON: a reference scan (basic_parser over the whole input, a handler that tracks the
// depth) finds the same first top-level string jid and jobtype before the first JSON error.
// The problem must stay one bounded line.
#include "faktory/job.hpp"
#include "faktory/job_salvage.hpp"

#include <boost/json/basic_parser_impl.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace {

namespace json = boost::json;
using namespace factotum::faktory;

// The reference recurses once per nesting level (basic_parser does): keep it shallow enough
// for any stack; deeper inputs are checked for the invariants only.
constexpr std::size_t kReferenceMaxDepth = 1000;

struct Reference {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  std::size_t depth = 0;
  bool root_is_object = false;
  bool started = false;
  std::string key;   // the last top-level member name
  std::string text;  // the key or string being read
  std::optional<std::string> jid, jobtype;

  bool begin(bool object) {
    if (!started) root_is_object = object;
    started = true;
    ++depth;
    return true;
  }
  bool end() {
    --depth;
    return true;
  }
  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) { return begin(true); }
  bool on_object_end(std::size_t, json::error_code&) { return end(); }
  bool on_array_begin(json::error_code&) { return begin(false); }
  bool on_array_end(std::size_t, json::error_code&) { return end(); }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    text.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    text.append(s.data(), s.size());
    if (depth == 1) key = text;  // the top-level member whose value comes next
    text.clear();
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    text.append(s.data(), s.size());
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    text.append(s.data(), s.size());
    if (depth == 1 && root_is_object) {
      if (key == "jid" && !jid && !text.empty() && text.size() <= kSalvageMaxJidBytes) jid = text;
      if (key == "jobtype" && !jobtype) jobtype = text;
    }
    text.clear();
    started = true;
    return true;
  }
  bool scalar() {
    started = true;
    return true;
  }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t, json::string_view, json::error_code&) { return scalar(); }
  bool on_uint64(std::uint64_t, json::string_view, json::error_code&) { return scalar(); }
  bool on_double(double, json::string_view, json::error_code&) { return scalar(); }
  bool on_bool(bool, json::error_code&) { return scalar(); }
  bool on_null(json::error_code&) { return scalar(); }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = Job::parse(text);
  const std::string parse_error = parsed ? std::string() : parsed.error().message;
  const auto salvaged = salvage_job(text, parse_error);

  if (salvaged) {
    const std::string& problem = salvaged->problem;
    if (problem.empty() || problem.size() > 512) std::abort();
    for (const char c : problem) {
      if (static_cast<unsigned char>(c) < 0x20) std::abort();  // one line
    }
    if (salvaged->jid.empty() || salvaged->jid.size() > kSalvageMaxJidBytes) std::abort();
    if (salvaged->jobtype.size() > kSalvageMaxJobtypeBytes) std::abort();
  }

  json::parse_options options;
  options.max_depth = kReferenceMaxDepth;
  json::basic_parser<Reference> reference(options);
  json::error_code ec;
  const std::size_t used = reference.write_some(false, text.data(), text.size(), ec);
  if (!ec && used < text.size()) ec = json::error::extra_data;  // what json::parse says
  if (ec == json::error::too_deep) return 0;
  const Reference& found = reference.handler();

  // The same jid, or none on both sides.
  if (found.jid.has_value() != salvaged.has_value()) std::abort();
  if (!salvaged) return 0;
  if (*found.jid != salvaged->jid) std::abort();
  // The same jobtype, cut the same way.
  const std::string want_jobtype = found.jobtype.value_or("");
  if (want_jobtype.compare(0, salvaged->jobtype.size(), salvaged->jobtype) != 0) std::abort();
  if (salvaged->jobtype_truncated != (want_jobtype.size() > kSalvageMaxJobtypeBytes)) {
    std::abort();
  }
  if (!salvaged->jobtype_truncated && want_jobtype != salvaged->jobtype) std::abort();
  // The problem names a JSON error exactly when there is one.
  const bool says_invalid = salvaged->problem.rfind("the job's JSON is invalid", 0) == 0 ||
                            salvaged->problem.rfind("the job's JSON ends early", 0) == 0;
  const bool says_too_deep = salvaged->problem.rfind("the job's JSON nests deeper", 0) == 0;
  if (!ec && says_invalid) std::abort();
  if (ec && !says_invalid && !says_too_deep) std::abort();
  return 0;
}
