// Durations as the worker's log lines and FAIL messages show them.
#pragma once

#include <chrono>
#include <string>

namespace factotum::worker {

// "1500ms"
inline std::string millis_text(std::chrono::steady_clock::duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + "ms";
}

// "2.5s" (tenths)
inline std::string seconds_text(std::chrono::steady_clock::duration d) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  return std::to_string(ms / 1000) + "." + std::to_string((ms % 1000) / 100) + "s";
}

}  // namespace factotum::worker
