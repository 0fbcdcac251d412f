#include "plugins/trust.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <deque>
#include <system_error>
#include <utility>
#include <vector>

namespace factotum::plugins {
namespace {

namespace fs = std::filesystem;
using Fd = service::UniqueFd;

constexpr std::string_view fix_strict = " (or set plugins.strict_permissions: false)";
// Linux's own limit on symbolic links followed while resolving one path.
constexpr int max_symlinks = 40;

std::string errno_text(int error) {
  return std::generic_category().message(error);
}

std::string mode_text(mode_t mode) {
  std::array<char, 8> buffer{};
  std::snprintf(buffer.data(), buffer.size(), "%04o", static_cast<unsigned>(mode & 07777));
  return buffer.data();
}

std::string owner_text(uid_t uid) {
  std::string text = "uid " + std::to_string(uid);
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer(4096);
  if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr) {
    text += std::string(" (") + found->pw_name + ")";
  }
  return text;
}

// `subject` is "plugin file X", "directory X (on the way to plugin directory Y)"...
std::optional<std::string> refuse_owner(const struct stat& st, const fs::path& path,
                                        const std::string& subject) {
  const uid_t me = ::geteuid();
  if (st.st_uid == 0 || st.st_uid == me) return std::nullopt;
  return "refusing to load: " + subject + " is owned by " + owner_text(st.st_uid) +
         ", not by root or the daemon's user (" + owner_text(me) + "): run `chown root " +
         path.string() + "`" + std::string(fix_strict);
}

std::string refuse_writable(const struct stat& st, const fs::path& path,
                            const std::string& subject) {
  return "refusing to load: " + subject + " is writable by group or others (mode " +
         mode_text(st.st_mode) + "): run `chmod go-w " + path.string() + "`" +
         std::string(fix_strict);
}

// A directory on the way to the plugin directory (see open_plugin_directory).
std::optional<std::string> check_on_the_way(const struct stat& st, const fs::path& path,
                                            const fs::path& plugin_dir) {
  const std::string subject = "directory " + path.string() + " (on the way to plugin directory " +
                              plugin_dir.string() + ")";
  if (auto refused = refuse_owner(st, path, subject)) return refused;
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (st.st_mode & S_ISVTX) == 0) {
    return refuse_writable(st, path, subject);
  }
  return std::nullopt;
}

std::optional<std::string> read_link(int fd, std::string& target) {
  std::array<char, 4096> buffer{};
  // An O_PATH descriptor of the link itself with an empty name reads that link.
  const ssize_t n = ::readlinkat(fd, "", buffer.data(), buffer.size());
  if (n < 0) return errno_text(errno);
  if (static_cast<std::size_t>(n) == buffer.size()) return "its target is too long";
  target.assign(buffer.data(), static_cast<std::size_t>(n));
  return std::nullopt;
}

// openat() as an owned descriptor; null (errno set) on failure.
std::unique_ptr<Fd> open_at(int at, const char* name, int flags) {
  const int fd = ::openat(at, name, flags | O_CLOEXEC);
  if (fd < 0) return nullptr;
  return std::make_unique<Fd>(fd);
}

// The components of `path` worth walking (no empty ones, no ".").
std::deque<std::string> components(const fs::path& path) {
  std::deque<std::string> out;
  for (const auto& part : path.relative_path()) {
    if (!part.empty() && part != ".") out.push_back(part.string());
  }
  return out;
}

}  // namespace

std::optional<std::string> check_trust(const struct stat& st, const fs::path& path,
                                       std::string_view what) {
  const std::string subject = std::string(what) + " " + path.string();
  if (auto refused = refuse_owner(st, path, subject)) return refused;
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) return refuse_writable(st, path, subject);
  return std::nullopt;
}

