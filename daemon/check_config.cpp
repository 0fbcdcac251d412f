#include "check_config.hpp"

#include "service/log.hpp"
#include "service/signal_text.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <string>

namespace factotum {

using service::Log;

namespace {

constexpr int kExitConfig = 78;

void write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

int run_check_isolated(
    const std::function<int(const std::function<void(const std::filesystem::path&)>& on_loading)>&
        check) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return check({});
  std::cout.flush();
  std::cerr.flush();
  const pid_t child = ::fork();
  if (child < 0) {
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    return check({});
  }
  if (child == 0) {
    ::close(pipe_fds[0]);
    const int out = pipe_fds[1];
    // One line per file about to load; an empty line once loading is over.
    const int code =
        check([out](const std::filesystem::path& file) { write_all(out, file.string() + "\n"); });
    write_all(out, "\n");
    std::cout.flush();
    std::cerr.flush();
    ::_exit(code);
  }
  ::close(pipe_fds[1]);
  std::string announced;
  char buffer[4096];
  for (;;) {
    const auto n = ::read(pipe_fds[0], buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    announced.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (!WIFSIGNALED(status)) return kExitConfig;

  // The last line announced: the file whose code was running (empty: loading was over).
  if (!announced.empty() && announced.back() == '\n') announced.pop_back();
  const auto start = announced.rfind('\n');
  const std::string last = start == std::string::npos ? announced : announced.substr(start + 1);
  const std::string how = service::signal_text(WTERMSIG(status));
  if (!last.empty()) {
    Log::error("a plugin crashed while loading: " + how, {{"file", last}});
    std::cout << "configuration has errors: plugin " << last << " crashed while loading: " << how
              << "\n";
  } else {
    Log::error("the check crashed after loading the plugins: " + how);
    std::cout << "configuration has errors: the check crashed: " << how << "\n";
  }
  return kExitConfig;
}

}  // namespace factotum
