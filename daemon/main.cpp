// factotum: parse the command line, load the configuration and the plugins, run the worker
// until a signal stops it, exit with a sysexits-style code (DESIGN.md §6).
#include "check_config.hpp"
#include "config/config.hpp"
#include "crash/crash_handler.hpp"
#include "crash/job_table.hpp"
#include "ctl/ctl_main.hpp"
#include "daemon_settings.hpp"
#include "metrics/job_metrics.hpp"
#include "metrics_service.hpp"
#include "plugin_setup.hpp"
#include "plugins/plugin_host.hpp"
#include "reloader.hpp"
#include "run_job.hpp"
#include "service/directory_watch.hpp"
#include "service/exit_status.hpp"
#include "service/log.hpp"
#include "service/pid_file.hpp"
#include "service/signals.hpp"
#include "service/systemd_notify.hpp"
#include "service_notifications.hpp"
#include "supervisor/quarantine.hpp"
#include "supervisor/supervisor.hpp"
#include "worker/producer_pool.hpp"
#include "worker/worker.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/program_options.hpp>

#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <thread>
#include <variant>

#ifndef FACTOTUM_VERSION
#define FACTOTUM_VERSION "0.0.0"
#endif

namespace {

namespace po = boost::program_options;
using factotum::service::kExitConfig;
using factotum::service::kExitOk;
using factotum::service::kExitSoftware;
using factotum::service::Log;
using factotum::service::LogLevel;
using factotum::service::PidFile;

struct CommandLine {
  std::string config = factotum::service::kDefaultConfigFile;
  bool check_config = false;
  bool no_supervisor = false;
  std::string pidfile;  // empty: none
  factotum::config::ConfigOverrides overrides;
};

// Parses argv; returns an exit code when the process should end right away.
std::optional<int> parse_command_line(int argc, char** argv, CommandLine& cli) {
  po::options_description options(
      "Usage: factotum [options]\n"
      "       factotum run-job --plugin FILE --jobtype T [--args JSON] ...   (see run-job "
      "--help)\n"
      "       factotum ctl push|info|queue|mutate|quiet|stop ...   (see ctl --help)\n\n"
      "A Faktory worker daemon that runs jobs in plugins.\n\nOptions");
  std::string url;
  std::string log_level;
  std::string concurrency;
  options.add_options()("help,h", "show this help and exit")("version,V",
                                                             "show the version and exit")(
      "config,c", po::value(&cli.config),
      "configuration file (default /etc/factotum/factotum.yaml)")(
      "check-config", po::bool_switch(&cli.check_config),
      "validate the configuration, load the plugins, print a summary; exit 0 or 78")(
      "no-supervisor", po::bool_switch(&cli.no_supervisor),
      "run the worker alone, without the supervisor process that contains plugin crashes "
      "(for gdb or valgrind)")("url", po::value(&url),
                               "Faktory server URL (overrides FAKTORY_URL and faktory.url)")(
      "log-level", po::value(&log_level),
      "error, warning, info or debug (overrides logging.level)")(
      "concurrency", po::value(&concurrency),
      "number of processors (overrides worker.concurrency)")(
      "pidfile", po::value(&cli.pidfile),
      "write the main process's pid to FILE at start-up and hold it locked (a second daemon "
      "with the same FILE does not start); removed at exit (for factotum ctl quiet|stop)");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, options), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "factotum: " << e.what() << "\n(see factotum --help)\n";
    return kExitConfig;  // a bad command line is a bad configuration (EX_CONFIG)
  }
  if (vm.count("help")) {
    std::cout
        << options
        << "\nSignals: TERM/INT stop gracefully (twice: hurry), TSTP quiet, TTIN dump state,\n"
           "HUP reload the configuration and the plugin directories.\n"
           "A supervisor process runs the worker: should a plugin crash it, the jobs it was\n"
           "running are FAILed and a new worker starts.\n"
           "Exit status: 0 stopped cleanly, 70 internal error, 78 configuration error.\n";
    return kExitOk;
  }
  if (vm.count("version")) {
    std::cout << "factotum " << FACTOTUM_VERSION << " (plugin SDK " << 1 << "." << 0 << ")\n";
    return kExitOk;
  }
  if (vm.count("url")) cli.overrides.url = url;
  if (vm.count("log-level")) cli.overrides.log_level = log_level;
  if (vm.count("concurrency")) cli.overrides.concurrency = concurrency;
  if (vm.count("pidfile") && cli.pidfile.empty()) {
    std::cerr << "factotum: --pidfile must not be empty\n(see factotum --help)\n";
    return kExitConfig;
  }
  return std::nullopt;
}

