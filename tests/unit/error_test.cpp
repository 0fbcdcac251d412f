#include "faktory/error.hpp"

#include <catch2/catch.hpp>

using namespace factotum::faktory;

TEST_CASE("every errc has a name in the faktory category", "[error]") {
  CHECK(std::string(faktory_category().name()) == "faktory");
  for (int ev = static_cast<int>(errc::server_error); ev <= static_cast<int>(errc::not_connected);
       ++ev) {
    const std::string message = faktory_category().message(ev);
    CHECK_FALSE(message.empty());
    CHECK(message.find("unknown") == std::string::npos);
  }
}

TEST_CASE("errc converts implicitly to an error_code of the faktory category", "[error]") {
  const boost::system::error_code ec = errc::timeout;
  CHECK(&ec.category() == &faktory_category());
  CHECK(ec.message() == "timeout");
  CHECK(Error(errc::timeout, "x").is(errc::timeout));
  CHECK_FALSE(Error(errc::timeout, "x").is(errc::server_error));
}

TEST_CASE("Error::what puts the kind, the server code and the message on one line", "[error]") {
  CHECK(Error(make_error_code(errc::server_error), "Job not found 123", "ERR").what() ==
        "server error: ERR Job not found 123");
  CHECK(Error(errc::invalid_url, "port 'x' is not a number").what() ==
        "invalid URL: port 'x' is not a number");
  CHECK(Error(errc::timeout, "").what() == "timeout");
}

TEST_CASE("Result::value throws FaktoryError carrying the Error", "[error]") {
  Result<int> r = Error(errc::invalid_job, "job field 'retry': expected an integer, got string");
  try {
    (void)r.value();
    FAIL("value() did not throw");
  } catch (const FaktoryError& e) {
    CHECK(e.error().is(errc::invalid_job));
    CHECK(std::string(e.what()) ==
          "invalid job: job field 'retry': expected an integer, got string");
  }
  Result<void> v = Error(errc::not_connected, "no connection");
  CHECK_THROWS_AS(v.value(), FaktoryError);
}
