#include "service/signal_text.hpp"

#include <cstring>

namespace factotum::service {

std::string signal_text(int signal) {
  const char* abbreviation = ::sigabbrev_np(signal);
  const char* description = ::sigdescr_np(signal);
  std::string text = abbreviation != nullptr ? std::string("SIG") + abbreviation
                                             : "signal " + std::to_string(signal);
  if (description != nullptr) text += std::string(" (") + description + ")";
  return text;
}

}  // namespace factotum::service
