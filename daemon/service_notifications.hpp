// What the daemon tells systemd (Type=notify, DESIGN.md §6), all from the control thread:
// READY=1 once the configuration and plugins are loaded (a server that is down is retried, not
// waited for); STATUS= kept current ("busy 3/20 · queues critical,default · connected");
// RELOADING=1 + MONOTONIC_USEC= when a reload starts and READY=1 when it ends, its STATUS
// saying whether it failed; STOPPING=1; and WATCHDOG=1 every WATCHDOG_USEC/2, so a wedged
// control loop gets the daemon restarted while a long job (on its processor's thread) does not.
// Without $NOTIFY_SOCKET nothing is sent and no timer runs.
//
// Threading: ready(), stopping() and close() on the control thread; reloading() and
// reloaded() from any thread (they post to it).
#pragma once

#include <chrono>
#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}
namespace factotum::service {
class SystemdNotify;
}
namespace factotum::worker {
class Worker;
}

namespace factotum {

class ServiceNotifications {
 public:
  // `notify` and `worker` must outlive this object.
  ServiceNotifications(boost::asio::io_context& io, const service::SystemdNotify& notify,
                       worker::Worker& worker);
  ~ServiceNotifications();
  ServiceNotifications(const ServiceNotifications&) = delete;
  ServiceNotifications& operator=(const ServiceNotifications&) = delete;

  void ready();
  // full: the configuration file; otherwise a rescan of the plugin directories (plugins.watch).
  void reloading(bool full);
  // ok = false: the reload failed and the previous configuration runs on (STATUS says so until
  // a reload of the configuration file succeeds).
  void reloaded(bool full, bool ok);
  // `stop_within`: how long the stop may take (shutdown_timeout and a margin): sent as
  // EXTEND_TIMEOUT_USEC, so a shutdown_timeout raised in the configuration alone is not cut
  // short by the unit's TimeoutStopSec.
  void stopping(std::chrono::microseconds stop_within);
  // Stops the timers (the end of shutdown: the io_context must run out of work).
  void close();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace factotum
