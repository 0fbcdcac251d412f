#include "run_command.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <string_view>
#include <system_error>

extern "C" char** environ;

namespace factotum::shell {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The longest we block without checking is_cancelled() (the SDK asks for prompt returns).
constexpr milliseconds kCancelPoll{100};
// Between "both pipes closed" and the exit status there is no fd to wait on; poll quickly.
constexpr milliseconds kExitPoll{5};

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) noexcept : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const noexcept { return fd_; }
  void reset() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  Fd read_end;
  Fd write_end;
};

// O_CLOEXEC so a command another job thread spawns at the same moment cannot inherit it (a
// leaked write end would keep our reader from ever seeing EOF). Only our read end is
// non-blocking: the child's end must stay blocking or its writes could fail with EAGAIN.
Pipe make_pipe() {
  std::array<int, 2> fds{};
  if (::pipe2(fds.data(), O_CLOEXEC) != 0) throw_errno("pipe2");
  Pipe p{Fd(fds[0]), Fd(fds[1])};
  const int flags = ::fcntl(p.read_end.get(), F_GETFL);
  if (flags < 0 || ::fcntl(p.read_end.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
    throw_errno("fcntl");
  }
  return p;
}

// Keeps the last kTailBytes of a stream without holding all of it.
class Tail {
 public:
  void append(std::string_view data) {
    buffer_.append(data);
    if (buffer_.size() > 2 * kTailBytes) trim();
  }
  std::string take() {
    trim();
    return std::move(buffer_);
  }

 private:
  void trim() {
    if (buffer_.size() <= kTailBytes) return;
    std::size_t cut = buffer_.size() - kTailBytes;
    // Do not start the tail in the middle of a UTF-8 sequence: it ends up in JSON messages.
    while (cut < buffer_.size() && (static_cast<unsigned char>(buffer_[cut]) & 0xC0U) == 0x80U) {
      ++cut;
    }
    buffer_.erase(0, cut);
  }
  std::string buffer_;
};

// Reads what is available now. Returns false at EOF (or on a read error, which for a pipe
// means the same: nothing more will come).
bool drain(int fd, Tail& tail) {
  std::array<char, 4096> chunk{};
  for (;;) {
    const ssize_t n = ::read(fd, chunk.data(), chunk.size());
    if (n > 0) {
      tail.append(std::string_view(chunk.data(), static_cast<std::size_t>(n)));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    return false;
  }
}

// environ plus the configured variables (which win). Copied per spawn: the daemon's
// environment is read here, never modified.
std::vector<std::string> build_environment(const CommandSpec& spec) {
  std::vector<std::string> out;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view var(*entry);
    const std::string_view name = var.substr(0, var.find('='));
    const bool overridden = std::any_of(spec.env.begin(), spec.env.end(),
                                        [&](const auto& kv) { return kv.first == name; });
    if (!overridden) out.emplace_back(var);
  }
  for (const auto& [name, value] : spec.env) out.push_back(name + "=" + value);
  return out;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

class SpawnSetup {
 public:
  SpawnSetup() {
    if (const int e = ::posix_spawn_file_actions_init(&actions_); e != 0) {
      throw std::system_error(e, std::generic_category(), "posix_spawn_file_actions_init");
    }
    if (const int e = ::posix_spawnattr_init(&attr_); e != 0) {
      ::posix_spawn_file_actions_destroy(&actions_);
      throw std::system_error(e, std::generic_category(), "posix_spawnattr_init");
    }
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
  ~SpawnSetup() {
    ::posix_spawnattr_destroy(&attr_);
    ::posix_spawn_file_actions_destroy(&actions_);
  }
  posix_spawn_file_actions_t* actions() noexcept { return &actions_; }
  posix_spawnattr_t* attr() noexcept { return &attr_; }

 private:
  posix_spawn_file_actions_t actions_{};
  posix_spawnattr_t attr_{};
};

void check(int error, const char* what) {
  if (error != 0) throw std::system_error(error, std::generic_category(), what);
}

void configure(SpawnSetup& setup, const CommandSpec& spec, int stdout_fd, int stderr_fd) {
  auto* actions = setup.actions();
  check(::posix_spawn_file_actions_addopen(actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0),
        "posix_spawn_file_actions_addopen");
  check(::posix_spawn_file_actions_adddup2(actions, stdout_fd, STDOUT_FILENO),
        "posix_spawn_file_actions_adddup2");
  check(::posix_spawn_file_actions_adddup2(actions, stderr_fd, STDERR_FILENO),
        "posix_spawn_file_actions_adddup2");
  if (!spec.cwd.empty()) {
    check(::posix_spawn_file_actions_addchdir_np(actions, spec.cwd.c_str()),
          "posix_spawn_file_actions_addchdir_np");
  }
  // The daemon's sockets and files are none of the command's business, CLOEXEC or not.
  check(::posix_spawn_file_actions_addclosefrom_np(actions, STDERR_FILENO + 1),
        "posix_spawn_file_actions_addclosefrom_np");

  auto* attr = setup.attr();
  // Own process group: a timeout or cancellation kills the command's children too. The job
  // thread's signal mask (the daemon blocks signals it waits for) and ignored signals such as
  // SIGPIPE survive exec, so both are reset to what a freshly started program expects.
  sigset_t empty;
  sigset_t all;
  ::sigemptyset(&empty);
  ::sigfillset(&all);
  check(::posix_spawnattr_setpgroup(attr, 0), "posix_spawnattr_setpgroup");
  check(::posix_spawnattr_setsigmask(attr, &empty), "posix_spawnattr_setsigmask");
  check(::posix_spawnattr_setsigdefault(attr, &all), "posix_spawnattr_setsigdefault");
  check(::posix_spawnattr_setflags(
            attr, static_cast<short>(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                     POSIX_SPAWN_SETSIGDEF)),
        "posix_spawnattr_setflags");
}

// Owns the child until it is reaped; if an exception unwinds first, kills its group and
// reaps it so no process or zombie outlives the job.
class Child {
 public:
  explicit Child(pid_t pid) noexcept : pid_(pid) {}
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  pid_t pid() const noexcept { return pid_; }

  // True once the child exited; it stays a zombie (WNOWAIT) so its pid, and thereby its
  // process group id, cannot be reused while we may still signal the group.
  bool exited() const {
    siginfo_t info{};
    for (;;) {
      if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0) {
        return info.si_pid == pid_;
      }
      if (errno != EINTR) throw_errno("waitid");
    }
  }
  void signal_group(int signal_number) const noexcept { ::kill(-pid_, signal_number); }

  int reap() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0) {
      if (errno != EINTR) throw_errno("waitpid");
    }
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_;
};

}  // namespace

