// Markdown for CI job summaries and PR comments: tables and mermaid charts. Pure functions.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace amlops::report {

// Escapes a table cell: pipes, newlines and HTML-significant characters.
std::string md_cell(std::string_view s);

struct MdTable {
  std::vector<std::string> headers;
  std::vector<std::vector<std::string>> rows;  // raw cells (escaped by render)
  [[nodiscard]] std::string render() const;
};

struct BarDatum {
  std::string label;
  double value = 0;
};
// A mermaid xychart-beta bar chart (GitHub renders it); `line` draws a horizontal reference line
// (e.g. the threshold). Bar labels are shortened to 24 characters; the title and the axis name are
// kept whole. Every text is quoted.
std::string mermaid_bar_chart(const std::string& title, const std::string& y_label, const std::vector<BarDatum>& bars,
                              std::optional<double> line = std::nullopt);

// A fenced code block (```text) that the text cannot close early: the fence is longer than any
// run of backticks inside.
std::string md_code_block(std::string_view text);

// Formats a number for humans: up to `digits` significant digits, no exponent for ordinary sizes.
std::string fmt_number(double v, int digits = 4);

}  // namespace amlops::report
