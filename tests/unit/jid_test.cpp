#include "faktory/jid.hpp"

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

using factotum::faktory::generate_jid;

TEST_CASE("a jid is 24 lowercase hex characters", "[jid]") {
  const auto jid = generate_jid();
  CHECK(jid.size() == 24);  // the server requires >= 8 (PROTOCOL.md §6)
  CHECK(jid.find_first_not_of("0123456789abcdef") == std::string::npos);
}

TEST_CASE("jids are unique across many calls and threads", "[jid]") {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50000;
  std::vector<std::vector<std::string>> per_thread(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&per_thread, t] {
      auto& out = per_thread[static_cast<std::size_t>(t)];
      out.reserve(kPerThread);
      for (int i = 0; i < kPerThread; ++i) out.push_back(generate_jid());
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<std::string> all;
  for (const auto& jids : per_thread) all.insert(jids.begin(), jids.end());
  CHECK(all.size() == static_cast<std::size_t>(kThreads * kPerThread));
}

TEST_CASE("a forked child does not repeat the parent's jids", "[jid]") {
  (void)generate_jid();  // make sure this thread's generator is seeded before the fork
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    const std::string jid = generate_jid();
    const auto written = ::write(fds[1], jid.data(), jid.size());
    ::_exit(written == static_cast<ssize_t>(jid.size()) ? 0 : 1);
  }
  const std::string parent_jid = generate_jid();
  std::string child_jid(24, '\0');
  const auto got = ::read(fds[0], child_jid.data(), child_jid.size());
  int status = 0;
  ::waitpid(child, &status, 0);
  ::close(fds[0]);
  ::close(fds[1]);
  REQUIRE(got == 24);
  CHECK(child_jid != parent_jid);
}
