#include "faktory/job_salvage.hpp"

#include "faktory/quote.hpp"

#include <boost/json/basic_parser_impl.hpp>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace factotum::faktory {
namespace {

namespace json = boost::json;

// How much of the payload a problem shows around the byte at fault.
constexpr std::size_t kExcerptBytes = 16;
// Keys longer than this cannot be "jid" or "jobtype": only this much of a key is decoded.
constexpr std::size_t kKeyBytes = 8;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_number_char(char c) {
  return is_digit(c) || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}
bool is_word_char(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Drops a UTF-8 sequence cut short at the end of `s` (after truncating a valid string).
void trim_partial_utf8(std::string& s) {
  std::size_t lead = s.size();
  // At most 3 continuation bytes precede the lead byte of the last sequence.
  while (lead > 0 && s.size() - lead < 4 &&
         (static_cast<unsigned char>(s[lead - 1]) & 0xc0) == 0x80) {
    --lead;
  }
  if (lead == 0) return;
  const auto first = static_cast<unsigned char>(s[lead - 1]);
  const std::size_t length = first < 0x80 ? 1 : first >= 0xf0 ? 4 : first >= 0xe0 ? 3 : 2;
  if (s.size() - (lead - 1) < length) s.resize(lead - 1);
}

// `text` on one line: control bytes become spaces; cut to `max` bytes (at a UTF-8 boundary).
std::string one_line(std::string_view text, std::size_t max) {
  std::string out(text.substr(0, max));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  if (text.size() > max) {
    trim_partial_utf8(out);
    out += "...";
  }
  return out;
}

// basic_parser's handler for one scalar token (a string, number or literal, never a
// container: the scan walks containers itself). It keeps the first `limit` bytes of a decoded
// string in `*into` and counts them all.
struct ScalarHandler {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  std::string* into = nullptr;
  std::size_t limit = 0;
  std::size_t size = 0;

  bool take(json::string_view part) {
    if (into != nullptr && into->size() < limit) {
      into->append(part.data(), std::min(part.size(), limit - into->size()));
    }
    size += part.size();
    return true;
  }

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) { return true; }
  bool on_object_end(std::size_t, json::error_code&) { return true; }
  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(std::size_t, json::error_code&) { return true; }
  bool on_key_part(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_key(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_string_part(json::string_view s, std::size_t, json::error_code&) { return take(s); }
  bool on_string(json::string_view s, std::size_t, json::error_code&) { return take(s); }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t, json::string_view, json::error_code&) { return true; }
  bool on_uint64(std::uint64_t, json::string_view, json::error_code&) { return true; }
  bool on_double(double, json::string_view, json::error_code&) { return true; }
  bool on_bool(bool, json::error_code&) { return true; }
  bool on_null(json::error_code&) { return true; }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }
};

// The open containers, one bit each (1 = object): the scan's only memory that grows with
// the nesting depth.
class Nesting {
 public:
  void push(bool object) {
    if (depth_ / 64 == words_.size()) words_.push_back(0);
    const std::uint64_t bit = std::uint64_t{1} << (depth_ % 64);
    if (object) {
      words_[depth_ / 64] |= bit;
    } else {
      words_[depth_ / 64] &= ~bit;
    }
    ++depth_;
  }
  void pop() { --depth_; }
  std::size_t depth() const { return depth_; }
  bool in_object() const {
    const std::size_t top = depth_ - 1;
    return (words_[top / 64] >> (top % 64)) & 1;
  }

 private:
  std::vector<std::uint64_t> words_;
  std::size_t depth_ = 0;
};

// The scan: a pushdown automaton over the payload's bytes whose stack is Nesting, so depth
// costs heap bits, not stack frames. basic_parser only ever sees one scalar at a time, so its
// own recursion (one C++ frame per level, 80-180 bytes each) never goes past the first.
class Scan {
 public:
  explicit Scan(std::string_view payload) : in_(payload), scalar_(json::parse_options{}) {}

