#include "server_job.hpp"

#include "go_json.hpp"

#include <boost/json/string.hpp>

#include <cctype>

namespace factotum::testing::detail {
namespace {

namespace json = boost::json;

// Go matches object keys to struct fields exactly first, then ASCII case-insensitively.
bool key_matches(std::string_view key, std::string_view name) {
  if (key.size() != name.size()) return false;
  for (std::size_t i = 0; i < key.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(key[i])) !=
        std::tolower(static_cast<unsigned char>(name[i]))) {
      return false;
    }
  }
  return true;
}

std::string type_error(std::string_view what, std::string_view struct_name, std::string_view field,
                       std::string_view go_type) {
  return "json: cannot unmarshal " + std::string(what) + " into Go struct field " +
         std::string(struct_name) + "." + std::string(field) + " of type " + std::string(go_type);
}

void remember(std::string& first, std::string err) {
  if (first.empty()) first = std::move(err);
}

// A decoder for one struct: the caller offers every key; setters report type errors.
struct StructDecoder {
  std::string_view struct_name;
  std::string& first_error;

  void string(const json::value& v, std::string_view field, std::string& out) const {
    if (v.is_null()) return;
    if (!v.is_string()) {
      remember(first_error, type_error(gojson::kind_name(v), struct_name, field, "string"));
      return;
    }
    out = std::string(v.get_string());
  }
  bool integer(const json::value& v, std::string_view field, std::int64_t& out,
               std::string_view go_type = "int") const {
    if (v.is_null()) return false;
    std::string what;
    auto n = gojson::as_int(v, what);
    if (!n) {
      remember(first_error, type_error(what, struct_name, field, go_type));
      return false;
    }
    out = *n;
    return true;
  }
  void strings(const json::value& v, std::string_view field, std::vector<std::string>& out) const {
    if (v.is_null()) {
      out.clear();
      return;
    }
    if (!v.is_array()) {
      remember(first_error, type_error(gojson::kind_name(v), struct_name, field, "[]string"));
      return;
    }
    out.clear();
    for (const auto& e : v.get_array()) {
      if (e.is_string()) {
        out.emplace_back(e.get_string());
      } else {
        if (!e.is_null()) {
          remember(first_error, type_error(gojson::kind_name(e), struct_name, field, "string"));
        }
        out.emplace_back();
      }
    }
  }
};

void decode_failure(const json::value& v, Failure& f, std::string& first_error) {
  StructDecoder d{"Job.failure", first_error};
  for (const auto& kv : v.get_object()) {
    std::string_view k = kv.key();
    const auto& val = kv.value();
    if (key_matches(k, "retry_count"))
      d.integer(val, "retry_count", f.retry_count);
    else if (key_matches(k, "remaining"))
      d.integer(val, "remaining", f.remaining);
    else if (key_matches(k, "failed_at"))
      d.string(val, "failed_at", f.failed_at);
    else if (key_matches(k, "next_at"))
      d.string(val, "next_at", f.next_at);
    else if (key_matches(k, "message"))
      d.string(val, "message", f.message);
    else if (key_matches(k, "errtype"))
      d.string(val, "errtype", f.errtype);
    else if (key_matches(k, "backtrace"))
      d.strings(val, "backtrace", f.backtrace);
  }
}

}  // namespace

void decode_job(const json::value& v, Job& job, std::string& first_error) {
  if (v.is_null()) return;
  if (!v.is_object()) {
    remember(first_error, "json: cannot unmarshal " + std::string(gojson::kind_name(v)) +
                              " into Go value of type client.Job");
    return;
  }
  StructDecoder d{"Job", first_error};
  for (const auto& kv : v.get_object()) {
    std::string_view k = kv.key();
    const auto& val = kv.value();
    if (key_matches(k, "retry")) {
      std::int64_t n = 0;
      if (d.integer(val, "retry", n)) job.retry = n;
    } else if (key_matches(k, "failure")) {
      if (val.is_null()) {
        job.failure.reset();
      } else if (!val.is_object()) {
        remember(first_error,
                 type_error(gojson::kind_name(val), "Job", "failure", "client.Failure"));
      } else {
        if (!job.failure) job.failure.emplace();
        decode_failure(val, *job.failure, first_error);
      }
    } else if (key_matches(k, "custom")) {
      if (val.is_null()) {
        job.custom.clear();
      } else if (!val.is_object()) {
        remember(first_error,
                 type_error(gojson::kind_name(val), "Job", "custom", "map[string]interface {}"));
      } else {
        for (const auto& c : val.get_object()) job.custom[c.key()] = c.value();
      }
    } else if (key_matches(k, "jid")) {
      d.string(val, "jid", job.jid);
    } else if (key_matches(k, "queue")) {
      d.string(val, "queue", job.queue);
    } else if (key_matches(k, "jobtype")) {
      d.string(val, "jobtype", job.jobtype);
    } else if (key_matches(k, "created_at")) {
      d.string(val, "created_at", job.created_at);
    } else if (key_matches(k, "enqueued_at")) {
      d.string(val, "enqueued_at", job.enqueued_at);
    } else if (key_matches(k, "at")) {
      d.string(val, "at", job.at);
    } else if (key_matches(k, "args")) {
      if (val.is_null()) {
        job.args.reset();  // Go: null into a slice makes it nil
      } else if (!val.is_array()) {
        remember(first_error, type_error(gojson::kind_name(val), "Job", "args", "[]interface {}"));
      } else {
        job.args = val.get_array();
      }
    } else if (key_matches(k, "reserve_for")) {
      d.integer(val, "reserve_for", job.reserve_for);
    } else if (key_matches(k, "backtrace")) {
      d.integer(val, "backtrace", job.backtrace);
    }
    // Anything else (priority, foo, ...) has no struct field: dropped (PROTOCOL.md §0.7).
  }
}

