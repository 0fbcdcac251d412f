#include "service/pid_file.hpp"

#include "service/unique_fd.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <utility>

namespace factotum::service {

namespace fs = std::filesystem;

namespace {

// A pid is at most 7 digits on Linux (pid_max ≤ 2^22); anything much longer is no pidfile.
constexpr std::size_t kMaxPidFileSize = 32;

std::string errno_text(int error) {
  return std::strerror(error);
}

// Whether `file` still names the file open as `fd` (not replaced or removed meanwhile).
bool still_names(const fs::path& file, int fd) {
  struct stat named {};
  struct stat open {};
  return ::lstat(file.c_str(), &named) == 0 && ::fstat(fd, &open) == 0 &&
         named.st_dev == open.st_dev && named.st_ino == open.st_ino;
}

// The pid in the file open as `fd`, from its start.
std::optional<pid_t> pid_in(int fd) {
  char buffer[kMaxPidFileSize];
  const ssize_t n = ::pread(fd, buffer, sizeof buffer, 0);
  if (n <= 0 || static_cast<std::size_t>(n) == sizeof buffer) return std::nullopt;
  return parse_pid(std::string_view(buffer, static_cast<std::size_t>(n)));
}

// What a file that is there but not ours to take is.
std::string not_a_plain_file(const struct stat& st) {
  if (S_ISDIR(st.st_mode)) return "is a directory";
  return "is not a regular file";
}

// A new file beside `file` (a mkstemp name), holding `pid`, locked: the pidfile to be.
struct Temporary {
  std::string name;
  int fd = -1;
  std::string error;
};
Temporary write_temporary(const fs::path& file, pid_t pid) {
  const fs::path directory = file.has_parent_path() ? file.parent_path() : fs::path(".");
  Temporary out;
  out.name = (directory / ("." + file.filename().string() + ".XXXXXX")).string();
  out.fd = ::mkostemp(out.name.data(), O_CLOEXEC);
  if (out.fd < 0) {
    const int error = errno;
    out.error = error == ENOENT
                    ? "its directory " + directory.string() + " does not exist"
                    : "cannot create a file in " + directory.string() + ": " + errno_text(error);
    return out;
  }
  // A new inode nobody else has open: the lock is ours at once.
  const std::string text = std::to_string(pid) + "\n";
  const bool written =
      ::flock(out.fd, LOCK_EX | LOCK_NB) == 0 &&
      ::fchmod(out.fd, 0644) == 0 &&  // ctl may run as another user
      ::write(out.fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  if (!written) {
    out.error = "cannot write " + out.name + ": " + errno_text(errno);
    ::unlink(out.name.c_str());
    ::close(std::exchange(out.fd, -1));
  }
  return out;
}

}  // namespace

std::optional<pid_t> parse_pid(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  pid_t pid = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
  if (text.empty() || text.front() == '-' || ec != std::errc() ||
      end != text.data() + text.size()) {
    return std::nullopt;
  }
  return pid;
}

std::variant<PidFile, std::string> PidFile::take(const fs::path& file) {
  // Another daemon starting at the same moment may replace or create the file between two
  // steps: each step checks that the file is still the one it looked at, and starts over
  // when it is not (a few rounds at most: a daemon that wins holds the lock).
  for (int round = 0; round < 100; ++round) {
    UniqueFd existing(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    if (existing.get() < 0) {
      const int error = errno;
      if (error == ELOOP) return "is a symbolic link; give the path of a plain file";
      if (error != ENOENT) return "cannot open it: " + errno_text(error);
      // None yet: link(2) creates it only if it still does not exist.
      Temporary temporary = write_temporary(file, ::getpid());
      if (temporary.fd < 0) return temporary.error;
      const int linked = ::link(temporary.name.c_str(), file.c_str());
      const int link_error = errno;
      ::unlink(temporary.name.c_str());
      if (linked == 0) return PidFile(file, temporary.fd);
      ::close(temporary.fd);
      if (link_error == EEXIST) continue;  // created meanwhile: look at it
      return "cannot create it: " + errno_text(link_error);
    }
    struct stat st {};
    if (::fstat(existing.get(), &st) != 0) return "cannot open it: " + errno_text(errno);
    if (!S_ISREG(st.st_mode)) return not_a_plain_file(st);
    if (::flock(existing.get(), LOCK_EX | LOCK_NB) != 0) {
      const int error = errno;
      if (error != EWOULDBLOCK) return "cannot lock it: " + errno_text(error);
      if (!still_names(file, existing.get())) continue;
      const auto holder = pid_in(existing.get());
      return "another factotum " +
             (holder ? "(pid " + std::to_string(*holder) + ")" : std::string("process")) +
             " runs with this pidfile (it holds the file's lock): stop it first (factotum ctl "
             "stop --pidfile " +
             file.string() + "), or give another --pidfile";
    }
    if (!still_names(file, existing.get())) continue;
    // Left by a daemon that has died. Replaced while its lock is held here, so that no other
    // daemon starting now takes it as well.
    Temporary temporary = write_temporary(file, ::getpid());
    if (temporary.fd < 0) return temporary.error;
    if (::rename(temporary.name.c_str(), file.c_str()) != 0) {
      const int error = errno;
      ::unlink(temporary.name.c_str());
      ::close(temporary.fd);
      return "cannot replace the stale file: " + errno_text(error);
    }
    return PidFile(file, temporary.fd);
  }
  return "it keeps being replaced by another process";
}

PidFile::PidFile(PidFile&& other) noexcept
    : file_(std::move(other.file_)), fd_(std::exchange(other.fd_, -1)) {}

PidFile::~PidFile() {
  remove();
}

void PidFile::remove() noexcept {
  if (fd_ < 0) return;
  // Still the file this process wrote (same inode: nobody replaced it while the lock was held),
  // so it holds this pid.
  if (still_names(file_, fd_)) ::unlink(file_.c_str());
  ::close(std::exchange(fd_, -1));
}

void PidFile::forget() noexcept {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
}

PidFileRead read_pid_file(const fs::path& file) {
  PidFileRead out;
  const std::string name = "the pidfile " + file.string();
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  struct stat st {};
  if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0) {
    out.error = errno;
    out.message = "cannot read " + name + ": " + errno_text(out.error);
    return out;
  }
  if (!S_ISREG(st.st_mode)) {
    out.error = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
    out.message = name + " " + not_a_plain_file(st);
    return out;
  }
  out.pid = pid_in(fd.get());
  if (!out.pid || *out.pid <= 0) {
    out.pid.reset();
    out.error = EINVAL;
    out.message = name + " does not hold a pid (one decimal number on a line)";
  }
  return out;
}

}  // namespace factotum::service
