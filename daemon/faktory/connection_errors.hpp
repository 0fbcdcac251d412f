// How a connection to a Faktory server words its failures: one wording for the asynchronous
// connection (control thread) and the blocking one (processors), so an operator reads the
// same line whichever of them lost the server.
#pragma once

#include "faktory/error.hpp"

#include <cstddef>
#include <string_view>

struct ssl_st;  // OpenSSL's SSL

namespace factotum::faktory::connection_errors {

// "timed out DURING (PEER)"
Error timed_out(std::string_view peer, std::string_view during);
// The peer closed or reset the connection; `buffered`: bytes of an unfinished reply received.
Error closed(std::string_view peer, std::string_view during, std::size_t buffered);
// A TLS failure: OpenSSL's reason (may be empty) and, when the session's certificate check
// failed, why (`ssl` may be null).
Error tls(std::string_view peer, std::string_view during, std::string_view reason,
          const ssl_st* ssl);
// A failed TLS handshake, with the likeliest cause: a plain-TCP server behind a tcp+tls:// URL.
Error with_plain_tcp_hint(Error handshake_error);
// Any other socket error: "DURING (PEER): MESSAGE".
Error socket(const boost::system::error_code& ec, std::string_view peer, std::string_view during);

}  // namespace factotum::faktory::connection_errors
