// Compares every drift metric, p-value and performance metric with the values that scipy,
// numpy and scikit-learn give on the same generated data (gen_reference.py writes both).
#define BOOST_TEST_MODULE stats_reference
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdlib>
#include <string>

#include "core/files.hpp"
#include "core/json.hpp"
#include "stats/drift.hpp"
#include "stats/measures.hpp"
#include "stats/metrics.hpp"
#include "stats/special.hpp"
#include "stats/table.hpp"

using namespace amlops;
using namespace amlops::stats;

namespace {

std::string dir() {
  const char* d = std::getenv("AMLOPS_STATS_REFERENCE");
  BOOST_REQUIRE_MESSAGE(d, "AMLOPS_STATS_REFERENCE is not set (run through ctest)");
  return d;
}

const json::Document& reference() {
  static json::Document doc = json::parse(files::read(dir() + "/reference.json"), "reference.json");
  return doc;
}

// Within 1e-9 relative or 1e-12 absolute; infinities and NaNs must match exactly.
bool close(double got, double want) {
  if (std::isnan(want)) return std::isnan(got);
  if (std::isinf(want)) return got == want;
  const double d = std::abs(got - want);
  return d <= 1e-12 || d <= 1e-9 * std::abs(want);
}

#define CHECK_CLOSE(what, got, want)                                                                              \
  BOOST_CHECK_MESSAGE(close(got, want), what << ": got " << std::setprecision(17) << (got) << ", want " << (want) \
                                             << " (diff " << std::abs((got) - (want)) << ")")

double num(const json::Value& v) { return v.IsNull() ? std::nan("") : v.GetDouble(); }

}  // namespace

BOOST_AUTO_TEST_CASE(drift_metrics_match_scipy) {
  const auto& cases = reference()["cases"];
  int checked = 0;
  for (auto& m : cases.GetObject()) {
    const std::string name = m.name.GetString();
    const auto& c = m.value;
    const std::string col = c["column"].GetString();
    // A timestamp column is compared as two features (hour of day, day of week) of one data set.
    const std::string feature = c.HasMember("feature") ? c["feature"].GetString() : col;
    const std::string data = c.HasMember("data") ? c["data"].GetString() : name;
    auto ref = profile_table(read_csv(dir() + "/" + data + "_ref.csv"));
    auto cur = profile_table(read_csv(dir() + "/" + data + "_cur.csv"));
    DriftOptions o;
    o.all_metrics = true;
    o.only = {col};
    auto pick = [&](const DriftResult& r) -> const FeatureDrift& {
      for (const auto& f : r.features)
        if (f.name == feature) return f;
      BOOST_FAIL(name << ": no feature " << feature);
      return r.features.front();
    };
    auto r = compute_drift(ref, cur, o);
    BOOST_REQUIRE_EQUAL(r.features.size(), feature == col ? 1u : 2u);
    const auto& f = pick(r);
    BOOST_CHECK_MESSAGE(f.type == c["type"].GetString(), name << ": type " << f.type);
    BOOST_CHECK_EQUAL(f.missing, c["missing_cur"].GetInt64());
    BOOST_CHECK_EQUAL(f.reference_missing, c["missing_ref"].GetInt64());
    if (c.HasMember("psi_quantile") && f.type == "numeric") {
      DriftOptions q = o;
      q.psi_bins = PsiBins::quantile;
      CHECK_CLOSE(name + " psi (quantile bins)", compute_drift(ref, cur, q).features[0].metrics.at("psi"),
                  num(c["psi_quantile"]));
      ++checked;
    }
    for (auto& e : c["azure"].GetObject()) {
      const std::string key = e.name.GetString();
      auto it = f.metrics.find(key);
      BOOST_REQUIRE_MESSAGE(it != f.metrics.end(), name << ": metric " << key << " missing");
      CHECK_CLOSE(name + " " + key, it->second, num(e.value));
      ++checked;
    }
    DriftOptions ev;
    ev.compat = Compat::evidently;
    ev.only = {col};
    const auto re = compute_drift(ref, cur, ev);
    const auto& fe = pick(re);
    BOOST_CHECK_MESSAGE(fe.method == c["evidently"]["method"].GetString(), name << ": evidently method " << fe.method);
    CHECK_CLOSE(name + " evidently " + fe.method, fe.value, num(c["evidently"]["value"]));
  }
  BOOST_TEST_MESSAGE("compared " << checked << " metric values");
  BOOST_CHECK_GT(checked, 100);
}

