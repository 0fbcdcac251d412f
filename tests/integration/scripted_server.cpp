#include "client_test_support.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <thread>

namespace factotum::testing {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

struct SocketPeer : ScriptedServer::Peer {
  tcp::socket socket;
  std::string buffer;
  explicit SocketPeer(tcp::socket s) : socket(std::move(s)) {
    // Each send() goes out as written (a test that splits a reply means to split it).
    boost::system::error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
  }
  void send(std::string_view bytes) override {
    boost::system::error_code ec;
    asio::write(socket, asio::buffer(bytes.data(), bytes.size()), ec);
  }
  std::string read_line() override {
    boost::system::error_code ec;
    const std::size_t n = asio::read_until(socket, asio::dynamic_buffer(buffer), '\n', ec);
    if (ec) return {};
    std::string line = buffer.substr(0, n);
    buffer.erase(0, n);
    return line;
  }
  void close() override {
    boost::system::error_code ec;
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
  }
};

}  // namespace

struct ScriptedServer::Impl {
  asio::io_context io;
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  std::function<void(Peer&)> script;
  std::atomic<bool> stopping{false};
  std::thread thread;

  void serve() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket(io);
      acceptor.accept(socket, ec);
      if (ec || stopping) return;
      SocketPeer peer(std::move(socket));
      script(peer);
    }
  }
};

ScriptedServer::ScriptedServer(std::function<void(Peer&)> script)
    : impl_(std::make_unique<Impl>()) {
  impl_->script = std::move(script);
  impl_->thread = std::thread([this] { impl_->serve(); });
}

ScriptedServer::~ScriptedServer() {
  // Wake the blocking accept() with one last connection instead of closing the acceptor under
  // the server thread's feet.
  impl_->stopping = true;
  {
    asio::io_context io;
    tcp::socket wake(io);
    boost::system::error_code ec;
    wake.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port()), ec);
  }
  impl_->thread.join();
}

std::uint16_t ScriptedServer::port() const {
  return impl_->acceptor.local_endpoint().port();
}

}  // namespace factotum::testing
