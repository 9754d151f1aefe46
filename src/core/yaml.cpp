#include "core/yaml.hpp"

#include <yaml-cpp/eventhandler.h>

#include <istream>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/files.hpp"
#include "core/signals.hpp"
#include "core/strings.hpp"

namespace amlops::yaml {
namespace {

// Hands yaml-cpp the text in 64 KiB pieces and looks at the signal flag between them, so that a
// parse of a large document ends promptly on SIGINT/SIGTERM.
class InterruptibleBuf : public std::streambuf {
 public:
  explicit InterruptibleBuf(const std::string& text) : text_(text) {}

 protected:
  int_type underflow() override {
    if (off_ >= text_.size()) return traits_type::eof();
    signals::check();
    size_t n = std::min<size_t>(64 * 1024, text_.size() - off_);
    char* b = const_cast<char*>(text_.data()) + off_;
    setg(b, b, b + n);
    off_ += n;
    return traits_type::to_int_type(*b);
  }

 private:
  const std::string& text_;
  size_t off_ = 0;
};

// A first pass over the parser's events, before any node is built: the size of the document
// with its aliases expanded (an alias counts the nodes of its anchor), recursive aliases and,
// optionally, duplicate keys. Linear in the number of events.
class Checker : public YAML::EventHandler {
 public:
  Checker(const std::string& text, const std::string& source, const LoadOptions& opts)
      : text_(text), source_(source), opts_(opts) {}

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { leaf(mark, anchor, nullptr); }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    if (tag == "!") closed_quote(mark);
    leaf(mark, anchor, &value);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    tick();
    auto it = sizes_.find(anchor);
    if (it == sizes_.end())
      fail(mark, "this alias refers to a node that contains it: recursive YAML documents are not supported");
    alias_nodes_ += it->second;
    if (alias_nodes_ > opts_.max_alias_nodes)
      fail(mark, "YAML aliases expand this document by more than " + std::to_string(opts_.max_alias_nodes) +
                     " nodes (the limit; an alias bomb?)");
    child(it->second, mark, nullptr);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor, false);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, anchor, true);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Frame {
    YAML::anchor_t anchor = 0;
    bool map = false;
    uint64_t size = 1;
    size_t index = 0;
    std::unordered_set<std::string> keys;
  };

  // yaml-cpp 0.7 ends an unclosed quoted scalar at the end of the input without an error, so
  // that the rest of the file silently becomes part of the string: report it as the syntax
  // error it is. Linear: each quoted scalar is scanned once.
  void closed_quote(const YAML::Mark& m) const {
    if (m.is_null() || m.pos < 0 || static_cast<size_t>(m.pos) >= text_.size()) return;
    size_t i = static_cast<size_t>(m.pos);
    char q = text_[i];
    if (q != '"' && q != '\'') return;
    for (++i; i < text_.size(); ++i) {
      if (q == '"' && text_[i] == '\\') {
        ++i;
        continue;
      }
      if (text_[i] != q) continue;
      if (q == '\'' && i + 1 < text_.size() && text_[i + 1] == '\'') {
        ++i;  // '' is an escaped quote
        continue;
      }
      return;
    }
    fail(m, std::string("YAML syntax error: the quoted string starting here is never closed (missing ") +
                (q == '"' ? "\"" : "'") + ")");
  }
  [[noreturn]] void fail(const YAML::Mark& m, const std::string& msg) const {
    throw ConfigError(SourceLocation{source_, m.is_null() ? 0 : m.line + 1, m.is_null() ? 0 : m.column + 1}, msg);
  }
  void tick() {
    if ((++events_ & 0xfff) == 0) signals::check();
  }
  void leaf(const YAML::Mark& mark, YAML::anchor_t anchor, const std::string* scalar) {
    tick();
    if (anchor) sizes_[anchor] = 1;
    child(1, mark, scalar);
  }
  void open(const YAML::Mark& mark, YAML::anchor_t anchor, bool map) {
    tick();
    child(0, mark, nullptr);  // its size is added when it closes
    Frame f;
    f.anchor = anchor;
    f.map = map;
    stack_.push_back(std::move(f));
  }
  void close() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    if (f.anchor) sizes_[f.anchor] = f.size;
    if (!stack_.empty()) stack_.back().size = saturating_add(stack_.back().size, f.size);
  }
  // Counts a child of the innermost collection; for a mapping, checks keys.
  void child(uint64_t size, const YAML::Mark& mark, const std::string* scalar) {
    if (stack_.empty()) return;
    Frame& f = stack_.back();
    f.size = saturating_add(f.size, size);
    if (!f.map) return;
    bool is_key = f.index++ % 2 == 0;
    if (is_key && opts_.unique_keys && scalar && !f.keys.insert(*scalar).second)
      fail(mark, "duplicate key '" + *scalar + "' (each key may appear once in a mapping)");
  }
  static uint64_t saturating_add(uint64_t a, uint64_t b) { return a + b < a ? UINT64_MAX : a + b; }

  const std::string& text_;
  const std::string& source_;
  const LoadOptions& opts_;
  std::vector<Frame> stack_;
  std::unordered_map<YAML::anchor_t, uint64_t> sizes_;
  uint64_t alias_nodes_ = 0;
  uint64_t events_ = 0;
};

}  // namespace

