#include "service/directory_watch.hpp"

#include "service/log.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <sys/inotify.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <map>
#include <string_view>
#include <system_error>

namespace factotum::service {

namespace asio = boost::asio;

namespace {

// A file appeared (written and closed, or renamed into place) or went away. Changes of
// attributes only (chmod, touch) do not count: a plugin is replaced by writing or renaming.
constexpr std::uint32_t kEvents =
    IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF;

}  // namespace

struct DirectoryWatch::Impl : std::enable_shared_from_this<Impl> {
  asio::posix::stream_descriptor inotify;
  asio::steady_timer settle_timer;
  std::function<bool(std::string_view)> relevant_name;
  std::function<void()> on_change;
  std::chrono::milliseconds settle;
  std::map<int, std::filesystem::path> watches;  // watch descriptor → directory
  // Enough for many events at once; each is a header plus a NUL-padded name.
  alignas(inotify_event) std::array<char, 16 * 1024> buffer{};
  bool reading = false;
  bool closed = false;

  Impl(asio::io_context& io, std::function<bool(std::string_view)> relevant,
       std::function<void()> callback, std::chrono::milliseconds delay)
      : inotify(io),
        settle_timer(io),
        relevant_name(std::move(relevant)),
        on_change(std::move(callback)),
        settle(delay) {}

  bool open() {
    if (inotify.is_open()) return true;
    const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) {
      Log::error(std::string("plugins.watch: cannot use inotify: ") +
                 std::system_category().message(errno));
      return false;
    }
    inotify.assign(fd);
    return true;
  }

  void read() {
    if (reading || closed) return;
    reading = true;
    inotify.async_read_some(
        asio::buffer(buffer),
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t size) {
          self->reading = false;
          if (ec || self->closed) return;
          self->handle(size);
          self->read();
        });
  }

  void handle(std::size_t size) {
    bool relevant = false;
    for (std::size_t at = 0; at + sizeof(inotify_event) <= size;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer.data() + at);
      at += sizeof(inotify_event) + event->len;
      if ((event->mask & IN_Q_OVERFLOW) != 0) {
        relevant = true;  // events were lost: rescan to be sure
        continue;
      }
      if ((event->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) != 0) {
        const auto it = watches.find(event->wd);
        if (it != watches.end() && (event->mask & IN_IGNORED) == 0) {
          Log::warning(
              "plugins.watch: a plugin directory was removed or moved; no longer watching it "
              "(a reload watches it again once it is back)",
              {{"directory", it->second.string()}});
          relevant = true;
          // A moved directory would keep its watch under its new name: drop it.
          if ((event->mask & IN_MOVE_SELF) != 0) {
            ::inotify_rm_watch(inotify.native_handle(), it->first);
          }
        }
        if ((event->mask & IN_IGNORED) != 0 && it != watches.end()) watches.erase(it);
        continue;
      }
      if (event->len > 0 && relevant_name(event->name)) relevant = true;
    }
    if (!relevant) return;
    // Each relevant event restarts the wait: report once things have been quiet for `settle`.
    settle_timer.expires_after(settle);
    settle_timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec && !self->closed && self->on_change) self->on_change();
    });
  }

  std::size_t watch(const std::vector<std::filesystem::path>& directories) {
    if (closed || !open()) return 0;
    // Only the difference: a directory watched before and after keeps its watch, so no event
    // in it is missed while the set changes.
    for (auto it = watches.begin(); it != watches.end();) {
      if (std::find(directories.begin(), directories.end(), it->second) == directories.end()) {
        ::inotify_rm_watch(inotify.native_handle(), it->first);
        it = watches.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& directory : directories) {
      const bool watched = std::any_of(watches.begin(), watches.end(),
                                       [&](const auto& w) { return w.second == directory; });
      if (watched) continue;
      const int wd =
          ::inotify_add_watch(inotify.native_handle(), directory.c_str(), kEvents | IN_ONLYDIR);
      if (wd < 0) {
        Log::warning(std::string("plugins.watch: cannot watch the directory: ") +
                         std::system_category().message(errno) + " (a reload tries again)",
                     {{"directory", directory.string()}});
        continue;
      }
      watches[wd] = directory;
    }
    read();
    return watches.size();
  }

  void close() {
    closed = true;
    settle_timer.cancel();
    boost::system::error_code ignored;
    inotify.close(ignored);  // also removes every watch
    watches.clear();
  }
};

DirectoryWatch::DirectoryWatch(asio::io_context& io,
                               std::function<bool(std::string_view name)> relevant,
                               std::function<void()> on_change, std::chrono::milliseconds settle)
    : impl_(std::make_shared<Impl>(io, std::move(relevant), std::move(on_change), settle)) {}

DirectoryWatch::~DirectoryWatch() {
  impl_->close();
}

std::size_t DirectoryWatch::watch(const std::vector<std::filesystem::path>& directories) {
  return impl_->watch(directories);
}

void DirectoryWatch::close() {
  impl_->close();
}

}  // namespace factotum::service
