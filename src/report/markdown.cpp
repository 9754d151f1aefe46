#include "report/markdown.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/strings.hpp"

namespace amlops::report {

std::string md_cell(std::string_view s) {
  // HTML-escape first, then what breaks a table row: pipes and line breaks.
  std::string o = str::replace_all(str::xml_escape(s), "|", "\\|");
  o = str::replace_all(std::move(o), "\r", "");
  return str::replace_all(std::move(o), "\n", "<br>");
}

std::string MdTable::render() const {
  std::ostringstream os;
  os << "|";
  for (const auto& h : headers) os << " " << md_cell(h) << " |";
  os << "\n|";
  for (size_t i = 0; i < headers.size(); ++i) os << "---|";
  os << "\n";
  for (const auto& r : rows) {
    os << "|";
    for (size_t i = 0; i < headers.size(); ++i) os << " " << (i < r.size() ? md_cell(r[i]) : std::string()) << " |";
    os << "\n";
  }
  return os.str();
}

std::string fmt_number(double v, int digits) {
  if (std::isnan(v)) return "n/a";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  if (v != 0 && (std::abs(v) < 1e-4 || std::abs(v) >= 1e9))
    std::snprintf(buf, sizeof buf, "%.*e", digits - 1, v);
  else
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

namespace {
// A quoted mermaid string, shortened to `max` characters (bar labels; titles are kept whole).
std::string chart_label(const std::string& s, size_t max = 24) {
  std::string o;
  for (char c : s) o += (c == '"' || c == '\n' || c == '[' || c == ']' || c == ',') ? ' ' : c;
  if (o.size() > max) o = o.substr(0, max - 1) + "~";
  return "\"" + o + "\"";
}
constexpr size_t kNoLimit = std::string::npos;
std::string chart_number(double v) {
  if (!std::isfinite(v)) v = 0;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}
}  // namespace

std::string mermaid_bar_chart(const std::string& title, const std::string& y_label, const std::vector<BarDatum>& bars,
                              std::optional<double> line) {
  std::ostringstream os;
  double top = 0;
  for (const auto& b : bars)
    if (std::isfinite(b.value)) top = std::max(top, b.value);
  if (line) top = std::max(top, *line);
  top = top > 0 ? top * 1.1 : 1.0;
  os << "```mermaid\nxychart-beta\n  title " << chart_label(title, kNoLimit) << "\n  x-axis [";
  for (size_t i = 0; i < bars.size(); ++i) os << (i ? ", " : "") << chart_label(bars[i].label);
  os << "]\n  y-axis " << chart_label(y_label, kNoLimit) << " 0 --> " << chart_number(top) << "\n  bar [";
  for (size_t i = 0; i < bars.size(); ++i) os << (i ? ", " : "") << chart_number(bars[i].value);
  os << "]\n";
  if (line) {
    os << "  line [";
    for (size_t i = 0; i < bars.size(); ++i) os << (i ? ", " : "") << chart_number(*line);
    os << "]\n";
  }
  os << "```\n";
  return os.str();
}

std::string md_code_block(std::string_view text) {
  std::string fence = "```";
  while (text.find(fence) != std::string_view::npos) fence += '`';
  return fence + "text\n" + std::string(text) + "\n" + fence + "\n";
}

}  // namespace amlops::report
