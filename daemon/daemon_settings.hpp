// From the validated Config to what the runtime takes: the worker's settings snapshot (with
// the one TLS context every connection shares) and the process's worker id. A reconfiguration
// builds a new snapshot the same way and publishes it whole.
#pragma once

#include "config/config.hpp"
#include "worker/worker_settings.hpp"

#include <memory>
#include <string>

namespace factotum {

// The wid for the life of this process: worker.wid, or a random one chosen once at start.
std::string process_wid(const config::Config& config);

// The worker's settings. TLS material is loaded here, once: a CA or key file that cannot be
// used is a ConfigError (key faktory.tls) at start-up rather than a failure on every connect.
// On reload, `previous` is the snapshot running now: when the server, credentials, TLS settings
// and files, and labels are all unchanged, its connection object is kept, so no processor
// reconnects (they reconnect exactly when the pointer changes).
std::shared_ptr<const worker::WorkerSettings> make_worker_settings(
    const config::Config& config, const std::string& wid,
    const worker::WorkerSettings* previous = nullptr);

}  // namespace factotum
