// A private CA, a server certificate for "localhost" / 127.0.0.1 signed by it and a client
// certificate, made at run time with the openssl CLI in a fresh temporary directory (TLS tests
// of the client and of the worker).
#pragma once

#include "child_process.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace factotum::testing {

struct Certificates {
  std::filesystem::path dir;
  std::filesystem::path ca_cert, server_cert, server_key, client_cert, client_key, other_ca_cert;

  Certificates() {
    std::random_device rd;
    dir = std::filesystem::temp_directory_path() / ("factotum-tls-" + std::to_string(rd()));
    std::filesystem::create_directories(dir);
    ca_cert = dir / "ca.pem";
    other_ca_cert = dir / "other-ca.pem";
    server_cert = dir / "server.pem";
    server_key = dir / "server.key";
    client_cert = dir / "client.pem";
    client_key = dir / "client.key";
    make_ca("ca", "factotum test CA");
    make_ca("other-ca", "someone else's CA");
    make_leaf("server", "localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1");
    make_leaf("client", "factotum test client", "extendedKeyUsage=clientAuth");
  }
  ~Certificates() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  void openssl(std::vector<std::string> args) const {
    args.insert(args.begin(), "/usr/bin/openssl");
    ChildProcess child(args);
    auto code = child.wait_exit(std::chrono::seconds(60));
    INFO(child.output());
    REQUIRE(code == 0);
  }
  void make_ca(const std::string& name, const std::string& cn) const {
    openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", (dir / (name + ".key")).string(), "-out", (dir / (name + ".pem")).string(),
             "-days", "2", "-subj", "/CN=" + cn});
  }
  void make_leaf(const std::string& name, const std::string& cn, const std::string& ext) const {
    const auto csr = (dir / (name + ".csr")).string();
    const auto ext_file = dir / (name + ".ext");
    { std::ofstream(ext_file) << ext << "\n"; }
    openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
             (dir / (name + ".key")).string(), "-out", csr, "-subj", "/CN=" + cn});
    openssl({"x509", "-req", "-in", csr, "-CA", ca_cert.string(), "-CAkey",
             (dir / "ca.key").string(), "-CAcreateserial", "-days", "2", "-extfile",
             ext_file.string(), "-out", (dir / (name + ".pem")).string()});
  }
};

}  // namespace factotum::testing
