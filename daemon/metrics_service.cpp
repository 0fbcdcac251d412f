#include "metrics_service.hpp"

#include "crash/job_table.hpp"
#include "faktory/client.hpp"
#include "metrics/endpoint.hpp"
#include "metrics/families.hpp"
#include "metrics/job_metrics.hpp"
#include "metrics/process_metrics.hpp"
#include "plugins/plugin_host.hpp"
#include "service/log.hpp"
#include "worker/spawn.hpp"
#include "worker/worker.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/value.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>

namespace factotum {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using service::Log;
using Clock = std::chrono::steady_clock;

namespace {

// The control thread stamps its liveness this often; /healthz reports it wedged when the
// stamp is older than kUnresponsive (a loaded machine can delay a timer by a second or two).
constexpr auto kLivenessTick = 1s;
constexpr auto kUnresponsive = 10s;
// INFO for the queue sizes: at most this often.
constexpr auto kQueueSizeInterval = 15s;
// A restarted worker that cannot listen yet tries again this often.
constexpr auto kListenRetry = 5s;

double unix_seconds_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void add_single(std::vector<prometheus::MetricFamily>& out, const char* name, const char* help,
                prometheus::MetricType type, double value, metrics::LabelList labels = {}) {
  auto family = metrics::make_family(name, help, type);
  metrics::add_sample(family, std::move(labels), value);
  out.push_back(std::move(family));
}

}  // namespace

struct MetricsService::Impl : std::enable_shared_from_this<Impl> {
  asio::io_context& io;
  Parts parts;
  const config::MetricsConfig metrics_config;  // metrics.* as read at start (not live)
  asio::steady_timer liveness_timer;
  asio::steady_timer poll_timer;
  asio::steady_timer listen_timer;             // retrying to listen (a restarted worker)
  std::optional<faktory::Client> poll_client;  // the INFO connection (control thread)
  bool stopped = false;                        // control thread
  std::atomic<Clock::rep> alive_at{Clock::now().time_since_epoch().count()};
  std::atomic<std::uint64_t> reloads_ok{0};
  std::atomic<std::uint64_t> reloads_failed{0};
  // The configuration loaded at start counts as the first successful load.
  std::atomic<double> last_reload_ok{unix_seconds_now()};
  mutable std::mutex queue_mutex;
  std::optional<std::map<std::string, double>> queue_sizes;  // none until INFO first answered
  std::unique_ptr<metrics::Endpoint> endpoint;               // last: stopped first

  Impl(asio::io_context& io_context, const config::Config& config, Parts p)
      : io(io_context),
        parts(std::move(p)),
        metrics_config(config.metrics),
        liveness_timer(io_context),
        poll_timer(io_context),
        listen_timer(io_context) {}

  // Listens; throws std::runtime_error naming the address if it cannot.
  void listen() {
    metrics::EndpointSources sources;
    sources.collectors.emplace_back([this](auto& out) { collect_jobs(out); });
    sources.collectors.emplace_back([this](auto& out) { collect_worker(out); });
    sources.collectors.emplace_back([](auto& out) { metrics::collect_process_metrics(out); });
    sources.health = [this] { return health(); };
    metrics::HttpServerOptions options;
    options.host = metrics_config.host;
    options.port = std::to_string(metrics_config.port);
    try {
      endpoint = std::make_unique<metrics::Endpoint>(options, std::move(sources));
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string("metrics.listen: ") + e.what());
    }
    Log::info("serving metrics",
              {{"listen", metrics_config.listen}, {"port", std::to_string(endpoint->port())}});
  }

