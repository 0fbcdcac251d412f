// --check-config in a child process: the plugins are loaded (their static constructors and
// init run) in a process of their own, so a plugin that crashes while loading is reported —
// which file, which signal — with exit status 78, instead of taking the check down with it.
#pragma once

#include <filesystem>
#include <functional>

namespace factotum {

// Runs `check` in a forked child and returns its exit status. `check` gets a callback to call
// with each plugin file just before its code runs (PluginSetup's on_loading). When the child
// dies of a signal, says which plugin file it was loading (if any) and returns 78. Call it
// while the process has a single thread. If fork() fails, runs `check` in this process.
int run_check_isolated(
    const std::function<int(const std::function<void(const std::filesystem::path&)>& on_loading)>&
        check);

}  // namespace factotum
