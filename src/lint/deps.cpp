// Unpinned dependencies in requirements files and conda environment files.
#include <cctype>

#include "core/redact.hpp"
#include "core/strings.hpp"
#include "lint/internal.hpp"

namespace amlops::lint::detail {
namespace {

bool hex_ref(std::string_view s) {
  // "...@<7..40 hex>" at the end of a VCS URL (before any #egg=).
  size_t at = s.rfind('@');
  if (at == std::string_view::npos) return false;
  std::string_view ref = s.substr(at + 1);
  ref = ref.substr(0, ref.find('#'));
  if (ref.size() < 7 || ref.size() > 40) return false;
  for (char c : ref)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

// Returns an empty string when pinned, else why not.
std::string pip_unpinned(std::string_view spec) {
  spec = spec.substr(0, spec.find(" #"));
  spec = spec.substr(0, spec.find(';'));  // environment markers
  spec = str::trim(spec);
  if (spec.empty() || spec[0] == '#') return {};
  if (spec[0] == '-') {
    if (starts_with(spec, "-e ") || starts_with(spec, "--editable "))
      spec = str::trim(spec.substr(spec.find(' ')));
    else
      return {};  // -r, -c, --index-url, --hash...
  }
  if (spec.find("://") != std::string_view::npos || starts_with(spec, "git+")) {
    if (hex_ref(spec)) return {};
    if (ends_with(spec, ".whl") || ends_with(spec, ".tar.gz") || ends_with(spec, ".zip")) return {};
    if (spec.find(" @ ") == std::string_view::npos && spec.find("git+") == std::string_view::npos) return {};
    return "VCS dependency without a commit";
  }
  if (spec[0] == '.' || spec[0] == '/') return {};  // local path
  size_t eq = spec.find("==");
  if (eq == std::string_view::npos) return "no exact version";
  std::string_view ver = str::trim(spec.substr(eq + 2));
  if (!ver.empty() && ver[0] == '=') ver.remove_prefix(1);
  if (ver.empty() || ver.find('*') != std::string_view::npos) return "wildcard version";
  return {};
}

std::string name_of(std::string_view spec) {
  size_t e = 0;
  while (e < spec.size() && (std::isalnum(static_cast<unsigned char>(spec[e])) || spec[e] == '-' || spec[e] == '_' ||
                             spec[e] == '.' || spec[e] == '[' || spec[e] == ']' || spec[e] == ':'))
    ++e;
  return std::string(spec.substr(0, e));
}

}  // namespace

void check_requirements(const std::string& path, std::string_view content, Sink& sink) {
  Text text(content);
  for (int l = 1; l <= text.lines(); ++l) {
    std::string_view line = text.line(l);
    std::string why = pip_unpinned(line);
    if (why.empty()) continue;
    std::string_view t = str::trim(line);
    size_t col = line.find(t.substr(0, 1));
    sink.add("REPO003", path, l, static_cast<int>(col) + 1,
             "'" + redact::url(t.substr(0, t.find(" #"))) + "' is not pinned (" + why + ")",
             static_cast<int>(col + t.size()) + 1);
  }
}

bool looks_like_conda(const YAML::Node& root) {
  if (!root.IsMap()) return false;
  YAML::Node deps = root["dependencies"];
  if (!deps || !deps.IsSequence()) return false;
  return root["channels"] || root["name"] || root["prefix"];
}

void check_conda(const std::string& path, const YAML::Node& root, Sink& sink) {
  for (const auto& dep : root["dependencies"]) {
    if (dep.IsScalar()) {
      std::string spec = dep.Scalar();
      std::string_view s = spec;
      if (size_t c = s.find("::"); c != std::string_view::npos) s = s.substr(c + 2);
      std::string name = name_of(s);
      if (name == "pip") continue;
      std::string_view rest = s.substr(name.size());
      rest = str::trim(rest);
      bool pinned = false;
      if (!rest.empty() && rest[0] == '=') {
        std::string_view v = rest.substr(rest.size() > 1 && rest[1] == '=' ? 2 : 1);
        pinned = !v.empty() && std::isdigit(static_cast<unsigned char>(v[0])) &&
                 v.find_first_of("<>|,") == std::string_view::npos;
      } else if (!rest.empty() && std::isdigit(static_cast<unsigned char>(rest[0]))) {
        pinned = rest.find_first_of("<>|,*") == std::string_view::npos;  // "numpy 1.26.4"
      }
      if (!pinned)
        sink.add("REPO004", path, line_of(dep), col_of(dep),
                 "conda dependency '" + spec + "' is not pinned to a version",
                 col_of(dep) + static_cast<int>(spec.size()));
    } else if (dep.IsMap() && dep["pip"] && dep["pip"].IsSequence()) {
      for (const auto& p : dep["pip"]) {
        if (!p.IsScalar()) continue;
        std::string why = pip_unpinned(p.Scalar());
        if (!why.empty())
          sink.add("REPO004", path, line_of(p), col_of(p),
                   "pip dependency '" + redact::url(p.Scalar()) + "' is not pinned (" + why + ")",
                   col_of(p) + static_cast<int>(p.Scalar().size()));
      }
    }
  }
}

}  // namespace amlops::lint::detail
