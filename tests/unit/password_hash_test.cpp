#include "faktory/password_hash.hpp"

#include <catch2/catch.hpp>

using factotum::faktory::password_hash;

// Vectors from PROTOCOL.md §3.4, checked against the server's Go function.
TEST_CASE("password hash with one round matches the server", "[password]") {
  CHECK(password_hash("foobar", "123456789abc", 1) ==
        "d30ae2acf55b9e6896725c3b4a2c1d26554ad2e1111c1b29056aa909f8260e39");
}

TEST_CASE("password hash with 1735 rounds matches the server", "[password]") {
  CHECK(password_hash("foobar", "123456789abc", 1735) ==
        "a5a2b31ef99fae2524b571d238bab3bc1c437bdecddd3550335fdf17997e7f3f");
}

TEST_CASE("fewer than one round counts as one, as the server does for v < 2", "[password]") {
  const auto one = password_hash("foobar", "123456789abc", 1);
  CHECK(password_hash("foobar", "123456789abc", 0) == one);
  CHECK(password_hash("foobar", "123456789abc", -7) == one);
}

TEST_CASE("the hash is 64 lowercase hex characters", "[password]") {
  const auto h = password_hash("s3cret", "734e0d7a41ed7c05", 6575);
  CHECK(h.size() == 64);
  CHECK(h.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(h != password_hash("s3cret", "734e0d7a41ed7c05", 6574));  // i-1 rounds is wrong
}
