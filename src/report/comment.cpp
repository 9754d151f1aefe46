#include "report/comment.hpp"

#include <algorithm>

#include "core/strings.hpp"

namespace amlops::report {

std::string sanitize_key(std::string_view key) {
  std::string out;
  for (char c : str::trim(key)) {
    auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || c == '<' || c == '>' || c == 0x7f) ? '_' : c;
  }
  while (out.find("--") != std::string::npos) out = str::replace_all(out, "--", "-_");
  if (!out.empty() && out.back() == '-') out.back() = '_';  // "KEY- -->" would read as "--"
  return out.empty() ? "amlops" : out;
}

std::string marker(std::string_view key) { return "<!-- amlops-report:" + std::string(key) + " -->"; }

bool has_marker(std::string_view body, std::string_view m) {
  size_t i = 0;
  while (i < body.size() && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t')) ++i;
  return !m.empty() && body.substr(i, m.size()) == m;
}

std::vector<Fragment> ordered(std::vector<Fragment> fragments) {
  std::stable_sort(fragments.begin(), fragments.end(), [](const Fragment& a, const Fragment& b) {
    if (a.order != b.order) return a.order < b.order;
    return a.title < b.title;
  });
  return fragments;
}

bool is_long(std::string_view body) {
  if (body.size() > kCollapseBytes) return true;
  size_t lines = std::count(body.begin(), body.end(), '\n');
  if (!body.empty() && body.back() != '\n') ++lines;
  return lines > kCollapseLines;
}

std::string status_icon(FragmentStatus s) {
  switch (s) {
    case FragmentStatus::pass:
      return "\u2705";  // white heavy check mark
    case FragmentStatus::fail:
      return "\u274C";  // cross mark
    case FragmentStatus::warn:
      return "\u26A0\uFE0F";  // warning sign
    case FragmentStatus::info:
      break;
  }
  return "\u2139\uFE0F";  // information source
}

namespace {

std::string heading(const Fragment& f) { return "### " + status_icon(f.status) + " " + f.title + "\n\n"; }

std::string trimmed_body(const Fragment& f) {
  std::string b = f.body;
  while (!b.empty() && (b.back() == '\n' || b.back() == '\r' || b.back() == ' ')) b.pop_back();
  size_t i = 0;
  while (i < b.size() && (b[i] == '\n' || b[i] == '\r')) ++i;
  return b.substr(i);
}

// The note that replaces the sections cut for the size limit; `list` names each of them.
std::string cut_note(const std::vector<Fragment>& cut, size_t limit, bool list) {
  std::string s = "> **" + std::to_string(cut.size()) + (cut.size() == 1 ? " section" : " sections") +
                  " left out**: the comment would pass this host's limit of " + std::to_string(limit) +
                  " characters. The job summary of this run has the full report.\n";
  if (list) {
    for (const Fragment& f : cut) {
      s += "> - " + status_icon(f.status) + " " + f.title;
      if (!f.verdict.empty()) s += ": " + f.verdict;
      s += "\n";
    }
  }
  return s + "\n";
}

// Cuts at a UTF-8 character boundary at or below n bytes.
std::string utf8_prefix(const std::string& s, size_t n) {
  if (s.size() <= n) return s;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

}  // namespace

std::string render_section(const Fragment& f) {
  std::string s = heading(f);
  if (!f.verdict.empty()) s += "**" + f.verdict + "**\n\n";
  std::string body = trimmed_body(f);
  if (body.empty()) return s;
  if (is_long(body))
    s += "<details><summary>Details</summary>\n\n" + body + "\n\n</details>\n\n";
  else
    s += body + "\n\n";
  return s;
}

Assembled assemble(const std::vector<Fragment>& fragments, const AssembleOptions& opt) {
  std::vector<Fragment> list = ordered(fragments);
  std::string head;
  if (!opt.marker.empty()) head += opt.marker + "\n";
  head += "## " + opt.title + "\n\n";
  if (list.empty()) head += "_No report fragments were given._\n\n";
  std::string foot = opt.footer.empty() ? "" : "<sub>" + opt.footer + "</sub>\n";
  std::vector<std::string> parts;
  size_t total = head.size() + foot.size();
  for (const Fragment& f : list) {
    parts.push_back(render_section(f));
    total += parts.back().size();
  }
  Assembled out;
  if (opt.limit == 0 || total <= opt.limit) {
    out.markdown = head;
    for (auto& p : parts) out.markdown += p;
    out.markdown += foot;
    out.sections = parts.size();
    return out;
  }
  // Keep the first k whole sections and list the rest, with the largest k that fits.
  std::vector<size_t> prefix(parts.size() + 1, 0);
  for (size_t i = 0; i < parts.size(); ++i) prefix[i + 1] = prefix[i] + parts[i].size();
  for (size_t k = parts.size(); k-- > 0;) {
    std::vector<Fragment> cut(list.begin() + static_cast<std::ptrdiff_t>(k), list.end());
    for (bool named : {true, false}) {
      std::string note = cut_note(cut, opt.limit, named);
      if (head.size() + prefix[k] + note.size() + foot.size() > opt.limit) continue;
      out.markdown = head;
      for (size_t i = 0; i < k; ++i) out.markdown += parts[i];
      out.markdown += note + foot;
      out.sections = k;
      out.left_out = cut.size();
      return out;
    }
  }
  // Not even the title and the note fit (an absurd limit): a plain cut.
  out.markdown = utf8_prefix(head + cut_note(list, opt.limit, false), opt.limit);
  out.left_out = list.size();
  return out;
}

}  // namespace amlops::report
