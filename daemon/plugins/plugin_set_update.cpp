// The next plugin set (DESIGN.md §4.7), computed whole beside the current one and published in
// one step with its middleware chain: a job sees the plugins before a load or after it, never
// half of it. Runs on the loading thread, under PluginHost::Impl::control.
//
// 1. Without loading anything, decide for each current plugin whether it stays (its file is
//    still there, unchanged, with the same plugin config), leaves (its file or directory is
//    gone), or is to be replaced; and which files to load (new, changed, or whose plugin config
//    changed). A file that failed before and has not changed since is reported, not loaded
//    (failed_loads.hpp); if another plugin held its name or a jobtype, that is checked again,
//    still without loading it, against the plugins that stay. With fatal_errors, any error so
//    far ends the call here, before anything is loaded.
// 2. Load those files, checking plugin names and jobtypes against the plugins that stay and
//    the ones loaded so far by this call, never against those being replaced: a renamed file,
//    or a jobtype handed from one plugin file to another, loads in one reload. Files replacing
//    a plugin go first; when one fails, the plugin it was to replace stays (its generation is
//    unchanged), and new files find it in their way.
// 3. Place each new generation where the plugin of the same name was (load order, hence the
//    default middleware order, does not move); new plugins follow in scan order.
// 4. Resolve the middleware order against the new set: a name that does not resolve fails the
//    whole call (report.middleware_error), whatever fatal_errors says.
// 5. Commit and publish one Registry. Generations that leave are retired once the last job
//    running on them lets go (retirement_queue.hpp).
#include "plugins/plugin_host_impl.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <map>
#include <set>
#include <utility>

namespace factotum::plugins {
namespace {

namespace fs = std::filesystem;

std::string name_taken(const std::string& name, const Generation& holder) {
  return "plugin name '" + name + "' is already used by " + holder.file().string();
}

std::vector<std::string> jobtype_names(const Generation& generation) {
  std::vector<std::string> names;
  for (const auto& jobtype : generation.jobtypes()) names.push_back(jobtype.name);
  return names;
}

PluginInfo info_of(const Generation& generation) {
  return {generation.name(), generation.version(), generation.file(), generation.number()};
}

bool contains(const std::vector<fs::path>& paths, const fs::path& path) {
  return std::find(paths.begin(), paths.end(), path) != paths.end();
}

// What becomes of a current plugin in the next set.
enum class Fate { stays, leaves, undecided };

struct Attempt {
  std::size_t candidate = 0;
  std::optional<std::size_t> replaces;  // the current plugin loaded from this file
  std::optional<FailedLoad> conflict;   // a remembered conflict, checked before loading
};

struct Loaded {
  std::size_t candidate = 0;
  std::shared_ptr<Generation> generation;
  bool placed = false;
};

}  // namespace

// Who holds each plugin name and jobtype in the set being built (DESIGN.md §4.9).
class Claims {
 public:
  void add(const Generation& generation) {
    names_.emplace(generation.name(), &generation);
    for (const auto& jobtype : generation.jobtypes()) jobtypes_.emplace(jobtype.name, &generation);
  }
  // The first of `name` and `jobtypes` that is held, as the load error naming its holder.
  std::optional<std::string> conflict(const std::string& name,
                                      const std::vector<std::string>& jobtypes) const {
    if (const auto it = names_.find(name); it != names_.end()) return name_taken(name, *it->second);
    for (const auto& jobtype : jobtypes) {
      if (const auto it = jobtypes_.find(jobtype); it != jobtypes_.end()) {
        return jobtype_taken(jobtype, *it->second);
      }
    }
    return std::nullopt;
  }
  const JobtypeOwners& jobtypes() const noexcept { return jobtypes_; }

