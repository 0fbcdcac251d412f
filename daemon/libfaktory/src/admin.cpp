// faktory::Info (INFO read out), faktory::Filter, and MUTATE's operation.
#include "internal.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace faktory {
namespace {

namespace json = boost::json;

const json::value* find(const json::value* v, std::string_view key) {
  if (v == nullptr || !v->is_object()) return nullptr;
  return v->as_object().if_contains(key);
}

std::int64_t to_int(const json::value* v, std::int64_t otherwise = 0) {
  if (v == nullptr) return otherwise;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  if (v->is_double()) return static_cast<std::int64_t>(v->get_double());
  return otherwise;
}

const char* mutation_name(Mutation mutation) {
  switch (mutation) {
    case Mutation::requeue:
      return "requeue";
    case Mutation::discard:
      return "discard";
    case Mutation::kill:
      return "kill";
    case Mutation::clear:
      return "clear";
  }
  return "requeue";
}

const char* target_name(Target target) {
  switch (target) {
    case Target::retries:
      return "retries";
    case Target::scheduled:
      return "scheduled";
    case Target::dead:
      return "dead";
  }
  return "retries";
}

}  // namespace

struct FACTOTUM_FAKTORY_HIDDEN Info::Impl {
  std::string text;
  json::value parsed;  // null when the text is not JSON
};

Info::Info(std::string text) : impl_(std::make_unique<Impl>()) {
  boost::system::error_code ec;
  impl_->parsed = json::parse(text, ec);
  if (ec) impl_->parsed = nullptr;
  impl_->text = std::move(text);
}
Info::~Info() = default;
Info::Info(const Info& other) : impl_(std::make_unique<Impl>(*other.impl_)) {}
Info& Info::operator=(const Info& other) {
  if (this != &other) impl_ = std::make_unique<Impl>(*other.impl_);
  return *this;
}
Info::Info(Info&& other) noexcept : impl_(std::make_unique<Impl>()) {
  std::swap(impl_, other.impl_);
}
Info& Info::operator=(Info&& other) noexcept {
  std::swap(impl_, other.impl_);
  return *this;
}

const std::string& Info::json() const noexcept {
  return impl_->text;
}

std::string Info::server_version() const {
  const json::value* v = find(find(&impl_->parsed, "server"), "faktory_version");
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}
std::int64_t Info::uptime_seconds() const {
  return to_int(find(find(&impl_->parsed, "server"), "uptime"));
}
std::int64_t Info::total_processed() const {
  return to_int(find(find(&impl_->parsed, "faktory"), "total_processed"));
}
std::int64_t Info::total_failures() const {
  return to_int(find(find(&impl_->parsed, "faktory"), "total_failures"));
}
std::int64_t Info::total_enqueued() const {
  return to_int(find(find(&impl_->parsed, "faktory"), "total_enqueued"));
}
std::vector<std::pair<std::string, std::int64_t>> Info::queues() const {
  std::vector<std::pair<std::string, std::int64_t>> out;
  const json::value* queues = find(find(&impl_->parsed, "faktory"), "queues");
  if (queues == nullptr || !queues->is_object()) return out;
  for (const auto& [name, size] : queues->get_object()) {
    out.emplace_back(std::string(name), to_int(&size));
  }
  return out;
}
std::int64_t Info::set_size(std::string_view name) const {
  return to_int(find(find(find(&impl_->parsed, "faktory"), "sets"), name), -1);
}

Filter::Filter() : impl_(std::make_unique<Impl>()) {}
Filter::~Filter() = default;
Filter::Filter(const Filter& other) : impl_(std::make_unique<Impl>(*other.impl_)) {}
Filter& Filter::operator=(const Filter& other) {
  if (this != &other) impl_ = std::make_unique<Impl>(*other.impl_);
  return *this;
}
Filter::Filter(Filter&& other) noexcept : impl_(std::make_unique<Impl>()) {
  std::swap(impl_, other.impl_);
}
Filter& Filter::operator=(Filter&& other) noexcept {
  std::swap(impl_, other.impl_);
  return *this;
}
Filter& Filter::jobtype(std::string_view jobtype) {
  impl_->jobtype = std::string(jobtype);
  return *this;
}
Filter& Filter::regexp(std::string_view pattern) {
  impl_->regexp = std::string(pattern);
  return *this;
}
Filter& Filter::jids(std::vector<std::string> jids) {
  impl_->jids = std::move(jids);
  return *this;
}

namespace detail {

json::object mutate_operation(Mutation mutation, Target target, const Filter& filter) {
  json::object op;
  op["cmd"] = mutation_name(mutation);
  op["target"] = target_name(target);
  const Filter::Impl& f = filter.impl();
  json::object fields;
  if (f.jobtype) fields["jobtype"] = *f.jobtype;
  if (f.regexp) fields["regexp"] = *f.regexp;
  if (f.jids) {
    json::array jids;
    for (const auto& jid : *f.jids) jids.emplace_back(jid);
    fields["jids"] = std::move(jids);
  }
  if (!fields.empty() && mutation != Mutation::clear) op["filter"] = std::move(fields);
  return op;
}

}  // namespace detail
}  // namespace faktory