BOOST_AUTO_TEST_CASE(kstwo_smirnov_chi2_match_scipy) {
  for (const auto& row : reference()["kstwo_sf"].GetArray()) {
    const auto n = row[0].GetInt64();
    const double x = row[1].GetDouble();
    CHECK_CLOSE("kstwo.sf(" << x << ", " << n << ")", kolmogn(n, x, false), num(row[2]));
  }
  for (const auto& row : reference()["smirnov"].GetArray()) {
    const auto n = row[0].GetInt64();
    const double x = row[1].GetDouble();
    CHECK_CLOSE("smirnov(" << n << ", " << x << ")", smirnov(n, x), num(row[2]));
  }
  for (const auto& row : reference()["chi2_sf"].GetArray())
    CHECK_CLOSE("chi2.sf", chi2_sf(row[0].GetDouble(), row[1].GetDouble()), num(row[2]));
  for (const auto& row : reference()["ks_exact"].GetArray()) {
    const auto n1 = row[0].GetInt64(), n2 = row[1].GetInt64();
    CHECK_CLOSE("ks_2samp p(" << n1 << ", " << n2 << ")", ks_2samp_pvalue(row[2].GetDouble(), n1, n2), num(row[3]));
  }
}

namespace {
std::vector<std::string> texts(const Column& c) {
  std::vector<std::string> v;
  for (size_t i = 0; i < c.size(); ++i) v.push_back(c.text(i));
  return v;
}
void check_classification(const std::string& file, const json::Value& want, const std::string& score = {},
                          const std::vector<std::string>& proba = {}) {
  auto t = read_csv(dir() + "/" + file);
  auto labels = encode_labels(texts(t.at("y")), texts(t.at("yhat")));
  std::vector<double> p;
  if (!score.empty()) p = t.at(score).values;
  auto c = classification_metrics(labels, score.empty() ? nullptr : &p);
  if (!proba.empty()) {
    std::vector<std::vector<double>> probs;
    for (const auto& col : proba) probs.push_back(t.at(col).values);
    multiclass_scores(c, labels, probs);
    BOOST_REQUIRE(c.roc_auc && c.roc_auc_weighted && c.log_loss);
    CHECK_CLOSE(file + " roc_auc ovr macro", *c.roc_auc, want["roc_auc"].GetDouble());
    CHECK_CLOSE(file + " roc_auc ovr weighted", *c.roc_auc_weighted, want["roc_auc_weighted"].GetDouble());
    CHECK_CLOSE(file + " log_loss", *c.log_loss, want["log_loss"].GetDouble());
  }
  CHECK_CLOSE(file + " accuracy", c.accuracy, want["accuracy"].GetDouble());
  const std::pair<const char*, const ClassScores*> avgs[] = {
      {"macro", &c.macro}, {"micro", &c.micro}, {"weighted", &c.weighted}};
  for (auto& [name, s] : avgs) {
    CHECK_CLOSE(file + " precision_" + name, s->precision,
                want[(std::string("precision_") + name).c_str()].GetDouble());
    CHECK_CLOSE(file + " recall_" + name, s->recall, want[(std::string("recall_") + name).c_str()].GetDouble());
    CHECK_CLOSE(file + " f1_" + name, s->f1, want[(std::string("f1_") + name).c_str()].GetDouble());
  }
  if (want.HasMember("roc_auc") && proba.empty()) {
    BOOST_REQUIRE(c.binary && c.roc_auc && c.log_loss);
    CHECK_CLOSE(file + " precision", c.binary->precision, want["precision"].GetDouble());
    CHECK_CLOSE(file + " recall", c.binary->recall, want["recall"].GetDouble());
    CHECK_CLOSE(file + " f1", c.binary->f1, want["f1"].GetDouble());
    CHECK_CLOSE(file + " roc_auc", *c.roc_auc, want["roc_auc"].GetDouble());
    CHECK_CLOSE(file + " log_loss", *c.log_loss, want["log_loss"].GetDouble());
  }
}
}  // namespace

BOOST_AUTO_TEST_CASE(performance_metrics_match_sklearn) {
  const auto& perf = reference()["performance"];
  check_classification("scored_multiclass.csv", perf["multiclass"]);
  check_classification("scored_zerodiv.csv", perf["zerodiv"]);
  check_classification("scored_binary.csv", perf["binary"], "p");
  check_classification("scored_multiproba.csv", perf["multiproba"], {}, {"p_cat", "p_dog", "p_eel"});
  auto t = read_csv(dir() + "/scored_regression.csv");
  auto r = regression_metrics(t.at("y").values, t.at("yhat").values);
  const auto& w = perf["regression"];
  CHECK_CLOSE("mae", r.mae, w["mae"].GetDouble());
  CHECK_CLOSE("rmse", r.rmse, w["rmse"].GetDouble());
  CHECK_CLOSE("r2", r.r2, w["r2"].GetDouble());
  CHECK_CLOSE("mape", r.mape, w["mape"].GetDouble());
  auto tc = read_csv(dir() + "/scored_constant.csv");
  CHECK_CLOSE("r2 constant", regression_metrics(tc.at("y").values, tc.at("yhat").values).r2,
              perf["constant"]["r2"].GetDouble());
}
