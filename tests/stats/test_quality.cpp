// Data quality (null, type-error and out-of-bounds rates, new categories) and timestamps in
// profiles and drift.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <string>

#include "stats/drift.hpp"
#include "stats/profile.hpp"
#include "stats/quality.hpp"
#include "stats/table.hpp"

using namespace amlops::stats;

namespace {

Profile profile_csv(const std::string& text) { return profile_table(parse_csv(text, "t.csv")); }

const FeatureQuality& feature(const QualityResult& r, const std::string& name) {
  for (const auto& f : r.features)
    if (f.name == name) return f;
  BOOST_FAIL("no feature " << name);
  return r.features.front();
}

double rate(const FeatureQuality& f, const char* metric) { return f.metric(metric)->value; }

}  // namespace

BOOST_AUTO_TEST_SUITE(quality)

BOOST_AUTO_TEST_CASE(planted_nulls_breach_by_default_clean_columns_do_not) {
  std::string ref = "x,c,holey\n", cur = "x,c,holey\n";
  for (int i = 0; i < 1000; ++i)
    ref += std::to_string(i % 100) + ".5," + (i % 2 ? "a" : "b") + "," + std::to_string(i) + "\n";
  // 40 % of `holey` empty in the current data; x and c clean and inside the reference's range.
  for (int i = 0; i < 500; ++i)
    cur += std::to_string(i % 90) + ".5," + (i % 3 ? "a" : "b") + "," + (i % 5 < 2 ? "" : std::to_string(i)) + "\n";
  auto r = compute_quality(profile_csv(ref), profile_csv(cur), {});
  BOOST_CHECK(r.breached);
  BOOST_CHECK_EQUAL(r.breached_features, 1);
  const auto& h = feature(r, "holey");
  BOOST_CHECK(h.breached);
  BOOST_CHECK_CLOSE(rate(h, "null_value_rate"), 0.4, 1e-9);
  BOOST_CHECK_EQUAL(h.metric("null_value_rate")->rows, 200);
  BOOST_CHECK(!feature(r, "x").breached);
  BOOST_CHECK(!feature(r, "c").breached);
  BOOST_CHECK_EQUAL(rate(feature(r, "x"), "out_of_bounds_rate"), 0.0);
  // A looser threshold lets it pass.
  QualityOptions loose;
  loose.numerical.null_value_rate = 0.5;
  BOOST_CHECK(!compute_quality(profile_csv(ref), profile_csv(cur), loose).breached);
}

BOOST_AUTO_TEST_CASE(null_rate_is_measured_over_the_reference_rate) {
  // 10 % empty in both: not a quality problem; 30 % against 10 %: 0.2 over the reference.
  std::string ref = "v\n", same = "v\n", worse = "v\n";
  for (int i = 0; i < 100; ++i) {
    ref += (i % 10 == 0 ? std::string() : std::to_string(i)) + "\n";
    same += (i % 10 == 5 ? std::string() : std::to_string(i)) + "\n";
    worse += (i % 10 < 3 ? std::string() : std::to_string(i)) + "\n";
  }
  const auto rp = profile_csv(ref);
  auto s = feature_quality(rp.columns[0], profile_csv(same).columns[0], {});
  BOOST_CHECK(!s.breached);
  BOOST_CHECK_CLOSE(s.metric("null_value_rate")->reference, 0.1, 1e-9);
  auto w = feature_quality(rp.columns[0], profile_csv(worse).columns[0], {});
  BOOST_CHECK(w.breached);
  BOOST_CHECK_CLOSE(rate(w, "null_value_rate"), 0.3, 1e-9);
}

BOOST_AUTO_TEST_CASE(type_errors_out_of_bounds_and_new_categories) {
  const auto ref = profile_csv(
      "n,c,b,t\n1,a,true,2026-11-02T00:00:00Z\n5,b,false,2026-11-03T00:00:00Z\n3,a,true,2026-11-04T00:00:00Z\n4,b,true,"
      "2026-11-05T00:00:00Z\n");
  // n: one text value (the column reads as categorical), one number above the reference's max;
  // c: two rows of a new category; b: one value that is not a boolean; t: one text value and
  // timestamps past the reference's range (not out of bounds: time moves on).
  const auto cur = profile_csv(
      "n,c,b,t\n2,a,true,2026-12-01T00:00:00Z\noops,new,maybe,2026-12-02T00:00:00Z\n9,new,false,never\n"
      "4,b,true,2026-12-03T00:00:00Z\n");
  auto r = compute_quality(ref, cur, {});
  const auto& n = feature(r, "n");
  BOOST_CHECK_CLOSE(rate(n, "data_type_error_rate"), 0.25, 1e-9);
  BOOST_CHECK_CLOSE(rate(n, "out_of_bounds_rate"), 0.25, 1e-9);
  BOOST_CHECK(n.breached);
  const auto& c = feature(r, "c");
  BOOST_CHECK_CLOSE(rate(c, "out_of_bounds_rate"), 0.5, 1e-9);
  BOOST_CHECK_EQUAL(rate(c, "data_type_error_rate"), 0.0);
  BOOST_REQUIRE_EQUAL(c.new_categories.size(), 1u);
  BOOST_CHECK_EQUAL(c.new_categories[0].first, "new");
  BOOST_CHECK_EQUAL(c.new_categories[0].second, 2);
  BOOST_CHECK_CLOSE(rate(feature(r, "b"), "data_type_error_rate"), 0.25, 1e-9);
  const auto& t = feature(r, "t");
  BOOST_CHECK_CLOSE(rate(t, "data_type_error_rate"), 0.25, 1e-9);
  BOOST_CHECK_EQUAL(rate(t, "out_of_bounds_rate"), 0.0);
  BOOST_CHECK_EQUAL(r.breached_features, 4);
  // The same data against itself has no quality problem.
  BOOST_CHECK(!compute_quality(ref, ref, {}).breached);
  QualityOptions only;
  only.only = {"c"};
  BOOST_CHECK_EQUAL(compute_quality(ref, cur, only).features.size(), 1u);
}

