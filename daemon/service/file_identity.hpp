// One version of a file, as stat(2) tells it: a file replaced (a new inode) or rewritten in
// place (a new size or mtime) is another version. Used to remember plugin files that failed
// or crashed, so that exactly that version is not tried again.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>

namespace factotum::service {

struct FileIdentity {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  std::int64_t mtime_sec = 0;
  std::int64_t mtime_nsec = 0;
  bool operator==(const FileIdentity&) const = default;

  static FileIdentity of(const struct stat& st) noexcept {
    return {st.st_dev, st.st_ino, st.st_size, static_cast<std::int64_t>(st.st_mtim.tv_sec),
            static_cast<std::int64_t>(st.st_mtim.tv_nsec)};
  }
};

}  // namespace factotum::service
