// What a plugin hands the host, without dlopen: a descriptor built from the input as a plugin's
// entry point would return it (any size, version, name bytes, NULL fields), checked by
// check_descriptor() exactly as the loader checks it; then, as plugin_set_update.cpp goes on, a
// Generation whose init (played by this target, its calls read from the input) goes through the
// host function table: registrations with arbitrary names and NULL arguments, log lines, the
// config, push_job, job_fail; then the registry snapshot and the middleware order.
//
// Checks: the descriptor is read only within its size and a refusal is one line (sdk.h, ASan);
// every host call answers as sdk.h says (EINVAL, EEXIST, ESTATE, a jobtype another plugin
// holds is a conflict); the host copies what it is handed (the strings die after each call);
// every user_data the host accepted is destroyed exactly once and none it refused, shutdown runs
// once when init succeeded; job_fail's caps hold and never split a UTF-8 character.
#include "factotum/sdk.h"
#include "fuzz_input.hpp"
#include "plugins/descriptor.hpp"
#include "plugins/failure_limits.hpp"
#include "plugins/generation.hpp"
#include "plugins/host_api.hpp"
#include "plugins/registry.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace factotum::plugins;
using factotum::fuzz::FuzzInput;

constexpr std::string_view kOtherPlugin = "other-plugin";
constexpr std::string_view kTakenJobtype = "taken";  // registered by the other plugin
constexpr std::string_view kConfig = R"({"fuzz":true})";

// One user_data handed to a register function.
struct Slot {
  bool accepted = false;
  bool has_destroy = false;
  int destroyed = 0;
};

// The state of one run: init has no user pointer, so the plugin's script lives here.
struct Run {
  FuzzInput* script = nullptr;
  std::deque<Slot> slots;                         // stable addresses: they are the user_data
  std::vector<std::string> jobtypes, middleware;  // what the host accepted, in order
  std::size_t taken_attempts = 0;
  std::size_t log_lines = 0;
  factotum_status init_returned = FACTOTUM_OK;
  int shutdowns = 0;
};
Run* run = nullptr;

factotum_status job_fn(factotum_job*, void*) {
  return FACTOTUM_OK;
}
void destroy_slot(void* user_data) {
  ++static_cast<Slot*>(user_data)->destroyed;
}
void count_shutdown(factotum_plugin*) {
  ++run->shutdowns;
}

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto lead = static_cast<unsigned char>(s[i]);
    const std::size_t n = lead < 0x80           ? 1
                          : (lead >> 5) == 0x6  ? 2
                          : (lead >> 4) == 0xE  ? 3
                          : (lead >> 3) == 0x1E ? 4
                                                : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

// A capped copy keeps within `cap`, equals the original when that fits, and cuts valid UTF-8
// only between characters.
void check_capped(std::string_view original, std::string_view kept, std::size_t cap) {
  if (kept.size() > cap) std::abort();
  if (original.size() <= cap && kept != original) std::abort();
  if (valid_utf8(original) && !valid_utf8(kept)) std::abort();
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  for (std::size_t start = 0; start < text.size();) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

void register_call(const factotum_host_api* api, factotum_plugin* plugin, bool jobtype) {
  FuzzInput& in = *run->script;
  // The host must copy the name: it dies right after the call (ASan sees a later read).
  auto name = std::make_unique<std::string>(in.short_string());
  const std::uint8_t how = in.byte();
  const bool null_data = (how & 1) != 0;
  const bool null_fn = (how & 2) != 0;
  Slot& slot = run->slots.emplace_back();
  slot.has_destroy = (how & 4) == 0;
  const factotum_str str{null_data ? nullptr : name->data(), name->size()};
  factotum_destroy_fn destroy = slot.has_destroy ? &destroy_slot : nullptr;
  const factotum_status status =
      jobtype ? api->register_jobtype(plugin, str, null_fn ? nullptr : &job_fn, &slot, destroy)
              : api->register_middleware(plugin, str, null_fn ? nullptr : &job_fn, &slot, destroy);
  const std::string text = std::move(*name);
  name.reset();

  std::vector<std::string>& mine = jobtype ? run->jobtypes : run->middleware;
  factotum_status want = FACTOTUM_OK;
  if ((null_data && !text.empty()) || text.empty() || null_fn) {
    want = FACTOTUM_EINVAL;
  } else if (std::find(mine.begin(), mine.end(), text) != mine.end()) {
    want = FACTOTUM_EEXIST;
  } else if (jobtype && text == kTakenJobtype) {
    want = FACTOTUM_EEXIST;  // another plugin's: a conflict (DESIGN.md §4.9)
    ++run->taken_attempts;
  }
  if (status != want) std::abort();
  slot.accepted = status == FACTOTUM_OK;
  if (slot.accepted) mine.push_back(text);
}

void push_call(const factotum_host_api* api, factotum_plugin* plugin) {
  FuzzInput& in = *run->script;
  const std::string json(in.short_string());
  const std::size_t out_size = in.byte() % 40u;
  std::vector<char> out(out_size);  // exactly as big as said: ASan sees an overflow
  const factotum_status status = api->push_job(plugin, factotum_str{json.data(), json.size()},
                                               out_size == 0 ? nullptr : out.data(), out_size);
  const auto first = json.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || json[first] != '{') {
    if (status != FACTOTUM_EINVAL) std::abort();
    return;
  }
  if (status != FACTOTUM_OK && status != FACTOTUM_EUNAVAILABLE) std::abort();
  if (status == FACTOTUM_OK && out_size > 0 &&
      std::find(out.begin(), out.end(), '\0') == out.end()) {
    std::abort();  // jid_out is NUL-terminated within its size
  }
}

