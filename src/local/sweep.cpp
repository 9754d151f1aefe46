#include "local/sweep.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

#include "core/strings.hpp"
#include "core/time.hpp"
#include "local/app.hpp"
#include "local/job_util.hpp"
#include "local/runner.hpp"

namespace amlops::local {

// ---------------------------------------------------------------------------------------------
// Sampling (pure)

namespace {

struct Param {
  std::string name, type;
  std::vector<double> args;
  std::vector<std::string> choices;  // choice values as text
};

Param parse_param(const std::string& name, const json::Value& v) {
  Param p;
  p.name = name;
  auto numbers = [&](const json::Value& a) {
    for (auto& x : a.GetArray()) {
      if (!x.IsNumber()) throw std::runtime_error("search_space." + name + ": expected numbers");
      p.args.push_back(x.GetDouble());
    }
  };
  if (v.IsArray() && v.Size() >= 1 && v[0].IsString()) {
    p.type = str::to_lower(v[0].GetString());
    const json::Value* args = v.Size() > 1 ? &v[1] : nullptr;
    if (p.type == "choice") {
      if (!args || !args->IsArray())
        throw std::runtime_error("search_space." + name + ": choice needs a list of values");
      const json::Value* vals = args;
      if (args->Size() == 1 && (*args)[0].IsArray()) vals = &(*args)[0];
      for (auto& x : vals->GetArray()) p.choices.push_back(x.IsString() ? std::string(x.GetString()) : json::dump(x));
    } else {
      if (!args || !args->IsArray())
        throw std::runtime_error("search_space." + name + ": " + p.type + " needs arguments");
      numbers(*args);
    }
  } else if (v.IsObject()) {
    p.type = str::to_lower(member_text(v, "type").value_or(""));
    if (p.type == "choice") {
      if (!v.HasMember("values") || !v["values"].IsArray())
        throw std::runtime_error("search_space." + name + ": choice needs values");
      for (auto& x : v["values"].GetArray())
        p.choices.push_back(x.IsString() ? std::string(x.GetString()) : json::dump(x));
    } else {
      auto num = [&](const char* k) {
        if (!v.HasMember(k) || !v[k].IsNumber())
          throw std::runtime_error("search_space." + name + ": " + p.type + " needs " + k);
        p.args.push_back(v[k].GetDouble());
      };
      if (p.type == "uniform" || p.type == "loguniform")
        num("min_value"), num("max_value");
      else if (p.type == "quniform" || p.type == "qloguniform")
        num("min_value"), num("max_value"), num("q");
      else if (p.type == "randint")
        num("upper");
      else if (p.type == "normal" || p.type == "lognormal")
        num("mu"), num("sigma");
      else if (p.type == "qnormal" || p.type == "qlognormal")
        num("mu"), num("sigma"), num("q");
    }
  } else {
    throw std::runtime_error("search_space." + name + ": expected [\"choice\", [[...]]] or {type: ..., ...}");
  }
  static const std::map<std::string, size_t> arity = {{"uniform", 2},     {"loguniform", 2}, {"quniform", 3},
                                                      {"qloguniform", 3}, {"randint", 1},    {"normal", 2},
                                                      {"lognormal", 2},   {"qnormal", 3},    {"qlognormal", 3}};
  if (p.type == "choice") {
    if (p.choices.empty()) throw std::runtime_error("search_space." + name + ": choice has no values");
  } else {
    auto a = arity.find(p.type);
    if (a == arity.end()) throw std::runtime_error("search_space." + name + ": unknown distribution '" + p.type + "'");
    if (p.args.size() < a->second)
      throw std::runtime_error("search_space." + name + ": " + p.type + " needs " + std::to_string(a->second) +
                               " arguments");
  }
  return p;
}

}  // namespace

std::vector<Trial> sweep_trials(const json::Value& space, const std::string& algorithm, size_t count, uint64_t seed) {
  if (!space.IsObject() || space.MemberCount() == 0) throw std::runtime_error("the search space is empty");
  std::vector<Param> params;
  for (auto& m : space.GetObject()) params.push_back(parse_param(m.name.GetString(), m.value));
  std::sort(params.begin(), params.end(), [](const Param& a, const Param& b) { return a.name < b.name; });
  std::vector<Trial> out;
  std::string alg = str::to_lower(algorithm);
  if (alg == "grid") {
    for (auto& p : params)
      if (p.type != "choice")
        throw std::runtime_error("grid sampling supports only choice parameters; search_space." + p.name + " is " +
                                 p.type);
    std::vector<size_t> idx(params.size(), 0);
    while (out.size() < count) {
      Trial t;
      for (size_t i = 0; i < params.size(); ++i) t[params[i].name] = params[i].choices[idx[i]];
      out.push_back(std::move(t));
      // Odometer: the last parameter varies fastest.
      size_t k = params.size();
      while (k > 0) {
        --k;
        if (++idx[k] < params[k].choices.size()) break;
        idx[k] = 0;
        if (k == 0) return out;
      }
    }
    return out;
  }
  if (alg != "random" && alg != "bayesian")
    throw std::runtime_error("sampling algorithm '" + algorithm + "' is not supported (grid, random)");
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i < count; ++i) {
    Trial t;
    for (auto& p : params) {
      auto U = [&](double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); };
      auto N = [&](double mu, double s) { return std::normal_distribution<double>(mu, s)(rng); };
      auto q = [&](double v, double step) { return std::round(v / step) * step; };
      const auto& a = p.args;
      std::string v;
      if (p.type == "choice")
        v = p.choices[std::uniform_int_distribution<size_t>(0, p.choices.size() - 1)(rng)];
      else if (p.type == "uniform")
        v = num_text(U(a[0], a[1]));
      else if (p.type == "loguniform")
        v = num_text(std::exp(U(a[0], a[1])));
      else if (p.type == "quniform")
        v = num_text(q(U(a[0], a[1]), a[2]));
      else if (p.type == "qloguniform")
        v = num_text(q(std::exp(U(a[0], a[1])), a[2]));
      else if (p.type == "randint")
        v = std::to_string(
            std::uniform_int_distribution<int64_t>(0, std::max<int64_t>(0, static_cast<int64_t>(a[0]) - 1))(rng));
      else if (p.type == "normal")
        v = num_text(N(a[0], a[1]));
      else if (p.type == "lognormal")
        v = num_text(std::exp(N(a[0], a[1])));
      else if (p.type == "qnormal")
        v = num_text(q(N(a[0], a[1]), a[2]));
      else
        v = num_text(q(std::exp(N(a[0], a[1])), a[2]));
      t[p.name] = v;
    }
    out.push_back(std::move(t));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Sweeps

void Runner::step_sweep(const JobRow& j) {
  auto body = json::parse(j.body);
  const json::Value& props = body["properties"];
  auto kids = children(j.ws, j.name);
  auto log = [&](const std::string& line) {
    append_log(j.ws, j.name, iso8601_utc(std::chrono::system_clock::now()) + " " + line, "azureml-logs/hyperdrive.txt");
  };
  int active = running(kids);
  if (j.cancel) {
    cancel_running(kids);
    if (active == 0) finish(j.ws, j.name, "Canceled");
    return;
  }
  const json::Value* limits = json::find(props, "/limits");
  auto limit_int = [&](const char* k) -> std::optional<int64_t> {
    if (!limits || !limits->IsObject()) return std::nullopt;
    if (auto v = member_text(*limits, k)) return str::parse_int(*v);
    return std::nullopt;
  };
  std::string algorithm = json::opt_string(props, "/samplingAlgorithm/samplingAlgorithmType").value_or("Random");
  uint64_t seed =
      static_cast<uint64_t>(json::opt_int(props, "/samplingAlgorithm/seed")
                                .value_or(static_cast<int64_t>(std::hash<std::string>{}(j.name) & 0xffffffff)));
  int64_t max_total = limit_int("maxTotalTrials").value_or(algorithm == "Grid" ? 1000 : 20);
  int64_t max_conc = limit_int("maxConcurrentTrials").value_or(std::min<int64_t>(max_total, 4));
  std::vector<Trial> trials;
  try {
    trials = sweep_trials(props["searchSpace"], algorithm, static_cast<size_t>(std::max<int64_t>(max_total, 0)), seed);
  } catch (const std::runtime_error& e) {
    throw JobFailure("UserError", e.what());
  }
  if (j.status == "NotStarted") {
    log("sweep started: " + std::to_string(trials.size()) + " trials, " + algorithm + " sampling");
    set_status(j, "Running");
    return;
  }
  bool timed_out = false;
  if (limits && limits->IsObject())
    if (auto t = member_text(*limits, "timeout"); t && !t->empty() && j.started > 0)
      if (now_ms() - j.started > parse_duration(*t).count()) timed_out = true;
  if (timed_out) {
    cancel_running(kids);
  }
  const json::Value& trial = props["trial"];
  while (!timed_out && kids.size() < trials.size() && active < max_conc) {
    size_t i = kids.size();
    const Trial& t = trials[i];
    json::Document child(rapidjson::kObjectType);
    json::Builder b(child.GetAllocator());
    json::Value cp = b.obj();
    b.set(cp, "jobType", "Command");
    // search_space values go to the trial as environment variables; other placeholders are left
    // for the trial's own substitution.
    Substituted cmd;
    try {
      cmd = substitute_command(
          member_text(trial, "command").value_or(""),
          [&](const std::string& ref) -> std::optional<std::string> {
            auto f = t.find(ref.substr(13));
            if (f != t.end()) return f->second;
            return std::nullopt;
          },
          [](const std::string& ref) { return ref.rfind("search_space.", 0) != 0; });
    } catch (const std::runtime_error& e) {
      throw JobFailure("UserError", e.what());
    }
    b.set(cp, "command", cmd.command);
    for (const char* k : {"codeId", "environmentId"})
      if (auto v = member_text(trial, k)) b.set(cp, k, *v);
    for (const char* k : {"resources", "distribution"})
      if (trial.HasMember(k)) b.set(cp, k, b.copy(trial[k]));
    json::Value vars = b.obj();
    if (trial.HasMember("environmentVariables") && trial["environmentVariables"].IsObject())
      for (auto& e : trial["environmentVariables"].GetObject())
        if (!cmd.env.count(e.name.GetString())) b.set(vars, e.name.GetString(), b.copy(e.value));
    for (auto& [k, v] : cmd.env) b.set(vars, k, v);
    if (trial.HasMember("environmentVariables") || !cmd.env.empty()) b.set(cp, "environmentVariables", std::move(vars));
    if (props.HasMember("inputs")) b.set(cp, "inputs", b.copy(props["inputs"]));
    json::Value outs = b.obj();
    if (props.HasMember("outputs") && props["outputs"].IsObject())
      for (auto& o : props["outputs"].GetObject()) {
        json::Value oo = b.obj();
        b.set(oo, "jobOutputType", output_type(o.value));
        b.set(oo, "mode", "ReadWriteMount");
        b.set(outs, o.name.GetString(), std::move(oo));
      }
    b.set(cp, "outputs", std::move(outs));
    if (limits && limits->IsObject())
      if (auto tt = member_text(*limits, "trialTimeout")) {
        json::Value l = b.obj();
        b.set(l, "jobLimitsType", "Command");
        b.set(l, "timeout", *tt);
        b.set(cp, "limits", std::move(l));
      }
    b.set(cp, "experimentName", member_text(props, "experimentName").value_or("Default"));
    json::Document hp(rapidjson::kObjectType);
    json::Builder hb(hp.GetAllocator());
    for (auto& [k, v] : t) hb.set(hp, k, v);
    json::Value cprops = b.obj();
    b.set(cprops, "hyperparameters", json::dump(hp));
    b.set(cp, "properties", std::move(cprops));
    b.set(child, "properties", std::move(cp));
    std::string cname = j.name + "_" + std::to_string(i);
    create_job(j.ws, cname, child, j.name);
    for (auto& [k, v] : t)
      app_.store().exec("INSERT OR REPLACE INTO run_params(ws, run_id, key, value) VALUES(?, ?, ?, ?)",
                        {j.ws, cname, k, v});
    log("trial " + cname + " submitted: " + json::dump(hp));
    kids = children(j.ws, j.name);
    ++active;
  }
  kids = children(j.ws, j.name);
  active = running(kids);
  if (active > 0 || (!timed_out && kids.size() < trials.size())) return;
  // All trials ended: the best by the objective.
  std::string metric = json::opt_string(props, "/objective/primaryMetric").value_or("");
  bool maximize = str::iequals(json::opt_string(props, "/objective/goal").value_or("Maximize"), "Maximize");
  std::optional<std::pair<std::string, double>> best;
  int completed = 0;
  for (auto& k : kids) {
    if (k.status != "Completed") continue;
    ++completed;
    auto v = app_.last_metric(j.ws, k.name, metric);
    if (!v || std::isnan(*v)) continue;
    if (!best || (maximize ? *v > best->second : *v < best->second)) best = std::make_pair(k.name, *v);
  }
  if (best) {
    update_body(j.ws, j.name, [&](json::Document& d) {
      json::Builder b(d.GetAllocator());
      b.set(d["properties"]["properties"], "best_child_run_id", best->first);
      b.set(d["properties"]["properties"], "score", num_text(best->second));
      b.set(d["properties"]["properties"], "primary_metric", metric);
      // The sweep's outputs are the best trial's (where a named output is registered from).
      auto best_body =
          json::parse(app_.store().one("SELECT body FROM jobs WHERE ws=? AND name=?", {j.ws, best->first})->str(0));
      const json::Value* touts = json::find(best_body, "/properties/outputs");
      auto& p = d["properties"];
      if (touts && touts->IsObject() && p.HasMember("outputs") && p["outputs"].IsObject())
        for (auto& o : p["outputs"].GetObject()) {
          auto t = touts->FindMember(o.name);
          if (o.value.IsObject() && t != touts->MemberEnd() && t->value.IsObject())
            if (auto u = member_text(t->value, "uri")) b.set(o.value, "uri", *u);
        }
    });
    app_.store().exec("INSERT INTO metrics(ws, run_id, key, value, timestamp, step) VALUES(?, ?, ?, ?, ?, 0)",
                      {j.ws, j.name, metric, best->second, now_ms()});
    log("best trial " + best->first + ": " + metric + " = " + num_text(best->second));
  }
  if (timed_out && completed == 0) {
    finish(j.ws, j.name, "Failed", "JobTimeout", "The sweep exceeded its timeout before any trial completed.");
  } else if (completed == 0) {
    finish(j.ws, j.name, "Failed", "UserError", "No trial of the sweep completed.");
  } else {
    log("sweep completed");
    finish(j.ws, j.name, "Completed");
  }
}

}  // namespace amlops::local
