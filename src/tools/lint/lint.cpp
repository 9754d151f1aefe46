// amlops-lint: `check` a repository and list the `rules`.
#include "lint/lint.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "amlops_version.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/log.hpp"
#include "report/sarif.hpp"
#include "tools/common/cli.hpp"

namespace amlops {
namespace {

namespace fs = std::filesystem;

ci::Severity host_severity(lint::Level l) {
  switch (l) {
    case lint::Level::error:
      return ci::Severity::error;
    case lint::Level::warning:
      return ci::Severity::warning;
    case lint::Level::note:
      return ci::Severity::notice;
  }
  return ci::Severity::notice;
}

std::string sarif_level(lint::Level l) { return std::string(lint::level_name(l)); }

std::string build_sarif(const lint::Report& report) {
  std::vector<report::sarif::CheckerRule> rules;
  for (auto& r : lint::rules()) {
    std::vector<std::string> tags{"ml", std::string(r.category)};
    if (r.category == "aml") tags.push_back("azureml");
    const char* precision = r.category == "repo" || r.category == "code" ? "medium" : "high";
    rules.push_back({std::string(r.id), std::string(r.name), std::string(r.description), std::string(r.help),
                     sarif_level(r.level), std::move(tags), precision, r.security});
  }
  std::vector<report::sarif::Finding> findings;
  for (auto& f : report.findings) {
    report::sarif::Finding s{f.rule,    sarif_level(f.level), f.message, f.path,      f.line, f.col,
                             f.end_col, f.fingerprint,        f.commit,  std::nullopt};
    if (f.fix)
      s.fix = report::sarif::CheckerFix{
          f.fix->description, {f.fix->line, f.fix->col, f.fix->end_line, f.fix->end_col}, f.fix->text};
    findings.push_back(std::move(s));
  }
  const report::sarif::Checker checker{"amlops-lint", kVersion,
                                       "https://github.com/amlops/amlops/blob/main/docs/lint.md", report.root.string()};
  auto run = report::sarif::checker_run(checker, rules, findings);
  for (auto& n : report.notes) run.notifications.push_back({n.id, sarif_level(n.level), n.message});
  return report::sarif::write(run);
}

json::Value finding_json(json::Builder& b, const lint::Finding& f) {
  json::Value o = b.obj();
  b.set(o, "rule", f.rule);
  b.set(o, "level", std::string(lint::level_name(f.level)));
  b.set(o, "path", f.path);
  b.set(o, "line", f.line);
  b.set(o, "col", f.col);
  if (f.end_col) b.set(o, "end_col", f.end_col);
  b.set(o, "message", f.message);
  if (!f.commit.empty()) b.set(o, "commit", f.commit);
  b.set(o, "fingerprint", f.fingerprint);
  if (f.fix) {
    json::Value x = b.obj();
    b.set(x, "description", f.fix->description);
    b.set(x, "line", f.fix->line);
    b.set(x, "col", f.fix->col);
    b.set(x, "end_line", f.fix->end_line);
    b.set(x, "end_col", f.fix->end_col);
    b.set(x, "text", f.fix->text);
    b.set(o, "fix", std::move(x));
  }
  return o;
}

std::string md_escape(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n')
      out += ' ';
    else
      out += c;
  }
  return out;
}

int check(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "check",
                   "Checks an ML repository: Azure ML YAML, training code, secrets (tree and history), "
                   "dependencies and CI pipelines.",
                   "[PATH]");
  cmd.options()("path", cli::po::value<std::string>()->default_value("."), "repository or folder to check")(
      "format", cli::po::value<std::string>(), "text, json or sarif (default: --output)")(
      "sarif-file", cli::po::value<std::string>(), "also write SARIF 2.1.0 to this file")(
      "fail-on", cli::po::value<std::string>(),
      "exit 1 when a finding is at or above: error (default), warning, note, never")(
      "config", cli::po::value<std::string>(),
      "amlops.yml with a lint: section (default: PATH/amlops.yml when present)")(
      "baseline", cli::po::value<std::string>(), "JSON baseline: findings listed there are not reported")(
      "update-baseline", cli::po::bool_switch(), "write every current finding to --baseline and exit 0")(
      "no-history", cli::po::bool_switch(), "do not scan git history (secrets, large blobs)")(
      "history-depth", cli::po::value<size_t>(),
      "scan only the newest N commits of history (default 0: all the clone has)")(
      "max-commits", cli::po::value<size_t>(), "old name of --history-depth");
  cmd.positional("path");
  if (!cmd.parse(args)) return 0;

