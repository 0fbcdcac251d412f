// factotum ctl quiet and stop against the real daemon, found by its --pidfile or through
// systemd; the stale pidfile that must never lead to a signal; the daemon's own pidfile (taken
// at start-up, held locked, unchanged by a worker's restart) and a quieted daemon whose worker
// is restarted.
#include "ctl_fixture.hpp"

#include <sys/stat.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace factotum;
using namespace factotum::testing;

namespace {

// The daemon writes its pidfile at start-up; a condition waited for, not a sleep.
pid_t wait_for_pidfile(const fs::path& file) {
  const auto until = std::chrono::steady_clock::now() + kDeadline;
  while (!fs::exists(file) && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(fs::exists(file));
  pid_t pid = 0;
  std::ifstream(file) >> pid;
  return pid;
}

// A `systemctl` first in PATH that answers `show --property=MainPID --value UNIT` with `pid`
// (and records its arguments), as systemd would for a running unit.
struct FakeSystemctl {
  TempDir dir;
  fs::path arguments = dir.path / "arguments";

  explicit FakeSystemctl(pid_t pid) {
    const auto script = dir.path / "systemctl";
    std::ofstream(script) << "#!/bin/sh\necho \"$*\" > '" << arguments.string() << "'\necho " << pid
                          << "\n";
    fs::permissions(script, fs::perms::owner_all);
  }
  std::string path_env() const {
    const char* path = std::getenv("PATH");
    return "PATH=" + dir.path.string() + ":" + (path != nullptr ? path : "/usr/bin:/bin");
  }
  std::string asked() const {
    std::string line;
    std::getline(std::ifstream(arguments), line);
    return line;
  }
};

// What a file is now: its contents and which version of it (inode, modification time).
struct FileState {
  std::string text;
  ino_t inode = 0;
  std::int64_t mtime_ns = 0;
  bool operator==(const FileState&) const = default;
};
FileState state_of(const fs::path& file) {
  FileState state;
  std::ostringstream text;
  text << std::ifstream(file).rdbuf();
  state.text = text.str();
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  state.inode = st.st_ino;
  state.mtime_ns = st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec;
  return state;
}

// The BEATs `wid` sent from `from` on, on connections it had not used before `from`.
std::vector<TestServer::CommandRecord> new_beats(const TestServer& server, const std::string& wid,
                                                 std::size_t from) {
  const auto log = server.command_log();
  std::set<std::uint64_t> old_connections;
  for (std::size_t i = 0; i < std::min(from, log.size()); ++i) {
    if (log[i].wid == wid) old_connections.insert(log[i].connection_id);
  }
  std::vector<TestServer::CommandRecord> beats;
  for (std::size_t i = from; i < log.size(); ++i) {
    if (log[i].wid == wid && log[i].verb == "BEAT" &&
        !old_connections.count(log[i].connection_id)) {
      beats.push_back(log[i]);
    }
  }
  return beats;
}

}  // namespace

TEST_CASE("ctl quiet quiets the daemon of the pidfile, ctl stop through systemd stops it") {
  TestServer server(quick_server_options());
  TempDir run_dir;
  const auto pidfile = run_dir.path / "factotum.pid";
  Daemon::Settings settings;
  settings.args = {"--pidfile", pidfile.string()};
  Daemon daemon(server, settings);
  daemon.start();
  const pid_t pid = wait_for_pidfile(pidfile);
  CHECK(pid == daemon.process().pid());  // the main process, not the worker

  const auto quiet = run_ctl({"quiet", "--pidfile", pidfile.string()});
  INFO(quiet.err);
  REQUIRE(quiet.status == 0);
  CHECK(quiet.out == "sent TSTP to factotum (pid " + std::to_string(pid) + " from " +
                         pidfile.string() + "): it fetches no new jobs; jobs in flight finish\n");
  // The worker tells the server in its next heartbeat.
  CHECK(server.wait_for(
      [&](const TestServer::Stats&) {
        return server.worker_state(daemon.wid()) == std::optional<std::string>("quiet");
      },
      kDeadline));

  // stop reads worker.shutdown_timeout from the configuration, and nothing that it cannot
  // read and does not need: a password file, TLS files.
  TempDir config_dir;
  const auto ctl_config = config_dir.path / "factotum.yaml";
  std::ofstream(ctl_config) << "faktory:\n  password_file: "
                            << (config_dir.path / "no-such-file").string()
                            << "\n  tls:\n    ca_file: " << (config_dir.path / "no-ca.pem").string()
                            << "\nworker:\n  shutdown_timeout: 7s\n";
  FakeSystemctl systemctl(pid);
  const auto stop = run_ctl({"stop", "--config", ctl_config.string()}, {systemctl.path_env()});
  INFO(stop.err);
  CHECK(stop.status == 0);
  CHECK(systemctl.asked() == "show --property=MainPID --value -- factotum.service");
  CHECK(stop.out.find("sent TERM to factotum (pid " + std::to_string(pid) +
                      ", the main process of factotum.service); waiting up to 27s "
                      "(worker.shutdown_timeout 7s in " +
                      ctl_config.string() + " + 20s) for it to exit\n") == 0);
  CHECK(stop.out.find("factotum (pid " + std::to_string(pid) + ") exited after ") !=
        std::string::npos);
  // ctl returned once the process had exited: its status is already there to collect.
  CHECK(daemon.process().wait_exit(std::chrono::milliseconds(0)) == 0);
  CHECK(!fs::exists(pidfile));  // removed by the daemon on its way out
}

TEST_CASE("ctl stop that times out exits 75, and a second stop hurries the daemon") {
  TestServer server(quick_server_options());
  TempDir run_dir;
  const auto pidfile = run_dir.path / "factotum.pid";
  Daemon::Settings settings;
  settings.shutdown_timeout = "60s";
  settings.args = {"--pidfile", pidfile.string()};
  Daemon daemon(server, settings);
  daemon.start();
  wait_for_pidfile(pidfile);
  auto producer = producer_for(server);
  const auto stubborn = job("stubborn", {600000});
  push_and_await_start(daemon, *producer, stubborn);

  const auto first = run_ctl({"stop", "--pidfile", pidfile.string(), "--timeout", "300ms"});
  CHECK(first.status == 75);
  check_error_line(first, {"still runs after 300ms", "stop again to hurry it"});
  CHECK(!process_ended(daemon.process().pid()));

  const auto second = run_ctl({"stop", "--pidfile", pidfile.string(), "--no-wait"});
  CHECK(second.status == 0);
  CHECK(second.out.find("sent TERM to factotum") == 0);
  CHECK(daemon.process().wait_exit(kDeadline) == 0);
  CHECK(server.fail_count(stubborn.jid) == 1);  // hurried: FAILed so it retries at once
}

TEST_CASE("ctl stop with a stale pidfile exits 69 and signals no process") {
  TempDir dir;
  const auto pidfile = dir.path / "factotum.pid";

  const auto missing = run_ctl({"stop", "--pidfile", pidfile.string(), "--timeout", "1s"});
  CHECK(missing.status == 69);
  check_error_line(missing, {"cannot read the pidfile " + pidfile.string()});

  // A pid whose process has ended.
  pid_t ended = 0;
  {
    ChildProcess child({"/bin/true"});
    REQUIRE(child.wait_exit(kDeadline) == 0);
    ended = child.pid();
  }
  std::ofstream(pidfile) << ended << "\n";
  const auto gone = run_ctl({"stop", "--pidfile", pidfile.string(), "--timeout", "1s"});
  CHECK(gone.status == 69);
  check_error_line(gone, {"stale pidfile", "no process " + std::to_string(ended)});

  // A pid now used by another program: it must not get the TERM.
  ChildProcess other({"/bin/sleep", "60"});
  std::ofstream(pidfile) << other.pid() << "\n";
  const auto wrong = run_ctl({"stop", "--pidfile", pidfile.string(), "--timeout", "1s"});
  CHECK(wrong.status == 69);
  check_error_line(wrong, {"stale pidfile", "is 'sleep', not factotum"});
  CHECK(!process_ended(other.pid()));
  CHECK(!signal_pending(other.pid(), SIGTERM));
}

TEST_CASE("ctl never shows what a file named as the pidfile holds, and names a directory") {
  TempDir dir;
  const auto secret = dir.path / "faktory-password";
  std::ofstream(secret) << "s3cret-password\n";
  const auto run = run_ctl({"quiet", "--pidfile", secret.string()});
  CHECK(run.status == 69);
  check_error_line(run, {"the pidfile " + secret.string() + " does not hold a pid"});
  CHECK(run.err.find("s3cret") == std::string::npos);
  const auto directory = run_ctl({"quiet", "--pidfile", dir.path.string()});
  CHECK(directory.status == 69);
  check_error_line(directory, {"the pidfile " + dir.path.string() + " is a directory"});
}

TEST_CASE("the daemon refuses a --pidfile it could not write, exit 78, before starting") {
  TempDir dir;
  const auto run = run_factotum({"--pidfile", (dir.path / "no" / "such" / "f.pid").string()});
  CHECK(run.exit_code == 78);
  CHECK(run.output.find("--pidfile") != std::string::npos);
  CHECK(run.output.find("does not exist") != std::string::npos);
}

TEST_CASE("factotum --check-config neither checks nor writes the pidfile") {
  TestServer server(quick_server_options());
  Daemon daemon(server, {});
  TempDir dir;
  const auto missing_dir = run_factotum({"--config", daemon.config().string(), "--check-config",
                                         "--pidfile", (dir.path / "no" / "f.pid").string()});
  CHECK(missing_dir.exit_code == 0);
  const auto pidfile = dir.path / "f.pid";
  const auto check = run_factotum(
      {"--config", daemon.config().string(), "--check-config", "--pidfile", pidfile.string()});
  CHECK(check.exit_code == 0);
  CHECK(!fs::exists(pidfile));
}

TEST_CASE("a second daemon on the same pidfile is refused with 78 and the file stays the first's") {
  TestServer server(quick_server_options());
  TempDir run_dir;
  const auto pidfile = run_dir.path / "factotum.pid";
  Daemon::Settings settings;
  settings.args = {"--pidfile", pidfile.string()};
  Daemon daemon(server, settings);
  daemon.start();
  const pid_t pid = wait_for_pidfile(pidfile);
  CHECK(pid == daemon.process().pid());
  const auto before = state_of(pidfile);
  const auto second =
      run_factotum({"--config", daemon.config().string(), "--pidfile", pidfile.string()});
  CHECK(second.exit_code == 78);
  CHECK(second.output.find("another factotum (pid " + std::to_string(pid) + ")") !=
        std::string::npos);
  CHECK(state_of(pidfile) == before);
  daemon.process().signal(SIGTERM);
  CHECK(daemon.process().wait_exit(kDeadline) == 0);
  CHECK(!fs::exists(pidfile));
}

TEST_CASE("a quieted daemon's restarted worker starts quiet and fetches nothing (supervisor)") {
  TestServer server(quick_server_options());
  TempDir run_dir;
  const auto pidfile = run_dir.path / "factotum.pid";
  Daemon::Settings settings;
  settings.concurrency = 2;
  settings.args = {"--pidfile", pidfile.string()};
  Daemon daemon(server, settings);
  daemon.start();
  wait_for_pidfile(pidfile);
  const auto pidfile_before = state_of(pidfile);
  const pid_t worker = daemon.worker_pid();

  // The worker's pid is no pidfile's: it takes signals from its supervisor only.
  const auto worker_pidfile = run_dir.path / "worker.pid";
  std::ofstream(worker_pidfile) << worker << "\n";
  const auto refused = run_ctl({"quiet", "--pidfile", worker_pidfile.string()});
  CHECK(refused.status == 69);
  check_error_line(refused, {"is factotum's worker process", "give the main process's pid"});

  REQUIRE(run_ctl({"quiet", "--pidfile", pidfile.string()}).status == 0);
  REQUIRE(daemon.wait_for_log("quiet: no new jobs"));
  const auto killed_at = server.command_log().size();
  ::kill(worker, SIGKILL);
  // A new worker: its first BEAT, on a connection of its own, already says quiet.
  REQUIRE(server.wait_for(
      [&](const TestServer::Stats&) { return !new_beats(server, daemon.wid(), killed_at).empty(); },
      kDeadline));
  const auto first = new_beats(server, daemon.wid(), killed_at).front();
  CHECK(first.line.find(R"("current_state":"quiet")") != std::string::npos);
  const pid_t restarted = daemon.worker_pid();
  CHECK(restarted != worker);
  // A job waits; time passes (one more BEAT): the new worker fetches nothing, and lives on.
  auto producer = producer_for(server);
  REQUIRE(producer->push(job("ok")));
  REQUIRE(server.wait_for(
      [&](const TestServer::Stats&) {
        return new_beats(server, daemon.wid(), killed_at).size() >= 2;
      },
      kDeadline));
  const auto log = server.command_log();
  for (std::size_t i = killed_at; i < log.size(); ++i) {
    if (log[i].wid == daemon.wid()) CHECK(log[i].verb != "FETCH");
  }
  CHECK(server.stats().queues.at("default") == 1);
  CHECK(server.worker_state(daemon.wid()) == std::optional<std::string>("quiet"));
  CHECK(daemon.worker_pid() == restarted);
  // The supervisor's pidfile is untouched by the restart.
  CHECK(state_of(pidfile) == pidfile_before);
  daemon.process().signal(SIGTERM);
  CHECK(daemon.process().wait_exit(kDeadline) == 0);
}

TEST_CASE("ctl refuses a pidfile that holds a thread id of the daemon, not its pid") {
  TestServer server(quick_server_options());
  TempDir run_dir;
  const auto pidfile = run_dir.path / "factotum.pid";
  Daemon::Settings settings;
  settings.args = {"--no-supervisor", "--pidfile", pidfile.string()};
  Daemon daemon(server, settings);
  daemon.start();
  const pid_t pid = wait_for_pidfile(pidfile);
  REQUIRE(pid == daemon.process().pid());
  // A thread that kept the process's name (Asio's resolver thread, once the heartbeat has
  // connected): its /proc entry says "factotum" as the process's does, and kill() of its id
  // would signal the whole process.
  const auto named_thread = [pid] {
    for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
      const auto tid = static_cast<pid_t>(std::stol(task.path().filename().string()));
      std::string name;
      std::getline(std::ifstream(task.path() / "comm"), name);
      if (tid != pid && name == "factotum") return tid;
    }
    return pid_t{0};
  };
  pid_t thread = 0;
  server.wait_for([&](const TestServer::Stats&) { return (thread = named_thread()) != 0; },
                  std::chrono::seconds(10));
  if (thread == 0) {
    WARN("skipped: no thread of the daemon keeps the name factotum");
    return;
  }
  const auto thread_file = run_dir.path / "thread.pid";
  std::ofstream(thread_file) << thread << "\n";
  const auto run = run_ctl({"quiet", "--pidfile", thread_file.string()});
  CHECK(run.status == 69);
  check_error_line(run,
                   {std::to_string(thread) + " is a thread of process " + std::to_string(pid)});
  CHECK(!signal_pending(pid, SIGTSTP));
  CHECK(server.worker_state(daemon.wid()) != std::optional<std::string>("quiet"));
}