 private:
  std::map<std::string, const Generation*, std::less<>> names_;
  JobtypeOwners jobtypes_;
};

std::unique_ptr<Generation> PluginHost::Impl::load_generation(const OpenedFile& file,
                                                              const Claims& claims,
                                                              const LoadOptions& options,
                                                              std::string& why,
                                                              std::optional<FailedLoad>& failure) {
  const auto staging = staging_dir(options, why);
  if (!staging) return nullptr;
  const std::uint64_t number = next_generation++;
  const auto staged = stage_plugin_file(file, *staging, number, why);
  if (!staged) return nullptr;
  staged_paths.push_back(*staged);
  // From here on plugin code runs (static constructors at dlopen, then init): say which file,
  // for whoever must tell a crash apart (--check-config's parent process).
  if (options.on_loading) options.on_loading(file.file, file.identity);
  struct AfterLoading {
    const std::function<void()>& on_loaded;
    ~AfterLoading() {
      if (on_loaded) on_loaded();
    }
  } after_loading{options.on_loaded};
  auto opened = open_plugin(*staged, file.file, why);
  if (!opened) {
    ::unlink(staged->c_str());
    failure = FailedLoad{file.identity, why, {}, {}, false, {}};
    return nullptr;
  }
  const std::string name = opened->descriptor.name;
  std::string config = config_for(options, name);
  if (auto taken = claims.conflict(name, {})) {
    why = std::move(*taken);
    ::unlink(staged->c_str());
    failure = FailedLoad{file.identity, why, name, std::move(config), true, {}};
    return nullptr;  // its init never ran: `opened` unloads the library
  }
  // Its init runs now: from here on its code stays mapped, whatever happens (DESIGN.md §4.7).
  opened->library.keep_mapped();
  auto generation = std::make_unique<Generation>(number, file.file, *staged, file.identity,
                                                 opened->descriptor, services, config);
  const factotum_status status = generation->run_init(claims.jobtypes());
  // A failed load destroys `generation` on return, here on the loading thread: it never served
  // a job, so this is not a retirement (retirement_queue.hpp). Its registrations' user_data are
  // destroyed, and shutdown runs first if init had succeeded (a conflict).
  if (!generation->conflict().empty()) {
    why = generation->conflict();
    std::vector<std::string> wanted = jobtype_names(*generation);
    const auto& refused = generation->refused_jobtypes();
    wanted.insert(wanted.end(), refused.begin(), refused.end());
    failure = FailedLoad{file.identity, why, name, std::move(config), true, std::move(wanted)};
    return nullptr;
  }
  if (status != FACTOTUM_OK) {
    why = "init of plugin '" + name + "' failed (status " + std::to_string(status) + ")";
    if (const std::string said = generation->init_log(); !said.empty()) why += ": " + said;
    failure = FailedLoad{file.identity, why, name, std::move(config), false, {}};
    return nullptr;
  }
  return generation;
}

LoadReport PluginHost::Impl::apply(Scan scan, bool rescan, const LoadOptions& options,
                                   LoadReport report) {
  if (options.fatal_errors && !report.ok()) return report;
  const std::vector<Candidate>& candidates = scan.candidates;
  // Errors by candidate, reported in scan order whichever step found them.
  std::vector<std::pair<std::size_t, LoadError>> errors;
  const auto finish = [&]() -> LoadReport {
    std::stable_sort(errors.begin(), errors.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& error : errors) report.errors.push_back(std::move(error.second));
    return std::move(report);
  };

  // 1. What stays, what leaves, what to load.
  std::vector<Fate> fate(active.size(), Fate::stays);
  std::map<fs::path, std::size_t> by_file;
  for (std::size_t i = 0; i < active.size(); ++i) {
    by_file.emplace(active[i].file, i);
    const fs::path& directory = active[i].directory;
    // Gone from a directory read in full, or from the configuration; a directory that could
    // not be read keeps its plugins (its error is reported).
    if (rescan && !directory.empty() &&
        (contains(scan.listed, directory) || !contains(scan.configured, directory))) {
      fate[i] = Fate::leaves;
    }
  }
  std::vector<Attempt> attempts;
  for (std::size_t c = 0; c < candidates.size(); ++c) {
    const Candidate& candidate = candidates[c];
    std::optional<std::size_t> loaded_from;
    if (const auto it = by_file.find(candidate.file); it != by_file.end()) {
      loaded_from = it->second;
      fate[it->second] = Fate::stays;
    }
    if (!candidate.opened) {
      // A plugin already loaded from it stays: its code came from a copy that passed.
      errors.push_back({c, {candidate.file, candidate.error}});
      continue;
    }
    if (loaded_from) {
      const Generation& generation = *active[*loaded_from].generation;
      if (generation.identity() == candidate.opened->identity &&
          generation.config_json() == config_for(options, generation.name())) {
        continue;  // unchanged: not touched
      }
    }
    std::optional<FailedLoad> failure;
    if (const auto* found = failed.find(candidate.file, candidate.opened->identity, options)) {
      failure = *found;
    }
    if (failure && !failure->conflict) {
      errors.push_back({c, {candidate.file, not_retried(failure->reason), true}});
      continue;
    }
    if (options.refuse) {
      if (auto reason = options.refuse(candidate.file, candidate.opened->identity)) {
        errors.push_back({c, {candidate.file, std::move(*reason)}});
        continue;
      }
    }
    if (loaded_from) fate[*loaded_from] = Fate::undecided;
    attempts.push_back({c, loaded_from, std::move(failure)});
  }
  if (options.fatal_errors && !errors.empty()) return finish();

  // 2. Load.
  Claims claims;
  for (std::size_t i = 0; i < active.size(); ++i) {
    if (fate[i] == Fate::stays) claims.add(*active[i].generation);
  }
  // A file that is not loaded: the plugin it was to replace stays, unless a plugin this call
  // loaded took its place.
  const auto refuse = [&](const Attempt& attempt, std::string reason, bool repeated) {
    if (attempt.replaces) {
      const Generation& previous = *active[*attempt.replaces].generation;
      if (auto in_the_way = claims.conflict(previous.name(), jobtype_names(previous))) {
        reason += "; its running generation (" + previous.name() + " " + previous.version() +
                  ") cannot stay either: " + *in_the_way;
        fate[*attempt.replaces] = Fate::leaves;
      } else {
        fate[*attempt.replaces] = Fate::stays;
        claims.add(previous);
      }
    }
    errors.push_back(
        {attempt.candidate, {candidates[attempt.candidate].file, std::move(reason), repeated}});
  };
  // A remembered conflict that still holds is reported without loading anything.
  const auto still_refused = [&](const Attempt& attempt) {
    if (!attempt.conflict) return false;
    auto still = claims.conflict(attempt.conflict->plugin, attempt.conflict->jobtypes);
    if (still) refuse(attempt, not_retried(*still), true);
    return still.has_value();
  };
  // Checked against the plugins that stay before anything loads, so that with fatal_errors a
  // reload that must fail loads nothing.
  std::vector<Attempt> to_load;
  for (auto& attempt : attempts) {
    if (!still_refused(attempt)) to_load.push_back(std::move(attempt));
  }
  if (options.fatal_errors && !errors.empty()) return finish();
  std::stable_partition(to_load.begin(), to_load.end(),
                        [](const Attempt& a) { return a.replaces.has_value(); });
  std::vector<Loaded> loaded;
  for (const Attempt& attempt : to_load) {
    if (still_refused(attempt)) {  // by a plugin this call loaded
      if (options.fatal_errors) return finish();
      continue;
    }
    const Candidate& candidate = candidates[attempt.candidate];
    std::string why;
    std::optional<FailedLoad> failure;
    auto generation = load_generation(*candidate.opened, claims, options, why, failure);
    if (!generation) {
      if (failure) failed.remember(candidate.file, std::move(*failure));
      refuse(attempt, std::move(why), false);
      if (options.fatal_errors) return finish();  // what this call loaded is dropped, retired
      continue;
    }
    failed.forget(candidate.file);
    // From now on the generation ends on the retirement thread, whoever drops it last.
    loaded.push_back({attempt.candidate, share_until_retired(std::move(generation), retirement)});
    claims.add(*loaded.back().generation);
  }

  // 3. The next set, and what changed.
  std::sort(loaded.begin(), loaded.end(),
            [](const Loaded& a, const Loaded& b) { return a.candidate < b.candidate; });
  std::vector<Active> next;
  std::vector<PluginChange> changes;
  std::vector<PluginChange> removals;
  const auto add = [&](Loaded& l, PluginChange change) {
    const Candidate& candidate = candidates[l.candidate];
    next.push_back({candidate.file, candidate.directory, l.generation});
    changes.push_back(std::move(change));
    l.placed = true;
  };
  for (std::size_t i = 0; i < active.size(); ++i) {
    const Generation& previous = *active[i].generation;
    if (fate[i] == Fate::stays) {
      next.push_back(active[i]);
      continue;
    }
    const auto successor = std::find_if(loaded.begin(), loaded.end(), [&](const Loaded& l) {
      return !l.placed && l.generation->name() == previous.name();
    });
    if (successor == loaded.end()) {
      removals.push_back({PluginChange::Kind::removed, previous.name(), info_of(previous), {}});
      continue;
    }
    const bool same_bytes = successor->generation->file() == previous.file() &&
                            successor->generation->identity() == previous.identity();
    add(*successor,
        PluginChange{same_bytes ? PluginChange::Kind::reinitialised : PluginChange::Kind::replaced,
                     previous.name(), info_of(previous), info_of(*successor->generation)});
  }
  for (auto& l : loaded) {
    if (!l.placed) {
      add(l, PluginChange{
                 PluginChange::Kind::loaded, l.generation->name(), {}, info_of(*l.generation)});
    }
  }

  // 4. The middleware chain of the next set.
  std::vector<std::shared_ptr<Generation>> generations;
  for (const auto& a : next) generations.push_back(a.generation);
  std::vector<std::string> order = options.middleware_order.value_or(middleware_order);
  std::vector<std::string> chain;
  if (auto unresolved = resolve_middleware_order(order, generations, chain)) {
    errors.push_back({candidates.size(), {fs::path(), "middleware order: " + *unresolved}});
    report.middleware_error = std::move(*unresolved);
    return finish();
  }

  // 5. The caller's last word on the set.
  if (options.accept) {
    std::vector<PluginInfo> infos;
    for (const auto& a : next) infos.push_back(info_of(*a.generation));
    if (!options.accept(infos)) {
      report.refused = true;
      return finish();
    }
  }

  // 6. Commit.
  for (const auto& l : loaded) {
    report.loaded.push_back(l.generation->name() + " " + l.generation->version() + " (" +
                            l.generation->file().string() + ")");
  }
  report.changes = std::move(changes);
  report.changes.insert(report.changes.end(), removals.begin(), removals.end());
  if (rescan) {
    std::set<fs::path> present;
    for (const auto& candidate : candidates) present.insert(candidate.file);
    failed.keep_only([&](const fs::path& file) {
      const fs::path directory = file.parent_path();
      return present.contains(file) ||
             (contains(scan.configured, directory) && !contains(scan.listed, directory));
    });
  }
  active = std::move(next);
  middleware_order = std::move(order);
  publish(std::make_shared<const Registry>(std::move(generations), chain));
  report.applied = true;
  return finish();
}

}  // namespace factotum::plugins
