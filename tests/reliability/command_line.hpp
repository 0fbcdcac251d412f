// Flag parsing shared by the reliability tools (Boost.Program_options): --help, and a usage
// error with exit status 2.
#pragma once

#include <boost/program_options.hpp>

#include <iostream>
#include <optional>

namespace factotum::testing {

// Parses argv into the variables `flags` names (and --help, which it adds). Returns the exit
// status when the program should stop here (0 after --help, 2 on a bad flag).
inline std::optional<int> parse_command_line(int argc, char** argv,
                                             boost::program_options::options_description& flags) {
  namespace po = boost::program_options;
  flags.add_options()("help", "this text");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, flags), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << argv[0] << ": " << e.what() << "\n" << flags;
    return 2;
  }
  if (vm.count("help") != 0) {
    std::cout << flags;
    return 0;
  }
  return std::nullopt;
}

}  // namespace factotum::testing
