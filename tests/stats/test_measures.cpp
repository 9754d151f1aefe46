#include <boost/test/unit_test.hpp>
#include <cmath>
#include <random>

#include "stats/drift.hpp"
#include "stats/measures.hpp"
#include "stats/profile.hpp"
#include "stats/table.hpp"

using namespace amlops::stats;

BOOST_AUTO_TEST_SUITE(measures)

BOOST_AUTO_TEST_CASE(radix_sort_matches_std_sort) {
  std::mt19937_64 g(7);
  std::vector<double> v(100000);
  for (auto& x : v) x = std::ldexp(static_cast<double>(g() % 2000001) - 1000000.0, static_cast<int>(g() % 40) - 20);
  v[5] = -0.0;
  v[6] = 0.0;
  auto w = v;
  sort_values(v);
  std::sort(w.begin(), w.end());
  BOOST_CHECK(v == w);
}

BOOST_AUTO_TEST_CASE(hand_checked_values) {
  std::vector<double> a{1, 2, 3}, b{1, 2, 3};
  BOOST_CHECK_EQUAL(wasserstein(a, b), 0.0);
  std::vector<double> c{2, 3, 4};
  BOOST_CHECK_CLOSE(wasserstein(a, c), 1.0, 1e-12);
  auto ks = ks_2samp(a, c);
  BOOST_CHECK_CLOSE(ks.statistic, 1.0 / 3.0, 1e-12);
  std::vector<double> p{1, 0}, q{0, 1};
  BOOST_CHECK_CLOSE(jensen_shannon(p, q, 2.0), 1.0, 1e-12);
  BOOST_CHECK_EQUAL(jensen_shannon(p, p, 2.0), 0.0);
  // Goodness of fit with an unseen category: infinite statistic, p = 0.
  std::vector<double> obs{5, 5}, exp{10, 0};
  auto x = chisquare(obs, exp);
  BOOST_CHECK(std::isinf(x.statistic));
  BOOST_CHECK_EQUAL(x.pvalue, 0.0);
  // Azure's constant-column bin.
  auto e = azure_edges(2.0, 2.0, 10);
  BOOST_REQUIRE_EQUAL(e.size(), 2u);
  BOOST_CHECK_CLOSE(e[0], 1.99, 1e-12);
  auto l = linspace(0, 1, 5);
  BOOST_CHECK_EQUAL(l[1], 0.25);
  BOOST_CHECK_EQUAL(l[4], 1.0);
}

BOOST_AUTO_TEST_CASE(profile_round_trips_and_merges) {
  auto t = parse_csv("x,c\n1.5,a\n2.5,b\n,a\n0.5,\n", "t.csv");
  auto p = profile_table(t);
  auto q = profile_from_json(to_json(p), "p.json");
  BOOST_REQUIRE_EQUAL(q.columns.size(), 2u);
  BOOST_CHECK_EQUAL(q.rows, 4);
  BOOST_CHECK_EQUAL(q.columns[0].count, 3);
  BOOST_CHECK_EQUAL(q.columns[0].missing, 1);
  BOOST_CHECK((q.columns[0].sorted == std::vector<double>{0.5, 1.5, 2.5}));
  BOOST_CHECK_EQUAL(q.columns[1].counts.size(), 2u);
  // Profiles of two halves merge into the profile of the whole.
  auto t1 = parse_csv("x,c\n1.5,a\n2.5,b\n", "a.csv");
  auto t2 = parse_csv("x,c\n,a\n0.5,\n", "b.csv");
  auto m = profile_table(t1);
  merge(m, profile_table(t2));
  BOOST_CHECK_EQUAL(m.rows, 4);
  BOOST_CHECK((m.columns[0].sorted == p.columns[0].sorted));
  BOOST_CHECK_EQUAL(m.columns[0].missing, 1);
  BOOST_CHECK((m.columns[1].counts == p.columns[1].counts));
  BOOST_CHECK_EQUAL(m.columns[1].missing, 1);
  BOOST_CHECK_CLOSE(m.columns[0].std_sample, p.columns[0].std_sample, 1e-12);
}

BOOST_AUTO_TEST_CASE(sampled_profile_keeps_order_statistics) {
  std::string csv = "x\n";
  for (int i = 0; i < 1001; ++i) csv += std::to_string(i) + ".25\n";
  ProfileOptions o;
  o.max_values = 11;
  auto p = profile_table(parse_csv(csv, "s.csv"), o);
  BOOST_CHECK(p.columns[0].sampled);
  BOOST_CHECK_EQUAL(p.columns[0].count, 1001);
  BOOST_REQUIRE_EQUAL(p.columns[0].sorted.size(), 11u);
  BOOST_CHECK_EQUAL(p.columns[0].sorted.front(), 0.25);
  BOOST_CHECK_EQUAL(p.columns[0].sorted[5], 500.25);
  BOOST_CHECK_EQUAL(p.columns[0].sorted.back(), 1000.25);
}

