#include "daemon_settings.hpp"

#include "faktory/jid.hpp"
#include "faktory/tls_context.hpp"

namespace factotum {

std::string process_wid(const config::Config& config) {
  if (!config.worker.wid.empty()) return config.worker.wid;
  return faktory::generate_jid().substr(0, 16);
}

std::shared_ptr<const worker::WorkerSettings> make_worker_settings(const config::Config& config,
                                                                   const std::string& wid) {
  auto connection = std::make_shared<faktory::ClientOptions>();
  connection->url = config.faktory.url;
  connection->password = config.faktory.password;
  connection->tls.ca_file = config.faktory.tls.ca_file.string();
  connection->tls.cert_file = config.faktory.tls.cert_file.string();
  connection->tls.key_file = config.faktory.tls.key_file.string();
  connection->tls.verify = config.faktory.tls.verify;
  if (connection->url.tls) {
    // Loading a trust store is costly: every connection of the process shares this one.
    auto context = faktory::TlsContext::create(connection->tls);
    if (!context) {
      throw config::ConfigError({config.source.string(), 0, 0}, "faktory.tls",
                                context.error().message);
    }
    connection->tls_context = *context;
  }
  connection->identity = faktory::process_identity(wid, config.worker.labels);

  auto settings = std::make_shared<worker::WorkerSettings>();
  settings->connection = std::move(connection);
  settings->concurrency = config.worker.concurrency;
  settings->queues = {};
  settings->queues.weighted = config.worker.queue_mode == config::QueueMode::weighted;
  for (const auto& queue : config.worker.queues) {
    settings->queues.names.push_back(queue.name);
    settings->queues.weights.push_back(queue.weight);
  }
  settings->shutdown_timeout = config.worker.shutdown_timeout;
  settings->heartbeat_interval = config.worker.heartbeat_interval;
  settings->batch_scheduling = config.worker.cpu_scheduling == config::CpuScheduling::batch;
  for (const auto& [jobtype, options] : config.jobtypes) {
    if (options.timeout) settings->jobtype_timeouts.emplace(jobtype, *options.timeout);
  }
  return settings;
}

}  // namespace factotum