  // A worker started after another one died may find the address still taken (a process the
  // dead worker started holds it, or another program took it meanwhile): it runs its jobs
  // all the same and tries again every few seconds.
  void listen_later() {
    if (stopped) return;
    listen_timer.expires_after(kListenRetry);
    listen_timer.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (!self || ec || self->stopped) return;
      try {
        self->listen();
      } catch (const std::exception&) {
        self->listen_later();
      }
    });
  }

  void tick() {
    alive_at.store(Clock::now().time_since_epoch().count(), std::memory_order_relaxed);
    if (stopped) return;
    liveness_timer.expires_after(kLivenessTick);
    liveness_timer.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      if (auto self = weak.lock(); self && !ec) self->tick();
    });
  }

  metrics::Health health() const {
    const auto gauges = parts.worker.gauges();
    if (gauges.stopping) return {false, "stopping"};
    const auto silent =
        Clock::now() - Clock::time_point(Clock::duration(alive_at.load(std::memory_order_relaxed)));
    if (silent > kUnresponsive) {
      return {false,
              "control loop unresponsive for " +
                  std::to_string(std::chrono::duration_cast<std::chrono::seconds>(silent).count()) +
                  " s"};
    }
    return {true, gauges.quiet ? "ok (quiet)" : "ok"};
  }

  // --- Collectors (the endpoint's thread). ---

  void collect_jobs(std::vector<prometheus::MetricFamily>& out) const {
    metrics::JobMetrics::Extras extras;
    if (parts.table != nullptr) {
      const crash::CrashTally& tally = parts.table->tally();
      const auto used = std::min<std::size_t>(tally.jobtypes_used.load(std::memory_order_acquire),
                                              crash::CrashTally::kJobtypes);
      for (std::size_t i = 0; i < used; ++i) {
        extras.crashed[std::string(tally.jobtypes[i].name.view())] +=
            tally.jobtypes[i].jobs.load(std::memory_order_relaxed);
      }
      const auto other = tally.other_jobs.load(std::memory_order_relaxed);
      if (other > 0) extras.crashed[std::string(metrics::kUnregistered)] += other;
    }
    const auto gauges = parts.worker.gauges();
    if (gauges.quiet) extras.quiet_capacity = gauges.concurrency;
    parts.jobs.collect(out, extras);
  }

  void collect_worker(std::vector<prometheus::MetricFamily>& out) const {
    const auto gauges = parts.worker.gauges();
    add_single(out, "factotum_concurrency", "Processors configured (worker.concurrency).",
               prometheus::MetricType::Gauge, gauges.concurrency);
    add_single(out, "factotum_server_up",
               "1 while the worker's connections to the Faktory server are up, 0 during an "
               "outage or before the first connection.",
               prometheus::MetricType::Gauge, gauges.server_up ? 1 : 0);
    add_single(out, "factotum_build_info", "factotum's version (always 1).",
               prometheus::MetricType::Gauge, 1, {{"version", parts.version}});

    auto plugins = metrics::make_family(
        "factotum_plugin_info",
        "Plugins in the current plugin set, with the generation of each (always 1).",
        prometheus::MetricType::Gauge);
    for (const auto& plugin : parts.host.plugins()) {
      metrics::add_sample(plugins,
                          {{"plugin", plugin.name},
                           {"version", plugin.version},
                           {"generation", std::to_string(plugin.generation)},
                           {"file", plugin.file.string()}},
                          1);
    }
    out.push_back(std::move(plugins));

    auto reloads = metrics::make_family("factotum_reloads_total",
                                        "Reloads (SIGHUP, plugin directory changes), by result.",
                                        prometheus::MetricType::Counter);
    metrics::add_sample(reloads, {{"result", "success"}},
                        static_cast<double>(reloads_ok.load(std::memory_order_relaxed)));
    metrics::add_sample(reloads, {{"result", "failure"}},
                        static_cast<double>(reloads_failed.load(std::memory_order_relaxed)));
    out.push_back(std::move(reloads));
    add_single(out, "factotum_reload_last_success_timestamp_seconds",
               "When the configuration was last loaded successfully (at start, or a reload).",
               prometheus::MetricType::Gauge, last_reload_ok.load(std::memory_order_relaxed));

    if (parts.table != nullptr) {
      add_single(
          out, "factotum_worker_crashes_total",
          "Times the worker process died abnormally and its supervisor started another.",
          prometheus::MetricType::Counter,
          static_cast<double>(parts.table->tally().worker_crashes.load(std::memory_order_relaxed)));
    }

    std::lock_guard lock(queue_mutex);
    if (queue_sizes) {
      auto sizes = metrics::make_family(
          "factotum_queue_size",
          "Jobs waiting in each configured queue, from the server's INFO (at most 15 s old).",
          prometheus::MetricType::Gauge);
      for (const auto& [queue, size] : *queue_sizes) {
        metrics::add_sample(sizes, {{"queue", queue}}, size);
      }
      out.push_back(std::move(sizes));
    }
  }

  // --- Queue sizes (the control thread). ---

  void store_queue_sizes(const boost::json::object& info,
                         const std::vector<std::string>& configured) {
    std::map<std::string, double> sizes;
    const boost::json::object* queues = nullptr;
    if (const auto* faktory = info.if_contains("faktory"); faktory && faktory->is_object()) {
      if (const auto* q = faktory->as_object().if_contains("queues"); q && q->is_object()) {
        queues = &q->as_object();
      }
    }
    for (const auto& name : configured) {
      double size = 0;  // the server lists only queues that hold jobs
      if (queues != nullptr) {
        if (const auto* value = queues->if_contains(name); value && value->is_number()) {
          size = value->to_number<double>();
        }
      }
      sizes[name] = size;
    }
    std::lock_guard lock(queue_mutex);
    queue_sizes = std::move(sizes);
  }

  asio::awaitable<void> poll_queue_sizes() {
    auto self = shared_from_this();
    auto& client = poll_client;  // (closed at once by stop(): a slow server holds nothing up)
    std::shared_ptr<const faktory::ClientOptions> built_from;
    bool warned = false;
    while (!stopped) {
      const auto settings = parts.worker.settings();
      if (!client || built_from != settings->connection) {
        if (client) co_await client->end();
        faktory::ClientOptions options = *settings->connection;
        options.identity = faktory::Identity{};  // a producer connection: no worker of its own
        client.emplace(io.get_executor(), std::move(options));
        built_from = settings->connection;
      }
      std::optional<std::string> error;
      if (!client->is_connected()) {
        if (auto connected = co_await client->connect(); !connected) {
          error = connected.error().what();
        }
      }
      if (!error && !stopped) {
        if (auto info = co_await client->info()) {
          store_queue_sizes(*info, settings->queues.names);
          warned = false;
        } else {
          error = info.error().what();
        }
      }
      if (error && !warned) {
        // The processors already say when the server is unreachable: once, at debug.
        Log::debug("cannot read the queue sizes (INFO)", {{"error", *error}});
        warned = true;
      }
      if (stopped) break;
      poll_timer.expires_after(kQueueSizeInterval);
      (void)co_await poll_timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    if (client && client->is_connected()) co_await client->end();
  }
};

