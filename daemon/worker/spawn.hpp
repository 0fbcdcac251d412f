// Starting a coroutine on the control thread.
#pragma once

#include <boost/asio/awaitable.hpp>

namespace boost::asio {
class io_context;
}

namespace factotum::worker {

// A coroutine of the control thread that dies with an exception is a bug in the daemon, not
// a job failure: it is logged loudly and the exception leaves io_context::run(), where the
// daemon stops the worker as on TERM (jobs in flight finish or are FAILed, no FETCH is
// abandoned) and exits with EX_SOFTWARE (70).
void spawn(boost::asio::io_context& io, boost::asio::awaitable<void> task, const char* what);

}  // namespace factotum::worker