BOOST_AUTO_TEST_CASE(timestamps_profile_by_hour_and_weekday_and_merge) {
  // 2026-11-02 is a Monday.
  auto p = profile_csv("t\n2026-11-02T13:30:00Z\n2026-11-02T13:59:59Z\n2026-11-08T00:00:00Z\n\n1969-12-31T23:00:00Z\n");
  const auto& c = p.columns[0];
  BOOST_REQUIRE(c.type == ColumnType::datetime);
  BOOST_REQUIRE_EQUAL(c.hours.size(), 24u);
  BOOST_CHECK_EQUAL(c.hours[13], 2);
  BOOST_CHECK_EQUAL(c.hours[0], 1);
  BOOST_CHECK_EQUAL(c.hours[23], 1);    // before the epoch
  BOOST_CHECK_EQUAL(c.weekdays[0], 2);  // Monday
  BOOST_CHECK_EQUAL(c.weekdays[6], 1);  // Sunday
  BOOST_CHECK_EQUAL(c.weekdays[2], 1);  // 1969-12-31 was a Wednesday
  auto back = profile_from_json(to_json(p), "p.profile.json");
  BOOST_CHECK(back.columns[0].hours == c.hours);
  BOOST_CHECK(back.columns[0].weekdays == c.weekdays);
  merge(back, p);
  BOOST_CHECK_EQUAL(back.columns[0].hours[13], 4);
}

BOOST_AUTO_TEST_CASE(timestamps_drift_by_hour_of_day_and_day_of_week) {
  std::string ref = "t,x\n", day = "t,x\n", night = "t,x\n";
  for (int d = 2; d <= 8; ++d)
    for (int h = 0; h < 24; ++h) {
      const std::string date = "2026-11-0" + std::to_string(d) + "T";
      const std::string hh = (h < 10 ? "0" : "") + std::to_string(h);
      ref += date + hh + ":10:00Z," + std::to_string(h) + ".5\n";
      day += date + hh + ":40:00Z," + std::to_string(h) + ".5\n";
      if (h < 4) night += date + hh + ":40:00Z," + std::to_string(h) + ".5\n";
    }
  const auto rp = profile_csv(ref);
  auto same = compute_drift(rp, profile_csv(day), {});
  BOOST_REQUIRE_EQUAL(same.features.size(), 3u);  // x and the two calendar features of t
  for (const auto& f : same.features) BOOST_CHECK_MESSAGE(!f.drifted, f.name << " " << f.value);
  auto r = compute_drift(rp, profile_csv(night), {});
  bool hour = false, weekday = false;
  for (const auto& f : r.features) {
    if (f.name == "t.hour_of_day") {
      hour = true;
      BOOST_CHECK(f.drifted);
      BOOST_CHECK_EQUAL(f.type, "datetime");
      BOOST_CHECK_EQUAL(f.method, "jensen_shannon");
    }
    if (f.name == "t.day_of_week") {
      weekday = true;
      BOOST_CHECK(!f.drifted);  // every weekday still as often
    }
  }
  BOOST_CHECK(hour && weekday);
  DriftOptions ex;
  ex.exclude = {"t"};
  BOOST_CHECK_EQUAL(compute_drift(rp, profile_csv(night), ex).features.size(), 1u);
}

BOOST_AUTO_TEST_CASE(quantile_bins_follow_the_reference_quantiles) {
  std::vector<double> ref;
  for (int i = 0; i <= 100; ++i) ref.push_back(i);
  auto e = quantile_edges(ref, -5, 200, 4);
  BOOST_CHECK((e == std::vector<double>{-5, 25, 50, 75, 200}));
  BOOST_CHECK(quantile_edges({3, 3, 3}, 0, 9, 10).empty());  // one value: no quantile bins
  BOOST_CHECK((quantile_edges({1, 1, 1, 2}, 1, 2, 4) == std::vector<double>{1, 1.25, 2}));
  BOOST_CHECK(parse_psi_bins("quantile") == PsiBins::quantile);
  BOOST_CHECK(!parse_psi_bins("equal"));
}

BOOST_AUTO_TEST_SUITE_END()
