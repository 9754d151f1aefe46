// Unit tests of the monitor area: configuration, windows, the drift check, signals and the
// debounced retrain decision.
#define BOOST_TEST_MODULE monitor_unit
#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"
#include "monitor/config.hpp"
#include "monitor/data.hpp"
#include "monitor/decide.hpp"
#include "monitor/drift.hpp"
#include "monitor/health.hpp"
#include "monitor/performance.hpp"
#include "monitor/render.hpp"
#include "monitor/windows.hpp"
#include "stats/profile.hpp"
#include "stats/table.hpp"

using namespace amlops;
using namespace amlops::monitor;

namespace {

// The ConfigError's message ("file:line:col: ...") for text that must be refused.
std::string config_error(const std::string& yaml) {
  try {
    parse_config(yaml, "amlops.yml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "accepted";
}

stats::Table csv(const std::string& text, const stats::ReadOptions& ro = {}) {
  return stats::parse_csv(text, "data.csv", ro);
}

// n rows of a numeric column x = offset + (i % 50) / 10 and a category c.
std::string numeric_rows(size_t n, double offset, const char* c = "a") {
  std::ostringstream os;
  for (size_t i = 0; i < n; ++i) os << offset + static_cast<double>(i % 50) / 10 << "," << c << "\n";
  return os.str();
}

Source source_of(const stats::Table& t) {
  Source s;
  s.path = t.source;
  s.profile = stats::profile_table(t);
  s.table = t;
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(config)

BOOST_AUTO_TEST_CASE(the_documented_example_parses) {
  auto c = parse_config(R"(monitor:
  reference: data/reference.csv
  current: data/current.csv
  timestamp: ts
  label: y
  prediction: yhat
  score: p
  task: classification
  compat: evidently
  metrics: all
  columns: [age, income, city]
  exclude: [customer_id]
  numeric: {method: ks, threshold: 0.01}
  drift_share: 0.3
  features:
    income: {method: psi, threshold: 0.25}
    zip: {type: categorical}
  window: weekly
  signals:
    data_drift: {share: 0.5}
    prediction_drift: false
    performance: {metric: f1, min: 0.85, max_drop: 0.05}
    concept_drift: {detector: "ddm:warm_start=1000"}
  debounce: {breaches: 2, windows: 3}
)",
                        "amlops.yml");
  BOOST_TEST(c.file == "amlops.yml");
  BOOST_TEST(*c.reference == "data/reference.csv");
  BOOST_TEST(*c.timestamp == "ts");
  BOOST_TEST((c.drift.compat == stats::Compat::evidently));
  BOOST_TEST(c.drift.all_metrics);
  BOOST_TEST(c.drift.only.size() == 3u);
  BOOST_TEST(c.drift.exclude.front() == "customer_id");
  BOOST_TEST(*c.drift.numeric_method == "ks");
  BOOST_TEST(*c.drift.numeric_threshold == 0.01);
  BOOST_TEST(*c.drift.drift_share == 0.5);  // signals.data_drift.share wins over drift_share
  BOOST_TEST(*c.drift.features.at("income").method == "psi");
  BOOST_TEST((*c.drift.features.at("zip").type == stats::ColumnType::categorical));
  BOOST_TEST(c.window == "weekly");
  BOOST_TEST(c.data_drift);
  BOOST_TEST(!c.prediction_drift);
  BOOST_TEST(c.performance->metric == "f1");
  BOOST_TEST(*c.performance->min == 0.85);
  BOOST_TEST(*c.concept_max_drop == 0.05);
  BOOST_TEST(*c.concept_detector == "ddm:warm_start=1000");
  BOOST_TEST(c.debounce_breaches == 2);
  BOOST_TEST(c.debounce_windows == 3);
}

BOOST_AUTO_TEST_CASE(defaults) {
  auto c = parse_config("monitor:\n  reference: r.csv\n", "amlops.yml");
  BOOST_TEST(c.window == "daily");
  BOOST_TEST(c.data_drift);
  BOOST_TEST(c.prediction_drift);
  BOOST_TEST(!c.performance);
  BOOST_TEST(!c.concept_detector);
  BOOST_TEST(c.debounce_breaches == 1);
  BOOST_TEST(c.debounce_windows == 1);
  auto d = parse_config("monitor:\n  debounce: {breaches: 2}\n  signals: {concept_drift: true}\n", "a.yml");
  BOOST_TEST(d.debounce_windows == 2);  // windows defaults to breaches
  BOOST_TEST(*d.concept_detector == "adwin");
}

BOOST_AUTO_TEST_CASE(errors_name_file_line_and_column) {
  BOOST_TEST(config_error("monitor:\n  reference: r.csv\n  windw: daily\n") ==
             "amlops.yml:3:3: unknown key 'monitor.windw'");
  BOOST_TEST(config_error("monitor:\n  window: hourly\n") ==
             "amlops.yml:2:11: window must be daily, weekly or a number of rows");
  BOOST_TEST(config_error("monitor:\n  window: 0\n") ==
             "amlops.yml:2:11: window must be daily, weekly or a number of rows");
  BOOST_TEST(
      config_error("monitor:\n  debounce: {breaches: 3, windows: 2}\n").rfind("amlops.yml:2:13: debounce needs", 0) ==
      0);
  BOOST_TEST(config_error("monitor:\n  debounce: {breaches: 1.5}\n").rfind("amlops.yml:2:13:", 0) == 0);
  BOOST_TEST(config_error("monitor:\n  signals:\n    concept_drift: {detector: nope}\n").rfind("amlops.yml:3:20:", 0) ==
             0);
  BOOST_TEST(config_error("monitor:\n  signals:\n    perf: {}\n").rfind("amlops.yml:3:5: unknown signal 'perf'", 0) ==
             0);
  BOOST_TEST(config_error("monitor:\n  signals:\n    performance: {metric: accuracy}\n") ==
             "amlops.yml:3:18: performance needs min, max or max_drop");
  BOOST_TEST(config_error("monitor:\n  features:\n    zip: {type: datetime}\n") ==
             "amlops.yml:3:17: type must be numeric or categorical");
  BOOST_TEST(config_error("monitor:\n  task: ranking\n") ==
             "amlops.yml:2:9: task must be auto, classification or regression");
  BOOST_TEST(config_error("monitor:\n  columns: age\n") == "amlops.yml:2:12: 'columns' must be a list of column names");
  BOOST_TEST(config_error("lint: {}\n") == "amlops.yml:1:1: no 'monitor:' section");
  BOOST_TEST(config_error("just text\n") == "amlops.yml:1:1: expected a map with a 'monitor:' section");
  BOOST_TEST(config_error("monitor: [1]\n") == "amlops.yml:1:10: 'monitor' must be a map");
  BOOST_TEST(config_error("monitor:\n  window: [\n").rfind("amlops.yml:", 0) == 0);  // syntax error, located
}

BOOST_AUTO_TEST_CASE(health_rules_debounce_and_interval) {
  auto c = parse_config(
      "monitor:\n  health:\n    rules: [p95_ms>300, 'error_rate >= 0.01']\n    debounce: {breaches: 2, windows: 3}\n"
      "    interval: 30m\n",
      "amlops.yml");
  BOOST_REQUIRE(c.health);
  BOOST_TEST(c.health->rules == (std::vector<std::string>{"p95_ms>300", "error_rate >= 0.01"}));
  BOOST_TEST(c.health->breaches == 2);
  BOOST_TEST(c.health->windows == 3);
  BOOST_TEST(c.health->interval == "30m");
  // Defaults: every interval judged on its own, hourly; no health section, no health rules.
  auto d = parse_config("monitor:\n  health: {rules: [p99_ms>1000]}\n", "amlops.yml");
  BOOST_TEST(d.health->breaches == 1);
  BOOST_TEST(d.health->windows == 1);
  BOOST_TEST(d.health->interval == "1h");
  BOOST_TEST(!parse_config("monitor:\n  window: daily\n", "amlops.yml").health);
  // A rule the file gives breaches as the same --health rule does.
  HealthWindow slow;
  slow.requests = 10;
  slow.p95 = 301;
  BOOST_TEST(parse_health_rule(c.health->rules[0]).breached(slow));
  slow.p95 = 300;
  BOOST_TEST(!parse_health_rule(c.health->rules[0]).breached(slow));
}

BOOST_AUTO_TEST_CASE(reference_as_the_endpoints_earlier_window) {
  auto c = parse_config("monitor:\n  reference: {endpoint_window: 24h, offset: 7d}\n", "amlops.yml");
  BOOST_TEST(!c.reference);
  BOOST_REQUIRE(c.reference_window);
  BOOST_TEST(c.reference_window->size == "24h");
  BOOST_TEST(c.reference_window->offset == "7d");
  auto d = parse_config("monitor:\n  reference: {endpoint_window: 1h}\n", "amlops.yml");
  BOOST_TEST(d.reference_window->offset.empty());  // the current window's length, at run time
  BOOST_TEST(!parse_config("monitor:\n  reference: r.csv\n", "amlops.yml").reference_window);
  BOOST_TEST(config_error("monitor:\n  reference: {offset: 7d}\n")
                 .rfind("amlops.yml:2:14: reference as a map is the endpoint's earlier window", 0) == 0);
  BOOST_TEST(config_error("monitor:\n  reference: {endpoint_window: 24h, size: 1h}\n") ==
             "amlops.yml:2:37: unknown key 'monitor.reference.size' (expected endpoint_window and offset)");
  BOOST_TEST(config_error("monitor:\n  reference: {endpoint_window: yesterday}\n") ==
             "amlops.yml:2:32: endpoint_window must be a duration of at least a minute (5m, 1h, 7d)");
  BOOST_TEST(config_error("monitor:\n  reference: {endpoint_window: 1h, offset: 0h}\n") ==
             "amlops.yml:2:44: offset must be a duration of at least a minute (5m, 1h, 7d)");
  BOOST_TEST(config_error("environments: {dev: {workspace: w}}\nmonitor:\n  reference: {endpoint_window: 1h}\n"
                          "  reference_env: dev\n")
                 .rfind("amlops.yml:4:18: reference_env names the workspace of a data reference", 0) == 0);
}

BOOST_AUTO_TEST_CASE(health_errors_name_file_line_and_column) {
  BOOST_TEST(config_error("monitor:\n  health:\n    rules: [p95>300]\n") ==
             "amlops.yml:3:13: health rule 'p95>300': unknown metric 'p95' (requests, c2xx, c4xx, c5xx, error_rate, "
             "rate_4xx, rate_5xx, p50_ms, p95_ms, p99_ms)");
  BOOST_TEST(config_error("monitor:\n  health:\n    rules: [p95_ms>300, p95_ms]\n") ==
             "amlops.yml:3:25: health rule 'p95_ms': expected METRIC>VALUE (or <, >=, <=), e.g. p95_ms>300");
  BOOST_TEST(config_error("monitor:\n  health:\n    rules: [p95_ms>fast]\n") ==
             "amlops.yml:3:13: health rule 'p95_ms>fast': the value is not a number");
  BOOST_TEST(config_error("monitor:\n  health:\n    rules: [{metric: p95_ms}]\n")
                 .rfind("amlops.yml:3:13: a health rule is", 0) == 0);
  BOOST_TEST(config_error("monitor:\n  health: {interval: 1h}\n").rfind("amlops.yml:2:11: health needs 'rules'", 0) ==
             0);
  BOOST_TEST(
      config_error("monitor:\n  health: {rules: p95_ms>300}\n").rfind("amlops.yml:2:19: health needs 'rules'", 0) == 0);
  BOOST_TEST(config_error("monitor:\n  health: {rules: [p95_ms>300], interval: soon}\n") ==
             "amlops.yml:2:43: interval must be a duration of at least a minute (5m, 1h, 7d)");
  BOOST_TEST(config_error("monitor:\n  health: {rules: [p95_ms>300], interval: 30s}\n") ==
             "amlops.yml:2:43: interval must be a duration of at least a minute (5m, 1h, 7d)");
  BOOST_TEST(config_error("monitor:\n  health: {rules: [p95_ms>300], debounce: {breaches: 3, windows: 2}}\n") ==
             "amlops.yml:2:43: health.debounce needs whole numbers 1 <= breaches <= windows");
  BOOST_TEST(config_error("monitor:\n  health: {rules: [p95_ms>300], debounce: {k: 2}}\n") ==
             "amlops.yml:2:44: unknown key 'k' in 'health.debounce' (expected breaches and windows)");
  BOOST_TEST(config_error("monitor:\n  health: {rules: [p95_ms>300], every: 1h}\n") ==
             "amlops.yml:2:33: unknown key 'monitor.health.every' (expected rules, debounce or interval)");
  BOOST_TEST(config_error("monitor:\n  health: [p95_ms>300]\n").rfind("amlops.yml:2:11: 'health' must be a map", 0) ==
             0);
}

BOOST_AUTO_TEST_CASE(mangled_configurations_fail_only_with_typed_errors) {
  const std::string base = R"(monitor:
  reference: r.csv
  columns: [a, b]
  features: {a: {method: psi, threshold: 0.2, type: numeric}}
  window: 7
  signals: {data_drift: {share: 0.5}, performance: {metric: accuracy, min: 0.8}, concept_drift: {detector: adwin}}
  debounce: {breaches: 2, windows: 3}
)";
  const std::string alphabet = "{}[]:,-?&*!|>'\"%@` \n\tab01.#";
  std::mt19937 rng(7);
  int accepted = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string text = base;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t pos = rng() % text.size();
      const char ch = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0:
          text[pos] = ch;
          break;
        case 1:
          text.insert(pos, 1, ch);
          break;
        default:
          text.erase(pos, 1);
      }
    }
    try {
      parse_config(text, "amlops.yml");
      ++accepted;
    } catch (const amlops::Error&) {
    } catch (const std::exception& e) {
      BOOST_FAIL("untyped exception " << e.what() << " for:\n" << text);
    }
  }
  BOOST_TEST(accepted > 0);
}

