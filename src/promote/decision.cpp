#include "promote/decision.hpp"

#include <cmath>
#include <sstream>

namespace amlops::promote {
namespace {

// Absorbs decimal rounding (0.905 - 0.9 = 0.00499999...) without letting a real shortfall pass.
constexpr double kTolerance = 1e-9;

std::string opt_num(const std::optional<double>& v) { return v ? format_number(*v) : "-"; }

// The metric's value, or a reason why it cannot be used.
std::optional<double> read(const ModelFacts& m, const std::string& metric, const char* who, std::string& why) {
  auto it = m.metrics.find(metric);
  if (it == m.metrics.end()) {
    why = std::string(who) + " " + m.id + " has no metric '" + metric + "'";
    return std::nullopt;
  }
  if (!std::isfinite(it->second)) {
    why = std::string(who) + " " + m.id + " metric '" + metric + "' is " + format_number(it->second);
    return std::nullopt;
  }
  return it->second;
}

std::optional<double> shown(const std::optional<ModelFacts>& m, const std::string& metric) {
  if (!m) return std::nullopt;
  auto it = m->metrics.find(metric);
  if (it == m->metrics.end()) return std::nullopt;
  return it->second;
}

std::string md_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '|' || c == '\\' || c == '`' || c == '*' || c == '_' || c == '<' || c == '>' || c == '[' || c == ']')
      o += '\\';
    o += (c == '\n' ? ' ' : c);
  }
  return o;
}

}  // namespace

std::string format_number(double v) {
  if (std::isnan(v)) return "NaN";
  std::ostringstream os;
  os.precision(10);
  os << v;
  return os.str();
}

std::string Decision::summary() const {
  size_t passed = 0;
  for (auto& r : rules) passed += r.passed ? 1 : 0;
  std::string s = std::string(promote ? "promote" : "block") + ": " + std::to_string(passed) + "/" +
                  std::to_string(rules.size()) + " rules passed";
  if (!promote && !reasons.empty()) s += "; " + reasons.front();
  return s;
}

Decision decide(const Policy& policy, const ModelFacts& candidate, const std::optional<ModelFacts>& champion,
                const std::string& champion_error) {
  Decision d;
  d.candidate = candidate.id;
  if (champion) d.champion = champion->id;

  if (policy.primary) {
    const Primary& p = *policy.primary;
    RuleResult r;
    r.metric = p.metric;
    r.rule = std::string(goal_name(p.goal)) + ", improvement >= " + format_number(p.min_improvement);
    r.candidate = shown(std::optional<ModelFacts>(candidate), p.metric);
    r.champion = shown(champion, p.metric);
    std::string why;
    auto c = read(candidate, p.metric, "candidate", why);
    if (!c) {
      r.reason = why;
    } else if (!champion_error.empty()) {
      r.reason = "champion cannot be read: " + champion_error;
    } else if (!champion) {
      r.passed = policy.promote_without_champion;
      r.reason = r.passed ? "no champion; on_no_champion: promote" : "no champion; on_no_champion: block";
    } else if (auto h = read(*champion, p.metric, "champion", why); !h) {
      r.reason = why;
    } else {
      double improvement = p.goal == Goal::maximize ? *c - *h : *h - *c;
      r.passed = improvement + kTolerance >= p.min_improvement;
      std::string dir = p.goal == Goal::maximize ? "higher" : "lower";
      r.reason =
          format_number(*c) + " vs " + format_number(*h) + ": " +
          (improvement >= 0 ? "improves by " + format_number(improvement) : "worse by " + format_number(-improvement)) +
          " (" + dir + " is better; needed " + format_number(p.min_improvement) + ")";
    }
    d.rules.push_back(r);
  } else if (!champion_error.empty()) {
    RuleResult r;
    r.metric = "champion";
    r.rule = "champion readable";
    r.reason = "champion cannot be read: " + champion_error;
    d.rules.push_back(r);
  } else if (!champion && !policy.promote_without_champion) {
    RuleResult r;
    r.metric = "champion";
    r.rule = "champion exists";
    r.reason = "no champion; on_no_champion: block";
    d.rules.push_back(r);
  }

  for (const Threshold& t : policy.thresholds) {
    RuleResult r;
    r.metric = t.metric;
    if (t.min && t.max)
      r.rule = format_number(*t.min) + " <= " + t.metric + " <= " + format_number(*t.max);
    else if (t.min)
      r.rule = t.metric + " >= " + format_number(*t.min);
    else
      r.rule = t.metric + " <= " + format_number(*t.max);
    r.candidate = shown(std::optional<ModelFacts>(candidate), t.metric);
    r.champion = shown(champion, t.metric);
    std::string why;
    auto c = read(candidate, t.metric, "candidate", why);
    if (!c) {
      r.reason = why;
    } else if (t.min && *c < *t.min) {
      r.reason = format_number(*c) + " is below the minimum " + format_number(*t.min);
    } else if (t.max && *c > *t.max) {
      r.reason = format_number(*c) + " is above the maximum " + format_number(*t.max);
    } else {
      r.passed = true;
      r.reason = format_number(*c) + " is within bounds";
    }
    d.rules.push_back(r);
  }

  for (const std::string& tag : policy.require_tags) {
    RuleResult r;
    r.metric = tag;
    r.rule = "tag " + tag + " present";
    auto it = candidate.tags.find(tag);
    r.passed = it != candidate.tags.end() && !it->second.empty();
    r.reason = r.passed ? tag + " = " + it->second : "candidate " + candidate.id + " has no tag '" + tag + "'";
    d.rules.push_back(r);
  }

  if (d.rules.empty()) {
    RuleResult r;
    r.metric = "policy";
    r.rule = "at least one rule";
    r.reason = "the policy has no rules (primary, thresholds or require_tags): nothing to decide on";
    d.rules.push_back(r);
  }
  d.promote = true;
  for (auto& r : d.rules)
    if (!r.passed) {
      d.promote = false;
      d.reasons.push_back(r.reason);
    }
  if (d.promote) d.reasons.push_back("all " + std::to_string(d.rules.size()) + " rules passed");
  return d;
}