SharedFd open_plugin_directory(const fs::path& dir, bool strict, std::string& why) {
  std::unique_ptr<Fd> at = open_at(AT_FDCWD, "/", O_PATH | O_DIRECTORY);
  fs::path where = "/";  // the directory `at` holds, as really walked (links resolved)
  std::deque<std::string> todo = components(dir);
  int links = 0;
  // Checks the directory just reached; the last one is the plugin directory itself.
  const auto trusted = [&](const Fd& fd) {
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
      why = "cannot check plugin directory " + dir.string() + ": " + errno_text(errno);
      return false;
    }
    if (!S_ISDIR(st.st_mode)) {
      why = "cannot open plugin directory " + dir.string() + ": " + where.string() +
            " is not a directory";
      return false;
    }
    if (!strict) return true;
    auto refused = todo.empty() ? check_trust(st, where, "plugin directory")
                                : check_on_the_way(st, where, dir);
    if (refused) why = std::move(*refused);
    return !refused;
  };
  if (!at) {
    why = "cannot open /: " + errno_text(errno);
    return nullptr;
  }
  if (!trusted(*at)) return nullptr;

  while (!todo.empty()) {
    const std::string name = std::move(todo.front());
    todo.pop_front();
    std::unique_ptr<Fd> next = open_at(at->get(), name.c_str(), O_PATH | O_NOFOLLOW);
    if (!next) {
      why = errno == ENOENT ? "plugin directory does not exist"
                            : "cannot open plugin directory: " + (where / name).string() + ": " +
                                  errno_text(errno);
      return nullptr;
    }
    struct stat st {};
    if (::fstat(next->get(), &st) == 0 && S_ISLNK(st.st_mode)) {
      // Its directory was checked: unless it is a sticky directory anyone may write to (like
      // /tmp), only a trusted user can have made the link. In one that is, the link itself
      // must be a trusted user's (the kernel's protected_symlinks rule): anyone could have
      // pointed a missing plugin directory there at any directory of theirs, or of the system.
      struct stat parent {};
      if (strict && ::fstat(at->get(), &parent) == 0 &&
          (parent.st_mode & (S_IWGRP | S_IWOTH)) != 0 && st.st_uid != 0 &&
          st.st_uid != ::geteuid()) {
        why = "refusing plugin directory " + dir.string() + ": the symbolic link " +
              (where / name).string() + " is owned by " + owner_text(st.st_uid) +
              " in the group- or world-writable directory " + where.string() +
              "; it must be owned by root or the daemon's user";
        return nullptr;
      }
      std::string target;
      if (auto failed = read_link(next->get(), target)) {
        why = "cannot read symbolic link " + (where / name).string() + ": " + *failed;
        return nullptr;
      }
      if (++links > max_symlinks) {
        why = "cannot open plugin directory " + dir.string() + ": too many symbolic links";
        return nullptr;
      }
      auto more = components(target);
      todo.insert(todo.begin(), more.begin(), more.end());
      if (fs::path(target).is_absolute()) {
        at = open_at(AT_FDCWD, "/", O_PATH | O_DIRECTORY);
        where = "/";
        if (!at) {
          why = "cannot open /: " + errno_text(errno);
          return nullptr;
        }
        if (!trusted(*at)) return nullptr;
      }
      continue;
    }
    where = name == ".." ? where.parent_path() : where / name;
    if (!trusted(*next)) return nullptr;
    at = std::move(next);
  }
  // O_PATH does not read: the directory is listed, and its files opened, through this one.
  std::unique_ptr<Fd> readable = open_at(at->get(), ".", O_RDONLY | O_DIRECTORY);
  if (!readable) {
    why = "cannot read plugin directory " + dir.string() + ": " + errno_text(errno);
    return nullptr;
  }
  return readable;
}

std::optional<std::string> ensure_private_directory(const fs::path& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return "cannot create the plugin staging directory " + dir.string() + ": " + errno_text(errno);
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    return "cannot use the plugin staging directory " + dir.string() + ": " + errno_text(errno);
  }
  if (!S_ISDIR(st.st_mode))
    return "the plugin staging path " + dir.string() + " is not a directory";
  if (st.st_uid != ::geteuid() || (st.st_mode & 077) != 0) {
    return "the plugin staging directory " + dir.string() +
           " must be private to the daemon's user (owner " + owner_text(st.st_uid) + ", mode " +
           mode_text(st.st_mode) + "): run `chmod 0700 " + dir.string() + "`";
  }
  return std::nullopt;
}

}  // namespace factotum::plugins
