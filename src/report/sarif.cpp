#include "report/sarif.hpp"

#include <algorithm>
#include <stdexcept>

#include "core/json.hpp"
#include "core/log.hpp"

namespace amlops::report::sarif {
namespace {

json::Value text_obj(json::Builder& b, const std::string& text) {
  json::Value o = b.obj();
  b.set(o, "text", text.empty() ? std::string("-") : text);  // empty strings are not accepted
  return o;
}

json::Value region_obj(json::Builder& b, const Region& r) {
  json::Value o = b.obj();
  b.set(o, "startLine", r.start_line < 1 ? 1 : r.start_line);
  if (r.start_column > 0) b.set(o, "startColumn", r.start_column);
  if (r.end_line > 0) b.set(o, "endLine", r.end_line);
  if (r.end_column > 0) b.set(o, "endColumn", r.end_column);
  return o;
}

std::string encode_path(const std::string& p, bool keep_slash) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : p) {
    bool ok = std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/') || c == '@' ||
              c == '+' || c == '=' || c == ',' || c == '!' || c == '$' || c == '&' || c == '\'' || c == '(' ||
              c == ')' || c == '*' || c == ';' || c == ':';
    if (ok) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

}  // namespace

std::string directory_uri(const std::string& absolute_path) {
  std::string p = encode_path(absolute_path, true);
  if (p.empty() || p.back() != '/') p += '/';
  return "file://" + p;
}

std::string relative_uri(const std::string& path) {
  std::string p = encode_path(path, true);
  // A first segment with ':' would read as a scheme.
  if (auto colon = p.find(':'); colon != std::string::npos && p.find('/') > colon) p = "./" + p;
  return p;
}

std::string write(const Run& run) {
  json::Document doc(rapidjson::kObjectType);
  json::Builder b(doc.GetAllocator());
  b.set(doc, "$schema", "https://json.schemastore.org/sarif-2.1.0.json");
  b.set(doc, "version", "2.1.0");

  json::Value driver = b.obj();
  b.set(driver, "name", run.tool_name);
  if (!run.tool_version.empty()) {
    b.set(driver, "version", run.tool_version);
    b.set(driver, "semanticVersion", run.tool_version);
  }
  if (!run.information_uri.empty()) b.set(driver, "informationUri", run.information_uri);
  json::Value rules = b.arr();
  std::map<std::string, int> index;
  for (auto& r : run.rules) {
    index[r.id] = static_cast<int>(index.size());
    json::Value o = b.obj();
    b.set(o, "id", r.id);
    if (!r.name.empty()) b.set(o, "name", r.name);
    b.set(o, "shortDescription", text_obj(b, r.short_description));
    b.set(o, "fullDescription", text_obj(b, r.full_description.empty() ? r.short_description : r.full_description));
    json::Value help = text_obj(b, r.help_text);
    b.set(help, "markdown", r.help_markdown.empty() ? r.help_text : r.help_markdown);
    b.set(o, "help", std::move(help));
    if (!r.help_uri.empty()) b.set(o, "helpUri", r.help_uri);
    json::Value conf = b.obj();
    b.set(conf, "level", r.level);
    b.set(o, "defaultConfiguration", std::move(conf));
    json::Value props = b.obj();
    json::Value tags = b.arr();
    for (auto& t : r.tags) b.push(tags, t);
    b.set(props, "tags", std::move(tags));
    b.set(props, "precision", r.precision);
    if (r.security_severity) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "%.1f", *r.security_severity);
      b.set(props, "security-severity", std::string(buf));
    }
    b.set(o, "properties", std::move(props));
    b.push(rules, std::move(o));
  }
  b.set(driver, "rules", std::move(rules));
  json::Value tool = b.obj();
  b.set(tool, "driver", std::move(driver));

  json::Value results = b.arr();
  for (auto& res : run.results) {
    auto it = index.find(res.rule_id);
    if (it == index.end()) throw std::invalid_argument("SARIF result for unknown rule " + res.rule_id);
    json::Value o = b.obj();
    b.set(o, "ruleId", res.rule_id);
    b.set(o, "ruleIndex", it->second);
    b.set(o, "level", res.level.empty() ? run.rules[static_cast<size_t>(it->second)].level : res.level);
    b.set(o, "message", text_obj(b, res.message));
    json::Value art = b.obj();
    b.set(art, "uri", relative_uri(res.uri));
    if (!run.source_root.empty()) b.set(art, "uriBaseId", "%SRCROOT%");
    json::Value phys = b.obj();
    b.set(phys, "artifactLocation", std::move(art));
    b.set(phys, "region", region_obj(b, res.region));
    json::Value loc = b.obj();
    b.set(loc, "physicalLocation", std::move(phys));
    json::Value locs = b.arr();
    b.push(locs, std::move(loc));
    b.set(o, "locations", std::move(locs));
    if (!res.partial_fingerprints.empty()) {
      json::Value fp = b.obj();
      for (auto& [k, v] : res.partial_fingerprints) b.set(fp, k, v);
      b.set(o, "partialFingerprints", std::move(fp));
    }
    if (!res.fixes.empty()) {
      json::Value fixes = b.arr();
      for (auto& f : res.fixes) {
        json::Value fo = b.obj();
        b.set(fo, "description", text_obj(b, f.description));
        json::Value change = b.obj();
        json::Value fart = b.obj();
        b.set(fart, "uri", relative_uri(f.uri));
        if (!run.source_root.empty()) b.set(fart, "uriBaseId", "%SRCROOT%");
        b.set(change, "artifactLocation", std::move(fart));
        json::Value reps = b.arr();
        for (auto& r : f.replacements) {
          json::Value ro = b.obj();
          b.set(ro, "deletedRegion", region_obj(b, r.deleted));
          if (!r.inserted.empty()) {
            json::Value ins = b.obj();
            b.set(ins, "text", r.inserted);
            b.set(ro, "insertedContent", std::move(ins));
          }
          b.push(reps, std::move(ro));
        }
        b.set(change, "replacements", std::move(reps));
        json::Value changes = b.arr();
        b.push(changes, std::move(change));
        b.set(fo, "artifactChanges", std::move(changes));
        b.push(fixes, std::move(fo));
      }
      b.set(o, "fixes", std::move(fixes));
    }
    if (!res.properties.empty()) {
      json::Value props = b.obj();
      for (auto& [k, v] : res.properties) b.set(props, k, v);
      b.set(o, "properties", std::move(props));
    }
    b.push(results, std::move(o));
  }

  json::Value r = b.obj();
  b.set(r, "tool", std::move(tool));
  b.set(r, "results", std::move(results));
  if (!run.automation_id.empty()) {
    json::Value ad = b.obj();
    b.set(ad, "id", run.automation_id);
    b.set(r, "automationDetails", std::move(ad));
  }
  if (!run.source_root.empty()) {
    json::Value base = b.obj();
    json::Value root = b.obj();
    b.set(root, "uri", run.source_root);
    b.set(base, "%SRCROOT%", std::move(root));
    b.set(r, "originalUriBaseIds", std::move(base));
  }
  if (!run.notifications.empty()) {
    json::Value notes = b.arr();
    for (auto& n : run.notifications) {
      json::Value o = b.obj();
      json::Value d = b.obj();
      b.set(d, "id", n.id);
      b.set(o, "descriptor", std::move(d));
      b.set(o, "level", n.level);
      b.set(o, "message", text_obj(b, n.message));
      b.push(notes, std::move(o));
    }
    json::Value inv = b.obj();
    b.set(inv, "executionSuccessful", true);
    b.set(inv, "toolExecutionNotifications", std::move(notes));
    json::Value invs = b.arr();
    b.push(invs, std::move(inv));
    b.set(r, "invocations", std::move(invs));
  }
  b.set(r, "columnKind", "unicodeCodePoints");
  json::Value runs = b.arr();
  b.push(runs, std::move(r));
  b.set(doc, "runs", std::move(runs));
  return json::dump(doc, true) + "\n";
}

