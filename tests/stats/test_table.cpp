#define BOOST_TEST_MODULE stats_unit
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/error.hpp"
#include "stats/table.hpp"

using namespace amlops;
using namespace amlops::stats;

BOOST_AUTO_TEST_SUITE(table)

BOOST_AUTO_TEST_CASE(rfc4180_quotes_newlines_and_types) {
  auto t = parse_csv(
      "id,name,score,ok,when\r\n"
      "1,\"Smith, J\",1.5,true,2026-01-02T03:04:05Z\r\n"
      "2,\"say \"\"hi\"\"\",NA,False,2026-01-03\r\n"
      "3,\"two\nlines\",-2e3,TRUE,\r\n",
      "q.csv");
  BOOST_REQUIRE_EQUAL(t.rows, 3u);
  BOOST_CHECK(t.at("id").type == ColumnType::numeric);
  BOOST_CHECK(t.at("name").type == ColumnType::categorical);
  BOOST_CHECK(t.at("ok").type == ColumnType::boolean);
  BOOST_CHECK(t.at("when").type == ColumnType::datetime);
  BOOST_CHECK_EQUAL(t.at("name").text(0), "Smith, J");
  BOOST_CHECK_EQUAL(t.at("name").text(1), "say \"hi\"");
  BOOST_CHECK_EQUAL(t.at("name").text(2), "two\nlines");
  BOOST_CHECK_EQUAL(t.at("score").missing, 1);
  BOOST_CHECK_EQUAL(t.at("score").values[2], -2000.0);
  BOOST_CHECK_EQUAL(t.at("ok").text(1), "false");
  BOOST_CHECK_EQUAL(t.at("when").missing, 1);
  BOOST_CHECK_EQUAL(t.at("when").values[0], 1767323045.0);
}

BOOST_AUTO_TEST_CASE(delimiter_declared_types_and_late_text) {
  ReadOptions o;
  o.delimiter = ';';
  o.declared["code"] = ColumnType::categorical;
  std::string csv = "code;v\n";
  for (int i = 0; i < 3000; ++i) csv += std::to_string(i % 7) + ";" + std::to_string(i) + "\n";
  csv += "x;oops\n";  // after the inference sample: the column becomes categorical
  auto t = parse_csv(csv, "d.csv", o);
  BOOST_CHECK(t.at("code").type == ColumnType::categorical);
  BOOST_CHECK_EQUAL(t.at("code").categories.size(), 8u);
  BOOST_CHECK(t.at("v").type == ColumnType::categorical);
  BOOST_CHECK_EQUAL(t.at("v").text(3000), "oops");
}

BOOST_AUTO_TEST_CASE(errors_name_file_and_line) {
  try {
    (void)parse_csv("a,b\n1,2\n3\n", "bad.csv");
    BOOST_FAIL("expected an error");
  } catch (const ConfigError& e) {
    BOOST_CHECK_EQUAL(std::string(e.what()).rfind("bad.csv:3", 0), 0u);
    BOOST_CHECK(std::string(e.what()).find("expected 2 fields, found 1") != std::string::npos);
  }
  try {
    (void)parse_csv("a,b\n1,\"open\n2,3\n", "q.csv");
    BOOST_FAIL("expected an error");
  } catch (const ConfigError& e) {
    BOOST_CHECK(std::string(e.what()).find("q.csv:2") == 0);
  }
  ReadOptions o;
  o.declared["a"] = ColumnType::numeric;
  BOOST_CHECK_THROW((void)parse_csv("a\n1\nx\n", "n.csv", o), ConfigError);
}

BOOST_AUTO_TEST_CASE(parallel_parse_equals_sequential) {
  std::string csv = "x,c,q\n";
  for (int i = 0; i < 200000; ++i)
    csv += std::to_string(i * 0.5) + "," + (i % 3 ? "a" : "b") + ",\"v" + std::to_string(i % 5) + "\"\n";
  ReadOptions one, many;
  one.threads = 1;
  many.threads = 4;
  auto a = parse_csv(csv, "p.csv", one), b = parse_csv(csv, "p.csv", many);
  BOOST_CHECK_EQUAL(a.rows, 200000u);
  BOOST_CHECK_EQUAL(b.rows, 200000u);
  BOOST_CHECK(a.at("x").values == b.at("x").values);
  for (size_t i = 0; i < a.rows; i += 997) {
    BOOST_CHECK_EQUAL(a.at("c").text(i), b.at("c").text(i));
    BOOST_CHECK_EQUAL(a.at("q").text(i), b.at("q").text(i));
  }
}