MetricsService::MetricsService(asio::io_context& io, const config::Config& config, Parts parts,
                               bool retry_listen)
    : impl_(std::make_shared<Impl>(io, config, std::move(parts))) {
  try {
    impl_->listen();
  } catch (const std::exception& e) {
    if (!retry_listen) throw;
    Log::error(std::string(e.what()) + "; trying again every 5 s");
    impl_->listen_later();
  }
  impl_->tick();
  if (impl_->metrics_config.queue_sizes) {
    worker::spawn(io, impl_->poll_queue_sizes(), "queue size poll");
  }
}

MetricsService::~MetricsService() {
  // The endpoint's thread stops before what its collectors read goes away.
  impl_->endpoint.reset();
}

void MetricsService::reload_finished(bool ok) {
  if (ok) {
    impl_->reloads_ok.fetch_add(1, std::memory_order_relaxed);
    impl_->last_reload_ok.store(unix_seconds_now(), std::memory_order_relaxed);
  } else {
    impl_->reloads_failed.fetch_add(1, std::memory_order_relaxed);
  }
}

void MetricsService::stop() {
  impl_->stopped = true;
  impl_->liveness_timer.cancel();
  impl_->poll_timer.cancel();
  impl_->listen_timer.cancel();
  if (impl_->poll_client) impl_->poll_client->close();
}

unsigned short MetricsService::port() const noexcept {
  return impl_->endpoint ? impl_->endpoint->port() : 0;
}

}  // namespace factotum
