// Job::parse on arbitrary bytes must return a job or an error, never crash; a parsed job must
// serialize to one line of JSON that parses again into the same job (nothing lost, nothing
// invented).
#include "faktory/job.hpp"

#include <boost/json/value.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

namespace json = boost::json;

// Equality, except that doubles may differ in their last bits: Boost.JSON 1.81 parses numbers
// with a fast, not always correctly rounded algorithm (exact parsing arrived in 1.83), so a
// double can move by an ulp on each parse. Everything else must match exactly.
bool same(const json::value& a, const json::value& b) {
  if (a.is_double() && b.is_double()) {
    const double x = a.get_double();
    const double y = b.get_double();
    return x == y || std::fabs(x - y) <= 1e-12 * std::fmax(std::fabs(x), std::fabs(y));
  }
  if (a.kind() != b.kind()) return false;
  if (a.is_array()) {
    const auto& l = a.get_array();
    const auto& r = b.get_array();
    if (l.size() != r.size()) return false;
    for (std::size_t i = 0; i < l.size(); ++i) {
      if (!same(l[i], r[i])) return false;
    }
    return true;
  }
  if (a.is_object()) {
    const auto& l = a.get_object();
    const auto& r = b.get_object();
    if (l.size() != r.size()) return false;
    for (const auto& [key, value] : l) {
      const auto* other = r.if_contains(key);
      if (other == nullptr || !same(value, *other)) return false;
    }
    return true;
  }
  return a == b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using factotum::faktory::Job;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto job = Job::parse(text);
  if (!job) {
    (void)job.error().what();
    return 0;
  }
  (void)job->validate();
  const std::string once = job->serialize();
  if (once.find_first_of("\r\n") != std::string::npos) std::abort();  // must stay one line
  auto again = Job::parse(once);
  if (!again) std::abort();
  if (!same(json::value(again->to_json()), json::value(job->to_json()))) std::abort();
  return 0;
}
