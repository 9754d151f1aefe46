// Text line index, PCRE2 wrapper, small helpers.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>

#include "core/error.hpp"
#include "core/strings.hpp"
#include "lint/internal.hpp"

namespace amlops::lint {

namespace detail {

Text::Text(std::string_view data) : data_(data) {
  starts_.push_back(0);
  for (size_t i = 0; i < data.size(); ++i)
    if (data[i] == '\n' && i + 1 < data.size()) starts_.push_back(i + 1);
}

int Text::line_of(size_t offset) const {
  auto it = std::upper_bound(starts_.begin(), starts_.end(), offset);
  return static_cast<int>(it - starts_.begin());
}

int Text::col_of(size_t offset) const {
  int l = line_of(offset);
  return static_cast<int>(offset - starts_[static_cast<size_t>(l - 1)]) + 1;
}

size_t Text::offset(int line) const {
  if (line < 1) return 0;
  if (line > lines()) return data_.size();
  return starts_[static_cast<size_t>(line - 1)];
}

std::string_view Text::line(int n) const {
  if (n < 1 || n > lines()) return {};
  size_t b = starts_[static_cast<size_t>(n - 1)];
  size_t e = data_.find('\n', b);
  if (e == std::string_view::npos) e = data_.size();
  if (e > b && data_[e - 1] == '\r') --e;
  return data_.substr(b, e - b);
}

Regex::Regex(std::string_view pattern, bool caseless) {
  int err = 0;
  PCRE2_SIZE off = 0;
  uint32_t flags = PCRE2_MULTILINE | (caseless ? PCRE2_CASELESS : 0u);
  auto* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), flags, &err, &off, nullptr);
  if (!code) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(err, buf, sizeof buf);
    throw ConfigError("bad regular expression '" + std::string(pattern) + "' at " + std::to_string(off) + ": " +
                      reinterpret_cast<const char*>(buf));
  }
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter when JIT is unavailable
  code_ = code;
}

Regex::~Regex() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

bool Regex::search(std::string_view text, size_t start, Match& m) const {
  auto* code = static_cast<pcre2_code*>(code_);
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(code, nullptr);
  int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), start, 0, md, nullptr);
  bool ok = rc > 0;
  if (ok) {
    PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    m.begin = ov[0];
    m.end = ov[1];
    if (rc > 1 && ov[2] != PCRE2_UNSET) {
      m.g1_begin = ov[2];
      m.g1_end = ov[3];
    } else {
      m.g1_begin = m.begin;
      m.g1_end = m.end;
    }
  }
  pcre2_match_data_free(md);
  return ok;
}

void Regex::each(std::string_view text, const std::function<void(const Match&)>& fn) const {
  size_t pos = 0;
  Match m;
  while (pos <= text.size() && search(text, pos, m)) {
    fn(m);
    pos = m.end > m.begin ? m.end : m.end + 1;
  }
}

void Sink::add(std::string_view rule, const std::string& path, int line, int col, std::string message, int end_col,
               std::optional<Fix> fix) {
  Finding f;
  f.rule = std::string(rule);
  const Rule* r = find_rule(rule);
  f.level = r ? r->level : Level::warning;
  f.path = path;
  f.line = line < 1 ? 1 : line;
  f.col = col < 1 ? 1 : col;
  f.end_col = end_col;
  f.message = std::move(message);
  f.commit = commit;
  f.fix = std::move(fix);
  out.push_back(std::move(f));
}

const std::string* Workspace::text(const std::string& rel) const {
  auto it = texts.find(rel);
  return it == texts.end() ? nullptr : &it->second;
}

std::string Workspace::rel(const std::filesystem::path& abs) const {
  return abs.lexically_normal().lexically_relative(root).generic_string();
}

bool Workspace::exists(const std::filesystem::path& abs) const {
  std::error_code ec;
  return std::filesystem::exists(abs, ec);
}

int line_of(const YAML::Node& n) {
  if (!n.IsDefined()) return 1;
  auto m = n.Mark();
  return m.is_null() ? 1 : m.line + 1;
}

int col_of(const YAML::Node& n) {
  if (!n.IsDefined()) return 1;
  auto m = n.Mark();
  return m.is_null() ? 1 : m.column + 1;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

std::optional<std::pair<int, int>> find_from(const Text& text, int from, std::string_view needle, int span) {
  for (int l = std::max(from, 1); l <= text.lines() && l < from + span; ++l) {
    std::string_view line = text.line(l);
    size_t p = line.find(needle);
    if (p != std::string_view::npos) return std::make_pair(l, static_cast<int>(p) + 1);
  }
  return std::nullopt;
}

std::string truthy_string(const YAML::Node& n) {
  if (!n || !n.IsScalar()) return {};
  return str::to_lower(n.Scalar());
}

}  // namespace detail
}  // namespace amlops::lint
