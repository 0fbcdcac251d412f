// faktory::Job: the builder, and the internal job it becomes when pushed.
#include "internal.hpp"

#include "faktory/json_text.hpp"

#include <boost/json/serialize.hpp>

#include <charconv>
#include <cmath>

namespace faktory {
namespace {

namespace json = boost::json;

// Deep enough for any real payload; shallow enough that checking and freeing a parsed value
// (both recursive) fits in a small thread stack. (The server accepts 10 000 levels; factotum's
// own workers run up to 256.)
constexpr std::size_t kMaxDepth = 1000;

// Parses one JSON value; the error names the field and where in its text the problem is.
Result<json::value> parse_field(std::string_view field, std::string_view text) {
  auto parsed = internal::parse_json_text(text, kMaxDepth);
  if (parsed.error) {
    const std::size_t at = parsed.stopped_at;
    const std::string where = at < text.size() ? "at byte " + std::to_string(at + 1) + " of " +
                                                     std::to_string(text.size())
                                               : std::string("it ends too soon");
    return detail::make_error(
        ErrorCode::invalid_argument,
        std::string(field) + " is not valid JSON (" + where + "): " + parsed.error.message());
  }
  return std::move(parsed.value);
}

}  // namespace

namespace detail {

void append_arg(std::string& array, std::string_view string) {
  if (array.size() > 1) array += ',';
  array += json::serialize(json::string_view(string.data(), string.size()));
}
void append_arg(std::string& array, std::int64_t number) {
  if (array.size() > 1) array += ',';
  array += std::to_string(number);
}
void append_arg(std::string& array, std::uint64_t number) {
  if (array.size() > 1) array += ',';
  array += std::to_string(number);
}
void append_arg(std::string& array, double number) {
  if (array.size() > 1) array += ',';
  // JSON has no infinity or NaN: written as they are, the push fails and says where.
  array += std::isfinite(number) ? json::serialize(json::value(number))
                                 : std::string(std::isnan(number) ? "NaN" : "Infinity");
}
void append_arg(std::string& array, bool boolean) {
  if (array.size() > 1) array += ',';
  array += boolean ? "true" : "false";
}
void append_arg(std::string& array, const RawJson& value) {
  if (array.size() > 1) array += ',';
  array += value.text;
}

Result<internal::Job> internal_job(const Job& job) {
  const Job::Impl& impl = job.impl();
  internal::Job out = impl.job;
  auto args = parse_field("args", impl.args_json);
  if (!args) return args.error();
  if (!args->is_array()) return make_error(ErrorCode::invalid_argument, "args is not a JSON array");
  out.args = std::move(args->get_array());
  if (impl.custom_json) {
    auto custom = parse_field("custom", *impl.custom_json);
    if (!custom) return custom.error();
    if (!custom->is_object()) {
      return make_error(ErrorCode::invalid_argument, "custom is not a JSON object");
    }
    out.custom = std::move(custom->get_object());
  }
  if (auto valid = out.validate(); !valid) return to_public(valid.error());
  return out;
}

Result<std::vector<internal::Job>> internal_jobs(std::span<const Job> jobs) {
  std::vector<internal::Job> out;
  out.reserve(jobs.size());
  for (const Job& job : jobs) {
    auto one = internal_job(job);
    if (!one) {
      Error e = one.error();
      e.message = "job " + job.jid() + ": " + e.message;
      return e;
    }
    out.push_back(std::move(*one));
  }
  return out;
}

}  // namespace detail

Job::Job(std::string_view jobtype) : impl_(std::make_unique<Impl>()) {
  impl_->job = internal::Job::create(std::string(jobtype));
}
Job::~Job() = default;
Job::Job(const Job& other) : impl_(std::make_unique<Impl>(*other.impl_)) {}
Job& Job::operator=(const Job& other) {
  if (this != &other) impl_ = std::make_unique<Impl>(*other.impl_);
  return *this;
}
// A moved-from Job is left valid but empty (no jobtype): pushing it fails with invalid_job.
Job::Job(Job&& other) noexcept : impl_(std::make_unique<Impl>()) {
  std::swap(impl_, other.impl_);
}
Job& Job::operator=(Job&& other) noexcept {
  std::swap(impl_, other.impl_);
  return *this;
}

Job& Job::args_json(std::string_view array) {
  impl_->args_json = std::string(array);
  return *this;
}
Job& Job::queue(std::string_view name) {
  impl_->job.queue = std::string(name);
  return *this;
}
Job& Job::at(std::chrono::system_clock::time_point when) {
  // RFC 3339 in UTC with milliseconds, as the server parses it (Go's time.RFC3339Nano).
  const auto ms = std::chrono::floor<std::chrono::milliseconds>(when);
  const auto day = std::chrono::floor<std::chrono::days>(ms);
  const std::chrono::year_month_day ymd(day);
  const std::chrono::hh_mm_ss hms(ms - day);
  char text[40];
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", int(ymd.year()),
                unsigned(ymd.month()), unsigned(ymd.day()), int(hms.hours().count()),
                int(hms.minutes().count()), int(hms.seconds().count()),
                int(hms.subseconds().count()));
  impl_->job.at = text;
  return *this;
}
Job& Job::retry(int times) {
  impl_->job.retry = times;
  return *this;
}
Job& Job::reserve_for(std::chrono::seconds duration) {
  impl_->job.reserve_for = duration.count();
  return *this;
}
Job& Job::backtrace(int lines) {
  impl_->job.backtrace = lines;
  return *this;
}
Job& Job::custom_json(std::string_view object) {
  impl_->custom_json = std::string(object);
  return *this;
}
Job& Job::jid(std::string_view jid) {
  impl_->job.jid = std::string(jid);
  return *this;
}

const std::string& Job::jid() const noexcept {
  return impl_->job.jid;
}
const std::string& Job::jobtype() const noexcept {
  return impl_->job.jobtype;
}

Result<std::string> Job::to_json() const {
  auto job = detail::internal_job(*this);
  if (!job) return job.error();
  return job->serialize();
}

}  // namespace faktory
