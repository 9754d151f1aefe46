// Fault injection: per-request rates of 429, 503, connection reset and slow body, seeded.
#pragma once
#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <string_view>

namespace amlops::local {

struct FaultSpec {
  double r429 = 0, r503 = 0, reset = 0, slow = 0;
  [[nodiscard]] bool any() const { return r429 > 0 || r503 > 0 || reset > 0 || slow > 0; }
};

// Parses "429=0.1,503=0.05,reset=0.02,slow=0.05" (any subset); throws UsageError.
FaultSpec parse_faults(std::string_view text);

enum class FaultKind { none, too_many, unavailable, reset, slow };

class FaultInjector {
 public:
  FaultInjector(FaultSpec spec, uint64_t seed) : spec_(spec), rng_(seed) {}
  FaultKind draw();

 private:
  FaultSpec spec_;
  std::mutex mu_;
  std::mt19937_64 rng_;
};

}  // namespace amlops::local
