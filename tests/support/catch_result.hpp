// Lets Catch2 print a faktory::Result in a failed assertion: "ok" or the error's text.
// (boost::system::result's own operator<< needs a printable T, which most of ours are not.)
#pragma once

#include "faktory/error.hpp"

#include <catch2/catch.hpp>

namespace Catch {

template <class T>
struct StringMaker<boost::system::result<T, factotum::faktory::Error>> {
  static std::string convert(const boost::system::result<T, factotum::faktory::Error>& r) {
    return r ? std::string("ok") : "error: " + r.error().what();
  }
};

}  // namespace Catch
