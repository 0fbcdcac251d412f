// The daemon's pidfile (service/pid_file.hpp): taken whole and locked, refused while another
// process holds it, replaced when stale, removed only by its holder; read back by ctl without
// ever showing what a wrong file holds.
#include "service/pid_file.hpp"

#include "test_jobs.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>

#include <fstream>

using namespace factotum::service;
using factotum::testing::TempDir;
namespace fs = std::filesystem;

TEST_CASE("a pidfile taken holds this process's pid and is removed with its holder") {
  TempDir dir;
  const auto file = dir.path / "factotum.pid";
  {
    auto taken = PidFile::take(file);
    REQUIRE(std::holds_alternative<PidFile>(taken));
    CHECK(read_pid_file(file).pid == ::getpid());
    CHECK((fs::status(file).permissions() & fs::perms::others_read) != fs::perms::none);
  }
  CHECK(!fs::exists(file));
  CHECK(fs::is_empty(dir.path));  // no temporary file left beside it
}

TEST_CASE("a pidfile held by another open of it is refused, naming the pid it holds") {
  TempDir dir;
  const auto file = dir.path / "factotum.pid";
  auto first = PidFile::take(file);
  REQUIRE(std::holds_alternative<PidFile>(first));
  // A lock belongs to an open file, so a second take in this process is refused as another
  // daemon's would be.
  const auto second = PidFile::take(file);
  REQUIRE(std::holds_alternative<std::string>(second));
  CHECK(std::get<std::string>(second).find("another factotum (pid " + std::to_string(::getpid()) +
                                           ")") != std::string::npos);
  CHECK(read_pid_file(file).pid == ::getpid());
}

TEST_CASE("a stale pidfile (no lock) is replaced, a symbolic link and a directory are refused") {
  TempDir dir;
  const auto file = dir.path / "factotum.pid";
  std::ofstream(file) << "999999\n";
  {
    auto taken = PidFile::take(file);
    REQUIRE(std::holds_alternative<PidFile>(taken));
    CHECK(read_pid_file(file).pid == ::getpid());
  }
  const auto target = dir.path / "target";
  std::ofstream(target) << "1\n";
  fs::create_symlink(target, file);
  const auto link = PidFile::take(file);
  REQUIRE(std::holds_alternative<std::string>(link));
  CHECK(std::get<std::string>(link).find("symbolic link") != std::string::npos);
  fs::remove(file);
  fs::create_directory(file);
  const auto directory = PidFile::take(file);
  REQUIRE(std::holds_alternative<std::string>(directory));
  CHECK(std::get<std::string>(directory) == "is a directory");
}

TEST_CASE("a forgotten pidfile (the worker's copy of it) is not removed") {
  TempDir dir;
  const auto file = dir.path / "factotum.pid";
  {
    auto copy = PidFile::take(file);
    REQUIRE(std::holds_alternative<PidFile>(copy));
    std::get<PidFile>(copy).forget();
  }
  CHECK(read_pid_file(file).pid == ::getpid());
}

TEST_CASE(
    "a pidfile that is missing, not a pid or a directory is an error that shows no contents") {
  TempDir dir;
  const auto file = dir.path / "factotum.pid";
  const auto missing = read_pid_file(file);
  CHECK(!missing.pid);
  CHECK(missing.error == ENOENT);
  CHECK(missing.message.find(file.string()) != std::string::npos);
  std::ofstream(file) << "hunter2-secret\n";
  const auto garbage = read_pid_file(file);
  CHECK(!garbage.pid);
  CHECK(garbage.message.find("does not hold a pid") != std::string::npos);
  CHECK(garbage.message.find("hunter2") == std::string::npos);
  const auto directory = read_pid_file(dir.path);
  CHECK(directory.error == EISDIR);
  CHECK(directory.message.find("is a directory") != std::string::npos);
}

TEST_CASE("a pid is decimal digits, then whitespace at most") {
  CHECK(parse_pid("4242\n") == 4242);
  CHECK(parse_pid("0") == 0);
  CHECK(!parse_pid(""));
  CHECK(!parse_pid("-1"));
  CHECK(!parse_pid("42x"));
  CHECK(!parse_pid(" 42"));
  CHECK(!parse_pid("99999999999999"));
}

TEST_CASE("a pidfile in a directory that does not exist is found out at start") {
  TempDir dir;
  const auto taken = PidFile::take(dir.path / "no" / "factotum.pid");
  REQUIRE(std::holds_alternative<std::string>(taken));
  CHECK(std::get<std::string>(taken).find("does not exist") != std::string::npos);
}