// Two tables are the same: columns in the same order with the same types, values, categories
// (in the same order) and counts.
void check_same_table(const Table& a, const Table& b) {
  BOOST_REQUIRE_EQUAL(a.rows, b.rows);
  BOOST_REQUIRE_EQUAL(a.columns.size(), b.columns.size());
  for (size_t i = 0; i < a.columns.size(); ++i) {
    const auto &x = a.columns[i], &y = b.columns[i];
    BOOST_TEST_CONTEXT("column " << x.name) {
      BOOST_CHECK_EQUAL(x.name, y.name);
      BOOST_CHECK(x.type == y.type);
      BOOST_CHECK_EQUAL(x.missing, y.missing);
      BOOST_CHECK_EQUAL(x.integral, y.integral);
      BOOST_CHECK(x.categories == y.categories);
      BOOST_CHECK(x.codes == y.codes);
      BOOST_REQUIRE_EQUAL(x.values.size(), y.values.size());
      for (size_t r = 0; r < x.values.size(); ++r)
        if (!(x.values[r] == y.values[r] || (std::isnan(x.values[r]) && std::isnan(y.values[r]))))
          BOOST_FAIL("row " << r << ": " << x.values[r] << " != " << y.values[r]);
    }
  }
}

BOOST_AUTO_TEST_CASE(json_lines_numbers_read_like_csv_numbers) {
  // JSON numbers go into numeric columns without being printed and parsed again: the values
  // (correctly rounded, as fast_float reads CSV) and the whole-number flag must be what the CSV
  // reader gives for the same values; a column demoted to categorical holds the numbers' shortest
  // text (the values below are written in that form).
  auto same = [](const std::vector<std::string>& x, const std::vector<std::string>& y) {
    std::string jl, csv = "x,y\n";
    for (size_t i = 0; i < x.size(); ++i) {
      const bool text = y[i] == "text";
      jl += "{\"x\": " + x[i] + ", \"y\": " + (text ? "\"text\"" : y[i]) + "}\n";
      csv += x[i] + "," + y[i] + "\n";
    }
    check_same_table(parse_jsonl(jl, "n.jsonl"), parse_csv(csv, "n.csv"));
  };
  same({"0.1", "3", "-0", "1e21", "123456789012345680000", "2.5e-300", "0.30000000000000004", "7"},
       {"1", "2", "3", "4", "5", "6", "7", "8.5"});
  same({"1", "2", "3", "4", "5", "6"}, {"0.1", "3", "1e+21", "2.5e-300", "7", "text"});
  auto whole = parse_jsonl("{\"n\": 3}\n{\"n\": 1e3}\n", "w.jsonl");
  BOOST_CHECK(whole.at("n").integral);
  BOOST_CHECK_EQUAL(whole.at("n").values[1], 1000.0);
}

BOOST_AUTO_TEST_CASE(json_lines_parallel_parse_equals_serial) {
  // Over 1 MiB so that it is split: keys that first appear late, a numeric column that turns out
  // to hold text only near the end, nulls, absent keys, blank lines and categories first seen in
  // different chunks.
  std::string text;
  const int n = 60000;
  for (int i = 0; i < n; ++i) {
    text += "{\"x\": " + std::to_string(i * 0.25) + ", \"c\": \"k" + std::to_string((i * 7919) % (1 + i / 1000)) + "\"";
    if (i % 11) text += ", \"maybe\": " + std::string(i % 13 ? "1.5" : "null");
    text += ", \"late_text\": " + (i == n - 3 ? std::string("\"oops\"") : std::to_string(i % 17));
    if (i > n - 100) text += ", \"late_key\": true";
    if (i > n / 2)
      text += ", \"when\": \"2026-11-0" + std::to_string(1 + i % 9) + "T0" + std::to_string(i % 10) + ":00:00Z\"";
    text += "}\n";
    if (i % 5000 == 0) text += "\n";
  }
  BOOST_REQUIRE_GT(text.size(), size_t{1} << 21);
  ReadOptions one, many;
  one.threads = 1;
  many.threads = 4;
  auto a = parse_jsonl(text, "p.jsonl", one), b = parse_jsonl(text, "p.jsonl", many);
  BOOST_CHECK_EQUAL(a.rows, static_cast<size_t>(n));
  BOOST_CHECK(a.at("late_text").type == ColumnType::categorical);
  BOOST_CHECK(a.at("when").type == ColumnType::datetime);
  BOOST_CHECK_EQUAL(a.columns.back().name, "late_key");  // in order of first appearance
  check_same_table(a, b);
  // The first error of the file, with its line, whichever chunk holds it.
  std::string bad = text;
  bad.insert(bad.rfind('\n', bad.size() - 200) + 1, "{\"x\": [1]}\n");
  std::string serial_error, parallel_error;
  try {
    (void)parse_jsonl(bad, "b.jsonl", one);
  } catch (const ConfigError& e) {
    serial_error = e.what();
  }
  try {
    (void)parse_jsonl(bad, "b.jsonl", many);
  } catch (const ConfigError& e) {
    parallel_error = e.what();
  }
  BOOST_CHECK(!serial_error.empty());
  BOOST_CHECK_EQUAL(serial_error, parallel_error);
}

