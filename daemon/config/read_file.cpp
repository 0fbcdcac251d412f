#include "config/read_file.hpp"
#include "service/unique_fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

namespace factotum::config {
namespace {

using Fd = service::UniqueFd;

std::string errno_text(int error) {
  return std::strerror(error);
}

// Opens for reading; on failure returns -1 and sets `error`.
int open_for_reading(const std::filesystem::path& file, std::string& error) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = errno_text(errno);
    return -1;
  }
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    error = "it is a directory";
    return -1;
  }
  return fd;
}

}  // namespace

FileContents read_whole_file(const std::filesystem::path& file) {
  FileContents out;
  Fd fd(open_for_reading(file, out.error));
  if (fd.get() < 0) return out;
  char buffer[8192];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      out.error = errno_text(errno);
      out.data.clear();
      return out;
    }
    out.data.append(buffer, static_cast<std::size_t>(n));
  }
  return out;
}

std::string check_readable(const std::filesystem::path& file) {
  std::string error;
  Fd fd(open_for_reading(file, error));
  return error;
}

}  // namespace factotum::config