namespace {
int level_rank(const std::string& level) { return level == "error" ? 2 : level == "warning" ? 1 : 0; }
}  // namespace

Run checker_run(const Checker& checker, const std::vector<CheckerRule>& rules, const std::vector<Finding>& findings,
                size_t max_results) {
  Run run;
  run.tool_name = checker.name;
  run.tool_version = checker.version;
  run.information_uri = checker.information_uri;
  if (!checker.root.empty()) run.source_root = directory_uri(checker.root);
  for (const auto& r : rules) {
    Rule s;
    s.id = r.id;
    s.name = r.name;
    s.short_description = r.description;
    s.full_description = r.description + ".";
    s.help_text = r.help;
    s.help_markdown = "**" + r.description + "**\n\n" + r.help;
    s.level = r.level;
    s.tags = r.tags;
    s.precision = r.precision;
    if (r.security) {
      s.tags.push_back("security");
      s.security_severity = 8.0;
      s.precision = "high";
    }
    run.rules.push_back(std::move(s));
  }
  std::vector<const Finding*> order;
  for (const auto& f : findings) order.push_back(&f);
  std::stable_sort(order.begin(), order.end(),
                   [](const Finding* a, const Finding* b) { return level_rank(a->level) > level_rank(b->level); });
  if (order.size() > max_results) {
    log::warn("SARIF: keeping the ", max_results, " most severe of ", order.size(),
              " findings (the code scanning limit)");
    order.resize(max_results);
  }
  for (const Finding* fp : order) {
    const Finding& f = *fp;
    Result res;
    res.rule_id = f.rule;
    res.level = f.level;
    res.message = f.message;
    res.uri = f.path;
    res.region.start_line = f.line;
    res.region.start_column = f.col;
    if (f.end_col > f.col) res.region.end_column = f.end_col;
    if (!f.fingerprint.empty()) res.partial_fingerprints["primaryLocationLineHash"] = f.fingerprint;
    if (!f.commit.empty()) res.properties["commit"] = f.commit;
    if (f.fix) {
      Fix fix;
      fix.description = f.fix->description;
      fix.uri = f.path;
      fix.replacements.push_back({f.fix->deleted, f.fix->text});
      res.fixes.push_back(std::move(fix));
    }
    run.results.push_back(std::move(res));
  }
  return run;
}

}  // namespace amlops::report::sarif