BOOST_AUTO_TEST_CASE(parallel_split_ignores_quotes_inside_unquoted_fields) {
  // A '"' inside an unquoted field is literal (RFC 4180 readers and pandas keep it); it must not
  // flip the splitter's idea of "inside quotes" and cut a later quoted field at its newline.
  std::string csv = "id,txt\n0,5 \"inch\n";
  for (int i = 1; i < 60000; ++i) csv += std::to_string(i) + ",\"line one\nline two " + std::to_string(i) + "\"\n";
  ReadOptions one, many;
  one.threads = 1;
  many.threads = 4;
  auto a = parse_csv(csv, "q.csv", one);
  auto b = parse_csv(csv, "q.csv", many);
  BOOST_CHECK_EQUAL(a.rows, 60000u);
  BOOST_REQUIRE_EQUAL(b.rows, 60000u);
  BOOST_CHECK_EQUAL(b.at("txt").text(0), "5 \"inch");
  for (size_t i = 1; i < b.rows; i += 997) BOOST_CHECK_EQUAL(a.at("txt").text(i), b.at("txt").text(i));
}

BOOST_AUTO_TEST_CASE(chunks_with_blank_lines_and_every_line_end_close_up) {
  // Each chunk's column slice is sized by its line ends; blank lines and "\r\n" / lone "\r"
  // ends leave slices part-filled, and the rows must still come out in file order, once each.
  std::string csv = "x,c\n";
  std::vector<double> want;
  for (int i = 0; i < 150000; ++i) {
    csv += std::to_string(i) + ".25," + (i % 4 ? "u" : "v");
    csv += i % 3 == 0 ? "\r\n" : i % 3 == 1 ? "\r" : "\n";
    if (i % 1000 == 0) csv += "\n\n";
    want.push_back(i + 0.25);
  }
  csv += "-1,w";  // no final line end
  want.push_back(-1);
  ReadOptions one, many;
  one.threads = 1;
  many.threads = 4;
  for (const auto& o : {one, many}) {
    auto t = parse_csv(csv, "b.csv", o);
    BOOST_REQUIRE_EQUAL(t.rows, want.size());
    BOOST_CHECK(t.at("x").values == want);
    BOOST_CHECK_EQUAL(t.at("c").categories.size(), 3u);
    BOOST_CHECK_EQUAL(t.at("c").text(0), "v");
    BOOST_CHECK_EQUAL(t.at("c").text(1), "u");
    BOOST_CHECK_EQUAL(t.at("c").text(want.size() - 1), "w");
  }
}

BOOST_AUTO_TEST_CASE(numbers_in_place_and_padded_forms_agree) {
  // Plain numbers are parsed where they stand; padded, signed, quoted and special forms take
  // the general path. Both give the same values, in one chunk or several.
  std::string csv = "a,b\n";
  for (int i = 0; i < 40000; ++i) csv += "1.5,\" 2\"\n+3, 4 \ninf,NA\n-nan,1e3\n";
  ReadOptions one, many;
  one.threads = 1;
  many.threads = 3;
  for (const auto& o : {one, many}) {
    auto t = parse_csv(csv, "n.csv", o);
    BOOST_REQUIRE_EQUAL(t.rows, 160000u);
    const auto& a = t.at("a");
    const auto& b = t.at("b");
    BOOST_CHECK(a.type == ColumnType::numeric);
    BOOST_CHECK(b.type == ColumnType::numeric);
    BOOST_CHECK_EQUAL(a.values[0], 1.5);
    BOOST_CHECK_EQUAL(a.values[1], 3.0);
    BOOST_CHECK(std::isnan(a.values[2]) && std::isnan(a.values[3]));
    BOOST_CHECK_EQUAL(b.values[0], 2.0);
    BOOST_CHECK_EQUAL(b.values[1], 4.0);
    BOOST_CHECK_EQUAL(b.values[3], 1000.0);
    BOOST_CHECK_EQUAL(a.missing, 80000);
    BOOST_CHECK_EQUAL(b.missing, 40000);
    BOOST_CHECK(!a.integral);
    BOOST_CHECK(b.integral);
  }
}

