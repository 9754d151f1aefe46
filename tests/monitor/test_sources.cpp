// Unit tests of the workspace readers of amlops-monitor: collector records flattened to rows in
// every payload shape, hour folders of a window, window flags, health rules.
#define BOOST_TEST_MODULE monitor_online_unit
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/time.hpp"
#include "monitor/cluster.hpp"
#include "monitor/endpoint_health.hpp"
#include "monitor/sources.hpp"

using namespace amlops;
using namespace amlops::monitor;

namespace {
std::vector<std::string> rows_of(const std::string& line, const std::string& key = {}) {
  auto recs = parse_collected(line + "\n", "t.jsonl", "model_outputs", key);
  std::vector<std::string> out;
  for (const auto& r : recs)
    for (const auto& row : r.rows) out.push_back(row.json);
  return out;
}
}  // namespace

BOOST_AUTO_TEST_CASE(payload_shapes_flatten_to_the_same_rows) {
  const std::vector<std::string> want = {R"({"a":1,"b":"x"})", R"({"a":2,"b":"y"})"};
  BOOST_TEST(rows_of(R"({"correlationid":"c","data":[{"a":1,"b":"x"},{"a":2,"b":"y"}]})") == want);
  BOOST_TEST(rows_of(R"({"data":{"columns":["a","b"],"data":[[1,"x"],[2,"y"]]}})") == want);
  BOOST_TEST(rows_of(R"({"data":{"a":[1,2],"b":["x","y"]}})") == want);
  BOOST_TEST(rows_of(R"({"data":{"a":{"0":1,"1":2},"b":{"0":"x","1":"y"}}})") == want);
  // A payload serialised as a string (pandas to_json) is parsed.
  BOOST_TEST(rows_of(R"({"data":"[{\"a\":1,\"b\":\"x\"},{\"a\":2,\"b\":\"y\"}]"})") == want);
}

BOOST_AUTO_TEST_CASE(scalars_lists_and_nested_objects) {
  BOOST_TEST(rows_of(R"({"data":[0,1]})") ==
             (std::vector<std::string>{R"({"model_outputs":0})", R"({"model_outputs":1})"}));
  BOOST_TEST(rows_of(R"({"data":[[5,"k"]]})") == (std::vector<std::string>{R"({"0":5,"1":"k"})"}));
  BOOST_TEST(rows_of(R"({"data":[{"a":{"b":1,"c":[1,2]}}]})") ==
             (std::vector<std::string>{R"({"a.b":1,"a.c":"[1,2]"})"}));
  BOOST_TEST(rows_of(R"({"data":{"a":1}})") == (std::vector<std::string>{R"({"a":1})"}));
}

BOOST_AUTO_TEST_CASE(record_fields_key_column_and_errors) {
  auto recs = parse_collected(
      "{\"correlationid\":\"c1\",\"time\":\"2026-11-20T10:00:00Z\",\"data\":[{\"id\":7,\"a\":1}]}\n\n"
      "{\"correlationid\":\"c2\",\"datainblob\":\"true\",\"data\":\"https://x\"}\n",
      "t.jsonl", "model_inputs", "id");
  BOOST_TEST_REQUIRE(recs.size() == 1u);  // the datainblob record is skipped
  BOOST_TEST(recs[0].id == "c1");
  BOOST_TEST(recs[0].time == "2026-11-20T10:00:00Z");
  BOOST_TEST(recs[0].rows[0].key == "7");
  try {
    parse_collected("{\"data\":[]}\nnot json\n", "blob.jsonl", "model_inputs");
    BOOST_FAIL("no error");
  } catch (const ConfigError& e) {
    BOOST_TEST(std::string(e.what()).find("blob.jsonl:2") != std::string::npos, e.what());
  }
}

BOOST_AUTO_TEST_CASE(hour_folders_cover_the_window) {
  const auto from = parse_iso8601("2026-12-31T22:30:00Z"), to = parse_iso8601("2027-01-01T01:00:00Z");
  BOOST_TEST(hour_folders("m/e/d/c", from, to) ==
             (std::vector<std::string>{"m/e/d/c/2026/12/31/22/", "m/e/d/c/2026/12/31/23/", "m/e/d/c/2027/01/01/00/"}));
}

BOOST_AUTO_TEST_CASE(window_flags) {
  const auto now = parse_iso8601("2026-11-27T12:00:00Z");
  auto [f, t] = parse_window("24h", "", "", now);
  BOOST_TEST(iso8601_utc(f) == "2026-11-26T12:00:00Z");
  BOOST_TEST(iso8601_utc(t) == "2026-11-27T12:00:00Z");
  BOOST_CHECK_THROW(parse_window("", "", "", now), UsageError);
  BOOST_CHECK_THROW(parse_window("1h", "2026-11-27T10:00:00Z", "2026-11-27T11:00:00Z", now), UsageError);
  BOOST_CHECK_THROW(parse_window("", "2026-11-27T10:00:00Z", "", now), UsageError);
  BOOST_CHECK_THROW(parse_window("", "2026-11-27T11:00:00Z", "2026-11-27T10:00:00Z", now), UsageError);
}

BOOST_AUTO_TEST_CASE(reference_window_of_the_endpoints_own_past) {
  const auto from = parse_iso8601("2026-11-27T11:00:00Z"), to = parse_iso8601("2026-11-27T12:00:00Z");
  auto text = [](std::pair<SysTime, SysTime> w) { return iso8601_utc(w.first) + ".." + iso8601_utc(w.second); };
  // Default offset: the current window's length, so the reference is the window just before.
  BOOST_TEST(text(reference_window(from, to, "1h", "")) == "2026-11-27T10:00:00Z..2026-11-27T11:00:00Z");
  BOOST_TEST(text(reference_window(from, to, "24h", "")) == "2026-11-26T11:00:00Z..2026-11-27T11:00:00Z");
  // [to - offset - size, to - offset): a week back, one day long.
  BOOST_TEST(text(reference_window(from, to, "1d", "7d")) == "2026-11-19T12:00:00Z..2026-11-20T12:00:00Z");
  // Touching the current window is fine; overlapping it is not.
  BOOST_TEST(text(reference_window(from, to, "30m", "1h")) == "2026-11-27T10:30:00Z..2026-11-27T11:00:00Z");
  try {
    reference_window(from, to, "1h", "59m");
    BOOST_FAIL("an overlapping reference window was accepted");
  } catch (const UsageError& e) {
    BOOST_TEST(std::string(e.what()).find("overlaps the current window 2026-11-27T11:00:00Z..2026-11-27T12:00:00Z") !=
               std::string::npos);
  }
  BOOST_CHECK_THROW(reference_window(from, to, "0h", ""), UsageError);
  BOOST_CHECK_THROW(reference_window(from, to, "1h", "0h"), UsageError);
  BOOST_CHECK_THROW(reference_window(from, to, "soon", ""), UsageError);
}

BOOST_AUTO_TEST_CASE(health_rules) {
  HealthWindow w;
  w.requests = 100;
  w.c5xx = 6;
  w.p95 = 350;
  BOOST_TEST(parse_health_rule("p95_ms>300").breached(w));
  BOOST_TEST(!parse_health_rule("p95_ms > 400").breached(w));
  BOOST_TEST(parse_health_rule("rate_5xx>=0.06").breached(w));
  BOOST_TEST(!parse_health_rule("p99_ms>1").breached(w));  // absent: never breached
  BOOST_CHECK_THROW(parse_health_rule("p95>300"), UsageError);
  BOOST_CHECK_THROW(parse_health_rule("p95_ms=300"), UsageError);
  BOOST_TEST(iso_interval(std::chrono::minutes(60)) == "PT1H");
  BOOST_TEST(iso_interval(std::chrono::minutes(1440)) == "P1D");
  BOOST_TEST(iso_interval(std::chrono::minutes(5)) == "PT5M");
}

BOOST_AUTO_TEST_CASE(byte_range_partitions_cover_every_row_once) {
  const auto dir = std::filesystem::temp_directory_path() / ("amlops-partition-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string csv = "x,name\n", jsonl;
  for (int i = 0; i < 1001; ++i) {
    csv += std::to_string(i) + ",n" + std::string(static_cast<size_t>(i % 13), 'z') + "\n";
    jsonl += "{\"x\":" + std::to_string(i) + "}\n";
  }
  files::write_atomic(dir / "d.csv", csv);
  files::write_atomic(dir / "d.jsonl", jsonl);
  for (const char* file : {"d.csv", "d.jsonl"}) {
    for (size_t n : {1u, 3u, 7u, 2000u}) {
      std::vector<double> seen;
      for (size_t i = 0; i < n; ++i) {
        auto t = read_partition(dir / file, i, n, {});
        if (t.rows == 0) continue;
        const auto& x = t.at("x").values;
        seen.insert(seen.end(), x.begin(), x.end());
      }
      BOOST_TEST_REQUIRE(seen.size() == 1001u, file << " in " << n);
      for (size_t i = 0; i < seen.size(); ++i) BOOST_TEST_REQUIRE(seen[i] == double(i));
    }
  }
  BOOST_CHECK_THROW(parse_byte_range("4/4"), UsageError);
  BOOST_CHECK_THROW(parse_byte_range("x"), UsageError);
  BOOST_TEST(parse_byte_range("1/4").second == 4u);
  std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(ks_bound_is_zero_when_partitions_are_exact) {
  BOOST_TEST(ks_bound({1000, 1000}, 1000) == 0.0);
  const double b = ks_bound({1000, 3000}, 100);
  BOOST_TEST(b == 3.0 / 99 + 0.25 + 0.25 + 2.0 / 1000, boost::test_tools::tolerance(1e-12));
}
