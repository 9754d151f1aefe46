#include "local/substitute.hpp"

#include <regex>
#include <stdexcept>
#include <string_view>

#include "core/strings.hpp"

namespace amlops::local {

// ---------------------------------------------------------------------------------------------
// Command substitution (pure)

namespace {

// Where a placeholder sits in /bin/sh's quoting: outside quotes, inside '...' or inside "...".
enum class Quote { none, single, dbl };

// The quoting state after `text`, starting from `q` (backslash escapes outside single quotes).
Quote advance_quote(Quote q, std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (q == Quote::single) {
      if (c == '\'') q = Quote::none;
    } else if (c == '\\') {
      ++i;
    } else if (q == Quote::dbl) {
      if (c == '"') q = Quote::none;
    } else if (c == '\'') {
      q = Quote::single;
    } else if (c == '"') {
      q = Quote::dbl;
    }
  }
  return q;
}

}  // namespace

std::string substitute_command(const std::string& command,
                               const std::function<std::optional<std::string>(const std::string&)>& lookup) {
  static const std::regex placeholder(R"(\$\{\{\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s*\}\})");
  static const std::regex optional_block(R"(\$\[\[([\s\S]*?)\]\])");
  // The value goes in as one single-quoted word. Inside "..." or '...' the surrounding quote is
  // closed before it and reopened after it, so nothing in the value is ever seen by the shell
  // (a placeholder wrapped in its own quotes, "${{...}}", loses them). `q` carries the quoting
  // state from one piece of the command to the next.
  auto replace_all = [&](const std::string& text, Quote& q, bool strict, bool& missing) {
    std::string out;
    size_t last = 0;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), placeholder); it != std::sregex_iterator(); ++it) {
      const auto& m = *it;
      std::string ref = m[1];
      auto value = lookup(ref);
      if (!value) {
        if (strict) throw std::runtime_error("the command refers to ${{" + ref + "}}, which is not defined");
        missing = true;
        return std::string();
      }
      auto pos = static_cast<size_t>(m.position(0));
      auto end = pos + static_cast<size_t>(m.length(0));
      std::string word = str::shell_quote(*value);
      if (pos > last) {
        Quote before = advance_quote(q, std::string_view(text).substr(last, pos - 1 - last));
        Quote at = advance_quote(q, std::string_view(text).substr(last, pos - last));
        char open = text[pos - 1];
        bool opened =
            before == Quote::none && ((open == '"' && at == Quote::dbl) || (open == '\'' && at == Quote::single));
        if (opened && end < text.size() && text[end] == open) {
          out += text.substr(last, pos - 1 - last) + word;
          q = Quote::none;
          last = end + 1;
          continue;
        }
        q = at;
      }
      out += text.substr(last, pos - last);
      if (q == Quote::single)
        out += "'" + word + "'";
      else if (q == Quote::dbl)
        out += "\"" + word + "\"";
      else
        out += word;
      last = end;
    }
    q = advance_quote(q, std::string_view(text).substr(last));
    out += text.substr(last);
    return out;
  };
  // Text outside $[[ ]] must resolve; a block is dropped when a reference inside does not.
  std::string out;
  size_t last = 0;
  bool missing = false;
  Quote q = Quote::none;
  for (auto it = std::sregex_iterator(command.begin(), command.end(), optional_block); it != std::sregex_iterator();
       ++it) {
    out += replace_all(command.substr(last, static_cast<size_t>(it->position(0)) - last), q, true, missing);
    bool block_missing = false;
    Quote inner_q = q;
    std::string inner = replace_all((*it)[1], inner_q, false, block_missing);
    if (!block_missing) {
      out += inner;
      q = inner_q;
    }
    last = static_cast<size_t>(it->position(0) + it->length(0));
  }
  out += replace_all(command.substr(last), q, true, missing);
  return out;
}

}  // namespace amlops::local