  lint::Options opt;
  opt.path = cmd.str("path");
  if (!fs::is_directory(opt.path)) throw UsageError("PATH '" + opt.path.string() + "' is not a directory");
  if (cmd.has("config")) {
    fs::path c = cmd.str("config");
    if (!fs::exists(c)) throw UsageError("--config " + c.string() + " does not exist");
    opt.config = lint::load_config(c);
  } else if (fs::exists(opt.path / "amlops.yml")) {
    opt.config = lint::load_config(opt.path / "amlops.yml");
  }
  std::string fail_on = cmd.has("fail-on") ? cmd.str("fail-on") : opt.config.fail_on.value_or("error");
  if (fail_on != "error" && fail_on != "warning" && fail_on != "note" && fail_on != "never")
    throw UsageError("--fail-on must be error, warning, note or never, not '" + fail_on + "'");
  std::string format = cmd.has("format") ? cmd.str("format") : (ctx.format == OutputFormat::json ? "json" : "text");
  if (format != "text" && format != "json" && format != "sarif")
    throw UsageError("--format must be text, json or sarif, not '" + format + "'");
  if (format == "json") ctx.format = OutputFormat::json;
  opt.history = !cmd.flag("no-history") && opt.config.history.value_or(true);
  if (cmd.has("max-commits")) opt.config.max_commits = cmd.get<size_t>("max-commits");
  if (cmd.has("history-depth")) opt.config.max_commits = cmd.get<size_t>("history-depth");
  bool update = cmd.flag("update-baseline");
  if (cmd.has("baseline"))
    opt.baseline = fs::path(cmd.str("baseline"));
  else if (opt.config.baseline)
    opt.baseline = opt.path / *opt.config.baseline;
  if (update && !opt.baseline) throw UsageError("--update-baseline needs --baseline FILE");
  if (opt.baseline && !update && cmd.has("baseline") && !fs::exists(*opt.baseline))
    throw UsageError("--baseline " + opt.baseline->string() + " does not exist (create it with --update-baseline)");

  std::optional<fs::path> baseline_out;
  if (update) {
    baseline_out = opt.baseline;
    opt.baseline.reset();
  }
  lint::Report report = lint::check(opt);
  if (baseline_out) {
    lint::write_baseline(*baseline_out, report.findings);
    log::info("wrote ", report.findings.size(), " findings to the baseline ", baseline_out->string());
    return 0;
  }

  size_t counts[3] = {0, 0, 0};
  for (auto& f : report.findings) ++counts[static_cast<int>(f.level)];

  if (cmd.has("sarif-file")) {
    files::write_atomic(cmd.str("sarif-file"), build_sarif(report));
    ctx.host.set_output("sarif-file", cmd.str("sarif-file"));
  }

