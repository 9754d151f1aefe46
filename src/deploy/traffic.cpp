#include "deploy/traffic.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/error.hpp"
#include "core/strings.hpp"

namespace amlops::deploy {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

Traffic normalized(const Traffic& t) {
  Traffic out;
  for (auto& [k, v] : t)
    if (v != 0) out[k] = v;
  return out;
}

int total(const Traffic& t) {
  int s = 0;
  for (auto& [k, v] : t) s += v;
  return s;
}

std::string traffic_text(const Traffic& t) {
  std::vector<std::string> parts;
  for (auto& [k, v] : normalized(t)) parts.push_back(k + "=" + std::to_string(v));
  return parts.empty() ? "none" : str::join(parts, ",");
}

json::Value traffic_json(const Traffic& t, json::Allocator& a) {
  json::Builder b(a);
  json::Value o = b.obj();
  for (auto& [k, v] : t) b.set(o, k, v);
  return o;
}

Traffic traffic_of(const json::Value* v, const std::string& what) {
  Traffic out;
  if (!v || v->IsNull()) return out;
  if (!v->IsObject()) throw HttpError(200, what + ": expected an object of deployment -> percent");
  for (auto& m : v->GetObject()) {
    if (!m.value.IsNumber()) throw HttpError(200, what + ": '" + std::string(m.name.GetString()) + "' is not a number");
    out[m.name.GetString()] = static_cast<int>(std::lround(m.value.GetDouble()));
  }
  return out;
}

std::vector<int> parse_steps(const std::string& text) {
  std::vector<int> steps;
  for (auto& part : str::split(text, ',')) {
    auto v = str::parse_int(str::trim(part));
    if (!v || *v < 1 || *v > 100)
      throw UsageError("--steps '" + text + "': each step is a whole percent from 1 to 100 ('" + part + "' is not)");
    if (!steps.empty() && *v <= steps.back()) throw UsageError("--steps '" + text + "': the steps must increase");
    steps.push_back(static_cast<int>(*v));
  }
  if (steps.empty() || steps.back() != 100) throw UsageError("--steps '" + text + "': the last step must be 100");
  return steps;
}

Traffic shift(const Traffic& current, const std::string& target, int percent) {
  Traffic others;
  for (auto& [k, v] : current)
    if (k != target && v > 0) others[k] = v;
  int sum = total(others);
  Traffic out;
  if (sum == 0 || percent >= 100) {
    out[target] = 100;
    return out;
  }
  int rest = 100 - percent;
  struct Part {
    std::string name;
    int floor;
    double frac;
  };
  std::vector<Part> parts;
  int given = 0;
  for (auto& [k, v] : others) {
    double exact = static_cast<double>(v) * rest / sum;
    int f = static_cast<int>(std::floor(exact));
    parts.push_back({k, f, exact - f});
    given += f;
  }
  std::stable_sort(parts.begin(), parts.end(), [](const Part& a, const Part& b) { return a.frac > b.frac; });
  for (auto& p : parts) {
    if (given < rest) {
      ++p.floor;
      ++given;
    }
    if (p.floor > 0) out[p.name] = p.floor;
  }
  if (percent > 0) out[target] = percent;
  return out;
}

std::string record_text(const RolloutRecord& r) {
  json::Document d;
  d.SetObject();
  json::Builder b(d.GetAllocator());
  b.set(d, "deployment", r.deployment);
  b.set(d, "previous", traffic_json(r.previous, d.GetAllocator()));
  if (!r.previous_mirror.empty()) b.set(d, "mirror", traffic_json(r.previous_mirror, d.GetAllocator()));
  b.set(d, "state", r.state);
  if (!r.reason.empty()) b.set(d, "reason", r.reason.substr(0, 120));
  return json::dump(d);
}

std::optional<RolloutRecord> parse_record(const std::string& text) {
  try {
    json::Document d = json::parse(text, "tag " + std::string(kRolloutTag));
    RolloutRecord r;
    r.deployment = json::get_string(d, "/deployment");
    r.previous = traffic_of(json::find(d, "/previous"), "previous");
    r.previous_mirror = traffic_of(json::find(d, "/mirror"), "mirror");
    r.state = json::opt_string(d, "/state").value_or("");
    r.reason = json::opt_string(d, "/reason").value_or("");
    return r;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

Health evaluate(const std::vector<Sample>& samples, const Thresholds& t) {
  Health h;
  h.requests = samples.size();
  std::vector<double> ms;
  for (auto& s : samples) {
    if (s.status != 200) ++h.errors;
    ms.push_back(s.ms);
    if (!s.deployment.empty()) ++h.by_deployment[s.deployment];
  }
  h.error_rate = h.requests ? static_cast<double>(h.errors) / static_cast<double>(h.requests) : 0;
  h.p50_ms = percentile(ms, 50);
  h.p95_ms = percentile(ms, 95);
  if (h.requests == 0) {
    h.ok = false;
    h.reasons.push_back("no request was made");
  }
  if (h.error_rate > t.max_error_rate) {
    h.ok = false;
    h.reasons.push_back("error rate " + std::to_string(h.errors) + "/" + std::to_string(h.requests) + " is above " +
                        num(t.max_error_rate * 100) + " %");
  }
  if (t.max_p95_ms && h.p95_ms > *t.max_p95_ms) {
    h.ok = false;
    h.reasons.push_back("p95 latency " + num(h.p95_ms) + " ms is above " + num(*t.max_p95_ms) + " ms");
  }
  return h;
}

namespace {
std::string brief(const json::Value& v) {
  std::string s = v.IsString() ? std::string("\"") + v.GetString() + "\"" : json::dump(v);
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}
}  // namespace

std::optional<std::string> mismatch(const json::Value& expected, const json::Value& actual, const std::string& at) {
  std::string where = at.empty() ? "/" : at;
  if (expected.IsNumber() && actual.IsNumber()) {
    double e = expected.GetDouble(), a = actual.GetDouble();
    if (std::fabs(e - a) <= 1e-6 * std::max({1.0, std::fabs(e), std::fabs(a)})) return std::nullopt;
    return where + ": expected " + brief(expected) + ", got " + brief(actual);
  }
  if (expected.IsObject()) {
    if (!actual.IsObject()) return where + ": expected an object, got " + brief(actual);
    for (auto& m : expected.GetObject()) {
      std::string key = m.name.GetString();
      auto it = actual.FindMember(m.name);
      if (it == actual.MemberEnd()) return at + "/" + key + ": missing";
      if (auto r = mismatch(m.value, it->value, at + "/" + key)) return r;
    }
    return std::nullopt;
  }
  if (expected.IsArray()) {
    if (!actual.IsArray()) return where + ": expected an array, got " + brief(actual);
    if (expected.Size() != actual.Size())
      return where + ": expected " + std::to_string(expected.Size()) + " items, got " + std::to_string(actual.Size());
    for (rapidjson::SizeType i = 0; i < expected.Size(); ++i)
      if (auto r = mismatch(expected[i], actual[i], at + "/" + std::to_string(i))) return r;
    return std::nullopt;
  }
  if (expected == actual) return std::nullopt;
  return where + ": expected " + brief(expected) + ", got " + brief(actual);
}

}  // namespace amlops::deploy
