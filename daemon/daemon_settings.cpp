#include "daemon_settings.hpp"

#include "faktory/jid.hpp"
#include "faktory/tls_context.hpp"

#include <sys/stat.h>

namespace factotum {
namespace {

// What identifies the contents of a TLS file without reading it: a rotated certificate (a
// new file renamed over the old, or rewritten) changes it.
std::string file_stamp(const std::string& path) {
  if (path.empty()) return "-";
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return path + ":?";
  return path + ":" + std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" +
         std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec);
}

std::string tls_files_stamp(const faktory::TlsOptions& tls) {
  return file_stamp(tls.ca_file) + "|" + file_stamp(tls.cert_file) + "|" + file_stamp(tls.key_file);
}

bool same_connection(const faktory::ClientOptions& a, const faktory::ClientOptions& b) {
  return faktory::same_server(a.url, b.url) && a.url.username == b.url.username &&
         a.url.password == b.url.password && a.password == b.password &&
         a.tls.ca_file == b.tls.ca_file && a.tls.cert_file == b.tls.cert_file &&
         a.tls.key_file == b.tls.key_file && a.tls.verify == b.tls.verify &&
         a.tls.server_name == b.tls.server_name && a.identity.wid == b.identity.wid &&
         a.identity.labels == b.identity.labels && a.connect_timeout == b.connect_timeout &&
         a.command_timeout == b.command_timeout && a.fetch_timeout == b.fetch_timeout;
}

}  // namespace

std::string process_wid(const config::Config& config) {
  if (!config.worker.wid.empty()) return config.worker.wid;
  return faktory::generate_jid().substr(0, 16);
}

std::shared_ptr<const worker::WorkerSettings> make_worker_settings(
    const config::Config& config, const std::string& wid, const worker::WorkerSettings* previous) {
  auto connection = std::make_shared<faktory::ClientOptions>();
  connection->url = config.faktory.url;
  connection->password = config.faktory.password;
  connection->tls.ca_file = config.faktory.tls.ca_file.string();
  connection->tls.cert_file = config.faktory.tls.cert_file.string();
  connection->tls.key_file = config.faktory.tls.key_file.string();
  connection->tls.verify = config.faktory.tls.verify;
  connection->identity = faktory::process_identity(wid, config.worker.labels);
  connection->connect_timeout = config.faktory.timeout;
  connection->command_timeout = config.faktory.timeout;
  // The server holds an idle FETCH for 2 s (PROTOCOL.md §FETCH) and a FETCH in flight is never
  // abandoned (§0.15): it waits that long more than any other reply.
  connection->fetch_timeout = config.faktory.timeout + std::chrono::seconds(2);

  auto settings = std::make_shared<worker::WorkerSettings>();
  settings->tls_files_stamp = connection->url.tls ? tls_files_stamp(connection->tls) : "";
  if (previous != nullptr && previous->tls_files_stamp == settings->tls_files_stamp &&
      same_connection(*previous->connection, *connection)) {
    settings->connection = previous->connection;
  } else {
    if (connection->url.tls) {
      // Loading a trust store is costly: every connection of the process shares this one.
      auto context = faktory::TlsContext::create(connection->tls);
      if (!context) {
        throw config::ConfigError({config.source.string(), 0, 0}, "faktory.tls",
                                  context.error().message);
      }
      connection->tls_context = *context;
    }
    settings->connection = std::move(connection);
  }
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
