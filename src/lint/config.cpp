// The `lint:` section of amlops.yml, and the baseline file.
#include <cctype>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/json.hpp"
#include "core/strings.hpp"
#include "core/yaml.hpp"
#include "lint/internal.hpp"

namespace amlops::lint {
namespace {

std::vector<std::string> string_list(const yaml::Document& doc, const YAML::Node& n, const std::string& key) {
  std::vector<std::string> out;
  if (!n) return out;
  if (n.IsScalar()) {
    for (auto& s : str::split(n.Scalar(), ',')) out.emplace_back(str::trim(s));
    return out;
  }
  if (!n.IsSequence()) doc.fail(n, "lint." + key + " must be a list");
  for (const auto& v : n) {
    if (!v.IsScalar()) doc.fail(v, "lint." + key + " must be a list of strings");
    out.push_back(v.Scalar());
  }
  return out;
}

void check_rule(const yaml::Document& doc, const YAML::Node& at, const std::string& id) {
  if (!find_rule(id)) doc.fail(at, "unknown rule '" + id + "' (amlops-lint rules lists them)");
}

uint64_t parse_size(const yaml::Document& doc, const YAML::Node& n) {
  std::string s = str::to_lower(std::string(str::trim(n.Scalar())));
  size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  auto num = str::parse_double(s.substr(0, i));
  std::string unit(str::trim(s.substr(i)));
  double mult = 0;
  if (unit.empty() || unit == "b")
    mult = 1;
  else if (unit == "k" || unit == "kb" || unit == "kib")
    mult = 1024;
  else if (unit == "m" || unit == "mb" || unit == "mib")
    mult = 1024.0 * 1024;
  else if (unit == "g" || unit == "gb" || unit == "gib")
    mult = 1024.0 * 1024 * 1024;
  if (!num || mult == 0 || *num <= 0)
    doc.fail(n, "lint.max_file_size must be a size such as 5MB, not '" + n.Scalar() + "'");
  return static_cast<uint64_t>(*num * mult);
}

}  // namespace

Config parse_config(const std::string& yaml_text, const std::string& source) {
  Config c;
  c.source = source;
  yaml::Document doc = yaml::load_string(yaml_text, source);
  if (!doc.root.IsMap()) return c;
  YAML::Node lint = doc.root["lint"];
  if (!lint || lint.IsNull()) return c;
  if (!lint.IsMap()) doc.fail(lint, "'lint' must be a mapping");
  static const std::set<std::string> known = {"disable", "ignore",      "exclude", "severity", "max_file_size",
                                              "history", "max_commits", "fail_on", "fail-on",  "baseline"};
  for (const auto& kv : lint) {
    std::string key = kv.first.Scalar();
    if (!known.count(key)) doc.fail(kv.first, "unknown key 'lint." + key + "'");
  }
  for (auto& id : string_list(doc, lint["disable"], "disable")) {
    check_rule(doc, lint["disable"], id);
    c.disabled.insert(id);
  }
  c.exclude = string_list(doc, lint["exclude"], "exclude");
  if (YAML::Node ig = lint["ignore"]) {
    if (!ig.IsSequence()) doc.fail(ig, "lint.ignore must be a list of {path, rules}");
    for (const auto& e : ig) {
      PathIgnore pi;
      if (e.IsScalar()) {
        pi.glob = e.Scalar();
      } else if (e.IsMap()) {
        pi.glob = doc.get_string(e, "path");
        for (auto& id : string_list(doc, e["rules"], "ignore.rules")) {
          check_rule(doc, e["rules"], id);
          pi.rules.insert(id);
        }
      } else {
        doc.fail(e, "lint.ignore entries are a glob or {path, rules}");
      }
      c.ignore.push_back(pi);
    }
  }
  if (YAML::Node sev = lint["severity"]) {
    if (!sev.IsMap()) doc.fail(sev, "lint.severity must map rule ids to error, warning or note");
    for (const auto& kv : sev) {
      check_rule(doc, kv.first, kv.first.Scalar());
      try {
        c.severity[kv.first.Scalar()] = parse_level(kv.second.Scalar());
      } catch (const ConfigError& e) {
        doc.fail(kv.second, e.message());
      }
    }
  }
  if (lint["max_file_size"]) c.max_file_size = parse_size(doc, lint["max_file_size"]);
  c.history = doc.opt_bool(lint, "history");
  if (auto n = doc.opt_number(lint, "max_commits")) {
    if (*n < 0) doc.fail(lint["max_commits"], "lint.max_commits must be 0 or more");
    c.max_commits = static_cast<size_t>(*n);
  }
  c.fail_on = doc.opt_string(lint, "fail_on");
  if (!c.fail_on) c.fail_on = doc.opt_string(lint, "fail-on");
  if (c.fail_on && *c.fail_on != "error" && *c.fail_on != "warning" && *c.fail_on != "note" && *c.fail_on != "never")
    doc.fail(lint["fail_on"] ? lint["fail_on"] : lint["fail-on"], "lint.fail_on must be error, warning, note or never");
  c.baseline = doc.opt_string(lint, "baseline");
  return c;
}

Config load_config(const std::filesystem::path& file) { return parse_config(files::read(file), file.string()); }

std::set<std::string> load_baseline(const std::filesystem::path& file) {
  std::set<std::string> out;
  json::Document doc = json::parse(files::read(file), file.string());
  const json::Value* list = json::find(doc, "/findings");
  if (!list || !list->IsArray()) throw ConfigError(file.string() + ": a baseline needs a 'findings' array");
  for (auto& f : list->GetArray()) {
    auto fp = json::opt_string(f, "/fingerprint");
    if (!fp) throw ConfigError(file.string() + ": every baseline finding needs a 'fingerprint'");
    out.insert(*fp);
  }
  return out;
}

void write_baseline(const std::filesystem::path& file, const std::vector<Finding>& findings) {
  json::Document doc(rapidjson::kObjectType);
  json::Builder b(doc.GetAllocator());
  b.set(doc, "version", 1);
  json::Value list = b.arr();
  for (auto& f : findings) {
    json::Value o = b.obj();
    b.set(o, "rule", f.rule);
    b.set(o, "path", f.path);
    b.set(o, "fingerprint", f.fingerprint);
    b.push(list, std::move(o));
  }
  b.set(doc, "findings", std::move(list));
  files::write_atomic(file, json::dump(doc, true) + "\n");
}

}  // namespace amlops::lint
