// Owns a POSIX file descriptor and closes it once (config file reads, plugin loading).
#pragma once

#include <unistd.h>

#include <utility>

namespace factotum::service {

class UniqueFd {
 public:
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const noexcept { return fd_; }
  // Gives up ownership: the caller closes it.
  int release() noexcept { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

}  // namespace factotum::service
