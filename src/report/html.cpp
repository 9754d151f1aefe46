#include "report/html.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "core/strings.hpp"
#include "report/markdown.hpp"

namespace amlops::report {

namespace {
std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}
}  // namespace

std::string svg_histogram(const HistogramChart& c, int width, int height) {
  const double left = 48, right = 12, top = 28, bottom = 58;
  const double w = width - left - right, h = height - top - bottom;
  size_t nb = 0;
  for (const auto& s : c.series) nb = std::max(nb, s.values.size());
  double ymax = 0;
  for (const auto& s : c.series)
    for (double v : s.values)
      if (std::isfinite(v)) ymax = std::max(ymax, v);
  if (ymax <= 0) ymax = 1;
  std::ostringstream os;
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"" << width << "\" height=\"" << height
     << "\" viewBox=\"0 0 " << width << " " << height << "\" role=\"img\" aria-label=\"" << str::xml_escape(c.title)
     << "\">";
  os << "<text x=\"" << left << "\" y=\"16\" class=\"title\">" << str::xml_escape(c.title) << "</text>";
  // Axes and horizontal grid.
  for (int i = 0; i <= 4; ++i) {
    const double y = top + h - h * i / 4.0;
    os << "<line x1=\"" << left << "\" x2=\"" << num(left + w) << "\" y1=\"" << num(y) << "\" y2=\"" << num(y)
       << "\" class=\"grid\"/>";
    os << "<text x=\"" << left - 4 << "\" y=\"" << num(y + 4) << "\" class=\"tick\" text-anchor=\"end\">"
       << fmt_number(ymax * i / 4.0, 3) << "</text>";
  }
  const double bw = nb ? w / static_cast<double>(nb) : w;
  for (const auto& s : c.series) {
    for (size_t i = 0; i < s.values.size(); ++i) {
      const double v = std::isfinite(s.values[i]) ? s.values[i] : 0;
      const double bh = h * v / ymax;
      os << "<rect class=\"bar\" x=\"" << num(left + bw * i + 0.5) << "\" y=\"" << num(top + h - bh) << "\" width=\""
         << num(std::max(bw - 1.0, 0.5)) << "\" height=\"" << num(bh) << "\" fill=\"" << str::xml_escape(s.color)
         << "\" fill-opacity=\"0.55\"><title>" << str::xml_escape(s.name) << ": " << fmt_number(v, 4)
         << "</title></rect>";
    }
  }
  os << "<line x1=\"" << left << "\" x2=\"" << num(left + w) << "\" y1=\"" << num(top + h) << "\" y2=\"" << num(top + h)
     << "\" class=\"axis\"/>";
  // X tick labels: bin edges (a few) or categories.
  if (!c.labels.empty()) {
    for (size_t i = 0; i < c.labels.size() && i < nb; ++i) {
      std::string l = c.labels[i].size() > 12 ? c.labels[i].substr(0, 11) + "~" : c.labels[i];
      const double x = left + bw * (static_cast<double>(i) + 0.5);
      os << "<text class=\"tick\" x=\"" << num(x) << "\" y=\"" << num(top + h + 12) << "\" transform=\"rotate(30 "
         << num(x) << " " << num(top + h + 12) << ")\">" << str::xml_escape(l) << "</text>";
    }
  } else if (c.edges.size() >= 2) {
    const size_t step = std::max<size_t>(1, (c.edges.size() - 1) / 6);
    for (size_t i = 0; i < c.edges.size(); i += step) {
      const double x = left + bw * static_cast<double>(i);
      os << "<text class=\"tick\" x=\"" << num(x) << "\" y=\"" << num(top + h + 14) << "\" text-anchor=\"middle\">"
         << fmt_number(c.edges[i], 3) << "</text>";
    }
  }
  // Legend.
  double lx = left;
  for (const auto& s : c.series) {
    os << "<rect x=\"" << num(lx) << "\" y=\"" << num(height - 14.0) << "\" width=\"10\" height=\"10\" fill=\""
       << str::xml_escape(s.color) << "\" fill-opacity=\"0.55\"/>";
    os << "<text x=\"" << num(lx + 14) << "\" y=\"" << num(height - 5.0) << "\" class=\"tick\">"
       << str::xml_escape(s.name) << "</text>";
    lx += 24 + 7.0 * static_cast<double>(s.name.size());
  }
  os << "</svg>";
  return os.str();
}

