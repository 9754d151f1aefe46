#include "report/fragment.hpp"

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/strings.hpp"

namespace amlops::report {
namespace {

constexpr std::string_view kOpen = "<!-- amlops-fragment";
constexpr std::string_view kClose = "-->";

// One header line value: no newlines, no "-->" (which would end the comment early).
std::string header_value(std::string_view s) {
  std::string out;
  for (char c : s) out += (c == '\n' || c == '\r') ? ' ' : c;
  out = std::string(str::trim(out));
  return str::replace_all(out, "-->", "--&gt;");
}

std::string title_from_source(const std::string& source) {
  std::string stem = std::filesystem::path(source).stem().string();
  return stem.empty() ? source : stem;
}

}  // namespace

std::string_view status_name(FragmentStatus s) {
  switch (s) {
    case FragmentStatus::pass:
      return "pass";
    case FragmentStatus::warn:
      return "warn";
    case FragmentStatus::fail:
      return "fail";
    case FragmentStatus::info:
      break;
  }
  return "info";
}

FragmentStatus parse_status(std::string_view s, const std::string& source) {
  std::string v = str::to_lower(str::trim(s));
  if (v == "pass" || v == "ok" || v == "success") return FragmentStatus::pass;
  if (v == "fail" || v == "failed" || v == "error") return FragmentStatus::fail;
  if (v == "warn" || v == "warning") return FragmentStatus::warn;
  if (v == "info" || v.empty()) return FragmentStatus::info;
  throw ConfigError(source + ": status must be pass, fail, warn or info, not '" + std::string(s) + "'");
}

std::string render_fragment(const Fragment& f) {
  std::string out(kOpen);
  out += "\ntitle: " + header_value(f.title) + "\n";
  if (!f.verdict.empty()) out += "verdict: " + header_value(f.verdict) + "\n";
  out += "status: " + std::string(status_name(f.status)) + "\n";
  if (f.order != kDefaultFragmentOrder) out += "order: " + std::to_string(f.order) + "\n";
  out += std::string(kClose) + "\n";
  out += f.body;
  if (!f.body.empty() && f.body.back() != '\n') out += '\n';
  return out;
}

Fragment parse_fragment(std::string_view text, const std::string& source) {
  Fragment f;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 BOM
  std::string_view rest = text;
  while (!rest.empty() && (rest.front() == '\n' || rest.front() == '\r')) rest.remove_prefix(1);
  if (rest.substr(0, kOpen.size()) != kOpen) {
    f.title = title_from_source(source);
    f.body = std::string(text);
    return f;
  }
  size_t end = rest.find(kClose, kOpen.size());
  if (end == std::string_view::npos)
    throw ConfigError(source + ":1: the '<!-- amlops-fragment' header is not closed with '-->'");
  std::string_view header = rest.substr(kOpen.size(), end - kOpen.size());
  std::string_view body = rest.substr(end + kClose.size());
  if (!body.empty() && body.front() == '\r') body.remove_prefix(1);
  if (!body.empty() && body.front() == '\n') body.remove_prefix(1);
  int line_no = 1;
  for (const std::string& raw : str::split(header, '\n')) {
    std::string_view line = str::trim(raw);
    std::string where = source + ":" + std::to_string(line_no++);
    if (line.empty()) continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) throw ConfigError(where + ": expected 'key: value' in the fragment header");
    std::string key = str::to_lower(str::trim(line.substr(0, colon)));
    std::string value(str::trim(line.substr(colon + 1)));
    if (key == "title") {
      f.title = value;
    } else if (key == "verdict") {
      f.verdict = value;
    } else if (key == "status") {
      f.status = parse_status(value, where);
    } else if (key == "order") {
      auto n = str::parse_int(value);
      if (!n || *n < -1000000 || *n > 1000000)
        throw ConfigError(where + ": order must be an integer, not '" + value + "'");
      f.order = static_cast<int>(*n);
    }
  }
  if (f.title.empty()) f.title = title_from_source(source);
  f.body = std::string(body);
  return f;
}

Fragment read_fragment(const std::filesystem::path& path) { return parse_fragment(files::read(path), path.string()); }

void write_fragment(const std::filesystem::path& path, const Fragment& f) {
  files::write_atomic(path, render_fragment(f));
}

}  // namespace amlops::report