  std::optional<SalvagedJob> run(std::string_view parse_error) {
    skip_space();
    if (at_ == in_.size() || in_[at_] != '{') return std::nullopt;  // no object, no jid
    while (!done()) step();
    if (!have_jid_) return std::nullopt;
    job_.problem = describe(parse_error);
    return std::move(job_);
  }

 private:
  // What the grammar allows next. Values inside the root object are at depth 1.
  enum class Expect {
    value,
    value_or_array_end,
    key_or_object_end,
    key,
    colon,
    comma_or_end,
    nothing,  // the root object is closed
  };
  // Which top-level member the value being read belongs to.
  enum class Member { other, jid, jobtype };

  bool done() const {
    if (error_at_) return true;
    if (deep_at_ && have_jid_ && have_jobtype_) return true;
    return expect_ == Expect::nothing && at_ == in_.size();
  }

  void fail(std::size_t at, std::string reason) {
    error_at_ = at;
    error_reason_ = std::move(reason);
  }

  void skip_space() {
    while (at_ < in_.size() && is_space(in_[at_])) ++at_;
  }

  void step() {
    skip_space();
    if (at_ == in_.size()) {
      if (expect_ != Expect::nothing) fail(at_, "it ends before the job's object is closed");
      return;
    }
    const char c = in_[at_];
    switch (expect_) {
      case Expect::value_or_array_end:
        if (c == ']') return close();
        [[fallthrough]];
      case Expect::value:
        return value(c);
      case Expect::key_or_object_end:
        if (c == '}') return close();
        [[fallthrough]];
      case Expect::key:
        if (c != '"') return fail(at_, "expected a member name in double quotes");
        return key();
      case Expect::colon:
        if (c != ':') return fail(at_, "expected ':' after a member name");
        ++at_;
        expect_ = Expect::value;
        return;
      case Expect::comma_or_end:
        if (c == ',') {
          ++at_;
          expect_ = nesting_.in_object() ? Expect::key : Expect::value;
          return;
        }
        if (c == (nesting_.in_object() ? '}' : ']')) return close();
        return fail(at_, nesting_.in_object() ? "expected ',' or '}'" : "expected ',' or ']'");
      case Expect::nothing:
        return fail(at_, "data after the job's object");
    }
  }

  void open(bool object) {
    nesting_.push(object);
    if (nesting_.depth() > kJobParseMaxDepth && !deep_at_) deep_at_ = at_;
    ++at_;
    expect_ = object ? Expect::key_or_object_end : Expect::value_or_array_end;
  }

  void close() {
    nesting_.pop();
    ++at_;
    after_value();
  }

  void after_value() { expect_ = nesting_.depth() == 0 ? Expect::nothing : Expect::comma_or_end; }

  void value(char c) {
    if (c == '{' || c == '[') return open(c == '{');
    const bool top_level = nesting_.depth() == 1;
    if (c == '"') {
      if (top_level && member_ == Member::jid && !have_jid_) {
        std::string candidate;
        const std::size_t size = string_token(&candidate, kSalvageMaxJidBytes + 1);
        if (!error_at_ && size > 0 && size <= kSalvageMaxJidBytes) {
          job_.jid = std::move(candidate);
          have_jid_ = true;
        }
      } else if (top_level && member_ == Member::jobtype && !have_jobtype_) {
        const std::size_t size = string_token(&job_.jobtype, kSalvageMaxJobtypeBytes);
        if (!error_at_) {
          have_jobtype_ = true;
          job_.jobtype_truncated = size > kSalvageMaxJobtypeBytes;
          if (job_.jobtype_truncated) trim_partial_utf8(job_.jobtype);
        } else {
          job_.jobtype.clear();
        }
      } else {
        string_token(nullptr, 0);
      }
    } else if (c == '-' || is_digit(c)) {
      token(run_end(is_number_char), nullptr, 0);
    } else if (c == 't' || c == 'f' || c == 'n') {
      token(run_end(is_word_char), nullptr, 0);
    } else {
      return fail(at_, "expected a value");
    }
    if (!error_at_) after_value();
  }