  // CI host: the most severe findings as annotations (the host caps them), the full table in the summary.
  if (ctx.host.kind() != ci::Kind::terminal) {
    std::vector<const lint::Finding*> order;
    for (auto& f : report.findings) order.push_back(&f);
    std::stable_sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->level > b->level; });
    for (auto* f : order) {
      ci::Annotation a;
      a.severity = host_severity(f->level);
      a.message = f->message;
      a.file = f->path;
      a.line = f->line;
      a.col = f->col;
      a.end_line = f->line;
      a.end_col = f->end_col;
      a.title = f->rule + " " + std::string(lint::find_rule(f->rule) ? lint::find_rule(f->rule)->description : "");
      a.code = f->rule;
      ctx.host.annotate(a);
    }
    std::ostringstream md;
    md << "### amlops-lint\n\n"
       << counts[2] << " errors, " << counts[1] << " warnings, " << counts[0] << " notes in " << report.files_scanned
       << " files";
    if (report.commits_scanned) md << " and " << report.commits_scanned << " commits";
    md << "\n\n";
    for (auto& n : report.notes) md << "> **" << lint::level_name(n.level) << "**: " << md_escape(n.message) << "\n\n";
    if (!report.findings.empty()) {
      md << "| severity | rule | location | message |\n|---|---|---|---|\n";
      size_t n = 0;
      for (auto* f : order) {
        if (++n > 1000) {
          md << "\n_" << report.findings.size() - 1000 << " more findings: see the SARIF or JSON output._\n";
          break;
        }
        md << "| " << lint::level_name(f->level) << " | " << f->rule << " | `" << md_escape(f->path) << ":" << f->line
           << "` | " << md_escape(f->message) << " |\n";
      }
    }
    ctx.host.summary(md.str());
    ctx.host.set_output("findings", std::to_string(report.findings.size()));
    ctx.host.set_output("errors", std::to_string(counts[2]));
  }

  if (format == "sarif") {
    ctx.out << build_sarif(report);
    ctx.out.flush();
  } else {
    json::Document doc(rapidjson::kObjectType);
    json::Builder b(doc.GetAllocator());
    json::Value list = b.arr();
    for (auto& f : report.findings) b.push(list, finding_json(b, f));
    b.set(doc, "findings", std::move(list));
    json::Value notes = b.arr();
    for (auto& n : report.notes) {
      json::Value o = b.obj();
      b.set(o, "id", n.id);
      b.set(o, "level", std::string(lint::level_name(n.level)));
      b.set(o, "message", n.message);
      b.push(notes, std::move(o));
    }
    b.set(doc, "notes", std::move(notes));
    json::Value s = b.obj();
    b.set(s, "errors", static_cast<uint64_t>(counts[2]));
    b.set(s, "warnings", static_cast<uint64_t>(counts[1]));
    b.set(s, "notes", static_cast<uint64_t>(counts[0]));
    b.set(s, "files", static_cast<uint64_t>(report.files_scanned));
    b.set(s, "commits", static_cast<uint64_t>(report.commits_scanned));
    b.set(s, "blobs", static_cast<uint64_t>(report.blobs_scanned));
    b.set(s, "suppressed", static_cast<uint64_t>(report.suppressed));
    b.set(s, "seconds", report.seconds);
    json::Value h = b.obj();
    b.set(h, "mode", report.history.mode);
    if (report.history.depth) b.set(h, "depth", static_cast<uint64_t>(report.history.depth));
    b.set(h, "complete", report.history.complete);
    b.set(h, "shallow", report.history.shallow);
    b.set(h, "partial", report.history.partial);
    if (!report.history.filter.empty()) b.set(h, "filter", report.history.filter);
    b.set(h, "blobs_not_scanned", static_cast<uint64_t>(report.history.blobs_not_scanned));
    b.set(h, "commits_not_scanned", static_cast<uint64_t>(report.history.commits_not_scanned));
    b.set(s, "history", std::move(h));
    b.set(doc, "summary", std::move(s));
    ctx.emit(doc, [&](std::ostream& os) {
      for (auto& f : report.findings) {
        os << f.path << ":" << f.line << ":" << f.col << ": " << lint::level_name(f.level) << " " << f.rule << " "
           << f.message << "\n";
      }
      for (auto& n : report.notes) os << lint::level_name(n.level) << ": " << n.message << "\n";
      char secs[32];
      std::snprintf(secs, sizeof secs, "%.2f", report.seconds);
      os << counts[2] << " errors, " << counts[1] << " warnings, " << counts[0] << " notes (" << report.files_scanned
         << " files";
      if (report.commits_scanned) os << ", " << report.commits_scanned << " commits";
      if (report.suppressed) os << ", " << report.suppressed << " suppressed";
      os << ", " << secs << " s)\n";
    });
  }

  lint::Level threshold = fail_on == "never" ? lint::Level::note : lint::parse_level(fail_on);
  if (fail_on != "never") {
    size_t at_or_above = 0;
    for (auto& f : report.findings)
      if (f.level >= threshold) ++at_or_above;
    if (at_or_above) throw CheckFailed(std::to_string(at_or_above) + " finding(s) at or above " + fail_on);
  }
  return 0;
}

int rules_cmd(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "rules", "Lists the rules: id, default severity, description and how to fix.");
  if (!cmd.parse(args)) return 0;
  json::Document doc(rapidjson::kArrayType);
  json::Builder b(doc.GetAllocator());
  for (auto& r : lint::rules()) {
    json::Value o = b.obj();
    b.set(o, "id", std::string(r.id));
    b.set(o, "name", std::string(r.name));
    b.set(o, "category", std::string(r.category));
    b.set(o, "level", std::string(lint::level_name(r.level)));
    b.set(o, "description", std::string(r.description));
    b.set(o, "help", std::string(r.help));
    b.push(doc, std::move(o));
  }
  ctx.emit(doc, [&](std::ostream& os) {
    for (auto& r : lint::rules()) {
      os << r.id << std::string(r.id.size() < 8 ? 8 - r.id.size() : 1, ' ') << lint::level_name(r.level)
         << std::string(9 - lint::level_name(r.level).size(), ' ') << r.description << "\n        fix: " << r.help
         << "\n";
    }
  });
  return 0;
}

}  // namespace

int run_lint(Context& ctx, const std::vector<std::string>& args) {
  return cli::dispatch(ctx, "amlops-lint: code-quality and MLOps-readiness checks of an ML repository",
                       {{"check", "check a repository (exit 1 on findings at or above --fail-on)", check},
                        {"rules", "list the rules with their ids and fixes", rules_cmd}},
                       args);
}

}  // namespace amlops
