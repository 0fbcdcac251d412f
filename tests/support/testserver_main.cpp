// factotum-testserver: the in-repo Faktory-compatible test server as a process, for scripts
// (demo, e2e, benchmarks). Prints exactly one line "factotum-testserver listening on
// HOST:PORT" once it accepts connections; SIGINT/SIGTERM stop it with exit status 0.
#include "test_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/program_options.hpp>

#include <csignal>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>

namespace po = boost::program_options;

int main(int argc, char** argv) {
  po::options_description desc(
      "factotum-testserver: an in-memory Faktory 1.9-compatible server for tests\n\nOptions");
  int port = 7419;
  long long fetch_block_ms = 2000;
  long long heartbeat_timeout_s = 60;
  std::string bind = "127.0.0.1";
  desc.add_options()("help,h", "show this help and exit")(
      "port", po::value<int>(&port)->default_value(7419), "TCP port (0 = ephemeral)")(
      "bind", po::value<std::string>(&bind)->default_value("127.0.0.1"), "address to listen on")(
      "password", po::value<std::string>(), "require this password in HELLO")(
      "tls-cert", po::value<std::string>(),
      "PEM certificate chain: serve TLS only (needs --tls-key)")(
      "tls-key", po::value<std::string>(), "PEM private key for --tls-cert")(
      "fetch-block", po::value<long long>(&fetch_block_ms)->default_value(2000),
      "how long an empty FETCH blocks, in milliseconds")(
      "heartbeat-timeout", po::value<long long>(&heartbeat_timeout_s)->default_value(60),
      "seconds without BEAT before a worker is reaped");

  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(desc).run(), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << "factotum-testserver: " << e.what() << "\nTry --help.\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  auto bad = [](const std::string& msg) {
    std::cerr << "factotum-testserver: " << msg << "\nTry --help.\n";
    return 2;
  };
  if (port < 0 || port > 65535) return bad("--port must be between 0 and 65535");
  if (fetch_block_ms < 0) return bad("--fetch-block must not be negative");
  if (heartbeat_timeout_s < 1) return bad("--heartbeat-timeout must be at least 1");
  if (vm.count("tls-cert") != vm.count("tls-key")) {
    return bad("--tls-cert and --tls-key must be given together");
  }

  factotum::testing::TestServerOptions options;
  options.bind = bind;
  options.port = static_cast<std::uint16_t>(port);
  if (vm.count("password")) options.password = vm["password"].as<std::string>();
  if (vm.count("tls-cert")) {
    options.tls_cert_file = vm["tls-cert"].as<std::string>();
    options.tls_key_file = vm["tls-key"].as<std::string>();
  }
  options.fetch_block = std::chrono::milliseconds(fetch_block_ms);
  options.heartbeat_timeout = std::chrono::seconds(heartbeat_timeout_s);
  options.record_history = false;  // nothing reads it from outside the process

  // Asio turns SIGINT/SIGTERM into a completion on `io`, whichever thread the kernel picks.
  boost::asio::io_context io;
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  try {
    factotum::testing::TestServer server(options);
    std::cout << "factotum-testserver listening on " << server.host() << ":" << server.port()
              << std::endl;
    signals.async_wait([](const boost::system::error_code&, int) {});
    io.run();
  } catch (const std::exception& e) {
    std::cerr << "factotum-testserver: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