BOOST_AUTO_TEST_CASE(windows_and_paths) {
  BOOST_TEST(valid_window("daily"));
  BOOST_TEST(valid_window("weekly"));
  BOOST_TEST(valid_window("250"));
  BOOST_TEST(!valid_window("0"));
  BOOST_TEST(!valid_window("-3"));
  BOOST_TEST(!valid_window("hourly"));
  const auto missing = "no-such-folder-xyz/data.csv";
  BOOST_TEST(resolve_config_path("/repo/amlops.yml", missing, true) == std::string("/repo/") + missing);
  BOOST_TEST(resolve_config_path("/repo/amlops.yml", missing, false) == missing);
  BOOST_TEST(resolve_config_path("/repo/amlops.yml", "/abs/data.csv", true) == "/abs/data.csv");
  BOOST_CHECK_THROW(load_config("no-such-amlops.yml"), UsageError);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(windows)

const char* kTimed =
    "ts,x\n"
    "2026-11-03T10:00:00Z,3\n"  // Tuesday
    "2026-11-01T23:59:59Z,1\n"  // Sunday
    "2026-11-02T00:00:00Z,2\n"  // Monday
    ",9\n"                      // no timestamp
    "2026-11-09T08:00:00Z,4\n"  // next Monday
    "2026-11-03T11:00:00Z,5\n";

BOOST_AUTO_TEST_CASE(daily_windows_follow_utc_days_in_time_order) {
  auto t = csv(kTimed);
  MonitorConfig c;
  c.window = "daily";
  c.timestamp = "ts";
  auto w = make_windows(t, time_order(t, c.timestamp), c);
  BOOST_REQUIRE_EQUAL(w.size(), 4u);
  BOOST_TEST(w[0].label == "2026-11-01");
  BOOST_TEST(w[0].rows == std::vector<size_t>{1});
  BOOST_TEST(w[1].label == "2026-11-02");
  BOOST_TEST(w[2].label == "2026-11-03");
  BOOST_TEST((w[2].rows == std::vector<size_t>{0, 5}));
  BOOST_TEST(w[3].label == "2026-11-09");  // empty days are not windows; the row without ts is in none
}

BOOST_AUTO_TEST_CASE(weekly_windows_start_on_monday) {
  auto t = csv(kTimed);
  MonitorConfig c;
  c.window = "weekly";
  c.timestamp = "ts";
  auto w = make_windows(t, time_order(t, c.timestamp), c);
  BOOST_REQUIRE_EQUAL(w.size(), 3u);
  BOOST_TEST(w[0].label == "2026-10-26");
  BOOST_TEST(w[0].rows.size() == 1u);
  BOOST_TEST(w[1].label == "2026-11-02");
  BOOST_TEST(w[1].rows.size() == 3u);
  BOOST_TEST(w[2].label == "2026-11-09");
}

BOOST_AUTO_TEST_CASE(row_windows_in_time_order_and_a_short_last_one) {
  auto t = csv(kTimed);
  MonitorConfig c;
  c.window = "4";
  c.timestamp = "ts";
  auto w = make_windows(t, time_order(t, c.timestamp), c);
  BOOST_REQUIRE_EQUAL(w.size(), 2u);
  BOOST_TEST(w[0].label == "rows 1-4");
  BOOST_TEST((w[0].rows == std::vector<size_t>{1, 2, 0, 5}));
  BOOST_TEST(w[1].label == "rows 5-6");
  BOOST_TEST((w[1].rows == std::vector<size_t>{4, 3}));  // the row without a timestamp comes last
  c.timestamp.reset();
  w = make_windows(t, time_order(t, c.timestamp), c);
  BOOST_TEST((w[0].rows == std::vector<size_t>{0, 1, 2, 3}));
}

BOOST_AUTO_TEST_CASE(calendar_windows_need_a_timestamp) {
  auto t = csv(kTimed);
  MonitorConfig c;
  c.file = "amlops.yml";
  c.window = "daily";
  BOOST_CHECK_THROW(make_windows(t, time_order(t, std::nullopt), c), ConfigError);
  c.timestamp = "x";  // numbers are seconds since the epoch: fine
  BOOST_TEST(make_windows(t, time_order(t, c.timestamp), c).size() == 1u);
  c.window = "hourly";
  BOOST_CHECK_THROW(make_windows(t, time_order(t, c.timestamp), c), UsageError);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(drift_check)

BOOST_AUTO_TEST_CASE(header_only_current_is_too_few_rows_never_no_drift) {
  auto ref = stats::profile_table(csv("x,c\n" + numeric_rows(100, 0)));
  auto cur = stats::profile_table(csv("x,c\n"));
  auto check = check_drift(ref, cur, {}, std::nullopt);
  BOOST_TEST((check.outcome == Outcome::too_few_rows));
  BOOST_TEST(!check.drifted());
  BOOST_TEST(check.reason.find("the current data (data.csv) has 0 rows, fewer than 30") != std::string::npos,
             check.reason);
  std::ostringstream text;
  drift_text(text, check);
  BOOST_TEST(text.str().rfind("TOO FEW ROWS: ", 0) == 0u, text.str());
  BOOST_TEST(text.str().find("no drift") == std::string::npos);
  const auto md = drift_markdown(check, "ref.csv", "data.csv");
  BOOST_TEST(md.find("**Too few rows**") != std::string::npos, md);
  BOOST_TEST(md.find("No dataset drift") == std::string::npos);
  // The report section: a warning (a failure with --fail-on-drift), never "no drift".
  const auto section = drift_fragment(check, "ref.csv", "data.csv", false);
  BOOST_TEST(section.title == "Data drift");
  BOOST_TEST(section.order == report::section_order::monitor);
  BOOST_TEST((section.status == report::FragmentStatus::warn));
  BOOST_TEST(section.verdict.rfind("too few rows to judge drift: the current data (data.csv) has 0 rows", 0) == 0u,
             section.verdict);
  BOOST_TEST((drift_fragment(check, "ref.csv", "data.csv", true).status == report::FragmentStatus::fail));
  json::Document doc(rapidjson::kObjectType);
  json::Builder b(doc.GetAllocator());
  check_json(check, doc, b);
  BOOST_TEST(json::get_string(doc, "/outcome") == "too_few_rows");
  BOOST_TEST(doc["drifted"].IsNull());
  BOOST_TEST(!doc.HasMember("dataset"));
}

BOOST_AUTO_TEST_CASE(min_rows_applies_to_both_sides_at_the_boundary) {
  auto p30 = stats::profile_table(csv("x,c\n" + numeric_rows(30, 0)));
  auto p29 = stats::profile_table(csv("x,c\n" + numeric_rows(29, 0)));
  BOOST_TEST((check_drift(p30, p30, {}, std::nullopt).outcome == Outcome::no_drift));
  BOOST_TEST((check_drift(p29, p30, {}, std::nullopt).outcome == Outcome::too_few_rows));
  BOOST_TEST(check_drift(p29, p30, {}, std::nullopt).reason.rfind("the reference", 0) == 0u);
  BOOST_TEST((check_drift(p30, p29, {}, std::nullopt, 10).outcome == Outcome::no_drift));
  BOOST_CHECK_THROW(check_drift(p30, p30, {}, std::nullopt, 0), UsageError);
}

BOOST_AUTO_TEST_CASE(a_blank_data_file_is_a_data_set_without_rows) {
  const auto path = std::filesystem::temp_directory_path() / "amlops-monitor-unit-blank.csv";
  std::ofstream(path) << "\n  \n";
  auto s = load_source(path.string(), {}, {});
  std::filesystem::remove(path);
  BOOST_TEST(s.profile.rows == 0);
  BOOST_TEST(s.table->rows == 0u);
  BOOST_CHECK_THROW(load_source("no-such-file.csv", {}, {}), UsageError);
}

BOOST_AUTO_TEST_CASE(one_bad_value_changing_the_type_is_drift_of_that_feature) {
  auto ref = stats::profile_table(csv("x,c\n" + numeric_rows(100, 0)));
  auto cur = stats::profile_table(csv("x,c\n" + numeric_rows(99, 0) + "oops,a\n"));
  BOOST_REQUIRE((cur.find("x")->type == stats::ColumnType::categorical));
  auto check = check_drift(ref, cur, {}, std::nullopt);
  BOOST_TEST((check.outcome == Outcome::drift));
  const stats::FeatureDrift* x = nullptr;
  for (const auto& f : check.result.features)
    if (f.name == "x") x = &f;
  BOOST_REQUIRE(x);
  BOOST_TEST(x->drifted);
  BOOST_TEST(x->method == "type_change");
  BOOST_TEST(x->note == "numeric in the reference, categorical in the current data");
  BOOST_TEST(check.result.dataset.features == 2);
  BOOST_TEST(check.result.dataset.drifted_features == 1);
  std::ostringstream text;
  drift_text(text, check);
  BOOST_TEST(text.str().find("[drift] x (categorical): type_change") != std::string::npos, text.str());
}

BOOST_AUTO_TEST_CASE(a_declared_numeric_type_wins_over_the_whole_number_rule) {
  // Whole numbers with few distinct values: Azure's rule compares them as categories.
  std::string body;
  for (int i = 0; i < 200; ++i) body += std::to_string(i % 3) + ",a\n";
  stats::ReadOptions ro;
  ro.declared["x"] = stats::ColumnType::numeric;
  auto ref = stats::profile_table(csv("x,c\n" + body, ro));
  auto cur = stats::profile_table(csv("x,c\n" + body, ro));
  auto inferred = check_drift(ref, cur, {}, std::nullopt);
  BOOST_TEST(inferred.result.features.front().type == "categorical");
  stats::DriftOptions o;
  apply_declared_types(ro.declared, o);
  auto declared = check_drift(ref, cur, o, std::nullopt);
  BOOST_TEST(declared.result.features.front().type == "numeric");
  BOOST_TEST(declared.result.features.front().method == "wasserstein_norm");
  // The flag also wins over a per-feature type from amlops.yml; its method and threshold stay.
  stats::DriftOptions own;
  own.features["x"].type = stats::ColumnType::categorical;
  own.features["x"].threshold = 0.5;
  apply_declared_types(ro.declared, own);
  const auto f = check_drift(ref, cur, own, std::nullopt).result.features.front();
  BOOST_TEST(f.type == "numeric");
  BOOST_TEST(f.threshold == 0.5);
  // Boolean and datetime declarations do not change how a column is compared.
  stats::DriftOptions other;
  apply_declared_types({{"b", stats::ColumnType::boolean}, {"t", stats::ColumnType::datetime}}, other);
  BOOST_TEST(other.features.empty());
}

BOOST_AUTO_TEST_CASE(prediction_drift_is_reported_apart_from_the_features) {
  auto ref = stats::profile_table(csv("x,c\n" + numeric_rows(100, 0, "a")));
  auto cur = stats::profile_table(csv("x,c\n" + numeric_rows(100, 0, "b")));
  auto check = check_drift(ref, cur, {}, std::string("c"));
  BOOST_REQUIRE(check.prediction);
  BOOST_TEST(check.prediction->drifted);
  BOOST_TEST(check.result.features.size() == 1u);
  BOOST_TEST(!check.result.dataset.drifted);
  BOOST_TEST((check.outcome == Outcome::drift));
  BOOST_CHECK_THROW(check_drift(ref, cur, {}, std::string("nope")), UsageError);
}

BOOST_AUTO_TEST_CASE(drifted_features_below_the_dataset_share_pass_and_say_so) {
  auto ref = stats::profile_table(csv("x,c\n" + numeric_rows(100, 0)));
  auto cur = stats::profile_table(csv("x,c\n" + numeric_rows(100, 3)));
  stats::DriftOptions o;
  o.drift_share = 0.9;          // 1 of 2 features is not enough
  stats::QualityOptions loose;  // the shifted values are out of the reference's bounds: not this test's subject
  loose.numerical.out_of_bounds_rate = 1;
  const auto section =
      drift_fragment(check_drift(ref, cur, o, std::nullopt, kDefaultMinRows, loose), "ref.csv", "cur.csv", true);
  BOOST_TEST((section.status == report::FragmentStatus::pass));
  BOOST_TEST(section.verdict == "no dataset drift: 1 of 2 features drifted, below the dataset share 0.9",
             section.verdict);
  // The prediction's drift is part of the verdict and of the status.
  auto ref_p = stats::profile_table(csv("x,c\n" + numeric_rows(100, 0)));
  const auto with_prediction = check_drift(ref_p, cur, o, std::string("x"));
  const auto p = drift_fragment(with_prediction, "ref.csv", "cur.csv", false);
  BOOST_TEST(p.verdict.find("; prediction x drifted (") != std::string::npos, p.verdict);
  BOOST_TEST((p.status == report::FragmentStatus::warn));
}

BOOST_AUTO_TEST_CASE(the_summary_chart_keeps_its_title) {
  auto ref = stats::profile_table(csv("x,c\n" + numeric_rows(100, 0)));
  auto cur = stats::profile_table(csv("x,c\n" + numeric_rows(100, 3)));
  const auto check = check_drift(ref, cur, {}, std::nullopt);
  const auto md = drift_markdown(check, "ref.csv", "cur.csv");
  BOOST_TEST(md.rfind("Reference `ref.csv`, current `cur.csv`.\n\n", 0) == 0u, md);
  BOOST_TEST(md.find("title \"Worst features (value relative to threshold; > 1 drifts)\"") != std::string::npos, md);
  BOOST_TEST(md.find("**Drift detected**: 1 of 2 features") != std::string::npos, md);
  BOOST_TEST(md.find("###") == std::string::npos, md);  // the heading is the section's
  const auto section = drift_fragment(check, "ref.csv", "cur.csv", false);
  BOOST_TEST((section.status == report::FragmentStatus::warn));
  BOOST_TEST(section.verdict.rfind("drift in 1 of 2 features (worst: ", 0) == 0u, section.verdict);
  BOOST_TEST(section.verdict.find(" x ") != std::string::npos, section.verdict);
  BOOST_TEST(section.body == md);
  // The same data on both sides: no drift, pass.
  const auto same = drift_fragment(check_drift(ref, ref, {}, std::nullopt), "ref.csv", "ref.csv", true);
  BOOST_TEST((same.status == report::FragmentStatus::pass));
  BOOST_TEST(same.verdict == "no drift in 2 features");
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(decision)

BOOST_AUTO_TEST_CASE(debounce_counts_breaches_in_the_last_n_windows) {
  const std::vector<std::string> labels{"w1", "w2", "w3", "w4"};
  SignalSeries s{"data_drift", {true, false, true, true}, {"d1", "", "d3", "d4"}};
  auto t = debounce({s}, labels, 2, 3);
  BOOST_REQUIRE_EQUAL(t.size(), 1u);
  BOOST_TEST(t[0].triggered);
  BOOST_TEST(t[0].breaches == 2);
  BOOST_TEST(t[0].considered == 3);
  BOOST_TEST(t[0].reason == "data_drift breached in 2 of the last 3 windows (w3: d3; w4: d4)");
  // 2 of the last 3, but the breaches are older: no trigger.
  SignalSeries old{"performance", {true, true, false, true}, {}};
  BOOST_TEST(!debounce({old}, labels, 2, 2)[0].triggered);
  BOOST_TEST(debounce({old}, labels, 2, 4)[0].triggered);
  // Fewer windows than n: all of them count.
  auto few = debounce({SignalSeries{"x", {true}, {""}}}, {"only"}, 1, 3);
  BOOST_TEST(few[0].triggered);
  BOOST_TEST(few[0].considered == 1);
  BOOST_TEST(few[0].reason == "x breached in 1 of the last 1 windows (only)");
  BOOST_TEST(!debounce({SignalSeries{"x", {false}, {""}}}, {"only"}, 1, 1)[0].triggered);
}

// Reference: 300 rows of x in [0, 5); current: windows of 100 rows, shifted by `shifts[w]`.
Decision decide_on(const std::vector<double>& shifts, int breaches, int windows) {
  auto ref = csv("x,c\n" + numeric_rows(300, 0));
  std::string cur_text = "x,c\n";
  for (double s : shifts) cur_text += numeric_rows(100, s);
  auto cur = csv(cur_text);
  MonitorConfig c;
  c.window = "100";
  c.debounce_breaches = breaches;
  c.debounce_windows = windows;
  c.data_quality = false;  // shifted values are also out of bounds: the data_quality tests cover that
  return decide(c, source_of(ref), cur, {});
}

BOOST_AUTO_TEST_CASE(drift_in_2_of_the_last_3_windows_retrains) {
  auto d = decide_on({0, 0, 3, 0, 3}, 2, 3);
  BOOST_TEST(d.retrain);
  BOOST_REQUIRE_EQUAL(d.window_results.size(), 5u);
  BOOST_TEST(d.window_results[2].data_drift->drifted);
  BOOST_TEST(!d.window_results[3].data_drift->drifted);
  BOOST_TEST(d.window_results[4].drifted_features == std::vector<std::string>{"x"});
  BOOST_REQUIRE_EQUAL(d.reasons.size(), 1u);
  BOOST_TEST(d.reasons[0] ==
                 "data_drift breached in 2 of the last 3 windows (rows 201-300: 1 of 2 features drifted (x); rows "
                 "401-500: 1 of 2 features drifted (x))",
             d.reasons[0]);
}

BOOST_AUTO_TEST_CASE(drift_in_1_of_the_last_3_windows_does_not) {
  auto d = decide_on({3, 3, 0, 0, 3}, 2, 3);
  BOOST_TEST(!d.retrain);
  BOOST_TEST(d.reasons.empty());
  BOOST_TEST(d.triggers.at(0).breaches == 1);
  BOOST_TEST(decide_on({3, 3, 0, 0, 3}, 1, 1).retrain);
}

BOOST_AUTO_TEST_CASE(decision_json_and_markdown) {
  auto d = decide_on({0, 3, 3}, 2, 3);
  json::Document doc(rapidjson::kObjectType);
  decision_json(d, doc);
  BOOST_TEST(json::get_bool(doc, "/retrain"));
  BOOST_TEST(json::get_int(doc, "/debounce/breaches") == 2);
  BOOST_TEST(json::get_int(doc, "/signals/data_drift/breaches") == 2);
  BOOST_TEST(json::get_bool(doc, "/signals/data_drift/triggered"));
  BOOST_TEST(json::get_string(doc, "/windows/1/window") == "rows 101-200");
  BOOST_TEST(json::get_int(doc, "/windows/1/rows") == 100);
  BOOST_TEST(json::get_bool(doc, "/windows/1/signals/data_drift/breached"));
  BOOST_TEST(json::get_string(doc, "/windows/1/signals/data_drift/features/0") == "x");
  const auto md = decision_markdown(d);
  BOOST_TEST(md.find("###") == std::string::npos, md);
  const auto section = decision_fragment(d, true);
  BOOST_TEST(section.title == "Retrain decision");
  BOOST_TEST((section.status == report::FragmentStatus::fail));
  BOOST_TEST(section.verdict == "retrain: true \u2014 data_drift breached in 2 of the last 3 windows", section.verdict);
  BOOST_TEST((decision_fragment(d, false).status == report::FragmentStatus::warn));
  const auto calm = decide_on({0, 0, 3}, 2, 3);
  BOOST_TEST(decision_verdict(calm) == "retrain: false \u2014 no signal breached in 2 of the last 3 windows");
  BOOST_TEST((decision_fragment(calm, true).status == report::FragmentStatus::pass));
  BOOST_TEST(md.find("| rows 1-100 | 100 | ok |") != std::string::npos, md);
  BOOST_TEST(md.find("| rows 101-200 | 100 | breach |") != std::string::npos, md);
}

// Endpoint health: p95 over 300 ms in the last two of three hourly intervals, debounced 2 of 3.
Health slow_endpoint() {
  Health h;
  const auto t0 = std::chrono::system_clock::time_point(std::chrono::hours(490000));
  for (double p95 : {120.0, 450.0, 380.0}) {
    HealthWindow w;
    w.start = t0 + std::chrono::hours(h.windows.size());
    w.end = w.start + std::chrono::hours(1);
    w.requests = w.c2xx = 100;
    w.p50 = 40;
    w.p95 = p95;
    h.windows.push_back(w);
  }
  return h;
}

BOOST_AUTO_TEST_CASE(endpoint_health_breach_is_its_own_outcome_not_a_retrain) {
  auto d = decide_on({0, 0, 0}, 2, 3);  // the data is steady: no reason to retrain
  BOOST_REQUIRE(!d.retrain);
  add_health_signal(d, slow_endpoint(), {parse_health_rule("p95_ms>300")}, 2, 3);
  BOOST_TEST(!d.retrain);
  BOOST_TEST(d.reasons.empty());
  BOOST_TEST(d.health_breached);
  BOOST_REQUIRE_EQUAL(d.health_reasons.size(), 1u);
  BOOST_TEST(d.health_reasons[0].rfind("endpoint_health breached in 2 of the last 3 intervals (", 0) == 0,
             d.health_reasons[0]);
  BOOST_TEST(d.health_reasons[0].find("p95_ms 450 > 300") != std::string::npos, d.health_reasons[0]);
  json::Document doc(rapidjson::kObjectType);
  decision_json(d, doc);
  BOOST_TEST(!json::get_bool(doc, "/retrain"));
  BOOST_TEST(json::get_bool(doc, "/health_breached"));
  BOOST_TEST(json::get_string(doc, "/health_reasons/0") == d.health_reasons[0]);
  BOOST_TEST(json::get_bool(doc, "/signals/endpoint_health/triggered"));  // the trigger is still listed
  BOOST_TEST(!json::get_bool(doc, "/signals/data_drift/triggered"));
  BOOST_TEST(decision_verdict(d) ==
                 "retrain: false \u2014 no signal breached in 2 of the last 3 windows; endpoint health: breached "
                 "\u2014 endpoint_health breached in 2 of the last 3 intervals",
             decision_verdict(d));
  BOOST_TEST(
      decision_markdown(d).find("endpoint health: breached \u2014 endpoint_health breached in 2") != std::string::npos,
      decision_markdown(d));
  // --fail-on-retrain does not fail on health; --fail-on-breach does.
  BOOST_TEST((decision_fragment(d, true, false).status == report::FragmentStatus::warn));
  BOOST_TEST((decision_fragment(d, false, true).status == report::FragmentStatus::fail));
  // Debounced: one slow interval in the last three is no breach.
  auto calm = decide_on({0, 0, 0}, 2, 3);
  add_health_signal(calm, slow_endpoint(), {parse_health_rule("p95_ms>400")}, 2, 3);
  BOOST_TEST(!calm.health_breached);
  BOOST_TEST(!calm.retrain);
  BOOST_TEST((decision_fragment(calm, true, true).status == report::FragmentStatus::pass));
  json::Document cj(rapidjson::kObjectType);
  decision_json(calm, cj);
  BOOST_TEST(!json::get_bool(cj, "/health_breached"));
}

BOOST_AUTO_TEST_CASE(performance_and_concept_drift_signals) {
  // Labels y; the model is right on the reference and in the first window, wrong in the others.
  auto rows = [](size_t n, bool right) {
    std::string s;
    for (size_t i = 0; i < n; ++i) {
      const int y = static_cast<int>(i % 2);
      s += std::to_string(static_cast<double>(i % 50) / 10) + "," + std::to_string(y) + "," +
           std::to_string(right ? y : 1 - y) + "\n";
    }
    return s;
  };
  auto ref = csv("x,y,yhat\n" + rows(300, true));
  auto cur = csv("x,y,yhat\n" + rows(100, true) + rows(100, false) + rows(100, false));
  MonitorConfig c;
  c.window = "100";
  c.label = "y";
  c.prediction = "yhat";
  c.performance = PerformanceSignal{"accuracy", 0.9, std::nullopt, 0.05};
  c.concept_max_drop = 0.05;
  c.debounce_breaches = 2;
  c.debounce_windows = 3;
  auto d = decide(c, source_of(ref), cur, {});
  BOOST_TEST(d.retrain);
  BOOST_TEST(d.window_results[0].performance->value == 1.0);
  BOOST_TEST(!d.window_results[0].performance->breached);
  BOOST_TEST(d.window_results[1].performance->value == 0.0);
  BOOST_TEST(*d.window_results[1].performance->drop == 1.0);
  BOOST_TEST(d.window_results[1].concept_drift);  // the inputs did not drift
  std::vector<std::string> names;
  for (const auto& t : d.triggers)
    if (t.triggered) names.push_back(t.signal);
  BOOST_TEST((names == std::vector<std::string>{"performance", "concept_drift"}));
  // prediction drift: yhat is excluded from the data drift and compared on its own.
  BOOST_TEST(d.window_results[1].data_drift->features == 1);
}

BOOST_AUTO_TEST_CASE(performance_check_bounds_detectors_and_the_drop_rule) {
  // y alternates; yhat is right on the reference and on the first half of the data, then wrong.
  auto scored = [](size_t n, size_t wrong_from, double shift) {
    std::string s = "x,y,yhat\n";
    for (size_t i = 0; i < n; ++i) {
      const int y = static_cast<int>(i % 2);
      s += std::to_string(shift + static_cast<double>(i % 50) / 10) + "," + std::to_string(y) + "," +
           std::to_string(i >= wrong_from ? 1 - y : y) + "\n";
    }
    return s;
  };
  auto ref = csv(scored(400, 400, 0));
  auto data = csv(scored(400, 200, 0));
  const PerfSpec spec{"y", "yhat", "", "auto"};
  std::vector<size_t> order(data.rows);
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  PerformanceRules rules;
  rules.min = {{"accuracy", 0.9}};
  rules.max_drop = {{"accuracy", 0.05}};
  rules.detectors = {"adwin"};
  auto c = check_performance(data, spec, order, std::nullopt, rules, &ref, {});
  BOOST_TEST(c.perf.cls.accuracy == 0.5);
  BOOST_TEST(c.failures.front() == "accuracy 0.5 < 0.9");
  BOOST_TEST(!c.input_drift->drifted);
  BOOST_TEST(c.drops.at(0).second == 0.5);
  BOOST_TEST(c.concept_drift);
  BOOST_TEST(c.concept_reason == "accuracy dropped by 0.5 (> 0.05) while the inputs did not drift");
  BOOST_REQUIRE(!c.detectors.at(0).alarms.empty());
  BOOST_TEST(c.alarm_at[0][0].rfind("row ", 0) == 0u);
  // With input drift the drop is a failure, not concept drift.
  auto shifted = csv(scored(400, 0, 3));
  rules.min.clear();
  rules.detectors.clear();
  auto d = check_performance(shifted, spec, order, std::nullopt, rules, &ref, {});
  BOOST_TEST(d.input_drift->drifted);
  BOOST_TEST(!d.concept_drift);
  BOOST_TEST(d.failures.front() == "accuracy dropped by 1 with input drift (1 features drifted)");
  BOOST_CHECK_THROW(check_performance(data, spec, order, std::nullopt, rules, nullptr, {}), UsageError);
  rules.max_drop.clear();
  rules.min = {{"rmse", 1}};
  BOOST_CHECK_THROW(check_performance(data, spec, order, std::nullopt, rules, nullptr, {}), UsageError);
}

BOOST_AUTO_TEST_CASE(no_rows_is_not_a_decision) {
  MonitorConfig c;
  c.window = "10";
  auto ref = csv("x,c\n" + numeric_rows(100, 0));
  BOOST_CHECK_THROW(decide(c, source_of(ref), csv("x,c\n"), {}), CheckFailed);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(data_quality_and_trends)

BOOST_AUTO_TEST_CASE(config_sets_quality_thresholds_psi_bins_and_target) {
  auto c = parse_config(R"(monitor:
  data_quality: {null_value_rate: 0.1, categorical: {out_of_bounds_rate: 0.02}}
  psi_bins: quantile
  target: {model: credit, version: "3", endpoint: credit-ep, deployment: blue}
  signals:
    data_quality: {numerical: {data_type_error_rate: 0.01}}
)",
                        "amlops.yml");
  BOOST_TEST(c.data_quality);
  BOOST_TEST(c.quality.numerical.null_value_rate == 0.1);
  BOOST_TEST(c.quality.categorical.null_value_rate == 0.1);
  BOOST_TEST(c.quality.categorical.out_of_bounds_rate == 0.02);
  BOOST_TEST(c.quality.numerical.out_of_bounds_rate == 0.05);  // the default
  BOOST_TEST(c.quality.numerical.data_type_error_rate == 0.01);
  BOOST_TEST(c.quality.categorical.data_type_error_rate == 0.0);
  BOOST_TEST((c.drift.psi_bins == stats::PsiBins::quantile));
  BOOST_TEST(c.target.describe() == "model credit:3 \u00b7 deployment credit-ep/blue");
  BOOST_TEST(!parse_config("monitor:\n  signals: {data_quality: false}\n", "a.yml").data_quality);
  BOOST_TEST(config_error("monitor:\n  data_quality: {null_rate: 0.1}\n") ==
             "amlops.yml:2:18: unknown data-quality metric 'null_rate' (expected null_value_rate, data_type_error_rate "
             "or out_of_bounds_rate)");
  BOOST_TEST(config_error("monitor:\n  psi_bins: deciles\n") ==
             "amlops.yml:2:13: psi_bins must be uniform or quantile");
  BOOST_TEST(config_error("monitor:\n  target: {modle: x}\n") ==
             "amlops.yml:2:12: unknown key 'monitor.target.modle' (expected model, version, endpoint or deployment)");
  stats::QualityOptions o;
  set_quality_threshold(o, "categorical.null_value_rate", 0.3);
  BOOST_TEST(o.categorical.null_value_rate == 0.3);
  BOOST_TEST(o.numerical.null_value_rate == 0.05);
  BOOST_CHECK_THROW(set_quality_threshold(o, "nulls", 1), UsageError);
  BOOST_CHECK_THROW(set_quality_threshold(o, "null_value_rate", -1), UsageError);
}

// Reference: 300 clean rows; current: windows of 100 rows, the second with 40 % of `h` empty.
BOOST_AUTO_TEST_CASE(planted_nulls_breach_data_quality_in_decide) {
  std::string ref = "x,c,h\n", cur = "x,c,h\n";
  for (int i = 0; i < 300; ++i)
    ref += std::to_string(i % 50) + ".5," + (i % 2 ? "a" : "b") + "," + std::to_string(i % 7) + "\n";
  for (int w = 0; w < 3; ++w)
    for (int i = 0; i < 100; ++i)
      cur += std::to_string(i % 50) + ".5," + (i % 2 ? "a" : "b") + "," +
             (w == 1 && i % 5 < 2 ? std::string() : std::to_string(i % 7)) + "\n";
  MonitorConfig c;
  c.window = "100";
  c.debounce_breaches = 1;
  c.debounce_windows = 2;
  c.target.model = "credit";
  c.target.version = "<3>";
  auto d = decide(c, source_of(csv(ref)), csv(cur), {});
  BOOST_TEST(d.retrain);
  BOOST_REQUIRE_EQUAL(d.reasons.size(), 1u);
  BOOST_TEST(d.reasons[0] == "data_quality breached in 1 of the last 2 windows (rows 101-200: h null_value_rate 0.4)",
             d.reasons[0]);
  const SignalSeries* q = nullptr;
  for (const auto& s : d.signals)
    if (s.name == "data_quality") q = &s;
  BOOST_REQUIRE(q);
  BOOST_TEST((q->breached == std::vector<bool>{false, true, false}));
  BOOST_TEST(q->values[1] == 0.4 - 0.05, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(q->values[0] <= 0);
  BOOST_TEST(*q->threshold == 0.0);
  // No data drift: the windows are the reference's distribution.
  BOOST_TEST(!d.window_results[1].data_drift->drifted);
  json::Document doc(rapidjson::kObjectType);
  decision_json(d, doc);
  BOOST_TEST(json::get_bool(doc, "/windows/1/signals/data_quality/breached"));
  BOOST_TEST(json::get_string(doc, "/windows/1/signals/data_quality/features/0") == "h");
  BOOST_TEST(json::get_int(doc, "/signals/data_quality/breaches") == 1);
  BOOST_TEST(json::get_number(doc, "/signals/data_quality/values/1") == 0.4 - 0.05, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(json::get_number(doc, "/signals/data_quality/threshold") == 0.0);
  BOOST_TEST(json::get_number(doc, "/signals/data_drift/threshold") == 1.0);

  BOOST_TEST(decision_markdown(d).rfind("Target: model credit:", 0) == 0u, decision_markdown(d));
  const auto html = decision_html(d, source_of(csv(ref)).profile);
  BOOST_TEST(html.find("<script") == std::string::npos);
  BOOST_TEST(html.find("model credit:&lt;3&gt;") != std::string::npos);  // escaped
  BOOST_TEST(html.find("<3>") == std::string::npos);
  // One trend chart per signal, each with its threshold line; the breach is marked.
  size_t charts = 0, thresholds = 0;
  for (size_t at = 0; (at = html.find("class=\"chart trend\"", at)) != std::string::npos; ++at) ++charts;
  for (size_t at = 0; (at = html.find("class=\"threshold\"", at)) != std::string::npos; ++at) ++thresholds;
  BOOST_TEST(charts == d.signals.size());
  BOOST_TEST(thresholds == 2u);  // data_drift and data_quality
  BOOST_TEST(html.find("class=\"pt breach\"") != std::string::npos);
  BOOST_TEST(html.find("<th>median</th>") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(drift_check_reports_quality_and_new_categories) {
  auto ref = stats::profile_table(csv("x,c\n" + numeric_rows(100, 0, "a")));
  std::string cur_text = "x,c\n" + numeric_rows(80, 0, "a") + numeric_rows(20, 0, "<b>");
  auto cur = stats::profile_table(csv(cur_text));
  stats::DriftOptions o;
  o.categorical_threshold = 1;  // a Jensen-Shannon distance never exceeds 1: no drift, quality only
  o.numeric_threshold = 100;
  auto check = check_drift(ref, cur, o, std::nullopt);
  BOOST_TEST(!check.drifted());
  BOOST_REQUIRE(check.quality);
  BOOST_TEST(check.quality_breached());
  json::Document doc(rapidjson::kObjectType);
  json::Builder b(doc.GetAllocator());
  check_json(check, doc, b);
  BOOST_TEST(json::get_bool(doc, "/data_quality/breached"));
  BOOST_TEST(json::get_int(doc, "/data_quality/features/1/new_categories/<b>") == 20);
  BOOST_TEST(json::get_number(doc, "/data_quality/features/1/metrics/out_of_bounds_rate/value") == 0.2);
  std::ostringstream text;
  drift_text(text, check);
  BOOST_TEST(text.str().find("DATA QUALITY: 1 of 2 features breach data-quality thresholds (c)") != std::string::npos,
             text.str());
  // The section warns for quality alone, and fails only with fail_on_quality.
  BOOST_TEST((drift_fragment(check, "r", "c", true).status == report::FragmentStatus::warn));
  BOOST_TEST((drift_fragment(check, "r", "c", false, true).status == report::FragmentStatus::fail));
  DriftReport rep{"r.csv", "c.csv", "azure", {}, &ref, &cur};
  rep.target.endpoint = "ep";
  rep.target.deployment = "blue";
  const auto html = drift_html(check, rep);
  BOOST_TEST(html.find("<span class=\"new\">&lt;b&gt; (20)</span>") != std::string::npos);
  BOOST_TEST(html.find("deployment ep/blue") != std::string::npos);
  BOOST_TEST(html.find("<h2>Descriptive statistics</h2>") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

// monitor.reference_env names an environment of the same file: its workspace is where the reference
// is read. A name that is not there, or an environment without a workspace, is a located error (a
// missing key once escaped as yaml-cpp's InvalidNode: found by fuzz_config).
BOOST_AUTO_TEST_CASE(reference_env_takes_the_named_environments_workspace) {
  const std::string envs =
      "environments:\n  dev: {workspace: azureml://subscriptions/S/resourcegroups/R/workspaces/dev}\n"
      "  bare: {}\n";
  auto c = parse_config(envs + "monitor:\n  reference: azureml:ref@latest\n  reference_env: dev\n", "amlops.yml");
  BOOST_TEST(c.reference_workspace.value_or("") == "azureml://subscriptions/S/resourcegroups/R/workspaces/dev");
  BOOST_TEST(!parse_config(envs + "monitor:\n  reference: r.csv\n", "amlops.yml").reference_workspace);
  for (const std::string& bad : {envs + "monitor:\n  reference_env: prod\n", envs + "monitor:\n  reference_env: bare\n",
                                 std::string("monitor:\n  reference_env: dev\n"),
                                 std::string("environments: [dev]\nmonitor:\n  reference_env: dev\n")}) {
    const std::string msg = config_error(bad);
    BOOST_TEST(msg.find("amlops.yml:") == 0, msg);
    BOOST_TEST(msg.find("is no environment with a workspace") != std::string::npos, msg);
  }
}
