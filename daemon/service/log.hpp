// The daemon's log: one line per event on stderr (DESIGN.md §6). Text lines carry a
// journald priority prefix ("<4>") when stderr is the journal, so `journalctl -p warning`
// works; `logging.format: json` writes one JSON object per line for machines. Thread-safe:
// each line is a single write(2), so lines from processor threads never interleave.
#pragma once

#include <atomic>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace factotum::service {

// syslog numbering, as journald and the plugin SDK use it.
enum class LogLevel : int { error = 3, warning = 4, info = 6, debug = 7 };
enum class LogFormat { text, json };

std::string_view to_string(LogLevel level) noexcept;
std::string_view to_string(LogFormat format) noexcept;
// "error", "warning"/"warn", "info", "debug"; std::nullopt-like false on anything else.
bool parse_log_level(std::string_view text, LogLevel& out) noexcept;

// A key/value pair attached to a line: jid=…, jobtype=…, plugin=….
using LogField = std::pair<std::string_view, std::string_view>;

class Log {
 public:
  static void set_level(LogLevel level) noexcept;
  static LogLevel level() noexcept;
  static void set_format(LogFormat format) noexcept;
  // Whether stderr is the systemd journal (JOURNAL_STREAM names stderr's device:inode).
  static void detect_journal() noexcept;

  static bool enabled(LogLevel level) noexcept {
    return static_cast<int>(level) <= level_.load(std::memory_order_relaxed);
  }

  static void write(LogLevel level, std::string_view message,
                    std::initializer_list<LogField> fields = {});
  // A plugin's line (the SDK's log function): with its jid inside a job, without one outside
  // (init, a thread of its own).
  static void plugin_line(LogLevel level, std::string_view plugin, std::string_view jid,
                          std::string_view message);

  static void error(std::string_view m, std::initializer_list<LogField> f = {}) {
    write(LogLevel::error, m, f);
  }
  static void warning(std::string_view m, std::initializer_list<LogField> f = {}) {
    write(LogLevel::warning, m, f);
  }
  static void info(std::string_view m, std::initializer_list<LogField> f = {}) {
    write(LogLevel::info, m, f);
  }
  static void debug(std::string_view m, std::initializer_list<LogField> f = {}) {
    if (enabled(LogLevel::debug)) write(LogLevel::debug, m, f);
  }

 private:
  static std::atomic<int> level_;
};

}  // namespace factotum::service
