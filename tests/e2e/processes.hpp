// What /proc says of the daemon's processes: the supervisor's children (its worker), and
// whether a process has ended. For the supervisor tests, which must see that a worker was
// replaced, and that none is left behind.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace factotum::testing {

struct ProcessState {
  char state = '?';
  pid_t parent = 0;
};

// nullopt-like: state '?' when the process does not exist.
inline ProcessState process_state(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  std::getline(in, stat);
  ProcessState result;
  const auto close = stat.rfind(')');  // the command name may hold spaces and parentheses
  if (close == std::string::npos) return result;
  std::istringstream rest(stat.substr(close + 1));
  rest >> result.state >> result.parent;
  return result;
}

// Ended: gone, or a zombie nobody has reaped yet.
inline bool process_ended(pid_t pid) {
  const char state = process_state(pid).state;
  return state == '?' || state == 'Z' || state == 'X';
}

// Whether `signal` was sent to the process and not yet taken (it is blocked, or the process
// is stopped).
inline bool signal_pending(pid_t pid, int signal) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("ShdPnd:", 0) == 0) {
      const auto mask = std::stoull(line.substr(7), nullptr, 16);
      return ((mask >> (signal - 1)) & 1U) != 0;
    }
  }
  return false;
}

// The live children of `parent`.
inline std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> children;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const auto pid = static_cast<pid_t>(std::stol(name));
    const ProcessState state = process_state(pid);
    if (state.parent == parent && !process_ended(pid)) children.push_back(pid);
  }
  return children;
}

}  // namespace factotum::testing