std::string encode_job(const Job& job) {
  std::string out;
  out.reserve(256);
  auto str_field = [&](const char* name, const std::string& value, bool omit_empty) {
    if (omit_empty && value.empty()) return;
    out += ",\"";
    out += name;
    out += "\":";
    gojson::write_string(out, value);
  };
  out += "{\"retry\":";
  out += std::to_string(job.retry.value_or(0));
  if (job.failure) {
    const Failure& f = *job.failure;
    out += ",\"failure\":{\"failed_at\":";
    gojson::write_string(out, f.failed_at);
    str_field("next_at", f.next_at, true);
    str_field("message", f.message, true);
    str_field("errtype", f.errtype, true);
    if (!f.backtrace.empty()) {
      out += ",\"backtrace\":[";
      for (std::size_t i = 0; i < f.backtrace.size(); ++i) {
        if (i) out += ',';
        gojson::write_string(out, f.backtrace[i]);
      }
      out += ']';
    }
    out += ",\"retry_count\":" + std::to_string(f.retry_count);
    out += ",\"remaining\":" + std::to_string(f.remaining) + "}";
  }
  if (!job.custom.empty()) {
    out += ",\"custom\":";
    gojson::write_value(out, json::value(job.custom));
  }
  str_field("jid", job.jid, false);
  str_field("queue", job.queue, false);
  str_field("jobtype", job.jobtype, false);
  str_field("created_at", job.created_at, true);
  str_field("enqueued_at", job.enqueued_at, true);
  str_field("at", job.at, true);
  out += ",\"args\":";
  if (job.args) {
    gojson::write_value(out, json::value(*job.args));
  } else {
    out += "null";
  }
  if (job.reserve_for != 0) out += ",\"reserve_for\":" + std::to_string(job.reserve_for);
  if (job.backtrace != 0) out += ",\"backtrace\":" + std::to_string(job.backtrace);
  out += '}';
  return out;
}

std::string decode_struct(const json::value& v, const std::vector<GoField>& fields,
                          const char* struct_name, const char* top_type) {
  std::string first_error;
  if (v.is_null()) return first_error;
  if (!v.is_object()) {
    return "json: cannot unmarshal " + std::string(gojson::kind_name(v)) +
           " into Go value of type " + top_type;
  }
  StructDecoder d{struct_name, first_error};
  for (const auto& kv : v.get_object()) {
    const GoField* field = nullptr;
    for (const auto& f : fields) {
      if (kv.key() == f.name) {
        field = &f;
        break;
      }
    }
    if (!field) {
      for (const auto& f : fields) {
        if (key_matches(kv.key(), f.name)) {
          field = &f;
          break;
        }
      }
    }
    if (!field) continue;
    const auto& val = kv.value();
    if (field->present && !val.is_null()) *field->present = true;
    if (auto* s = std::get_if<std::string*>(&field->target)) {
      d.string(val, field->name, **s);
    } else if (auto* i = std::get_if<std::int64_t*>(&field->target)) {
      d.integer(val, field->name, **i, "int64");
    } else if (auto* u = std::get_if<GoUint8*>(&field->target)) {
      std::int64_t n = 0;
      if (d.integer(val, field->name, n, "uint8")) {
        if (n < 0 || n > 255) {
          remember(first_error,
                   type_error("number " + std::to_string(n), struct_name, field->name, "uint8"));
        } else {
          (*u)->value = n;
        }
      }
    } else if (auto* a = std::get_if<std::vector<std::string>*>(&field->target)) {
      d.strings(val, field->name, **a);
    } else if (auto* o = std::get_if<const std::vector<GoField>*>(&field->target)) {
      if (!val.is_null()) {
        std::string err = decode_struct(val, **o, struct_name, field->name);
        remember(first_error, std::move(err));
      }
    }
  }
  return first_error;
}

}  // namespace factotum::testing::detail