// Test hook for the health check: with FACTOTUM_TEST_WEDGE_CONTROL=FILE in the environment, a
// TTIN blocks the control thread for as long as FILE exists, so that a test can see /healthz
// report a wedged control loop (tests/e2e/daemon_metrics_test.cpp). Unset, it does nothing.
void wedge_control_for_tests(const std::string& file) {
  if (file.empty()) return;
  Log::warning("test hook: the control thread waits while " + file + " exists");
  std::error_code ec;
  while (std::filesystem::exists(file, ec))
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

void apply_logging(const factotum::config::LoggingConfig& logging) {
  Log::set_level(logging.level);
  Log::set_format(logging.format);
}

void print_summary(const factotum::config::Config& config,
                   const factotum::plugins::PluginHost& host) {
  std::cout << factotum::config::describe(config);
  std::cout << "jobtypes:\n";
  for (const auto& jobtype : host.jobtypes()) {
    std::cout << "  " << jobtype.name << "  (plugin " << jobtype.plugin << ", "
              << jobtype.file.string() << ")\n";
  }
  std::cout << "middleware (outermost first):\n";
  for (const auto& middleware : host.middleware()) {
    std::cout << "  " << middleware.name << "  (" << middleware.file.string() << ")\n";
  }
}

// The pidfile of --pidfile, taken by the main process before anything else runs (and never
// by --check-config). Empty without --pidfile; an exit status when it cannot be taken.
std::variant<std::optional<PidFile>, int> take_pid_file(const CommandLine& cli) {
  if (cli.pidfile.empty() || cli.check_config) return std::optional<PidFile>();
  auto taken = PidFile::take(cli.pidfile);
  if (auto* error = std::get_if<std::string>(&taken)) {
    std::cerr << "factotum: --pidfile " << cli.pidfile << ": " << *error << "\n";
    return kExitConfig;
  }
  return std::optional<PidFile>(std::move(std::get<PidFile>(taken)));
}

// The worker: the daemon proper. `launch` is what its supervisor hands it (null: it runs
// alone, --no-supervisor or --check-config). `own_pidfile`: the pidfile when this process is
// the main one (--no-supervisor), for an exit that skips destructors.
int run_daemon(const CommandLine& cli, factotum::supervisor::WorkerLaunch* launch,
               PidFile* own_pidfile) {
  Log::detect_journal();
  // Read (and removed from the environment) before any thread starts. A supervised worker
  // talks to its supervisor, which relays to systemd.
  const auto systemd = launch != nullptr ? std::move(launch->notify)
                                         : factotum::service::SystemdNotify::from_environment();
  // Supervised: a crash is recorded for the supervisor (which thread, which job, which plugin
  // file was loading), and this thread, which loads the plugins, can record a stack overflow.
  if (launch != nullptr) factotum::crash::install_crash_handler(launch->table);
  // The supervisor that forked this worker (getppid() changes should it die).
  const pid_t supervisor_pid = launch != nullptr ? ::getppid() : 0;
  const factotum::crash::ThreadCrashScope crash_scope;
  factotum::PluginLoadHooks plugin_hooks;
  if (launch != nullptr) {
    plugin_hooks.on_loading = [&table = launch->table](const std::filesystem::path& file,
                                                       const factotum::plugins::FileIdentity& id) {
      table.loading(file, id);
    };
    plugin_hooks.on_loaded = [&table = launch->table] { table.loaded(); };
    plugin_hooks.refuse = [&quarantine = launch->quarantine](
                              const std::filesystem::path& file,
                              const factotum::plugins::FileIdentity& id) {
      return quarantine.refuse(file, id);
    };
  }
  // Test hook (see wedge_control_for_tests), read before the environment can change.
  const char* wedge_env = std::getenv("FACTOTUM_TEST_WEDGE_CONTROL");
  const std::string wedge_file = wedge_env != nullptr ? wedge_env : "";
  // A plugin writing to a socket or pipe whose reader has gone must get EPIPE, not kill the
  // daemon (the daemon's own connections never raise it; child processes get the default back,
  // see plugins/shell).
  std::signal(SIGPIPE, SIG_IGN);
  // A reload reads the configuration from the same places, with the same precedence.
  const factotum::ConfigInputs inputs{cli.config, cli.overrides,
                                      factotum::faktory::environment_snapshot()};
  factotum::config::Config config;
  std::shared_ptr<const factotum::worker::WorkerSettings> settings;
  try {
    config = factotum::config::load_config(inputs.file, inputs.overrides, inputs.env);
    // The wid is chosen once and kept for the life of the process.
    settings = factotum::make_worker_settings(config, factotum::process_wid(config));
  } catch (const factotum::config::ConfigError& e) {
    Log::error(std::string("configuration error: ") + e.what());
    return kExitConfig;
  }
  apply_logging(config.logging);
  for (const auto& warning : config.warnings) Log::warning(warning);

  // Plugins push follow-up jobs through the producer pool, from any thread and at any time
  // (a plugin's own thread may outlive the worker): the pool is shared, and refuses pushes
  // once the worker has stopped (push_job then answers FACTOTUM_EUNAVAILABLE).
  auto producers = std::make_shared<factotum::worker::ProducerPool>(*settings->connection, 4);
  factotum::plugins::HostServices services;
  services.log = [](int level, std::string_view plugin, std::string_view jid,
                    std::string_view message) {
    Log::plugin_line(static_cast<LogLevel>(level), plugin, jid, message);
  };
  services.push = [producers](std::string_view job_json, std::string& jid_or_error) {
    return producers->push(job_json, jid_or_error);
  };

  if (cli.check_config) {
    // The plugins' code runs in a child: a plugin that crashes while loading is named.
    return factotum::run_check_isolated([&](const auto& on_loading) {
      factotum::plugins::PluginHost host(services);
      factotum::PluginLoadHooks hooks;
      if (on_loading) {
        hooks.on_loading = [&on_loading](const std::filesystem::path& file,
                                         const factotum::plugins::FileIdentity&) {
          on_loading(file);
        };
      }
      bool plugins_ok = false;
      try {
        plugins_ok = factotum::setup_plugins(host, config, factotum::PluginSetup::start, hooks);
      } catch (const factotum::config::ConfigError& e) {
        Log::error(std::string("configuration error: ") + e.what());
        return kExitConfig;
      }
      print_summary(config, host);
      // Stricter than a start: a plugin that would be skipped is an error worth fixing.
      if (!plugins_ok) {
        std::cout << "configuration has errors: some plugins could not be loaded (see above)\n";
        return kExitConfig;
      }
      std::cout << "configuration OK\n";
      return kExitOk;
    });
  }

  // Signals are caught before any plugin code runs (a TERM while plugins load is handled once
  // the worker runs). A supervised worker had its signals blocked until now: threads
  // that plugins start in init inherit the usual mask.
  factotum::service::SignalHandler::catch_signals();
  if (launch != nullptr) ::pthread_sigmask(SIG_SETMASK, &launch->signal_mask, nullptr);

  factotum::plugins::PluginHost host(services);
  try {
    factotum::setup_plugins(host, config, factotum::PluginSetup::start, plugin_hooks);
  } catch (const factotum::config::ConfigError& e) {
    Log::error(std::string("configuration error: ") + e.what());
    return kExitConfig;
  }

  boost::asio::io_context io(1);  // the control thread: this one
  // What processors count for the metrics endpoint; nothing is counted without one.
  factotum::metrics::JobMetrics job_metrics;
  factotum::worker::Worker worker(io, settings, host, producers,
                                  launch != nullptr ? &launch->table : nullptr,
                                  config.metrics.enabled() ? &job_metrics : nullptr);
  // plugins.watch: a plugin directory changed → the plugin part of a reload. The Reloader
  // below outlives every callback of the watch (both die after the io_context stopped running).
  std::function<void()> rescan_plugins;
  factotum::service::DirectoryWatch plugin_watch(io, factotum::plugins::is_plugin_file_name,
                                                 [&] { rescan_plugins(); });
  const auto watch_plugins = [&plugin_watch](const factotum::config::PluginsConfig& plugins) {
    const auto watched = plugin_watch.watch(plugins.watch ? plugins.directories
                                                          : std::vector<std::filesystem::path>{});
    if (plugins.watch) {
      Log::info("watching the plugin directories for changes",
                {{"directories", std::to_string(watched)}});
    }
  };
  watch_plugins(config.plugins);
  // Destroyed before the worker and the host: a reload in progress finishes first.
  factotum::ServiceNotifications notifications(io, systemd, worker);
  factotum::Reloader::Hooks reload_hooks;
  reload_hooks.started = [&notifications](bool full) { notifications.reloading(full); };
  // Made before the worker starts, destroyed before it (its endpoint reads the worker).
  std::optional<factotum::MetricsService> metrics;
  reload_hooks.finished = [&notifications, &metrics](bool full, bool ok) {
    notifications.reloaded(full, ok);
    if (metrics) metrics->reload_finished(ok);
  };
  reload_hooks.plugin_load = plugin_hooks;
  reload_hooks.applied = [&io, &watch_plugins](const factotum::config::Config& applied) {
    // On the reload thread: the watch belongs to the control thread.
    boost::asio::post(io, [&watch_plugins, plugins = applied.plugins] { watch_plugins(plugins); });
  };
  factotum::Reloader reloader(inputs, config, settings, host, worker, std::move(reload_hooks));
  rescan_plugins = [&reloader] { reloader.request_plugin_rescan(); };
  factotum::service::SignalHandler signals(io, {[&] {
                                                  reloader.close();
                                                  plugin_watch.close();
                                                  worker.stop();
                                                },
                                                [&] { worker.quiet(); },
                                                [&] {
                                                  worker.dump_state();
                                                  wedge_control_for_tests(wedge_file);
                                                },
                                                [&] { reloader.request(); }, supervisor_pid});
  worker.set_on_stopping([&] {
    reloader.close();
    if (metrics) metrics->stop();
    // The FETCHes already sent (2 s), then the FAILs and END: the unit's own margin.
    notifications.stopping(worker.shutdown_timeout() + std::chrono::seconds(20));
  });
  worker.set_on_finished([&] {
    reloader.close();
    plugin_watch.close();
    notifications.close();
    signals.close();
  });
  if (config.metrics.enabled()) {
    try {
      metrics.emplace(io, config,
                      factotum::MetricsService::Parts{worker, host, job_metrics,
                                                      launch != nullptr ? &launch->table : nullptr,
                                                      FACTOTUM_VERSION},
                      launch != nullptr && launch->restarted);
    } catch (const std::exception& e) {
      Log::error(std::string("configuration error: ") + e.what());
      return kExitConfig;
    }
  }
  Log::info("factotum starting", {{"version", FACTOTUM_VERSION},
                                  {"config", config.source.string()},
                                  {"server", config.faktory.url.redacted()}});
  // Quiet is for good (as on the server): a worker started after the daemon was quieted
  // (TSTP, `factotum ctl quiet`) starts quiet, before it fetches anything.
  if (launch != nullptr && launch->quiet) worker.quiet();
  worker.start();
  // Configuration and plugins are loaded: ready, whether or not the server answers yet.
  notifications.ready();
  if (launch != nullptr) launch->table.started();
  int exit_code = kExitOk;
  for (;;) {
    try {
      io.run();
      break;
    } catch (const std::exception& e) {
      // A handler of the control thread threw: a bug in the daemon. Jobs in flight are not
      // thrown away for it: stop as on TERM (their FAILs still go out), then exit 70.
      Log::error(std::string("internal error on the control thread: ") + e.what() + "; stopping");
      exit_code = kExitSoftware;
      worker.stop();
    }
  }

  if (worker.jobs_still_running() || reloader.busy()) {
    // Job functions are never killed (DESIGN.md §3); they were cancelled and FAILed, and the
    // process ends without joining their threads. Nor does a reload blocked in a plugin's
    // init hold the exit up.
    if (worker.jobs_still_running()) {
      Log::warning(
          "exiting with job functions still running; they were FAILed and will be retried");
    } else {
      Log::warning("exiting while a reload is still loading plugins; it is abandoned");
    }
    host.remove_staged_files();  // no destructor runs after _Exit
    if (own_pidfile != nullptr) own_pidfile->remove();
    std::cerr.flush();
    std::_Exit(exit_code);
  }
  return exit_code;  // the worker (joining its threads) ends before the plugin host
}

// The supervisor, which runs the worker in a child process (supervisor/supervisor.hpp). The
// configuration is read here first: one that cannot be used stops the start before any fork.
// `pidfile` (may be null) is this process's; each worker closes its copy.
int run_supervised(const CommandLine& cli, PidFile* pidfile) {
  Log::detect_journal();
  auto systemd = factotum::service::SystemdNotify::from_environment();
  std::signal(SIGPIPE, SIG_IGN);
  const factotum::ConfigInputs inputs{cli.config, cli.overrides,
                                      factotum::faktory::environment_snapshot()};
  factotum::config::Config config;
  try {
    config = factotum::config::load_config(inputs.file, inputs.overrides, inputs.env);
  } catch (const factotum::config::ConfigError& e) {
    Log::error(std::string("configuration error: ") + e.what());
    return kExitConfig;
  }
  apply_logging(config.logging);  // its warnings are the worker's to say
  return factotum::supervisor::run_supervisor(
      inputs, std::move(config), std::move(systemd),
      [&cli, pidfile](factotum::supervisor::WorkerLaunch& launch) {
        if (pidfile != nullptr) pidfile->forget();
        return run_daemon(cli, &launch, nullptr);
      });
}

}  // namespace

