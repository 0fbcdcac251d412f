// A signal as an operator reads it in a log line: "SIGSEGV (Segmentation fault)".
#pragma once

#include <string>

namespace factotum::service {

std::string signal_text(int signal);

}  // namespace factotum::service
