// Tables read from CSV (RFC 4180) and JSON Lines into typed columns. Numbers are parsed with
// fast_float, CSV bodies in parallel chunks; missing values are counted per column (never dropped
// row-wise). Errors name file:line and exit 2 (ConfigError).
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace amlops::stats {

enum class ColumnType { numeric, categorical, boolean, datetime };
std::string_view type_name(ColumnType t);
std::optional<ColumnType> parse_type(std::string_view s);

struct Column {
  std::string name;
  ColumnType type = ColumnType::numeric;
  std::vector<double> values;           // numeric, datetime (epoch seconds): one per row, NaN = missing
  std::vector<int32_t> codes;           // categorical, boolean: index into categories, -1 = missing
  std::vector<std::string> categories;  // in order of first appearance
  int64_t missing = 0;
  bool integral = true;  // numeric: every present value is a whole number

  [[nodiscard]] bool is_numeric() const { return type == ColumnType::numeric || type == ColumnType::datetime; }
  [[nodiscard]] size_t size() const { return is_numeric() ? values.size() : codes.size(); }
  [[nodiscard]] bool is_missing(size_t row) const { return is_numeric() ? values[row] != values[row] : codes[row] < 0; }
  // The value of a row as text ("" when missing); numbers in shortest round-trip form.
  [[nodiscard]] std::string text(size_t row) const;
};

struct Table {
  std::string source;
  size_t rows = 0;
  std::vector<Column> columns;
  [[nodiscard]] const Column* find(std::string_view name) const;
  // Throws UsageError naming the source when the column is absent.
  [[nodiscard]] const Column& at(std::string_view name) const;
};

struct ReadOptions {
  char delimiter = ',';
  std::map<std::string, ColumnType> declared;  // column -> type, overrides inference
  std::vector<std::string> na_values = {"", "NA", "N/A", "n/a", "NaN", "nan", "null", "NULL", "None", "none", "-"};
  unsigned threads = 0;  // 0 = hardware concurrency
  size_t infer_rows = 2000;
};

// Picks the reader by extension: .jsonl/.ndjson -> JSON Lines, otherwise CSV (.tsv -> tab).
Table read_table(const std::filesystem::path& path, const ReadOptions& options = {});
Table read_csv(const std::filesystem::path& path, const ReadOptions& options = {});
Table read_jsonl(const std::filesystem::path& path, const ReadOptions& options = {});
// Parses in-memory CSV text (tests, fuzzing); `source` names it in errors.
Table parse_csv(std::string_view text, const std::string& source, const ReadOptions& options = {});
Table parse_jsonl(std::string_view text, const std::string& source, const ReadOptions& options = {});

// Whether a text value reads as a value of type t, as the readers parse it: numeric a finite
// number, datetime an ISO 8601 timestamp, boolean true/false; any text is categorical.
bool fits_type(std::string_view text, ColumnType t);
// The number a text value reads as (numeric columns), or nullopt.
std::optional<double> parse_number_text(std::string_view text);

// Formats a double as the shortest text that reads back to the same value.
std::string format_number(double v);

}  // namespace amlops::stats