std::string svg_line_chart(const LineChart& c, int width, int height) {
  const double left = 48, right = 12, top = 26, bottom = 34;
  const double w = width - left - right, h = height - top - bottom;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (double v : c.values)
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (c.threshold && std::isfinite(*c.threshold)) lo = std::min(lo, *c.threshold), hi = std::max(hi, *c.threshold);
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  lo = std::min(lo, 0.0);
  if (hi - lo <= 0) hi = lo + 1;
  hi += (hi - lo) * 0.08;
  const size_t n = c.values.size();
  auto x_of = [&](size_t i) {
    return left + (n > 1 ? w * static_cast<double>(i) / static_cast<double>(n - 1) : w / 2);
  };
  auto y_of = [&](double v) { return top + h - h * (v - lo) / (hi - lo); };
  std::ostringstream os;
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart trend\" width=\"" << width << "\" height=\"" << height
     << "\" viewBox=\"0 0 " << width << " " << height << "\" role=\"img\" aria-label=\"" << str::xml_escape(c.title)
     << "\">";
  os << "<text x=\"" << left << "\" y=\"15\" class=\"title\">" << str::xml_escape(c.title) << "</text>";
  for (int i = 0; i <= 2; ++i) {
    const double v = lo + (hi - lo) * i / 2.0, y = y_of(v);
    os << "<line x1=\"" << left << "\" x2=\"" << num(left + w) << "\" y1=\"" << num(y) << "\" y2=\"" << num(y)
       << "\" class=\"grid\"/><text x=\"" << left - 4 << "\" y=\"" << num(y + 4)
       << "\" class=\"tick\" text-anchor=\"end\">" << fmt_number(v, 3) << "</text>";
  }
  if (c.threshold && std::isfinite(*c.threshold)) {
    const double y = y_of(*c.threshold);
    os << "<line x1=\"" << left << "\" x2=\"" << num(left + w) << "\" y1=\"" << num(y) << "\" y2=\"" << num(y)
       << "\" class=\"threshold\"><title>" << str::xml_escape(c.threshold_label) << " " << fmt_number(*c.threshold, 4)
       << "</title></line>";
  }
  // The line, broken where a window was not measured.
  std::string path;
  bool pen = false;
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(c.values[i])) {
      pen = false;
      continue;
    }
    path += (pen ? "L" : "M") + num(x_of(i)) + " " + num(y_of(c.values[i])) + " ";
    pen = true;
  }
  if (!path.empty()) os << "<path class=\"line\" d=\"" << path << "\"/>";
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(c.values[i])) continue;
    const bool mark = i < c.marked.size() && c.marked[i];
    os << "<circle class=\"pt" << (mark ? " breach" : "") << "\" cx=\"" << num(x_of(i)) << "\" cy=\""
       << num(y_of(c.values[i])) << "\" r=\"3\"><title>" << str::xml_escape(i < c.labels.size() ? c.labels[i] : "")
       << ": " << fmt_number(c.values[i], 4) << (mark ? " (breach)" : "") << "</title></circle>";
  }
  os << "<line x1=\"" << left << "\" x2=\"" << num(left + w) << "\" y1=\"" << num(top + h) << "\" y2=\"" << num(top + h)
     << "\" class=\"axis\"/>";
  // First and last window names.
  if (n > 0 && !c.labels.empty()) {
    os << "<text class=\"tick\" x=\"" << num(x_of(0)) << "\" y=\"" << num(top + h + 14) << "\" text-anchor=\""
       << (n > 1 ? "start" : "middle") << "\">" << str::xml_escape(c.labels.front()) << "</text>";
    if (n > 1 && c.labels.size() >= n)
      os << "<text class=\"tick\" x=\"" << num(x_of(n - 1)) << "\" y=\"" << num(top + h + 14)
         << "\" text-anchor=\"end\">" << str::xml_escape(c.labels[n - 1]) << "</text>";
  }
  os << "</svg>";
  return os.str();
}

void HtmlPage::heading(int level, std::string_view text) {
  level = std::clamp(level, 1, 6);
  body_ += "<h" + std::to_string(level) + ">" + str::xml_escape(text) + "</h" + std::to_string(level) + ">\n";
}

void HtmlPage::paragraph(std::string_view text) { body_ += "<p>" + str::xml_escape(text) + "</p>\n"; }

void HtmlPage::table(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows,
                     const std::vector<std::string>& classes) {
  std::string t = "<table><thead><tr>";
  for (const auto& h : headers) t += "<th>" + str::xml_escape(h) + "</th>";
  t += "</tr></thead><tbody>\n";
  for (size_t r = 0; r < rows.size(); ++r) {
    t += r < classes.size() && !classes[r].empty() ? "<tr class=\"" + str::xml_escape(classes[r]) + "\">" : "<tr>";
    for (const auto& cell : rows[r]) t += "<td>" + str::xml_escape(cell) + "</td>";
    t += "</tr>\n";
  }
  t += "</tbody></table>\n";
  body_ += t;
}

std::string HtmlPage::render() const {
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         "<title>" +
         str::xml_escape(title_) +
         "</title><style>"
         "body{font-family:system-ui,-apple-system,Segoe "
         "UI,Roboto,sans-serif;margin:24px;color:#1f2328;max-width:1160px}"
         "h1{font-size:22px}h2{font-size:18px;margin-top:28px}h3{font-size:15px;margin:18px 0 4px}"
         "table{border-collapse:collapse;margin:8px 0;font-size:13px}"
         "th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left}th{background:#f6f8fa}"
         "tr.drifted td{background:#ffebe9}.ok{color:#1a7f37}.bad{color:#cf222e;font-weight:600}"
         ".grid{stroke:#eaeef2;stroke-width:1}.axis{stroke:#57606a;stroke-width:1}"
         ".tick{font-size:10px;fill:#57606a}.title{font-size:12px;font-weight:600;fill:#1f2328}"
         ".cards{display:flex;flex-wrap:wrap;gap:12px}.card{border:1px solid #d0d7de;border-radius:6px;padding:8px}"
         ".card p{margin:2px 0;font-size:12px}"
         "tr.breached td{background:#ffebe9}.new{background:#fff8c5;font-weight:600}"
         ".line{fill:none;stroke:#0969da;stroke-width:2}.pt{fill:#0969da}.pt.breach{fill:#cf222e}"
         ".threshold{stroke:#cf222e;stroke-width:1.5;stroke-dasharray:5 3}"
         "</style></head><body>\n" +
         body_ + "</body></html>\n";
}

}  // namespace amlops::report
