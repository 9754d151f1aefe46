// Self-contained HTML pages with inline SVG charts: no scripts, no external resources, readable
// offline and safe to attach as a CI artefact.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace amlops::report {

struct Series {
  std::string name;
  std::vector<double> values;  // one per bin / category
  std::string color;           // CSS colour
};

struct HistogramChart {
  std::string title;
  std::vector<double> edges;        // numeric bins (size = values + 1), or
  std::vector<std::string> labels;  // categories (size = values)
  std::vector<Series> series;       // drawn overlaid, semi-transparent
};

// An SVG histogram with axes, tick labels and a legend.
std::string svg_histogram(const HistogramChart& chart, int width = 540, int height = 260);

struct LineChart {
  std::string title;
  std::vector<std::string> labels;  // x: one per point (windows)
  std::vector<double> values;       // y: NaN = not measured (a gap)
  std::vector<bool> marked;         // points drawn as breaches (optional, one per point)
  std::optional<double> threshold;  // drawn as a dashed horizontal line
  std::string threshold_label = "threshold";
};

// A small SVG line chart of one series with its threshold (escaped text, no script).
std::string svg_line_chart(const LineChart& chart, int width = 360, int height = 150);

class HtmlPage {
 public:
  explicit HtmlPage(std::string title) : title_(std::move(title)) {}
  void heading(int level, std::string_view text);
  void paragraph(std::string_view text);
  // Adds trusted HTML (built from escaped parts).
  void raw(std::string html) { body_ += std::move(html); }
  // A table of escaped cells; `classes` (optional) sets a CSS class per row.
  void table(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows,
             const std::vector<std::string>& classes = {});
  [[nodiscard]] std::string render() const;

 private:
  std::string title_;
  std::string body_;
};

}  // namespace amlops::report