  void key() {
    if (nesting_.depth() != 1) {
      string_token(nullptr, 0);
    } else {
      std::string name;
      const std::size_t size = string_token(&name, kKeyBytes);
      member_ = size == 3 && name == "jid"       ? Member::jid
                : size == 7 && name == "jobtype" ? Member::jobtype
                                                 : Member::other;
    }
    if (!error_at_) expect_ = Expect::colon;
  }

  // The end of the run of `accept` characters starting at at_.
  template <class Accept>
  std::size_t run_end(Accept accept) const {
    std::size_t end = at_;
    while (end < in_.size() && accept(in_[end])) ++end;
    return end;
  }

  // Reads the string token at at_ (its closing quote found by skipping escaped bytes);
  // returns its decoded size.
  std::size_t string_token(std::string* into, std::size_t limit) {
    std::size_t end = at_ + 1;
    while (end < in_.size() && in_[end] != '"') end += in_[end] == '\\' ? 2u : 1u;
    return token(std::min(end + 1, in_.size()), into, limit);
  }

  // Validates (and for strings decodes) the scalar [at_, end) with Boost.JSON, as a complete
  // document; moves at_ past it. Returns the decoded string size (0 for other scalars).
  std::size_t token(std::size_t end, std::string* into, std::size_t limit) {
    scalar_.reset();
    scalar_.handler() = ScalarHandler{into, limit, 0};
    json::error_code ec;
    const std::size_t used = scalar_.write_some(false, in_.data() + at_, end - at_, ec);
    if (ec) {
      // "incomplete JSON" is only true at the payload's end; before it, a token cut short
      // ("tru", "-") is a syntax error, as the full parse calls it.
      const bool cut_short = ec == json::error::incomplete && end < in_.size();
      fail(at_ + used, cut_short ? "syntax error" : ec.message());
      return 0;
    }
    if (used < end - at_) {  // "nullx", "1e5e5": basic_parser stops after the first value
      fail(at_ + used, "syntax error");
      return 0;
    }
    at_ = end;
    return scalar_.handler().size;
  }

  std::string describe(std::string_view parse_error) const {
    if (deep_at_ && (!error_at_ || *deep_at_ < *error_at_)) {
      return "the job's JSON nests deeper than " + std::to_string(kJobParseMaxDepth) +
             " levels (level " + std::to_string(kJobParseMaxDepth + 1) + " opens at byte " +
             std::to_string(*deep_at_) + ")";
    }
    if (error_at_ && *error_at_ >= in_.size()) {
      return "the job's JSON ends early, at byte " + std::to_string(*error_at_) + " (" +
             error_reason_ + ")";
    }
    if (error_at_) {
      return "the job's JSON is invalid at byte " + std::to_string(*error_at_) + " (" +
             error_reason_ + ") near " +
             quote(in_.substr(*error_at_, kExcerptBytes), kExcerptBytes);
    }
    return "the job is not a valid Faktory job: " +
           one_line(parse_error, kSalvageMaxQuotedErrorBytes);
  }

  std::string_view in_;
  std::size_t at_ = 0;
  Expect expect_ = Expect::value;
  Nesting nesting_;
  Member member_ = Member::other;
  json::basic_parser<ScalarHandler> scalar_;

  SalvagedJob job_;
  bool have_jid_ = false;
  bool have_jobtype_ = false;
  std::optional<std::size_t> deep_at_;   // where the first level past kJobParseMaxDepth opens
  std::optional<std::size_t> error_at_;  // where the first JSON error is
  std::string error_reason_;
};

}  // namespace

std::optional<SalvagedJob> salvage_job(std::string_view payload, std::string_view parse_error) {
  return Scan(payload).run(parse_error);
}

}  // namespace factotum::faktory
