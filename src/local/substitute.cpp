#include "local/substitute.hpp"

#include <cctype>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace amlops::local {

namespace {

using Lookup = std::function<std::optional<std::string>(const std::string&)>;
using Keep = std::function<bool(const std::string&)>;

// The length of the ${{ ref }} placeholder at s[i] (0 when there is none), setting `ref`.
size_t match_placeholder(std::string_view s, size_t i, std::string& ref) {
  if (s.substr(i, 3) != "${{") return 0;
  size_t j = i + 3;
  while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) ++j;
  size_t start = j;
  if (j >= s.size() || !(std::isalpha(static_cast<unsigned char>(s[j])) || s[j] == '_')) return 0;
  while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_' || s[j] == '.' || s[j] == '-'))
    ++j;
  size_t stop = j;
  while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) ++j;
  if (s.substr(j, 2) != "}}") return 0;
  ref = std::string(s.substr(start, stop - start));
  return j + 2 - i;
}

// Where the shell is at a point of the command. `param_*` is the word of ${name...}, quoted or not.
enum class Ctx { top, sq, dq, cmdsub, backtick, param_unq, param_dq, arith, heredoc, qheredoc, comment };

struct Frame {
  Ctx ctx;
  int depth = 0;  // open parentheses inside $( ) or $(( ))
  std::string delim;
  bool strip_tabs = false;
};

struct PendingHeredoc {
  std::string delim;
  bool quoted, strip_tabs;
};

bool unquoted(Ctx c) { return c == Ctx::top || c == Ctx::cmdsub || c == Ctx::backtick || c == Ctx::param_unq; }

bool is_integer(const std::string& v) {
  size_t i = (!v.empty() && (v[0] == '+' || v[0] == '-')) ? 1 : 0;
  return i < v.size() && v.find_first_not_of("0123456789", i) == std::string::npos;
}

class Substituter {
 public:
  Substituter(const Lookup& lookup, const Keep& keep) : lookup_(lookup), keep_(keep) {}

  // Resolves $[[ ]] blocks (kept, dropped, or left as blocks holding a kept reference).
  std::string blocks(const std::string& s) {
    std::string out;
    size_t last = 0;
    for (size_t open = s.find("$[["); open != std::string::npos; open = s.find("$[[", last)) {
      size_t close = s.find("]]", open + 3);
      if (close == std::string::npos) break;
      out += s.substr(last, open - last);
      std::string inner = s.substr(open + 3, close - open - 3);
      bool missing = false, kept = false;
      std::string ref;
      for (size_t i = 0; i < inner.size(); ++i)
        if (size_t len = match_placeholder(inner, i, ref)) {
          if (keep_ && keep_(ref))
            kept = true;
          else if (!value(ref))
            missing = true;
          i += len - 1;
        }
      if (kept && !missing)
        out += "$[[" + inner + "]]";
      else if (!missing)
        out += inner;
      last = close + 2;
    }
    return out + s.substr(last);
  }

  Substituted run(const std::string& command) {
    s_ = blocks(command);
    st_ = {Frame{Ctx::top}};
    size_t n = s_.size();
    i_ = 0;
    while (i_ < n) {
      Ctx t = st_.back().ctx;
      if ((t == Ctx::heredoc || t == Ctx::qheredoc) && (i_ == 0 || s_[i_ - 1] == '\n')) {
        size_t eol = std::min(s_.find('\n', i_), n);
        std::string_view line = std::string_view(s_).substr(i_, eol - i_);
        if (st_.back().strip_tabs)
          while (!line.empty() && line[0] == '\t') line.remove_prefix(1);
        if (line == st_.back().delim) {
          take(eol - i_);
          st_.pop_back();
          continue;
        }
      }
      std::string ref;
      if (size_t len = match_placeholder(s_, i_, ref)) {
        out_ += emit(ref, s_.substr(i_, len));
        i_ += len;
        word_start_ = false;
        continue;
      }
      char c = s_[i_];
      // A # starting a word outside quotes comments out the rest of the line.
      bool comment = c == '#' && word_start_ && unquoted(t) && t != Ctx::param_unq;
      step(t, c);
      if (comment) st_.push_back({Ctx::comment});
      word_start_ = std::strchr(" \t\n;&|()<>`", c) != nullptr;
    }
    return {out_, env_};
  }

 private:
  void take(size_t len) {
    out_ += s_.substr(i_, len);
    i_ += len;
  }
  bool at(std::string_view p) const { return std::string_view(s_).substr(i_, p.size()) == p; }

  // $((, $( and ${ (a ${ inside quotes or a here-document is quoted), and backquotes.
  bool expansion(Ctx t, char c) {
    bool quoted = t == Ctx::dq || t == Ctx::param_dq || t == Ctx::heredoc;
    if (c == '`') {
      if (t == Ctx::backtick)
        st_.pop_back();
      else
        st_.push_back({Ctx::backtick});
      take(1);
      return true;
    }
    if (c != '$') return false;
    if (at("$((")) {
      st_.push_back({Ctx::arith});
      take(3);
    } else if (at("$(")) {
      st_.push_back({Ctx::cmdsub});
      take(2);
    } else if (at("${")) {
      st_.push_back({quoted ? Ctx::param_dq : Ctx::param_unq});
      take(2);
    } else {
      take(1);
    }
    return true;
  }

