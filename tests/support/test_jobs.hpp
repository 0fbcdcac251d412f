// What tests that run jobs through the e2e test plugin share: a private temporary directory,
// the "gate" job a test opens when it wants the job to finish, and a job to push.
#pragma once

#include "faktory/job.hpp"

#include <boost/json/array.hpp>
#include <boost/json/string.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <system_error>

namespace factotum::testing {

inline std::string random_suffix() {
  std::random_device rd;
  return std::to_string(rd());
}

// A directory of its own (mode 0700), removed with everything in it.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() / ("factotum-test-" + random_suffix());
    std::filesystem::create_directories(path);
    std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

// For the e2e_jobs "gate" jobtype: a job given args() stays in flight until open() (or until
// it is cancelled), so a test decides when it finishes without racing a timer.
struct Gate {
  TempDir dir;
  std::filesystem::path file = dir.path / "open";
  boost::json::array args() const { return {boost::json::string(file.string())}; }
  void open() const { std::ofstream(file) << "open\n"; }
  // The job has entered the plugin's function (it was not merely fetched).
  bool entered() const { return std::filesystem::exists(file.string() + ".entered"); }
};

// A job with a few retries (a failed one lands in the retry set, where tests read it).
inline faktory::Job job(std::string jobtype, boost::json::array args = {},
                        std::string queue = "default") {
  auto j = faktory::Job::create(std::move(jobtype), std::move(args), std::move(queue));
  j.retry = 3;
  return j;
}

}  // namespace factotum::testing
