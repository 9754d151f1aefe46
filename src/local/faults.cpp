#include "local/faults.hpp"

#include "core/error.hpp"
#include "core/strings.hpp"

namespace amlops::local {

FaultSpec parse_faults(std::string_view text) {
  FaultSpec s;
  for (auto& item : str::split(text, ',')) {
    auto t = std::string(str::trim(item));
    if (t.empty()) continue;
    auto kv = str::split_key_value(t);
    if (!kv) throw UsageError("--faults: expected KIND=RATE, got '" + t + "'");
    auto rate = str::parse_double(kv->second);
    if (!rate || *rate < 0 || *rate > 1)
      throw UsageError("--faults: rate of " + kv->first + " must be between 0 and 1, got '" + kv->second + "'");
    if (kv->first == "429")
      s.r429 = *rate;
    else if (kv->first == "503")
      s.r503 = *rate;
    else if (kv->first == "reset")
      s.reset = *rate;
    else if (kv->first == "slow")
      s.slow = *rate;
    else
      throw UsageError("--faults: unknown kind '" + kv->first + "' (expected 429, 503, reset, slow)");
  }
  if (s.r429 + s.r503 + s.reset + s.slow > 1) throw UsageError("--faults: the rates add up to more than 1");
  return s;
}

FaultKind FaultInjector::draw() {
  if (!spec_.any()) return FaultKind::none;
  double u = 0;
  {
    std::lock_guard lock(mu_);
    u = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  }
  double acc = spec_.r429;
  if (u < acc) return FaultKind::too_many;
  acc += spec_.r503;
  if (u < acc) return FaultKind::unavailable;
  acc += spec_.reset;
  if (u < acc) return FaultKind::reset;
  acc += spec_.slow;
  if (u < acc) return FaultKind::slow;
  return FaultKind::none;
}

}  // namespace amlops::local
