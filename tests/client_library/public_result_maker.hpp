// Lets Catch2 print a faktory::Result in a failed assertion: "ok" or the error's text.
#pragma once

#include <factotum/faktory/result.hpp>

#include <catch2/catch.hpp>

namespace Catch {

template <class T>
struct StringMaker<faktory::Result<T>> {
  static std::string convert(const faktory::Result<T>& r) {
    return r ? std::string("ok") : "error: " + r.error().what();
  }
};

}  // namespace Catch
