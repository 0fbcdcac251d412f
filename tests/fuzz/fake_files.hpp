// The files a configuration names, faked for fuzz_config_yaml: parse_config() reads
// faktory.password_file and checks that the TLS files are readable, and a fuzzer must neither
// read the machine's files (a name like /dev/zero or a FIFO would hang it) nor depend on what
// they hold. fake_files.cpp defines read_whole_file() and check_readable() (config/read_file.hpp)
// in place of daemon/config/read_file.cpp, from the file's name alone:
//   missing*  → "No such file or directory"      denied*   → "Permission denied"
//   dir*      → "it is a directory"              empty*    → empty contents
//   newlines* → only line ends                   otherwise → kFakeSecret and a newline
#pragma once

#include <string_view>

namespace factotum::fuzz {

// Every readable fake file holds this password: it must never show in a message.
inline constexpr std::string_view kFakeSecret = "Pw-k3pt-0ut-of-l0gs";

}  // namespace factotum::fuzz
