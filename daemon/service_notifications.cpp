#include "service_notifications.hpp"

#include "service/systemd_notify.hpp"
#include "worker/worker.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace factotum {

namespace asio = boost::asio;

namespace {

// How often STATUS= is brought up to date (sent only when it changed).
constexpr auto kStatusInterval = std::chrono::seconds(2);

}  // namespace

struct ServiceNotifications::Impl : std::enable_shared_from_this<Impl> {
  asio::io_context& io;
  const service::SystemdNotify& notify;
  worker::Worker& worker;
  asio::steady_timer status_timer;
  asio::steady_timer watchdog_timer;
  std::string last_status;
  bool reload_failed = false;
  bool stopping = false;
  bool closed = false;

  Impl(asio::io_context& io_context, const service::SystemdNotify& systemd,
       worker::Worker& the_worker)
      : io(io_context),
        notify(systemd),
        worker(the_worker),
        status_timer(io_context),
        watchdog_timer(io_context) {}

  std::string status() const {
    std::string text = worker.status();
    if (reload_failed) text += " · last reload failed, running the previous configuration";
    return text;
  }

  // Sends `event` (may be empty) with the current STATUS, or only the STATUS when it changed.
  void send(const std::string& event) {
    std::string text = status();
    if (event.empty() && text == last_status) return;
    notify.send(event + "STATUS=" + text);
    last_status = std::move(text);
  }

  // send(event), then the STATUS again every kStatusInterval (sent only when it changed).
  void keep_status_current(const std::string& event = "") {
    if (closed) return;
    send(event);
    status_timer.expires_after(kStatusInterval);
    status_timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->keep_status_current();
    });
  }

  void ping_watchdog(std::chrono::microseconds every) {
    if (closed) return;
    notify.send("WATCHDOG=1");
    watchdog_timer.expires_after(every);
    watchdog_timer.async_wait(
        [self = shared_from_this(), every](const boost::system::error_code& ec) {
          if (!ec) self->ping_watchdog(every);
        });
  }

  void run_on_control_thread(std::function<void(Impl&)> action) {
    if (!notify.enabled()) return;
    asio::post(io, [self = shared_from_this(), action = std::move(action)] {
      if (!self->closed) action(*self);
    });
  }
};

ServiceNotifications::ServiceNotifications(asio::io_context& io,
                                           const service::SystemdNotify& notify,
                                           worker::Worker& worker)
    : impl_(std::make_shared<Impl>(io, notify, worker)) {}

ServiceNotifications::~ServiceNotifications() {
  close();
}

void ServiceNotifications::ready() {
  if (!impl_->notify.enabled()) return;
  impl_->keep_status_current("READY=1\n");
  if (const auto timeout = impl_->notify.watchdog_timeout()) impl_->ping_watchdog(*timeout / 2);
}

void ServiceNotifications::reloading(bool full) {
  impl_->run_on_control_thread([full](Impl& impl) {
    if (impl.stopping) return;
    impl.notify.send("RELOADING=1\n" + service::monotonic_usec_now() + "\nSTATUS=" +
                     (full ? "reloading the configuration" : "rescanning the plugin directories"));
    impl.last_status.clear();
  });
}

void ServiceNotifications::reloaded(bool full, bool ok) {
  impl_->run_on_control_thread([full, ok](Impl& impl) {
    // Only a reload of the configuration file says whether the file is good.
    if (full) impl.reload_failed = !ok;
    // Once stopping, a reload that ends makes nothing ready again.
    impl.send(impl.stopping ? "" : "READY=1\n");
  });
}

void ServiceNotifications::stopping(std::chrono::microseconds stop_within) {
  if (!impl_->notify.enabled() || impl_->closed) return;
  impl_->stopping = true;
  impl_->send("STOPPING=1\nEXTEND_TIMEOUT_USEC=" + std::to_string(stop_within.count()) + "\n");
}

void ServiceNotifications::close() {
  impl_->closed = true;
  impl_->status_timer.cancel();
  impl_->watchdog_timer.cancel();
}

}  // namespace factotum