BOOST_AUTO_TEST_CASE(dataset_rules) {
  auto ref = profile_table(parse_csv("a,b,c\n0.5,1.5,x\n0.6,1.6,y\n0.7,1.7,x\n0.8,1.8,y\n", "r.csv"));
  auto cur = profile_table(parse_csv("a,b,c\n5.5,1.5,x\n5.6,1.6,y\n5.7,1.7,x\n5.8,1.8,y\n", "c.csv"));
  DriftOptions o;
  auto r = compute_drift(ref, cur, o);
  BOOST_CHECK_EQUAL(r.dataset.features, 3);
  BOOST_CHECK_EQUAL(r.dataset.drifted_features, 1);
  BOOST_CHECK(r.dataset.drifted);  // azure: any feature
  o.compat = Compat::evidently;
  auto e = compute_drift(ref, cur, o);
  BOOST_CHECK(!e.dataset.drifted);  // evidently: share 1/3 < 0.5
  o.drift_share = 0.3;
  BOOST_CHECK(compute_drift(ref, cur, o).dataset.drifted);
  // Per-feature rule.
  DriftOptions f;
  f.features["b"].method = "psi";
  f.features["b"].threshold = 0.5;
  auto rf = compute_drift(ref, cur, f);
  BOOST_CHECK_EQUAL(rf.features[1].method, "psi");
  BOOST_CHECK_EQUAL(rf.features[1].threshold, 0.5);
}

BOOST_AUTO_TEST_CASE(empty_columns_are_reported_not_compared) {
  auto ref = profile_table(parse_csv("a,b\n1.5,x\n2.5,y\n", "r.csv"));
  auto cur = profile_table(parse_csv("a,b\n,\n,\n", "c.csv"));
  auto r = compute_drift(ref, cur, DriftOptions{});
  BOOST_REQUIRE_EQUAL(r.features.size(), 2u);
  for (const auto& f : r.features) {
    BOOST_CHECK(!f.drifted);
    BOOST_CHECK(std::isnan(f.value));
    BOOST_CHECK_EQUAL(f.note, "no current values");
    BOOST_CHECK_EQUAL(f.missing, 2);
  }
  BOOST_CHECK_EQUAL(r.features[1].type, "categorical");
}

BOOST_AUTO_TEST_CASE(a_changed_type_is_a_drifted_feature) {
  // One value that is not a number makes `a` categorical; `t` holds dates on one side only.
  auto ref = profile_table(parse_csv("a,b,t\n1.5,x,2026-11-01\n2.5,y,2026-11-02\n", "r.csv"));
  auto cur = profile_table(parse_csv("a,b,t\n1.5,x,soon\noops,y,later\n", "c.csv"));
  auto r = compute_drift(ref, cur, DriftOptions{});
  BOOST_REQUIRE_EQUAL(r.features.size(), 3u);
  BOOST_CHECK_EQUAL(r.features[0].name, "b");
  BOOST_CHECK(!r.features[0].drifted);
  for (size_t i : {1, 2}) {
    const auto& f = r.features[i];
    BOOST_CHECK(f.drifted);
    BOOST_CHECK_EQUAL(f.method, "type_change");
    BOOST_CHECK_EQUAL(f.type, "categorical");
    BOOST_CHECK_EQUAL(f.count, 2);
    BOOST_CHECK_EQUAL(f.reference_count, 2);
  }
  BOOST_CHECK_EQUAL(r.features[1].note, "numeric in the reference, categorical in the current data");
  BOOST_CHECK_EQUAL(r.features[2].note, "datetime in the reference, categorical in the current data");
  BOOST_CHECK(r.dataset.drifted);
  BOOST_CHECK_EQUAL(r.dataset.drifted_features, 2);
  // Timestamps on both sides are compared by hour of day and day of week; a forced type still
  // compares.
  auto same_t = profile_table(parse_csv("t\n2026-11-03\n", "c.csv"));
  auto rt = compute_drift(profile_table(parse_csv("t\n2026-11-01\n", "r.csv")), same_t, {});
  BOOST_REQUIRE_EQUAL(rt.features.size(), 2u);
  BOOST_CHECK_EQUAL(rt.features[0].name, "t.hour_of_day");
  BOOST_CHECK(!rt.features[0].drifted);  // both at midnight
  BOOST_CHECK_EQUAL(rt.features[1].name, "t.day_of_week");
  BOOST_CHECK(rt.features[1].drifted);  // a Sunday against a Tuesday
  DriftOptions forced;
  forced.features["a"].type = ColumnType::categorical;
  auto rf = compute_drift(ref, cur, forced);
  BOOST_CHECK_EQUAL(rf.features[0].name, "a");
  BOOST_CHECK_EQUAL(rf.features[0].method, "jensen_shannon");
}

BOOST_AUTO_TEST_SUITE_END()
