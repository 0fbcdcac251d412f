// raw_worker: the protocol ceiling for the drain benchmark — N connections each running a
// bare FETCH → ACK loop with the project's client, no plugins, no threads for jobs. It stops
// when the queue stays empty for one FETCH block on every connection.
//   raw_worker [--url URL] [--concurrency N] [--queue Q] [--pipeline]
// --pipeline sends each ACK together with the next FETCH (as factotum does): the ceiling for
// a worker that pipelines.
#include "faktory/client.hpp"
#include "faktory/url.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace asio = boost::asio;
using namespace factotum::faktory;

int main(int argc, char** argv) {
  std::optional<std::string> url_flag;
  int concurrency = 20;
  std::string queue = "default";
  bool pipeline = false;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--pipeline") {
      pipeline = true;
      continue;
    }
    if (i + 1 >= argc) break;
    ++i;
    if (flag == "--url")
      url_flag = argv[i];
    else if (flag == "--concurrency")
      concurrency = std::stoi(argv[i]);
    else if (flag == "--queue")
      queue = argv[i];
  }
  auto url = resolve_url(url_flag, process_environment(), std::nullopt);
  if (!url) {
    std::cerr << "raw_worker: " << url.error().what() << "\n";
    return 2;
  }
  asio::io_context io(1);
  long acked = 0;
  int failures = 0;
  auto options = ClientOptions::for_url(*url);
  options.identity = process_identity("raw-worker-" + std::to_string(::getpid()), {"bench"});
  const std::vector<std::string> queues{queue};
  for (int c = 0; c < concurrency; ++c) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          Client client(io.get_executor(), options);
          if (!co_await client.connect()) {
            ++failures;
            co_return;
          }
          auto job = co_await client.fetch_raw(queues);
          for (;;) {
            if (!job) {
              ++failures;
              break;
            }
            if (!*job) break;  // the queue stayed empty for a whole FETCH block
            // The jid is all an ACK needs; a real worker parses the payload once, so do that.
            auto parsed = Job::parse(**job);
            if (!parsed) {
              ++failures;
              break;
            }
            if (pipeline) {
              auto acked_job = co_await client.ack_then_fetch(parsed->jid, queues);
              if (!acked_job) {
                if (client.fetch_pending()) (void)co_await client.fetch_reply();
                ++failures;
                break;
              }
              job = co_await client.fetch_reply();
            } else {
              if (!co_await client.ack(parsed->jid)) {
                ++failures;
                break;
              }
              job = co_await client.fetch_raw(queues);
            }
            ++acked;
          }
          co_await client.end();
        },
        asio::detached);
  }
  io.run();
  std::cout << "raw_worker acked " << acked << " jobs\n";
  return failures == 0 ? 0 : 1;
}
