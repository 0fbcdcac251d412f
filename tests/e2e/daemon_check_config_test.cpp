// check-config is stricter than a start: a plugin that would be skipped is a configuration
// error (exit 78) named with its file and the reason.
#include "daemon_fixture.hpp"

using namespace factotum;
using namespace factotum::testing;

TEST_CASE("check-config exits 78 naming each plugin file that fails to load and why") {
  TempDir dir;
  const auto plugins = dir.path / "plugins";
  fs::create_directory(plugins);
  fs::permissions(plugins, fs::perms::owner_all, fs::perm_options::replace);
  // Owner-only files, so strict_permissions (the default) has nothing to object to: what
  // fails is the content.
  const auto not_elf = plugins / "bad.so";
  std::ofstream(not_elf) << "this is not a shared library\n";
  const auto broken_elf = plugins / "broken.so";
  std::ofstream(broken_elf) << "\x7f"
                            << "ELF garbage after a valid magic number";
  for (const auto& file : {not_elf, broken_elf}) {
    fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write,
                    fs::perm_options::replace);
  }
  const auto config = dir.path / "factotum.yaml";
  // A good plugin directory after the bad one: it still loads, the summary still lists it.
  std::ofstream(config) << "plugins:\n  directories: [" << plugins.string()
                        << ", " FACTOTUM_BINARY_DIR "/tests/e2e-plugins]\n";

  const auto [exit_code, output] = check_config(config);
  INFO(output);
  CHECK(exit_code == 78);
  const auto lines = lines_of(output);
  const auto line_naming = [&](const fs::path& file) -> std::string {
    for (const auto& line : lines) {
      if (line.find("file=" + file.string()) != std::string::npos) return line;
    }
    return {};
  };
  const auto bad_line = line_naming(not_elf);
  CHECK(bad_line.find("plugin not loaded") != std::string::npos);
  CHECK(bad_line.find("not an ELF file") != std::string::npos);
  const auto broken_line = line_naming(broken_elf);
  CHECK(broken_line.find("plugin not loaded") != std::string::npos);
  CHECK(broken_line.find("cannot be loaded") != std::string::npos);
  CHECK(output.find("some plugins could not be loaded") != std::string::npos);
  CHECK(output.find("configuration OK") == std::string::npos);
  CHECK(output.find("stubborn") != std::string::npos);  // e2e_jobs loaded all the same
}

TEST_CASE("a plugins.config entry naming no loaded plugin is an error only under fatal_errors") {
  TempDir dir;
  const auto config = dir.path / "factotum.yaml";
  std::string output;
  const auto check = [&](bool fatal) {
    std::ofstream(config) << "plugins:\n  directories: [" FACTOTUM_BINARY_DIR
                             "/tests/e2e-plugins]\n  fatal_errors: "
                          << (fatal ? "true" : "false")
                          << "\n  config:\n    e2e_jobz: {answer: 42}\n";
    const auto run = check_config(config);
    output = run.output;
    return run.exit_code;
  };
  // A warning (the settings reach nobody, the rest is fine), then an error: both name the
  // entry where it is written and the plugin it probably meant.
  const std::string said = config.string() + ":5:5: plugins.config.e2e_jobz: no loaded plugin " +
                           "is named 'e2e_jobz'; did you mean 'e2e_jobs'?";
  CHECK(check(false) == 0);
  CHECK(output.find(said) != std::string::npos);
  CHECK(check(true) == 78);
  CHECK(output.find(said) != std::string::npos);
}

TEST_CASE("check-config names a plugin that crashes while loading, and exits 78") {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // The sanitizers catch the plugin's deliberate crash themselves (their report, exit status 1
  // or 66): the process does not die of the signal this test is about.
  WARN("skipped under a sanitizer: it reports a deliberate crash itself, not as a signal");
  return;
#endif
  const auto [variant, signal] =
      GENERATE(std::pair<std::string, std::string>{"crash_in_init", "SIGSEGV"},
               std::pair<std::string, std::string>{"crash_in_constructor", "SIGABRT"});
  TempDir dir;
  const auto plugins = dir.path / "plugins";
  fs::create_directory(plugins);
  fs::permissions(plugins, fs::perms::owner_all, fs::perm_options::replace);
  fs::copy_file(FACTOTUM_BINARY_DIR "/tests/e2e-plugin-variants/" + variant + ".so",
                plugins / "crashing.so");
  const auto config = dir.path / "factotum.yaml";
  std::ofstream(config) << "plugins:\n  directories: [" << plugins.string() << "]\n";

  const auto [exit_code, output] = check_config(config);
  INFO(output);
  CHECK(exit_code == 78);
  CHECK(output.find("plugin " + (plugins / "crashing.so").string() +
                    " crashed while loading: " + signal) != std::string::npos);
}
