// Watches directories for files that appear, are replaced or go away (inotify), and
// calls back once things have settled: plugins.watch runs the plugin part of a reload then.
// A file is only reported after no event for `settle` (1 s by default), so a file still being
// copied is never loaded half-written; publishing by rename (install to a temp name, then mv)
// needs no settle at all, but costs nothing with it.
//
// Threading: the control thread (an io_context); the callback runs there.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace factotum::service {

class DirectoryWatch {
 public:
  // `relevant`: which file names count (e.g. plugins::is_plugin_file_name); events about
  // others are ignored.
  DirectoryWatch(boost::asio::io_context& io, std::function<bool(std::string_view name)> relevant,
                 std::function<void()> on_change,
                 std::chrono::milliseconds settle = std::chrono::seconds(1));
  ~DirectoryWatch();
  DirectoryWatch(const DirectoryWatch&) = delete;
  DirectoryWatch& operator=(const DirectoryWatch&) = delete;

  // Watches exactly these directories from now on (replacing the previous set). A directory
  // that cannot be watched (missing, no permission, out of inotify watches) is logged and
  // skipped. Returns how many are watched.
  std::size_t watch(const std::vector<std::filesystem::path>& directories);
  // Stops watching (shutdown).
  void close();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace factotum::service
