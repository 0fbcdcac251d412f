// Reload computes the next plugin set as a whole and publishes it in one step (DESIGN.md §4.7):
// a plugin renamed or a jobtype handed between plugins in one reload, a changed plugin config
// as a new generation, the middleware order applied with the plugin set, and the report of
// what changed, one entry per plugin, for the daemon's reload log.
#include "abi_test_support.hpp"

#include <catch2/catch.hpp>

using namespace factotum;
using namespace factotum::abi_test;

namespace {

using Kind = plugins::PluginChange::Kind;

std::vector<std::string> names(const std::vector<plugins::RegistrationInfo>& infos) {
  std::vector<std::string> out;
  for (const auto& info : infos) out.push_back(info.name);
  return out;
}

const plugins::PluginChange* change_of(const plugins::LoadReport& report, std::string_view plugin) {
  for (const auto& change : report.changes) {
    if (change.plugin == plugin) return &change;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("a plugin file renamed in one reload replaces its old generation", "[abi][reload]") {
  TempDir dir;
  install("gen_v1", dir.path(), "gen.so");
  LogCollector log;
  plugins::PluginHost host(log.services());
  REQUIRE(host.load_directories({dir.path()}, options()).ok());
  const auto first = generation_of(host, "Gen");

  // A new version under a new name, the old file gone, in one reload: the old generation must
  // not be in the way of its successor's plugin name.
  fs::remove(dir.path() / "gen.so");
  const auto renamed = install("gen_v2", dir.path(), "gen-2.0.so");
  const auto report = host.reload({dir.path()}, options());
  CHECK(report.ok());
  CHECK(report.applied);
  REQUIRE(report.changes.size() == 1);
  const auto& change = report.changes.front();
  CHECK(change.kind == Kind::replaced);
  CHECK(change.plugin == "gen");
  REQUIRE(change.before.has_value());
  REQUIRE(change.after.has_value());
  CHECK(change.before->version == "1.0.0");
  CHECK(change.before->file == dir.path() / "gen.so");
  CHECK(change.before->generation == first);
  CHECK(change.after->version == "2.0.0");
  CHECK(change.after->file == renamed);
  CHECK(change.after->generation == generation_of(host, "Gen"));
  CHECK(change.after->generation > first);
  CHECK(change.describe() == "replaced plugin gen 1.0.0 (" + (dir.path() / "gen.so").string() +
                                 ", generation " + std::to_string(first) + ") with 2.0.0 (" +
                                 renamed.string() + ", generation " +
                                 std::to_string(change.after->generation) + ")");

  CHECK(host.run(TestJob("Gen", "after").input()).succeeded());
  CHECK(log.messages_for("after") == std::vector<std::string>{"v2 ran"});
  CHECK(log.wait_for("v1 shutdown"));
}

TEST_CASE("a jobtype handed from one plugin file to another in one reload moves with it",
          "[abi][reload]") {
  TempDir dir;
  // a.so is scanned first: it takes the jobtype while b.so, scanned later, still holds it in
  // the registry being replaced.
  const bool to_first = GENERATE(true, false);
  install(to_first ? "mover_a_plain" : "mover_a_moving", dir.path(), "a.so");
  install(to_first ? "mover_b_moving" : "mover_b_plain", dir.path(), "b.so");
  LogCollector log;
  plugins::PluginHost host(log.services());
  REQUIRE(host.load_directories({dir.path()}, options()).ok());
  const std::string giver = to_first ? "mover_b" : "mover_a";
  const std::string taker = to_first ? "mover_a" : "mover_b";
  CHECK(host.plugin_for("Moving") == giver);

  replace(to_first ? "mover_a_moving" : "mover_a_plain", dir.path(), "a.so");
  replace(to_first ? "mover_b_plain" : "mover_b_moving", dir.path(), "b.so");
  const auto report = host.reload({dir.path()}, options());
  INFO((report.errors.empty() ? std::string() : report.errors.front().message()));
  CHECK(report.ok());
  CHECK(report.changes.size() == 2);
  CHECK(host.plugin_for("Moving") == taker);
  CHECK(host.plugin_for("Stay_mover_a") == std::optional<std::string>("mover_a"));
  CHECK(host.plugin_for("Stay_mover_b") == std::optional<std::string>("mover_b"));
  CHECK(host.run(TestJob("Moving", "moved").input()).succeeded());
  CHECK(log.messages_for("moved") == std::vector<std::string>{taker + " ran Moving"});
}

TEST_CASE("two live files with one plugin name or one jobtype are still refused on reload",
          "[abi][reload]") {
  TempDir dir;
  const auto one = install("good_c", dir.path(), "one.so");
  const auto a = install("dup_a", dir.path());
  LogCollector log;
  plugins::PluginHost host(log.services());
  REQUIRE(host.load_directories({dir.path()}, options()).ok());
  const auto good_generation = generation_of(host, "CEcho");

  const auto two = install("good_c", dir.path(), "two.so");
  const auto b = install("dup_b", dir.path());
  const auto report = host.reload({dir.path()}, options());
  REQUIRE(report.errors.size() == 2);
  CHECK(report.errors[0].file == b);
  CHECK(report.errors[0].reason ==
        "jobtype 'Dup' is already registered by plugin 'dup_a' (" + a.string() + ")");
  CHECK(report.errors[1].file == two);
  CHECK(report.errors[1].reason == "plugin name 'good_c' is already used by " + one.string());
  CHECK(report.changes.empty());
  CHECK(generation_of(host, "CEcho") == good_generation);
  CHECK(host.plugin_for("Dup") == std::optional<std::string>("dup_a"));
}

TEST_CASE("a plugin whose new file fails to load stays, and a new file cannot take its jobtype",
          "[abi][reload]") {
  TempDir dir;
  // The new file sorts first: updates are loaded before new files all the same.
  const auto keeper = install("mover_a_moving", dir.path(), "b.so");
  LogCollector log;
  plugins::PluginHost host(log.services());
  REQUIRE(host.load_directories({dir.path()}, options()).ok());
  const auto generation = generation_of(host, "Moving");

  replace("newer_minor", dir.path(), "b.so");
  const auto newcomer = install("mover_b_moving", dir.path(), "a.so");
  const auto report = host.reload({dir.path()}, options());
  REQUIRE(report.errors.size() == 2);
  CHECK(report.errors[0].file == newcomer);
  CHECK(report.errors[0].reason ==
        "jobtype 'Moving' is already registered by plugin 'mover_a' (" + keeper.string() + ")");
  CHECK(report.errors[1].file == keeper);
  CHECK(contains(report.errors[1].reason, "upgrade factotum"));
  CHECK(report.changes.empty());
  CHECK(generation_of(host, "Moving") == generation);
  CHECK(host.plugin_for("Stay_mover_b") == std::nullopt);
}

TEST_CASE(
    "a changed plugin config re-initialises the plugin while running jobs finish on the old one",
    "[abi][reload]") {
  TempDir dir;
  const auto file = install("gen_v1", dir.path(), "gen.so");
  install("good_c", dir.path());
  LogCollector log;
  auto host = std::make_unique<plugins::PluginHost>(log.services());
  auto opts = options();
  opts.config_json["gen"] = R"({"n":1})";
  REQUIRE(host->load_directories({dir.path()}, opts).ok());
  const auto first = generation_of(*host, "Gen");
  const auto good_generation = generation_of(*host, "CEcho");

  TestJob old_job("Gen", "old");
  old_job.args_json = R"(["wait"])";
  BackgroundJob running(*host, old_job);
  REQUIRE(log.wait_for("v1 waiting"));

  opts.config_json["gen"] = R"({"n":2})";
  const auto report = host->reload({dir.path()}, opts);
  CHECK(report.ok());
  REQUIRE(report.changes.size() == 1);  // good_c's config did not change
  const auto& change = report.changes.front();
  CHECK(change.kind == Kind::reinitialised);
  CHECK(change.plugin == "gen");
  REQUIRE(change.before.has_value());
  REQUIRE(change.after.has_value());
  CHECK(change.before->generation == first);
  CHECK(change.after->file == file);
  CHECK(change.describe() == "re-initialised plugin gen 1.0.0 with its changed config (" +
                                 file.string() + ", generation " + std::to_string(first) + " -> " +
                                 std::to_string(change.after->generation) + ")");
  CHECK(report.loaded == std::vector<std::string>{"gen 1.0.0 (" + file.string() + ")"});
  CHECK(generation_of(*host, "Gen") == change.after->generation);
  CHECK(generation_of(*host, "CEcho") == good_generation);
  CHECK(log.count("v1 init") == 2);

  TestJob fresh("Gen", "fresh");
  fresh.args_json = R"(["config"])";
  CHECK(host->run(fresh.input()).succeeded());
  CHECK(log.messages_for("fresh") == std::vector<std::string>{"v1 ran", R"(v1 config={"n":2})"});
  CHECK(log.count("v1 shutdown") == 0);  // the old generation still has a job

  CHECK(running.finish().succeeded());
  CHECK(log.messages_for("old") == std::vector<std::string>{"v1 ran", "v1 waiting", "v1 finished"});
  REQUIRE(log.wait_for("v1 shutdown"));

  SECTION("an unchanged config leaves the plugin alone") {
    CHECK(host->reload({dir.path()}, opts).changes.empty());
    CHECK(log.count("v1 init") == 2);
  }
  SECTION("a config whose init fails keeps the previous generation and its config") {
    opts.config_json["gen"] = R"({"fail":true})";
    const auto failed = host->reload({dir.path()}, opts);
    REQUIRE(failed.errors.size() == 1);
    CHECK(failed.errors.front().reason ==
          "init of plugin 'gen' failed (status 1): v1 refuses its config");
    CHECK(failed.changes.empty());
    TestJob after("Gen", "after");
    after.args_json = R"(["config"])";
    CHECK(host->run(after.input()).succeeded());
    CHECK(log.messages_for("after") == std::vector<std::string>{"v1 ran", R"(v1 config={"n":2})"});
  }
}

TEST_CASE("a reload applies the middleware order together with the plugin set",
          "[abi][reload][middleware]") {
  TempDir dir;
  install("mw_a", dir.path());
  LogCollector log;
  plugins::PluginHost host(log.services());
  REQUIRE(host.load_directories({dir.path()}, options()).ok());
  CHECK(names(host.middleware()) ==
        std::vector<std::string>{"mw_a.outer", "mw_a.gate", "mw_a.timing"});

  // mw_b.inner exists only in the plugin this reload adds.
  install("mw_b", dir.path());
  auto opts = options();
  opts.middleware_order = std::vector<std::string>{"mw_b.inner", "outer"};
  const auto report = host.reload({dir.path()}, opts);
  CHECK(report.ok());
  CHECK(report.applied);
  CHECK_FALSE(report.middleware_error.has_value());
  CHECK(names(host.middleware()) == std::vector<std::string>{"mw_b.inner", "mw_a.outer"});
  CHECK(host.run(TestJob("MwJob", "j1").input()).succeeded());
  CHECK(log.messages_for("j1") ==
        std::vector<std::string>{"inner>", "outer>", "job", "outer<", "inner<"});

  SECTION("no order given keeps the current one") {
    install("cpp_jobs", dir.path());
    CHECK(host.reload({dir.path()}, options()).ok());
    CHECK(host.plugin_for("Succeeds").has_value());
    CHECK(names(host.middleware()) == std::vector<std::string>{"mw_b.inner", "mw_a.outer"});
  }
  SECTION("an empty order means every middleware in plugin load order") {
    opts.middleware_order = std::vector<std::string>{};
    CHECK(host.reload({dir.path()}, opts).ok());
    CHECK(names(host.middleware()).size() == 6);
  }
}

TEST_CASE("a middleware order that does not resolve fails the whole reload and changes nothing",
          "[abi][reload][middleware]") {
  TempDir dir;
  install("mw_a", dir.path());
  const auto mw_b = install("mw_b", dir.path());
  LogCollector log;
  plugins::PluginHost host(log.services());
  auto opts = options();
  opts.middleware_order = std::vector<std::string>{"mw_b.inner", "outer"};
  REQUIRE(host.load_directories({dir.path()}, opts).ok());
  const auto before = names(host.middleware());
  const auto mw_b_generation = generation_of(host, "MwJob");
  const bool fatal = GENERATE(false, true);
  opts.fatal_errors = fatal;

  SECTION("an unknown name in the new order") {
    install("cpp_jobs", dir.path());  // would load, but the reload fails as a whole
    opts.middleware_order = std::vector<std::string>{"outer", "nope"};
    const auto report = host.reload({dir.path()}, opts);
    REQUIRE(report.middleware_error.has_value());
    CHECK(*report.middleware_error == "unknown middleware 'nope' (no loaded plugin registered it)");
    REQUIRE(report.errors.size() == 1);
    CHECK(report.errors.front().reason ==
          "middleware order: unknown middleware 'nope' (no loaded plugin registered it)");
    CHECK_FALSE(report.applied);
    CHECK(report.changes.empty());
    CHECK(report.loaded.empty());
    CHECK_FALSE(host.plugin_for("Succeeds").has_value());
  }
  SECTION("the current order, when the reload removes middleware it names") {
    opts.middleware_order.reset();  // keep the current one
    fs::remove(mw_b);
    const auto report = host.reload({dir.path()}, opts);
    REQUIRE(report.middleware_error.has_value());
    CHECK(*report.middleware_error ==
          "unknown middleware 'mw_b.inner' (no loaded plugin registered it)");
    CHECK_FALSE(report.applied);
    CHECK(generation_of(host, "MwJob") == mw_b_generation);
    CHECK(log.count("mw_b shutdown") == 0);
  }
  CHECK(names(host.middleware()) == before);
  CHECK(host.run(TestJob("MwJob", "j1").input()).succeeded());
}

TEST_CASE("the report says what changed, one entry per plugin, and plugins() lists them",
          "[abi][reload]") {
  TempDir dir;
  const auto gen = install("gen_v1", dir.path(), "gen.so");
  const auto good = install("good_c", dir.path());
  const auto mw_a = install("mw_a", dir.path());
  LogCollector log;
  plugins::PluginHost host(log.services());
  auto opts = options();
  const auto first = host.load_directories({dir.path()}, opts);
  REQUIRE(first.ok());
  REQUIRE(first.changes.size() == 3);
  for (const auto& change : first.changes) {
    CHECK(change.kind == Kind::loaded);
    CHECK_FALSE(change.before.has_value());
    REQUIRE(change.after.has_value());
    CHECK(change.after->name == change.plugin);
  }
  const auto good_before = host.plugins();
  REQUIRE(good_before.size() == 3);
  CHECK(good_before[0].name == "gen");  // load order: file name order
  CHECK(good_before[0].version == "1.0.0");
  CHECK(good_before[0].file == gen);
  CHECK(good_before[0].generation == generation_of(host, "Gen"));
  CHECK(good_before[1].name == "good_c");
  CHECK(good_before[1].file == good);
  CHECK(good_before[2].name == "mw_a");
  CHECK(good_before[2].file == mw_a);
  const auto* loaded = change_of(first, "good_c");
  REQUIRE(loaded != nullptr);
  CHECK(loaded->describe() == "loaded plugin good_c 1.0.0 (" + good.string() + ", generation " +
                                  std::to_string(good_before[1].generation) + ")");

  replace("gen_v2", dir.path(), "gen.so");
  opts.config_json["good_c"] = R"({"k":1})";
  const auto cpp = install("cpp_jobs", dir.path());
  fs::remove(mw_a);
  const auto report = host.reload({dir.path()}, opts);
  REQUIRE(report.ok());
  CHECK(report.changes.size() == 4);

  const auto* replaced = change_of(report, "gen");
  REQUIRE(replaced != nullptr);
  CHECK(replaced->kind == Kind::replaced);
  CHECK(replaced->before->version == "1.0.0");
  CHECK(replaced->after->version == "2.0.0");
  CHECK(replaced->before->file == gen);
  CHECK(replaced->after->file == gen);

  const auto* reinitialised = change_of(report, "good_c");
  REQUIRE(reinitialised != nullptr);
  CHECK(reinitialised->kind == Kind::reinitialised);
  CHECK(reinitialised->before->generation == good_before[1].generation);

  const auto* added = change_of(report, "cpp_jobs");
  REQUIRE(added != nullptr);
  CHECK(added->kind == Kind::loaded);
  CHECK(added->after->version == "2.1.0");
  CHECK(added->after->file == cpp);

  const auto* removed = change_of(report, "mw_a");
  REQUIRE(removed != nullptr);
  CHECK(removed->kind == Kind::removed);
  CHECK_FALSE(removed->after.has_value());
  CHECK(removed->describe() == "removed plugin mw_a 1.0.0 (" + mw_a.string() + ", generation " +
                                   std::to_string(good_before[2].generation) + ")");

  CHECK(report.loaded.size() == 3);  // every generation this reload loaded
  std::vector<std::string> listed;
  for (const auto& info : host.plugins()) {
    listed.push_back(info.name + " " + info.version + " g" + std::to_string(info.generation));
  }
  CHECK(listed == std::vector<std::string>{
                      "gen 2.0.0 g" + std::to_string(replaced->after->generation),
                      "good_c 1.0.0 g" + std::to_string(reinitialised->after->generation),
                      "cpp_jobs 2.1.0 g" + std::to_string(added->after->generation)});
}

TEST_CASE("a plugin directory no longer configured: its plugins are removed", "[abi][reload]") {
  TempDir one;
  TempDir two;
  install("good_c", one.path());
  install("cpp_jobs", two.path());
  plugins::PluginHost host({});
  REQUIRE(host.load_directories({one.path(), two.path()}, options()).ok());
  const auto report = host.reload({one.path()}, options());
  CHECK(report.ok());
  REQUIRE(report.changes.size() == 1);
  CHECK(report.changes.front().kind == Kind::removed);
  CHECK(report.changes.front().plugin == "cpp_jobs");
  CHECK_FALSE(host.plugin_for("Succeeds").has_value());
  CHECK(host.plugin_for("CEcho").has_value());
}
