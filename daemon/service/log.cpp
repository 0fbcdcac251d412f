#include "service/log.hpp"

#include "service/text_cut.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace factotum::service {

std::atomic<int> Log::level_{static_cast<int>(LogLevel::info)};

namespace {

std::atomic<LogFormat> g_format{LogFormat::text};
std::atomic<bool> g_journal{false};

// Values with spaces or quotes are quoted so `key=value` pairs stay machine-splittable.
void append_text_value(std::string& out, std::string_view value) {
  const bool plain = !value.empty() && value.find_first_of(" \"=\t\n") == std::string_view::npos;
  if (plain) {
    out += value;
    return;
  }
  out += boost::json::serialize(boost::json::string(value));
}

// A value from outside (a jobtype, a payload quoted in an error, a plugin's message) can be
// megabytes long: a line stays readable and journald keeps it whole (it splits lines past
// 48 KiB) when each part is cut, with a marker that gives the full size.
constexpr std::size_t kMaxFieldBytes = 1024;
constexpr std::size_t kMaxMessageBytes = 16 * 1024;

std::string_view bounded(std::string_view text, std::size_t max_bytes, std::string& storage) {
  if (text.size() <= max_bytes) return text;
  storage = text::cut_with_marker(
      text, max_bytes, std::string(text::kEllipsis) + " (" + text::human_size(text.size()) + ")");
  return storage;
}

void append_timestamp(std::string& out) {
  const auto now = std::chrono::system_clock::now();
  const auto secs = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  out.append(buf, n);
  char ms[8];
  std::snprintf(ms, sizeof ms, ".%03dZ", static_cast<int>(millis));
  out += ms;
}

void write_all(const std::string& line) {
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n < 0) return;  // nowhere else to report it
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace

std::string_view to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::error:
      return "error";
    case LogLevel::warning:
      return "warning";
    case LogLevel::info:
      return "info";
    case LogLevel::debug:
      return "debug";
  }
  return "info";
}

std::string_view to_string(LogFormat format) noexcept {
  return format == LogFormat::json ? "json" : "text";
}

bool parse_log_level(std::string_view text, LogLevel& out) noexcept {
  if (text == "error")
    out = LogLevel::error;
  else if (text == "warning" || text == "warn")
    out = LogLevel::warning;
  else if (text == "info")
    out = LogLevel::info;
  else if (text == "debug")
    out = LogLevel::debug;
  else
    return false;
  return true;
}

void Log::set_level(LogLevel level) noexcept {
  level_.store(static_cast<int>(level), std::memory_order_relaxed);
}
LogLevel Log::level() noexcept {
  return static_cast<LogLevel>(level_.load());
}
void Log::set_format(LogFormat format) noexcept {
  g_format.store(format);
}

void Log::detect_journal() noexcept {
  // systemd sets JOURNAL_STREAM=<dev>:<ino> for services whose stderr goes to the journal;
  // it only counts when it still describes our stderr (not a child's redirected one).
  const char* env = std::getenv("JOURNAL_STREAM");
  struct stat st {};
  if (env == nullptr || ::fstat(STDERR_FILENO, &st) != 0) return;
  unsigned long long dev = 0;
  unsigned long long ino = 0;
  if (std::sscanf(env, "%llu:%llu", &dev, &ino) != 2) return;
  g_journal.store(dev == st.st_dev && ino == st.st_ino);
}

void Log::write(LogLevel level, std::string_view message, std::initializer_list<LogField> fields) {
  if (!enabled(level)) return;
  std::string cut_message;
  message = bounded(message, kMaxMessageBytes, cut_message);
  std::string cut_value;
  std::string line;
  line.reserve(96 + message.size());
  if (g_format.load() == LogFormat::json) {
    boost::json::object obj;
    std::string ts;
    append_timestamp(ts);
    obj["time"] = ts;
    obj["level"] = to_string(level);
    obj["msg"] = message;
    for (const auto& [key, value] : fields) obj[key] = bounded(value, kMaxFieldBytes, cut_value);
    line = boost::json::serialize(obj);
  } else {
    if (g_journal.load()) {
      // journald reads the priority from this prefix and adds its own timestamp.
      line += '<';
      line += static_cast<char>('0' + static_cast<int>(level));
      line += '>';
    } else {
      append_timestamp(line);
      line += ' ';
      line += to_string(level);
      line += ' ';
    }
    line += message;
    for (const auto& [key, value] : fields) {
      line += ' ';
      line += key;
      line += '=';
      append_text_value(line, bounded(value, kMaxFieldBytes, cut_value));
    }
  }
  line += '\n';
  write_all(line);
}

void Log::plugin_line(LogLevel level, std::string_view plugin, std::string_view jid,
                      std::string_view message) {
  if (jid.empty()) {
    write(level, message, {{"plugin", plugin}});
  } else {
    write(level, message, {{"plugin", plugin}, {"jid", jid}});
  }
}

}  // namespace factotum::service
