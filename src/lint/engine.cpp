// The engine: which files, which rules, history, suppression, fingerprints, order.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <unordered_map>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/hash.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "core/yaml.hpp"
#include "git/repo.hpp"
#include "lint/internal.hpp"
#include "spec/refs.hpp"

namespace amlops::lint {
namespace {

namespace fs = std::filesystem;
using namespace detail;

constexpr uint64_t kMaxScanBytes = 4 * 1024 * 1024;  // content rules skip bigger files (REPO001 reports them)

bool binary(std::string_view s) { return std::memchr(s.data(), '\0', std::min<size_t>(s.size(), 8000)) != nullptr; }

std::string base_name(const std::string& p) {
  size_t s = p.rfind('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}

bool is_test_path(const std::string& p) {
  std::string b = base_name(p);
  return p.rfind("tests/", 0) == 0 || p.rfind("test/", 0) == 0 || p.find("/tests/") != std::string::npos ||
         p.find("/test/") != std::string::npos || (starts_with(b, "test_") && ends_with(b, ".py")) ||
         ends_with(b, "_test.py") || b == "conftest.py";
}

// "# amlops-lint: disable=ID1,ID2" on the line (or alone on the line before), "disable-file=" anywhere.
bool directive_covers(std::string_view line, std::string_view kind, const std::string& rule) {
  size_t p = line.find("amlops-lint:");
  if (p == std::string_view::npos) return false;
  std::string_view rest = line.substr(p + 12);
  rest = str::trim(rest);
  if (!starts_with(rest, kind)) return false;
  rest.remove_prefix(kind.size());
  rest = str::trim(rest);
  if (rest.empty() || rest[0] != '=') return false;
  rest.remove_prefix(1);
  size_t e = 0;
  while (e < rest.size() && (std::isalnum(static_cast<unsigned char>(rest[e])) || rest[e] == ',' || rest[e] == ' '))
    ++e;
  for (auto& id : str::split(rest.substr(0, e), ',')) {
    std::string t(str::trim(id));
    if (t == rule || t == "all") return true;
  }
  return false;
}

bool inline_suppressed(const Text& text, int line, const std::string& rule) {
  std::string_view data = text.data();
  if (data.find("amlops-lint:") == std::string_view::npos) return false;
  if (directive_covers(text.line(line), "disable", rule)) return true;
  if (line > 1) {
    std::string_view prev = text.line(line - 1);
    std::string_view t = str::trim(prev);
    if ((starts_with(t, "#") || starts_with(t, "//")) &&
        (directive_covers(prev, "disable", rule) || directive_covers(prev, "disable-next-line", rule)))
      return true;
  }
  size_t p = 0;
  while ((p = data.find("amlops-lint:", p)) != std::string_view::npos) {
    size_t e = data.find('\n', p);
    if (directive_covers(data.substr(p, e == std::string_view::npos ? std::string_view::npos : e - p), "disable-file",
                         rule))
      return true;
    p += 12;
  }
  return false;
}

std::string line_key(const Finding& f, const Text* text) {
  std::string content = text ? std::string(str::trim(text->line(f.line))) : std::string();
  return f.rule + '\0' + f.path + '\0' + content;
}

struct Scanner {
  const Options& opt;
  Workspace ws;
  std::string prefix;  // scanned sub-folder of the repository ("" = all)
  std::vector<Finding> tree;
  std::vector<Finding> history;
  Report report;
  std::vector<spec::Glob> exclude = {opt.config.exclude.begin(), opt.config.exclude.end()};

  bool wanted(const std::string& rel) const {
    if (!prefix.empty() && rel.rfind(prefix, 0) != 0) return false;
    // Vendored third-party code (even when committed) is not the project's: its READMEs are full of sample tokens.
    for (std::string_view dir : {"node_modules/", "site-packages/", "bower_components/", ".venv/"})
      if (rel.rfind(dir, 0) == 0 || rel.find("/" + std::string(dir)) != std::string::npos) return false;
    for (auto& g : exclude)
      if (g.covers(rel)) return false;
    return true;
  }

  void list_files(const std::optional<git::Repo>& repo) {
    if (repo) {
      for (auto& f : repo->tracked_files())
        if (wanted(f)) ws.files.push_back(f);
      return;
    }
    static const std::set<std::string> skip = {".git",        "node_modules",  ".venv",
                                               "venv",        "__pycache__",   ".tox",
                                               ".mypy_cache", ".pytest_cache", ".ipynb_checkpoints"};
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(ws.root, fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) break;
      std::string name = it->path().filename().string();
      if (it->is_directory(ec)) {
        bool hidden = !name.empty() && name[0] == '.' && name != ".github" && name != ".azuredevops" &&
                      name != ".pipelines" && name != ".azure-pipelines";
        if (skip.count(name) || hidden) it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file(ec)) continue;
      std::string rel = ws.rel(it->path());
      if (wanted(rel)) ws.files.push_back(rel);
    }
    std::sort(ws.files.begin(), ws.files.end());
  }

  void read_files(Sink& sink) {
    for (auto& rel : ws.files) {
      fs::path abs = ws.root / rel;
      std::error_code ec;
      if (fs::is_symlink(abs, ec) || !fs::is_regular_file(abs, ec)) continue;
      uint64_t size = fs::file_size(abs, ec);
      if (ec) continue;
      ++report.files_scanned;
      if (size > opt.config.max_file_size) {
        sink.add("REPO001", rel, 1, 1,
                 "file is " + std::to_string(size / 1024) + " KiB (limit " +
                     std::to_string(opt.config.max_file_size / 1024) + " KiB)");
        continue;
      }
      if (size > kMaxScanBytes) continue;
      std::string content;
      try {
        content = files::read(abs);
      } catch (const std::exception&) {
        continue;
      }
      if (binary(content)) continue;
      ws.texts.emplace(rel, std::move(content));
    }
  }

  void file_rules(Sink& sink, AmlState& aml) {
    std::set<std::string> conda;
    for (auto& [rel, content] : ws.texts) {
      scan_secrets(rel, content, sink);
      std::string b = base_name(rel);
      if (ends_with(rel, ".py")) {
        check_python_code(rel, content, nullptr, sink);
      } else if (ends_with(rel, ".ipynb")) {
        if (auto nb = notebook_code(content)) {
          Text raw(content);
          check_python_code(rel, nb->python, &nb->raw_line, sink, &raw);
        }
      } else if (ends_with(b, ".txt") &&
                 (starts_with(b, "requirements") || rel.find("requirements/") != std::string::npos)) {
        check_requirements(rel, content, sink);
      } else if (ends_with(rel, ".yml") || ends_with(rel, ".yaml")) {
        // Templates filled in by scripts ({{ENDPOINT_NAME}}, Jinja) are not YAML until rendered.
        static const Regex placeholder(R"((?<![$\w])\{\{\s*[A-Za-z_][\w.]*\s*\}\})");
        Regex::Match pm;
        if (placeholder.search(content, 0, pm)) continue;
        // Every document of a multi-document file ("---"); marks count lines from the file's start.
        std::vector<YAML::Node> docs;
        try {
          docs = YAML::LoadAll(content);
        } catch (const YAML::Exception& e) {
          bool pipeline = rel.find(".github/workflows/") != std::string::npos || starts_with(b, "azure-pipelines") ||
                          rel.find(".azuredevops/") != std::string::npos ||
                          rel.find("devops-pipelines/") != std::string::npos ||
                          rel.find("github-actions/") != std::string::npos;
          if (pipeline || looks_like_aml_text(content))
            sink.add(pipeline ? "PIPE007" : "AML001", rel, e.mark.is_null() ? 1 : e.mark.line + 1,
                     e.mark.is_null() ? 1 : e.mark.column + 1, "YAML syntax error: " + e.msg);
          continue;
        }
        Text text(content);
        for (const YAML::Node& root : docs) {
          if (check_aml(ws, rel, root, text, sink, aml)) continue;
          if (rel.find(".github/workflows/") != std::string::npos && check_github_workflow(rel, root, text, sink))
            continue;
          if (check_azure_pipeline(rel, root, text, sink)) continue;
          if (check_github_workflow(rel, root, text, sink)) continue;
          if (looks_like_conda(root)) conda.insert(rel);
        }
      }
    }
    for (auto& c : aml.conda_files) conda.insert(c);
    for (auto& rel : conda) {
      const std::string* content = ws.text(rel);
      if (!content) continue;
      try {
        for (const YAML::Node& root : YAML::LoadAll(*content))
          if (root.IsMap() && root["dependencies"] && root["dependencies"].IsSequence()) check_conda(rel, root, sink);
      } catch (const YAML::Exception&) {
      }
    }
  }

  void training_rules(Sink& sink, const AmlState& aml) {
    // Training code: train*.py, and job entry scripts named like training.
    std::set<std::string> training_set, parsed_set;
    for (auto& s : aml.entry_scripts)
      if (base_name(s).find("train") != std::string::npos) training_set.insert(s);
    for (auto& [rel, content] : ws.texts) {
      std::string b = base_name(rel);
      if (starts_with(b, "train") && ends_with(b, ".py") && !is_test_path(rel)) training_set.insert(rel);
    }
    // Scripts that should parse arguments: training code, and entry scripts the job passes arguments to.
    parsed_set = training_set;
    for (auto& s : aml.entry_scripts_with_args) parsed_set.insert(s);
    std::vector<std::string> training(training_set.begin(), training_set.end());
    for (auto& rel : parsed_set) {
      const std::string* content = ws.text(rel);
      if (content && !scan_argparse(*content).parses_arguments())
        sink.add("CODE002", rel, 1, 1,
                 training_set.count(rel) ? "training script reads no command-line arguments (argparse, click, hydra...)"
                                         : "the job passes arguments to this script, but it reads none");
    }
    if (training.empty()) return;
    std::vector<std::string> tests;
    for (auto& f : ws.files)
      if (is_test_path(f) && ends_with(f, ".py")) tests.push_back(f);
    if (tests.empty()) {
      sink.add("REPO005", training.front(), 1, 1, "no tests folder or test_*.py file for the training code");
      return;
    }
    for (auto& rel : training) {
      std::string stem = base_name(rel);
      stem = stem.substr(0, stem.size() - 3);
      Regex mention("(?:import|from)\\s+[\\w.]*\\b" + stem + "\\b|\\b" + stem + "\\.py\\b|\\b" + stem + "\\.main\\b");
      bool covered = false;
      for (auto& t : tests) {
        const std::string* text = ws.text(t);
        Regex::Match m;
        if (text && mention.search(*text, 0, m)) {
          covered = true;
          break;
        }
      }
      if (!covered) sink.add("REPO005", rel, 1, 1, "no test imports or runs '" + stem + "'");
    }
  }

  void history_rules(const git::Repo& repo) {
    std::unordered_map<std::string, Finding> found;  // line key -> oldest finding
    std::set<std::string> commits_missing_blobs;     // commits adding blobs this clone does not have
    std::vector<Finding> local;
    git::HistoryOptions ho;
    ho.max_commits = opt.config.max_commits;
    git::HistoryCoverage cov = repo.walk_history(
        [&](const git::HistoryBlob& b) {
          if (!wanted(b.path)) return;
          if (!b.available) {  // a partial clone's missing blob: counted, never fetched
            ++report.history.blobs_not_scanned;
            commits_missing_blobs.insert(b.commit->id);
            return;
          }
          ++report.blobs_scanned;
          if (b.size > opt.config.max_file_size) {
            std::error_code ec;
            fs::path abs = ws.root / b.path;
            bool in_tree = fs::exists(abs, ec) && fs::file_size(abs, ec) == b.size;
            if (!in_tree) {
              Finding f;
              f.rule = "REPO002";
              f.level = find_rule("REPO002")->level;
              f.path = b.path;
              f.commit = b.commit->id;
              f.message = "blob of " + std::to_string(b.size / 1024) + " KiB added in commit " +
                          b.commit->id.substr(0, 12) + " (" + b.commit->summary.substr(0, 60) + ")";
              found[f.rule + '\0' + f.path + '\0' + b.blob_id] = f;
            }
            return;
          }
          if (b.size > kMaxScanBytes) return;
          std::string content = b.load();
          if (binary(content)) return;
          local.clear();
          Sink s{local, b.commit->id};
          scan_secrets(b.path, content, s);
          if (local.empty()) return;
          Text text(content);
          for (auto& f : local) {
            if (inline_suppressed(text, f.line, f.rule)) {
              ++report.suppressed;
              continue;
            }
            f.fingerprint = line_key(f, &text);
            found[f.fingerprint] = f;  // newest first: the last one written is the oldest commit
          }
        },
        ho);
    report.commits_scanned = cov.commits;
    for (auto& [k, f] : found) history.push_back(f);
    history_notes(cov, commits_missing_blobs.size());
  }

  // What the clone did not let the scan see, with how to get a full scan on CI.
  void history_notes(const git::HistoryCoverage& cov, size_t commits_missing_blobs) {
    HistoryScan& h = report.history;
    h.shallow = cov.shallow;
    h.partial = cov.partial;
    h.filter = cov.filter;
    h.commits_not_scanned = commits_missing_blobs + cov.unreadable_commits;
    h.complete = !cov.truncated && !cov.boundary_commits && !h.commits_not_scanned;
    auto plural = [](size_t n, const std::string& what) {
      return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
    };
    if (h.blobs_not_scanned || cov.unreadable_commits) {
      std::string what;
      if (h.blobs_not_scanned)
        what = plural(h.blobs_not_scanned, "blob") + " added in " + plural(commits_missing_blobs, "commit");
      if (cov.unreadable_commits)
        what += (what.empty() ? "" : " and ") + plural(cov.unreadable_commits, "commit") + " whose trees it lacks";
      std::string clone = cov.partial
                              ? "this partial clone" + (cov.filter.empty() ? "" : " (--filter=" + cov.filter + ")")
                              : "this clone";
      report.notes.push_back(
          {cov.partial ? "history-partial-clone" : "history-missing-objects", Level::note,
           "history not scanned: " + what + ", which " + clone +
               " does not have; amlops-lint does not fetch them. For a full scan, clone without a filter "
               "(actions/checkout: fetch-depth: 0 and no filter; Azure Pipelines: fetchDepth: 0 and no fetchFilter)."});
    }
    if (cov.truncated) {
      report.notes.push_back(
          {"history-depth", Level::note,
           "history: scanned the newest " + plural(cov.commits, "commit") + " (--history-depth " +
               std::to_string(opt.config.max_commits) +
               " or lint.max_commits); older history was not scanned. Without --history-depth the whole history "
               "the clone has is scanned."});
    } else if (cov.boundary_commits) {
      report.notes.push_back(
          {"history-shallow", Level::note,
           "history: " + std::string(cov.shallow ? "shallow clone: " : "") + "scanned the " +
               plural(cov.commits, "commit") +
               " it has; older history was not scanned. For a full scan, fetch the whole history "
               "(actions/checkout: fetch-depth: 0; Azure Pipelines: fetchDepth: 0; or git fetch --unshallow)."});
    }
  }
};

void fingerprint(std::vector<Finding>& findings, const Workspace& ws) {
  std::unordered_map<std::string, int> occurrences;
  for (auto& f : findings) {
    std::string key = f.fingerprint;
    if (key.empty()) {
      const std::string* content = ws.text(f.path);
      std::unique_ptr<Text> text;
      if (content) text = std::make_unique<Text>(*content);
      key = line_key(f, text.get());
    }
    int n = ++occurrences[key];
    f.fingerprint = hash::sha256_hex(key).substr(0, 16) + ":" + std::to_string(n);
  }
}

}  // namespace

Report check(const Options& opt) {
  auto t0 = std::chrono::steady_clock::now();
  std::error_code ec;
  fs::path start = fs::absolute(opt.path, ec);
  if (ec || !fs::exists(start)) throw UsageError("path '" + opt.path.string() + "' does not exist");
  start = fs::canonical(start);
  if (!fs::is_directory(start)) throw UsageError("path '" + opt.path.string() + "' is not a directory");

  Scanner sc{opt, {}, {}, {}, {}, {}};
  std::optional<git::Repo> repo;
  try {
    repo = git::Repo::discover(start);
  } catch (const GitError& e) {  // e.g. a repository format this libgit2 does not read: check the files anyway
    sc.report.notes.push_back({"git-unreadable", Level::warning,
                               std::string("git: the repository could not be opened (") + e.what() +
                                   "); its files were checked as a plain folder, without history."});
  }
  if (repo) {
    sc.ws.root = fs::canonical(repo->workdir());
    std::string rel = start.lexically_relative(sc.ws.root).generic_string();
    if (rel != "." && !rel.empty()) sc.prefix = rel + "/";
    sc.report.git = true;
  } else {
    sc.ws.root = start;
  }
  sc.report.root = sc.ws.root;
  sc.list_files(repo);

  Sink sink{sc.tree, {}};
  sc.read_files(sink);
  AmlState aml;
  sc.file_rules(sink, aml);
  sc.training_rules(sink, aml);

  // Inline suppression of working-tree findings.
  std::vector<Finding> kept;
  {
    std::unordered_map<std::string, std::unique_ptr<Text>> texts;
    for (auto& f : sc.tree) {
      const std::string* content = sc.ws.text(f.path);
      if (content) {
        auto& t = texts[f.path];
        if (!t) t = std::make_unique<Text>(*content);
        if (inline_suppressed(*t, f.line, f.rule)) {
          ++sc.report.suppressed;
          continue;
        }
      }
      kept.push_back(std::move(f));
    }
  }
  fingerprint(kept, sc.ws);

  if (opt.history && repo) {
    sc.report.history.mode = opt.config.max_commits ? "depth" : "full";
    sc.report.history.depth = opt.config.max_commits;
    // The working tree's findings never depend on the history being readable.
    try {
      sc.history_rules(*repo);
    } catch (const GitError& e) {
      sc.history.clear();
      sc.report.notes.push_back(
          {"history-unreadable", Level::warning,
           std::string("history: not scanned (") + e.what() + "); the working tree was checked."});
    }
    // A secret still in the working tree is reported there, not again for history.
    std::set<std::string> tree_keys;
    for (auto& f : kept) tree_keys.insert(f.fingerprint.substr(0, f.fingerprint.find(':')));
    for (auto& f : sc.history) {
      std::string key = f.fingerprint.empty() ? f.rule + '\0' + f.path + '\0' + f.commit : f.fingerprint;
      f.fingerprint = hash::sha256_hex(key).substr(0, 16);
      if (tree_keys.count(f.fingerprint)) continue;
      f.fingerprint += ":1";
      kept.push_back(std::move(f));
    }
  }

  // Configuration and baseline.
  std::set<std::string> baseline;
  if (opt.baseline && fs::exists(*opt.baseline)) baseline = load_baseline(*opt.baseline);
  for (auto& f : kept) {
    if (opt.config.disabled.count(f.rule)) {
      ++sc.report.suppressed;
      continue;
    }
    bool ignored = std::any_of(opt.config.ignore.begin(), opt.config.ignore.end(), [&](const PathIgnore& pi) {
      return (pi.rules.empty() || pi.rules.count(f.rule)) && spec::glob_match(pi.glob, f.path);
    });
    if (ignored) {
      ++sc.report.suppressed;
      continue;
    }
    if (baseline.count(f.fingerprint)) {
      ++sc.report.suppressed;
      ++sc.report.baselined;
      continue;
    }
    if (auto it = opt.config.severity.find(f.rule); it != opt.config.severity.end()) f.level = it->second;
    sc.report.findings.push_back(std::move(f));
  }
  std::sort(sc.report.findings.begin(), sc.report.findings.end(), [](const Finding& a, const Finding& b) {
    return std::tie(a.path, a.line, a.col, a.rule, a.commit) < std::tie(b.path, b.line, b.col, b.rule, b.commit);
  });
  sc.report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return std::move(sc.report);
}

}  // namespace amlops::lint
