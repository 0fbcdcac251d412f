#include "worker/spawn.hpp"

#include "service/log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <exception>
#include <string>

namespace factotum::worker {

void spawn(boost::asio::io_context& io, boost::asio::awaitable<void> task, const char* what) {
  boost::asio::co_spawn(io, std::move(task), [what](const std::exception_ptr& failure) {
    if (!failure) return;
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      service::Log::error(std::string("internal error in the ") + what + ": " + e.what());
    } catch (...) {
      service::Log::error(std::string("internal error in the ") + what);
    }
    std::rethrow_exception(failure);  // out of io_context::run(): see spawn.hpp
  });
}

}  // namespace factotum::worker