void fail_call(const factotum_host_api* api) {
  FuzzInput& in = *run->script;
  const std::string errtype(in.long_string());
  const std::string message(in.long_string());
  const std::string backtrace(in.long_string());
  const auto str = [](const std::string& s) { return factotum_str{s.data(), s.size()}; };
  if (api->job_fail(nullptr, str(errtype), str(message), str(backtrace)) != FACTOTUM_EINVAL) {
    std::abort();
  }
  factotum_job job;
  if (api->job_fail(&job, factotum_str{nullptr, 1}, str(message), str(backtrace)) !=
      FACTOTUM_EINVAL) {
    std::abort();
  }
  if (api->job_fail(&job, str(errtype), str(message), str(backtrace)) != FACTOTUM_OK) {
    std::abort();
  }
  if (!job.failure_set) std::abort();
  check_capped(errtype, job.errtype, kMaxErrtypeBytes);
  check_capped(message, job.message, kMaxMessageBytes);
  const auto lines = split_lines(backtrace);
  if (job.backtrace.size() > kMaxBacktraceLines) std::abort();
  if (lines.size() <= kMaxBacktraceLines && job.backtrace.size() != lines.size()) std::abort();
  for (std::size_t i = 0; i < job.backtrace.size(); ++i) {
    if (i < lines.size() && (i + 1 < kMaxBacktraceLines || lines.size() == kMaxBacktraceLines)) {
      check_capped(lines[i], job.backtrace[i], kMaxBacktraceLineBytes);
    } else if (job.backtrace[i].size() > kMaxBacktraceLineBytes) {
      std::abort();
    }
  }
}

void null_job_calls(const factotum_host_api* api) {
  const factotum_str jid = api->job_jid(nullptr);
  if (jid.data != nullptr || jid.size != 0) std::abort();
  if (api->job_retry_count(nullptr) != 0 || api->job_cancelled(nullptr) != 0) std::abort();
  if (api->job_next(nullptr) != FACTOTUM_EINVAL) std::abort();
}

// The plugin's init: calls read from the input until it says return (or the input ends).
factotum_status scripted_init(const factotum_host_api* api, factotum_plugin* plugin) {
  if (api == nullptr || plugin == nullptr || api->size != sizeof(factotum_host_api) ||
      api->abi_major != FACTOTUM_ABI_MAJOR || api->abi_minor != FACTOTUM_ABI_MINOR ||
      api->host_version.size == 0) {
    std::abort();
  }
  FuzzInput& in = *run->script;
  for (int calls = 0; calls < 256 && !in.empty(); ++calls) {
    switch (in.byte() % 8) {
      case 0:
        register_call(api, plugin, true);
        break;
      case 1:
        register_call(api, plugin, false);
        break;
      case 2: {
        const auto level = static_cast<factotum_log_level>(static_cast<std::int8_t>(in.byte()));
        const std::string message(in.short_string());
        const bool null_data = in.flag() && !message.empty();
        const std::size_t before = run->log_lines;
        api->log(plugin, level, factotum_str{null_data ? nullptr : message.data(), message.size()});
        if (run->log_lines != before + (null_data ? 0 : 1)) std::abort();
        break;
      }
      case 3: {
        const factotum_str config = api->config_json(plugin);
        if (std::string_view(config.data, config.size) != kConfig) std::abort();
        break;
      }
      case 4:
        push_call(api, plugin);
        break;
      case 5:
        fail_call(api);
        break;
      case 6:
        null_job_calls(api);
        break;
      default: {
        const std::uint8_t b = in.byte();
        run->init_returned = (b & 0x80) != 0 ? static_cast<factotum_status>(b & 0x7f) : FACTOTUM_OK;
        return run->init_returned;
      }
    }
  }
  run->init_returned = FACTOTUM_OK;
  return FACTOTUM_OK;
}

