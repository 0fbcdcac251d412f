// Socket options every Faktory connection gets, blocking or asynchronous.
#pragma once

namespace factotum::faktory {

// No Nagle delay (commands are small and answered one by one), and TCP keep-alive tuned so a
// silently dead peer (NAT or firewall timeout, faktory#273) is noticed in about two minutes
// instead of the kernel's two hours. Best effort: a failure leaves the defaults.
void tune_socket(int fd) noexcept;

}  // namespace factotum::faktory
