// Socket options every Faktory connection gets, blocking or asynchronous.
#pragma once

namespace factotum::faktory {

// No Nagle delay (commands are small and answered one by one), and TCP keep-alive tuned so a
// silently dead peer (NAT or firewall timeout, faktory#273) is noticed in about two minutes
// instead of the kernel's two hours. Best effort: a failure leaves the defaults.
void tune_socket(int fd) noexcept;

// Whether the peer closed (FIN) or reset (RST) this idle connection: then it must be replaced
// before a command that must not be sent twice (PUSH). Not "readable": a TLS 1.3 server sends
// session tickets after the handshake that an idle connection leaves unread.
bool peer_has_closed(int fd) noexcept;

}  // namespace factotum::faktory
