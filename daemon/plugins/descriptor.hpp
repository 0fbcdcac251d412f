// The checks on the descriptor a plugin's entry point returns (DESIGN.md §4.2): its size, its
// ABI version, its name and its init function. No dlopen here: loader.cpp calls it on what
// factotum_plugin_v1() returned, and the fuzz target on descriptors built from bytes.
#pragma once

#include "factotum/sdk.h"

#include <optional>
#include <string>

namespace factotum::plugins {

// The descriptor copied (sdk.h: never read beyond the writer's `size`; zero-filled where an
// older plugin's ends), or nullopt with `why` saying what is wrong for the operator. Reads at
// most `descriptor->size` bytes of it, and of `name` at most 65 bytes.
std::optional<factotum_plugin_descriptor> check_descriptor(
    const factotum_plugin_descriptor* descriptor, std::string& why);

}  // namespace factotum::plugins
