// Starting a coroutine on the control thread.
#pragma once

#include <boost/asio/awaitable.hpp>

namespace boost::asio {
class io_context;
}

namespace factotum::worker {

// A coroutine of the control thread that dies with an exception is a bug in the daemon, not
// a job failure: log it loudly and end the process with EX_SOFTWARE (70) rather than run on
// with a missing heartbeat or reporter.
void spawn(boost::asio::io_context& io, boost::asio::awaitable<void> task, const char* what);

}  // namespace factotum::worker
