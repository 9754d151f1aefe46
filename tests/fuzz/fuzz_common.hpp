// libFuzzer harness helpers: a parser of user input may reject input only with one of amlops's
// typed errors (which become a message and exit 2); any other exception is a bug and aborts.
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "core/error.hpp"

namespace amlops::fuzz {

template <typename F>
void expect_typed_errors_only(F&& f) {
  try {
    f();
  } catch (const amlops::Error&) {
    // a clear message for the user: fine
  } catch (const std::exception& e) {
    std::fprintf(stderr, "untyped exception escaped the parser: %s\n", e.what());
    std::abort();
  }
}

inline std::string text(const uint8_t* data, size_t size) { return {reinterpret_cast<const char*>(data), size}; }

}  // namespace amlops::fuzz