  // `<<[-] word`: the here-document's body starts after the next unquoted newline.
  void heredoc_operator() {
    if (at("<<<")) return take(3);
    take(2);
    bool strip = at("-");
    if (strip) take(1);
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t')) take(1);
    std::string delim;
    bool quoted = false;
    while (i_ < s_.size() && !std::strchr(" \t\n;&|()<>", s_[i_])) {
      char d = s_[i_];
      if (d == '\'' || d == '"' || d == '\\')
        quoted = true;
      else
        delim += d;
      take(1);
    }
    pending_.push_back({delim, quoted, strip});
  }

  void step(Ctx t, char c) {
    Frame& f = st_.back();
    switch (t) {
      case Ctx::sq:
        if (c == '\'') st_.pop_back();
        return take(1);
      case Ctx::qheredoc:
        return take(1);
      case Ctx::comment:
        if (c == '\n') {
          st_.pop_back();
          return;  // the newline belongs to the enclosing context
        }
        return take(1);
      case Ctx::dq:
      case Ctx::param_dq:
      case Ctx::heredoc:
      case Ctx::arith:
        if (c == '\\') return take(std::min<size_t>(2, s_.size() - i_));
        if (expansion(t, c)) return;
        if (t == Ctx::dq && c == '"') st_.pop_back();
        if (t == Ctx::param_dq && c == '"') st_.push_back({Ctx::dq});
        if (t == Ctx::param_dq && c == '}') st_.pop_back();
        if (t == Ctx::arith && c == '(') ++f.depth;
        if (t == Ctx::arith && c == ')') {
          if (f.depth == 0 && at("))")) {
            st_.pop_back();
            return take(2);
          }
          --f.depth;
        }
        return take(1);
      default:  // unquoted: top, $( ), ` `, ${ } outside quotes
        break;
    }
    if (c == '\\') return take(std::min<size_t>(2, s_.size() - i_));
    if (expansion(t, c)) return;
    if (c == '\'') st_.push_back({Ctx::sq});
    if (c == '"') st_.push_back({Ctx::dq});
    if (t == Ctx::cmdsub && c == '(') ++f.depth;
    if (t == Ctx::cmdsub && c == ')' && f.depth-- == 0) st_.pop_back();
    if (t == Ctx::param_unq && c == '}') st_.pop_back();
    if (t != Ctx::param_unq && at("<<")) return heredoc_operator();
    if (c == '\n' && !pending_.empty()) {
      take(1);
      for (auto it = pending_.rbegin(); it != pending_.rend(); ++it)
        st_.push_back({it->quoted ? Ctx::qheredoc : Ctx::heredoc, 0, it->delim, it->strip_tabs});
      pending_.clear();
      return;
    }
    take(1);
  }

  std::optional<std::string> value(const std::string& ref) {
    auto f = values_.find(ref);
    if (f != values_.end()) return f->second;
    auto v = lookup_(ref);
    if (v) values_[ref] = *v;
    return v;
  }

  std::string var_name(const std::string& ref) {
    auto f = names_.find(ref);
    if (f != names_.end()) return f->second;
    std::string base = "AMLOPS_";
    for (char c : ref) base += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    std::string name = base;
    for (int k = 2; env_.count(name); ++k) name = base + "_" + std::to_string(k);
    names_[ref] = name;
    return name;
  }

  std::string emit(const std::string& ref, const std::string& text) {
    if (keep_ && keep_(ref)) return text;
    auto v = value(ref);
    if (!v) throw std::runtime_error("the command refers to ${{" + ref + "}}, which is not defined");
    if (v->find('\0') != std::string::npos)
      throw std::runtime_error("the value of ${{" + ref + "}} contains a NUL character, which a command cannot carry");
    Ctx t = st_.back().ctx;
    for (auto& f : st_)
      if (f.ctx == Ctx::arith) {
        // The shell evaluates whatever lands in $(( )) as an expression (bash runs $(...) inside an
        // array subscript there), so only an integer may go in, written as itself.
        if (!is_integer(*v))
          throw std::runtime_error("${{" + ref + "}} is used inside $((...)) but its value is not an integer");
        return (*v)[0] == '-' || (*v)[0] == '+' ? "(" + *v + ")" : *v;
      }
    if (t == Ctx::qheredoc)
      throw std::runtime_error("${{" + ref + "}} is inside a here-document whose delimiter is quoted, where the " +
                               "shell expands nothing; unquote the delimiter (<<EOF) to use a placeholder there");
    std::string name = var_name(ref);
    env_[name] = *v;
    if (t == Ctx::sq) return "'\"${" + name + "}\"'";
    if (unquoted(t)) return "\"${" + name + "}\"";
    return "${" + name + "}";  // inside "...", a here-document, or a comment
  }

  const Lookup& lookup_;
  const Keep& keep_;
  std::string s_, out_;
  size_t i_ = 0;
  bool word_start_ = true;
  std::vector<Frame> st_;
  std::vector<PendingHeredoc> pending_;
  std::map<std::string, std::string> values_, names_, env_;
};

}  // namespace

Substituted substitute_command(const std::string& command, const Lookup& lookup, const Keep& keep) {
  return Substituter(lookup, keep).run(command);
}

}  // namespace amlops::local