std::string signal_name(int signal_number) {
  if (const char* abbrev = ::sigabbrev_np(signal_number); abbrev != nullptr) {
    return std::string("SIG") + abbrev;
  }
  return "signal " + std::to_string(signal_number);
}

CommandResult run_command(const CommandSpec& spec, const std::function<bool()>& is_cancelled) {
  CommandResult result;
  Pipe out = make_pipe();
  Pipe err = make_pipe();

  std::vector<std::string> argv_strings = spec.argv;
  std::vector<char*> argv = pointers(argv_strings);
  std::vector<std::string> env_strings = build_environment(spec);
  std::vector<char*> envp = pointers(env_strings);

  SpawnSetup setup;
  configure(setup, spec, out.write_end.get(), err.write_end.get());
  pid_t pid = -1;
  // posix_spawn, not posix_spawnp: argv[0] is absolute and no PATH lookup is wanted. glibc
  // reports exec failures (ENOENT, EACCES, a bad cwd) as the return value.
  if (const int e =
          ::posix_spawn(&pid, argv[0], setup.actions(), setup.attr(), argv.data(), envp.data());
      e != 0) {
    result.outcome = CommandResult::Outcome::spawn_failed;
    result.spawn_errno = e;
    return result;
  }
  Child child(pid);
  // Only the child may hold the write ends, or we would never see EOF.
  out.write_end.reset();
  err.write_end.reset();

  Tail stdout_tail;
  Tail stderr_tail;
  const auto start = Clock::now();
  const std::optional<Clock::time_point> deadline =
      spec.timeout ? std::optional(start + *spec.timeout) : std::nullopt;
  std::optional<CommandResult::Outcome> stopped;  // set once we began killing the group
  std::optional<Clock::time_point> kill_at;
  bool killed = false;

  while (!child.exited()) {
    const auto now = Clock::now();
    if (!stopped) {
      if (is_cancelled()) {
        stopped = CommandResult::Outcome::cancelled;
      } else if (deadline && now >= *deadline) {
        stopped = CommandResult::Outcome::timed_out;
      }
      if (stopped) {
        child.signal_group(SIGTERM);
        kill_at = now + spec.kill_grace;
      }
    } else if (!killed && now >= *kill_at) {
      child.signal_group(SIGKILL);
      killed = true;
    }

    std::array<pollfd, 2> fds{pollfd{out.read_end.get(), POLLIN, 0},
                              pollfd{err.read_end.get(), POLLIN, 0}};
    const bool pipes_open = fds[0].fd >= 0 || fds[1].fd >= 0;
    auto wait = pipes_open ? kCancelPoll : kExitPoll;
    const std::optional<Clock::time_point> next_event = stopped ? kill_at : deadline;
    if (next_event && !killed) {
      const auto until = std::chrono::ceil<milliseconds>(*next_event - now);
      wait = std::clamp(until, milliseconds(0), wait);
    }
    // poll ignores entries with a negative fd, so closed pipes simply drop out.
    if (::poll(fds.data(), fds.size(), static_cast<int>(wait.count())) < 0 && errno != EINTR) {
      throw_errno("poll");
    }
    if (fds[0].revents != 0 && !drain(out.read_end.get(), stdout_tail)) out.read_end.reset();
    if (fds[1].revents != 0 && !drain(err.read_end.get(), stderr_tail)) err.read_end.reset();
  }

  // What the command wrote just before exiting is still in the pipes. A grandchild that
  // still holds them is not waited for: the command itself is done.
  if (out.read_end.get() >= 0) drain(out.read_end.get(), stdout_tail);
  if (err.read_end.get() >= 0) drain(err.read_end.get(), stderr_tail);
  // After a timeout or cancellation, also stop children that outlived the leader.
  if (stopped) child.signal_group(SIGKILL);
  const int status = child.reap();

  result.stdout_tail = stdout_tail.take();
  result.stderr_tail = stderr_tail.take();
  if (stopped) {
    result.outcome = *stopped;
  } else if (WIFSIGNALED(status)) {
    result.outcome = CommandResult::Outcome::signaled;
    result.term_signal = WTERMSIG(status);
  } else {
    result.outcome = CommandResult::Outcome::exited;
    result.exit_status = WEXITSTATUS(status);
  }
  return result;
}

}  // namespace factotum::shell
