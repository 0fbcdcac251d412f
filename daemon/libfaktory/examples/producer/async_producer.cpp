// The same with the asynchronous API, in a C++20 coroutine: pushes N jobs of JOBTYPE (with
// their index as argument) in one PUSHB and prints the server's figures.
//   async_producer JOBTYPE N
#include <factotum/faktory.hpp>
#include <factotum/faktory/async.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <iostream>
#include <string>
#include <vector>

namespace asio = boost::asio;

asio::awaitable<int> produce(std::string jobtype, int count) {
  faktory::AsyncClient client(co_await asio::this_coro::executor);
  std::vector<faktory::Job> jobs;
  for (int i = 0; i < count; ++i) jobs.push_back(faktory::Job(jobtype).args(i));
  auto refused = co_await client.push_bulk(jobs);
  if (!refused) {
    std::cerr << "async_producer: " << refused.error().what() << "\n";
    co_return 69;
  }
  for (const auto& r : *refused) std::cerr << "refused " << r.jid << ": " << r.reason << "\n";
  auto info = co_await client.info();
  if (!info) {
    std::cerr << "async_producer: " << info.error().what() << "\n";
    co_return 69;
  }
  std::cout << "pushed " << count - static_cast<int>(refused->size()) << ", server "
            << info->server_version() << " holds " << info->total_enqueued() << " jobs\n";
  co_return refused->empty() ? 0 : 65;
}

int main(int argc, char** argv) {
  if (argc != 3) return std::cerr << "usage: async_producer JOBTYPE N\n", 64;
  asio::io_context io;
  int status = 70;
  asio::co_spawn(io, produce(argv[1], std::stoi(argv[2])),
                 [&](std::exception_ptr e, int s) { status = e ? 70 : s; });
  io.run();
  return status;
}