SourceLocation Document::at(const YAML::Node& node) const {
  auto m = node.Mark();
  if (m.is_null()) return {file, 0, 0};
  return {file, m.line + 1, m.column + 1};
}

void Document::fail(const YAML::Node& node, const std::string& message) const { throw ConfigError(at(node), message); }

std::optional<std::string> Document::opt_string(const YAML::Node& map, const std::string& key) const {
  if (!map.IsMap()) return std::nullopt;
  YAML::Node v = map[key];
  if (!v || v.IsNull()) return std::nullopt;
  if (!v.IsScalar()) fail(v, "'" + key + "' must be a string");
  return v.Scalar();
}

std::string Document::get_string(const YAML::Node& map, const std::string& key) const {
  auto v = opt_string(map, key);
  if (!v) fail(map, "missing required key '" + key + "'");
  return *v;
}

std::optional<double> Document::opt_number(const YAML::Node& map, const std::string& key) const {
  auto s = opt_string(map, key);
  if (!s) return std::nullopt;
  auto d = str::parse_double(*s);
  if (!d) fail(map[key], "'" + key + "' must be a number, got '" + *s + "'");
  return d;
}

std::optional<bool> Document::opt_bool(const YAML::Node& map, const std::string& key) const {
  auto s = opt_string(map, key);
  if (!s) return std::nullopt;
  std::string l = str::to_lower(*s);
  if (l == "true" || l == "yes" || l == "on") return true;
  if (l == "false" || l == "no" || l == "off") return false;
  fail(map[key], "'" + key + "' must be true or false, got '" + *s + "'");
}

Document load_string(const std::string& text, const std::string& source, const LoadOptions& opts) {
  if (text.size() > opts.max_bytes)
    throw ConfigError(SourceLocation{source, 1, 1},
                      "the YAML document is larger than " + std::to_string(opts.max_bytes) + " bytes (the limit)");
  try {
    {
      InterruptibleBuf buf(text);
      std::istream in(&buf);
      YAML::Parser parser(in);
      Checker checker(text, source, opts);
      parser.HandleNextDocument(checker);
    }
    InterruptibleBuf buf(text);
    std::istream in(&buf);
    return {source, YAML::Load(in)};
  } catch (const YAML::Exception& e) {
    SourceLocation where{source, e.mark.is_null() ? 0 : e.mark.line + 1, e.mark.is_null() ? 0 : e.mark.column + 1};
    throw ConfigError(where, "YAML syntax error: " + e.msg);
  }
}

Document load_file(const std::filesystem::path& path, const LoadOptions& opts) {
  return load_string(files::read_bounded(path, opts.max_bytes), path.string(), opts);
}

std::string scalar(const YAML::Node& node) {
  if (!node || !node.IsScalar()) return {};
  return node.Scalar();
}

}  // namespace amlops::yaml