BOOST_AUTO_TEST_CASE(mapped_file_reads_like_text) {
  // read_csv maps the file and gives parsed pages back as it goes; the table is the same as
  // from the text in memory, and an error found late still names its line.
  std::string csv = "x,y,c\n";
  for (int i = 0; i < 400000; ++i)
    csv += std::to_string(i * 0.125) + "," + std::to_string(i % 17) + "," + (i % 2 ? "p" : "q") + "\n";
  const auto dir = std::filesystem::temp_directory_path() / ("amlops-table-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / "m.csv";
  std::ofstream(path, std::ios::binary) << csv;
  ReadOptions o;
  o.threads = 2;
  auto a = read_csv(path, o);
  auto b = parse_csv(csv, path.string(), o);
  BOOST_REQUIRE_EQUAL(a.rows, 400000u);
  BOOST_CHECK(a.at("x").values == b.at("x").values);
  BOOST_CHECK(a.at("y").values == b.at("y").values);
  BOOST_CHECK(a.at("c").codes == b.at("c").codes);
  std::ofstream(path, std::ios::binary) << csv << "1,2\n";
  try {
    (void)read_csv(path, o);
    BOOST_FAIL("expected an error");
  } catch (const ConfigError& e) {
    BOOST_CHECK_EQUAL(std::string(e.what()).rfind(path.string() + ":400002", 0), 0u);
  }
  std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(json_lines_errors_name_the_line_after_blank_lines) {
  ReadOptions o;
  o.declared["a"] = ColumnType::numeric;
  try {
    (void)parse_jsonl("{\"a\": 1}\n\n\n{\"a\": \"x\"}\n", "b.jsonl", o);
    BOOST_FAIL("expected an error");
  } catch (const ConfigError& e) {
    BOOST_CHECK_EQUAL(std::string(e.what()).rfind("b.jsonl:4", 0), 0u);
  }
}

BOOST_AUTO_TEST_CASE(json_lines) {
  auto t = parse_jsonl(
      "{\"x\": 1.5, \"c\": \"a\", \"b\": true}\n\n{\"x\": null, \"c\": \"b\", \"b\": false, \"extra\": 3}\n",
      "t.jsonl");
  BOOST_CHECK_EQUAL(t.rows, 2u);
  BOOST_CHECK(t.at("x").type == ColumnType::numeric);
  BOOST_CHECK_EQUAL(t.at("x").missing, 1);
  BOOST_CHECK(t.at("b").type == ColumnType::boolean);
  BOOST_CHECK_EQUAL(t.at("extra").missing, 1);
  BOOST_CHECK_THROW((void)parse_jsonl("{\"x\": 1}\n[1]\n", "bad.jsonl"), ConfigError);
}

BOOST_AUTO_TEST_CASE(random_input_parses_or_fails_cleanly) {
  // Malformed input of every shape: either a table whose columns all have one value per row, or
  // a ConfigError (file:line). Never a crash (this runs under ASan/UBSan in CI).
  std::mt19937 g(99);
  const std::string alphabet = ",,,\"\"\n\n\r ab1.5-eE+NA\t";
  int parsed = 0, rejected = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string s;
    const size_t n = g() % 60;
    for (size_t k = 0; k < n; ++k) s += alphabet[g() % alphabet.size()];
    try {
      auto t = parse_csv(s, "fuzz.csv");
      for (const auto& c : t.columns) BOOST_REQUIRE_EQUAL(c.size(), t.rows);
      ++parsed;
    } catch (const ConfigError&) {
      ++rejected;
    }
    try {
      (void)parse_jsonl(s, "fuzz.jsonl");
    } catch (const ConfigError&) {
    }
  }
  BOOST_TEST_MESSAGE(parsed << " parsed, " << rejected << " rejected");
  BOOST_CHECK_GT(parsed, 100);
  BOOST_CHECK_GT(rejected, 100);
}

BOOST_AUTO_TEST_SUITE_END()