json::Document decision_json(const Decision& d) {
  json::Document doc(rapidjson::kObjectType);
  json::Builder b(doc.GetAllocator());
  b.set(doc, "decision", d.promote ? "promote" : "block");
  b.set(doc, "candidate", d.candidate);
  if (d.champion.empty())
    b.set_null(doc, "champion");
  else
    b.set(doc, "champion", d.champion);
  json::Value rules = b.arr();
  for (auto& r : d.rules) {
    json::Value o = b.obj();
    b.set(o, "metric", r.metric);
    if (r.candidate)
      b.set(o, "candidate", *r.candidate);
    else
      b.set_null(o, "candidate");
    if (r.champion)
      b.set(o, "champion", *r.champion);
    else
      b.set_null(o, "champion");
    b.set(o, "rule", r.rule);
    b.set(o, "passed", r.passed);
    b.set(o, "reason", r.reason);
    b.push(rules, std::move(o));
  }
  b.set(doc, "rules", std::move(rules));
  json::Value reasons = b.arr();
  for (auto& s : d.reasons) b.push(reasons, s);
  b.set(doc, "reasons", std::move(reasons));
  return doc;
}

std::string decision_text(const Decision& d) {
  std::ostringstream os;
  os << "decision:  " << (d.promote ? "promote" : "block") << "\ncandidate: " << d.candidate
     << "\nchampion:  " << (d.champion.empty() ? "(none)" : d.champion) << "\n\n";
  size_t wm = 6, wr = 4;
  for (auto& r : d.rules) {
    wm = std::max(wm, r.metric.size());
    wr = std::max(wr, r.rule.size());
  }
  auto pad = [](const std::string& s, size_t w) { return s + std::string(w > s.size() ? w - s.size() : 0, ' '); };
  os << pad("metric", wm) << "  " << pad("candidate", 11) << "  " << pad("champion", 11) << "  " << pad("rule", wr)
     << "  result  why\n";
  for (auto& r : d.rules)
    os << pad(r.metric, wm) << "  " << pad(opt_num(r.candidate), 11) << "  " << pad(opt_num(r.champion), 11) << "  "
       << pad(r.rule, wr) << "  " << (r.passed ? "pass  " : "FAIL  ") << "  " << r.reason << "\n";
  return os.str();
}

std::string decision_markdown(const Decision& d, const ModelFacts& candidate,
                              const std::optional<ModelFacts>& champion) {
  std::ostringstream os;
  os << "**" << (d.promote ? "Promote" : "Blocked") << "**: `" << candidate.id << "` vs "
     << (champion ? "`" + champion->id + "`" : std::string("no champion")) << " — " << md_escape(d.summary())
     << "\n\n| metric | candidate | champion | rule | result | why |\n|---|---|---|---|---|---|\n";
  for (auto& r : d.rules)
    os << "| " << md_escape(r.metric) << " | " << opt_num(r.candidate) << " | " << opt_num(r.champion) << " | "
       << md_escape(r.rule) << " | " << (r.passed ? "pass" : "**fail**") << " | " << md_escape(r.reason) << " |\n";
  auto job = [](const ModelFacts& m) {
    if (m.job.empty()) return std::string("-");
    if (m.job_url.empty()) return "job `" + m.job + "`";
    return "[job " + md_escape(m.job) + "](" + m.job_url + ")";
  };
  os << "\n| | model | producing job |\n|---|---|---|\n| candidate | `" << candidate.id << "` | " << job(candidate)
     << " |\n";
  if (champion) os << "| champion | `" << champion->id << "` | " << job(*champion) << " |\n";
  return os.str();
}

}  // namespace amlops::promote