int main(int argc, char** argv) {
  // glibc gives every thread that allocates its own malloc arena; with a thread per processor
  // that is most of an idle daemon's RSS. Two arenas are plenty for a daemon whose threads
  // mostly wait on the network.
  mallopt(M_ARENA_MAX, 2);
  try {
    if (argc >= 2 && std::strcmp(argv[1], "run-job") == 0) {
      return factotum::run_job_main(argc - 1, argv + 1);
    }
    if (argc >= 2 && std::strcmp(argv[1], "ctl") == 0) {
      return factotum::ctl::ctl_main(argc - 1, argv + 1);
    }
    CommandLine cli;
    if (auto exit_code = parse_command_line(argc, argv, cli)) return *exit_code;
    // Taken before the configuration is read and any plugin loads, by the main process, and
    // removed when it ends, however it ends short of a crash (the worker, a child, leaves this
    // scope through exit(): it never removes it).
    auto taken = take_pid_file(cli);
    if (const int* status = std::get_if<int>(&taken)) return *status;
    auto& pidfile = std::get<std::optional<PidFile>>(taken);
    PidFile* own_pidfile = pidfile ? &*pidfile : nullptr;
    if (cli.check_config || cli.no_supervisor) return run_daemon(cli, nullptr, own_pidfile);
    return run_supervised(cli, own_pidfile);
  } catch (const std::exception& e) {
    Log::error(std::string("internal error: ") + e.what());
    return kExitSoftware;
  }
}
