// Python sources and notebooks: argparse definitions (for the job-command checks), absolute local
// paths and hard-coded storage URIs, and the mapping of notebook cells to raw .ipynb lines.
#include <algorithm>

#include "core/json.hpp"
#include "lint/internal.hpp"

namespace amlops::lint::detail {
namespace {

// Skips a Python string literal starting at s[i] (a quote); returns the index after it.
size_t skip_string(std::string_view s, size_t i, std::string* value) {
  char q = s[i];
  bool triple = i + 2 < s.size() && s[i + 1] == q && s[i + 2] == q;
  size_t j = i + (triple ? 3 : 1);
  while (j < s.size()) {
    if (s[j] == '\\') {
      if (value && j + 1 < s.size()) value->push_back(s[j + 1]);
      j += 2;
      continue;
    }
    if (s[j] == q && (!triple || (j + 2 < s.size() && s[j + 1] == q && s[j + 2] == q))) return j + (triple ? 3 : 1);
    if (!triple && s[j] == '\n') return j;
    if (value) value->push_back(s[j]);
    ++j;
  }
  return j;
}

// The text between '(' at s[open] and its matching ')', skipping strings and comments.
std::string_view call_args(std::string_view s, size_t open) {
  int depth = 0;
  for (size_t i = open; i < s.size();) {
    char c = s[i];
    if (c == '"' || c == '\'') {
      i = skip_string(s, i, nullptr);
      continue;
    }
    if (c == '#') {
      size_t nl = s.find('\n', i);
      i = nl == std::string_view::npos ? s.size() : nl;
      continue;
    }
    if (c == '(' || c == '[' || c == '{') ++depth;
    if (c == ')' || c == ']' || c == '}') {
      if (--depth == 0) return s.substr(open + 1, i - open - 1);
    }
    ++i;
  }
  return s.substr(open + 1);
}

bool has_word(std::string_view s, std::string_view w) { return s.find(w) != std::string_view::npos; }

}  // namespace

bool ArgparseInfo::accepts(const std::string& flag) const {
  if (std::find(flags.begin(), flags.end(), flag) != flags.end()) return true;
  if (!allow_abbrev || flag.size() < 3 || flag.rfind("--", 0) != 0) return false;
  int n = 0;
  for (auto& f : flags)
    if (f.rfind(flag, 0) == 0) ++n;
  return n == 1;
}

ArgparseInfo scan_argparse(std::string_view py) {
  ArgparseInfo info;
  size_t pos = 0;
  while ((pos = py.find("add_argument(", pos)) != std::string_view::npos) {
    size_t open = pos + std::string_view("add_argument").size();
    pos = open;
    std::string_view args = call_args(py, open);
    info.argparse = true;
    size_t i = 0;
    std::vector<std::string> names;
    while (i < args.size()) {
      while (i < args.size() && (std::isspace(static_cast<unsigned char>(args[i])) || args[i] == ',')) ++i;
      if (i < args.size() && (args[i] == 'r' || args[i] == 'u') && i + 1 < args.size() &&
          (args[i + 1] == '"' || args[i + 1] == '\''))
        ++i;
      if (i >= args.size() || (args[i] != '"' && args[i] != '\'')) break;
      std::string value;
      i = skip_string(args, i, &value);
      if (!value.empty() && value[0] == '-') names.push_back(value);
    }
    for (auto& n : names) info.flags.push_back(n);
    if (!names.empty()) {
      std::string a(args);
      a.erase(std::remove_if(a.begin(), a.end(), [](unsigned char c) { return std::isspace(c); }), a.end());
      if (a.find("required=True") != std::string::npos) info.required.push_back(names.back());
    }
  }
  if (has_word(py, "allow_abbrev=False") || has_word(py, "allow_abbrev = False")) info.allow_abbrev = false;
  if (has_word(py, "add_subparsers")) info.subparsers = true;
  for (std::string_view w : {"import click", "from click", "import typer", "from typer", "import hydra", "from hydra",
                             "import fire", "from fire", "docopt", "from absl", "absl.flags", "jsonargparse",
                             "HfArgumentParser", "OmegaConf.from_cli", "tf.app.flags", "mlflow.projects"})
    if (has_word(py, w)) info.other_parser = true;
  if (!info.argparse && has_word(py, "sys.argv")) info.other_parser = true;
  // A parser handed to code elsewhere (deepspeed.add_config_arguments(parser), an imported add_args) or built
  // from imported parents gets options this file does not show: its flags cannot be checked.
  if (info.argparse) {
    static const Regex parser_var(R"((\w+)\s*=\s*(?:argparse\.)?ArgumentParser\s*\()");
    std::vector<std::string> names;
    parser_var.each(py,
                    [&](const Regex::Match& m) { names.emplace_back(py.substr(m.g1_begin, m.g1_end - m.g1_begin)); });
    for (auto& name : names) {
      Regex passed("([\\w.]+)\\s*\\(\\s*" + name + "\\s*[,)]");
      passed.each(py, [&](const Regex::Match& m) {
        std::string fn(py.substr(m.g1_begin, m.g1_end - m.g1_begin));
        std::string last = fn.substr(fn.rfind('.') == std::string::npos ? 0 : fn.rfind('.') + 1);
        if (last == "print" || last == "vars" || last == "len" || last == "id" || last == "type") return;
        if (py.find("def " + last + "(") == std::string_view::npos) info.other_parser = true;
      });
    }
    if (has_word(py, "parents=[")) info.other_parser = true;
  }
  if (size_t k = py.find("parse_known_args("); k != std::string_view::npos) {
    Text t(py);
    info.known_args_line = t.line_of(k);
    info.known_args_col = t.col_of(k);
  }
  return info;
}

std::optional<NotebookCode> notebook_code(std::string_view ipynb) {
  json::Document doc;
  try {
    doc = json::parse(ipynb, "notebook");
  } catch (const std::exception&) {
    return std::nullopt;
  }
  const json::Value* cells = json::find(doc, "/cells");
  if (!cells || !cells->IsArray()) return std::nullopt;
  Text raw(ipynb);
  NotebookCode out;
  size_t cursor = 0;
  for (auto& cell : cells->GetArray()) {
    if (!cell.IsObject()) continue;
    size_t src = ipynb.find("\"source\"", cursor);
    if (src == std::string_view::npos) break;
    size_t p = src + 8;
    cursor = p;
    auto type = json::opt_string(cell, "/cell_type");
    auto it = cell.FindMember("source");
    if (it == cell.MemberEnd()) continue;
    const json::Value& source = it->value;
    // Position of each string token after "source":.
    auto next_string = [&](size_t from) -> size_t {
      size_t q = ipynb.find('"', from);
      return q;
    };
    auto skip_token = [&](size_t q) -> size_t {
      size_t j = q + 1;
      while (j < ipynb.size() && ipynb[j] != '"') j += ipynb[j] == '\\' ? 2 : 1;
      return j + 1;
    };
    std::vector<std::pair<std::string, int>> lines;  // decoded element, raw line
    if (source.IsArray()) {
      for (auto& el : source.GetArray()) {
        size_t q = next_string(p);
        if (q == std::string_view::npos) break;
        if (el.IsString()) lines.emplace_back(std::string(el.GetString(), el.GetStringLength()), raw.line_of(q));
        p = skip_token(q);
      }
    } else if (source.IsString()) {
      size_t q = next_string(p);
      int base = q == std::string_view::npos ? 1 : raw.line_of(q);
      std::string s(source.GetString(), source.GetStringLength());
      size_t b = 0;
      while (b < s.size()) {
        size_t e = s.find('\n', b);
        e = e == std::string::npos ? s.size() : e + 1;
        lines.emplace_back(s.substr(b, e - b), base);
        b = e;
      }
      if (q != std::string_view::npos) p = skip_token(q);
    }
    cursor = p;
    if (type.value_or("") != "code") continue;
    for (auto& [text, raw_line] : lines) {
      // Cell magics and shell escapes are not Python: keep the line (for secrets) as a comment.
      std::string l = text;
      if (!l.empty() && l.back() == '\n') l.pop_back();
      std::string_view trimmed = l;
      while (!trimmed.empty() && trimmed.front() == ' ') trimmed.remove_prefix(1);
      if (!trimmed.empty() && (trimmed[0] == '%' || trimmed[0] == '!')) l = "# " + l;
      // An element that holds several lines (rare) keeps the raw line of its token.
      size_t b = 0;
      while (true) {
        size_t e = l.find('\n', b);
        out.python += l.substr(b, e == std::string::npos ? std::string::npos : e - b);
        out.python += '\n';
        out.raw_line.push_back(raw_line);
        if (e == std::string::npos) break;
        b = e + 1;
      }
    }
  }
  return out;
}

void check_python_code(const std::string& path, std::string_view python, const std::vector<int>* line_map, Sink& sink,
                       const Text* raw) {
  static const Regex local_path(
      R"((?:^|[^A-Za-z0-9_])[rRbBfF]?["']((?:[A-Za-z]:(?:\\\\|\\|/)(?:Users|Documents and Settings)(?:\\\\|\\|/)|/home/[A-Za-z0-9._-]+/|/Users/[A-Za-z0-9._-]+/|/mnt/|/dbfs/|/content/drive/|/root/)[^"'\n]*))");
  static const Regex data_uri(
      R"(["']((?:abfss?|wasbs?|s3a?|gs|adl)://[^"'\s]+|https://[a-z0-9]{3,24}\.(?:blob|dfs)\.core\.windows\.net/[^"'\s]*))");
  bool quick_path =
      python.find("/home/") != std::string_view::npos || python.find("/Users/") != std::string_view::npos ||
      python.find(":\\") != std::string_view::npos || python.find(":/") != std::string_view::npos ||
      python.find("/mnt/") != std::string_view::npos || python.find("/dbfs/") != std::string_view::npos ||
      python.find("/content/drive") != std::string_view::npos || python.find("/root/") != std::string_view::npos;
  bool quick_uri = python.find("://") != std::string_view::npos;
  if (!quick_path && !quick_uri) return;
  Text text(python);
  auto emit = [&](std::string_view rule, size_t at, const std::string& what) {
    int line = text.line_of(at);
    std::string_view l = text.line(line);
    size_t first = l.find_first_not_of(" \t");
    if (first != std::string_view::npos && l[first] == '#') return;  // a comment
    int col = text.col_of(at);
    int raw_no =
        line_map && line <= static_cast<int>(line_map->size()) ? (*line_map)[static_cast<size_t>(line - 1)] : line;
    if (line_map) {
      // Notebook: the column in the raw line, where the text is JSON-escaped.
      col = 1;
      if (raw) {
        std::string needle;
        for (char c : python.substr(at, 16)) {
          if (c == '\n') break;
          if (c == '\\' || c == '"') needle += '\\';
          needle += c;
        }
        size_t p = raw->line(raw_no).find(needle);
        if (!needle.empty() && p != std::string_view::npos) col = static_cast<int>(p) + 1;
      }
    }
    sink.add(rule, path, raw_no, col, what);
  };
  if (quick_path)
    local_path.each(python, [&](const Regex::Match& m) {
      emit("CODE003", m.g1_begin,
           "absolute local path '" +
               std::string(python.substr(m.g1_begin, std::min<size_t>(m.g1_end - m.g1_begin, 60))) + "'");
    });
  if (quick_uri)
    data_uri.each(python, [&](const Regex::Match& m) {
      std::string uri(python.substr(m.g1_begin, m.g1_end - m.g1_begin));
      // Drop any query string (it may carry a SAS token) from the message.
      uri = uri.substr(0, uri.find('?'));
      emit("CODE004", m.g1_begin, "hard-coded storage URI '" + uri.substr(0, 80) + "'");
    });
}

}  // namespace amlops::lint::detail