// The other plugin, already loaded: it holds kTakenJobtype and two middleware.
factotum_status other_init(const factotum_host_api* api, factotum_plugin* plugin) {
  const auto str = [](std::string_view s) { return factotum_str{s.data(), s.size()}; };
  if (api->register_jobtype(plugin, str(kTakenJobtype), &job_fn, nullptr, nullptr) != FACTOTUM_OK ||
      api->register_middleware(plugin, str("log"), &job_fn, nullptr, nullptr) != FACTOTUM_OK ||
      api->register_middleware(plugin, str("retry"), &job_fn, nullptr, nullptr) != FACTOTUM_OK) {
    std::abort();
  }
  return FACTOTUM_OK;
}

template <typename T>
void put(std::vector<unsigned char>& storage, std::size_t offset, const T& value) {
  if (offset + sizeof value <= storage.size()) {
    std::memcpy(storage.data() + offset, &value, sizeof value);
  }
}

// Which middleware the configured order resolved to, and the snapshot built from it.
void check_registry(FuzzInput& in, const std::vector<std::shared_ptr<Generation>>& generations) {
  std::vector<std::string> order;
  for (std::size_t n = in.byte() % 5u; n > 0; --n) order.emplace_back(in.short_string());
  std::vector<std::string> qualified;
  const auto error = resolve_middleware_order(order, generations, qualified);
  if (error) {
    if (error->empty()) std::abort();
    qualified.clear();
  } else if (qualified.size() != order.size()) {
    std::abort();
  }
  const Registry registry(generations, qualified);
  const Generation& plugin = *generations.back();
  for (const auto& name : run->jobtypes) {
    const JobtypeEntry* entry = registry.find(name);
    if (entry == nullptr || entry->generation != &plugin || entry->name != name) std::abort();
  }
  if (registry.find(kTakenJobtype)->generation != generations.front().get()) std::abort();
  if (registry.jobtypes().size() != run->jobtypes.size() + 1) std::abort();
  const auto& chain = registry.chain();
  if (qualified.empty()) {
    if (chain.size() != 2 + run->middleware.size()) std::abort();  // all, in load order
  } else {
    if (chain.size() != qualified.size()) std::abort();
    for (std::size_t i = 0; i < chain.size(); ++i) {
      if (chain[i].qualified_name != qualified[i]) std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzInput in(data, size);
  Run state;
  state.script = &in;
  run = &state;
  struct Done {
    ~Done() { run = nullptr; }
  } done;

  // The descriptor, in storage exactly as large as the plugin says it is (a bigger claim is
  // backed by a little more than the host knows of): a read past it is an ASan report.
  const std::uint8_t shape = in.byte();
  std::uint32_t claimed = sizeof(factotum_plugin_descriptor);
  switch (shape & 3) {
    case 1:  // a newer minor's bigger descriptor
      claimed += in.byte();
      break;
    case 2:  // an older or broken one
      claimed = static_cast<std::uint32_t>(in.byte() % (sizeof(factotum_plugin_descriptor) + 1));
      break;
    case 3:
      claimed = in.u32();
      break;
    default:
      break;
  }
  const std::uint16_t abi_major = (shape & 4) != 0 ? in.u16() : FACTOTUM_ABI_MAJOR;
  const std::uint16_t abi_minor = (shape & 8) != 0 ? in.u16() : FACTOTUM_ABI_MINOR;
  // NUL-terminated, as sdk.h requires, but any bytes before (a NUL among them too).
  const std::string name((shape & 16) != 0 ? std::string_view() : in.short_string());
  const std::string version((shape & 32) != 0 ? std::string_view() : in.short_string());
  const std::size_t backed = std::max<std::size_t>(
      offsetof(factotum_plugin_descriptor, name),  // size and version: every descriptor has them
      std::min<std::size_t>(claimed, sizeof(factotum_plugin_descriptor) + 64));
  std::vector<unsigned char> storage(backed);
  using D = factotum_plugin_descriptor;
  put(storage, offsetof(D, size), claimed);
  put(storage, offsetof(D, abi_major), abi_major);
  put(storage, offsetof(D, abi_minor), abi_minor);
  put(storage, offsetof(D, name), (shape & 16) != 0 ? nullptr : name.c_str());
  put(storage, offsetof(D, version), (shape & 32) != 0 ? nullptr : version.c_str());
  put(storage, offsetof(D, init), (shape & 64) != 0 ? nullptr : &scripted_init);
  put(storage, offsetof(D, shutdown), (shape & 128) != 0 ? nullptr : &count_shutdown);

  std::string why;
  const auto descriptor =
      check_descriptor(reinterpret_cast<const factotum_plugin_descriptor*>(storage.data()), why);
  if (!descriptor) {
    if (why.empty() || why.find_first_of("\r\n") != std::string::npos) std::abort();
    return 0;
  }
  // Accepted: it is what the plugin said, zero-filled beyond its size.
  if (descriptor->name != name.c_str() || descriptor->init != &scripted_init) std::abort();
  // The name and version as C strings: up to their first NUL.
  const std::string_view c_name = name.c_str();
  const std::string_view c_version = version.c_str();
  // The loader refuses a second plugin of a name before its init runs.
  if (c_name == kOtherPlugin) return 0;

  HostServices services;
  services.log = [&](int, std::string_view plugin, std::string_view jid, std::string_view) {
    if (plugin != c_name || !jid.empty()) std::abort();
    ++state.log_lines;
  };
  services.push = [&](std::string_view, std::string& jid_or_error) {
    const std::uint8_t answer = in.byte();
    jid_or_error.assign(answer % 64u, 'j');
    return (answer & 0x80) == 0;
  };
  auto shared = std::make_shared<const HostServices>(std::move(services));

  factotum_plugin_descriptor other_descriptor{};
  other_descriptor.size = sizeof other_descriptor;
  other_descriptor.abi_major = FACTOTUM_ABI_MAJOR;
  other_descriptor.name = kOtherPlugin.data();
  other_descriptor.init = &other_init;
  auto other = std::make_shared<Generation>(1, "/plugins/other.so", "", FileIdentity{},
                                            other_descriptor, shared, "{}");
  if (other->run_init({}) != FACTOTUM_OK) std::abort();
  JobtypeOwners owners;
  for (const auto& jobtype : other->jobtypes()) owners.emplace(jobtype.name, other.get());

  auto plugin = std::make_shared<Generation>(2, "/plugins/fuzz.so", "", FileIdentity{}, *descriptor,
                                             shared, std::string(kConfig));
  if (plugin->name() != c_name || plugin->version() != c_version) {
    std::abort();
  }
  const factotum_status status = plugin->run_init(owners);
  if (status != state.init_returned) std::abort();
  if (plugin->conflict().empty() != (state.taken_attempts == 0)) std::abort();
  if (plugin->refused_jobtypes().size() != state.taken_attempts) std::abort();
  if (plugin->jobtypes().size() != state.jobtypes.size()) std::abort();
  for (std::size_t i = 0; i < state.jobtypes.size(); ++i) {
    if (plugin->jobtypes()[i].name != state.jobtypes[i]) std::abort();
  }
  if (plugin->middleware().size() != state.middleware.size()) std::abort();

  // Registering after init is refused, and the user_data stays the plugin's.
  Slot& late = state.slots.emplace_back();
  if (host_api()->register_jobtype(plugin->handle(), factotum_str{"late", 4}, &job_fn, &late,
                                   &destroy_slot) != FACTOTUM_ESTATE) {
    std::abort();
  }

  const bool init_ok = status == FACTOTUM_OK;
  if (init_ok && plugin->conflict().empty()) check_registry(in, {other, plugin});
  other.reset();
  plugin.reset();  // the last owner: shutdown, then every destroy callback

  if (state.shutdowns != (init_ok && descriptor->shutdown != nullptr ? 1 : 0)) std::abort();
  for (const Slot& slot : state.slots) {
    if (slot.destroyed != (slot.accepted && slot.has_destroy ? 1 : 0)) std::abort();
  }
  return 0;
}
