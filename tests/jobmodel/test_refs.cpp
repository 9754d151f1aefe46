// spec/refs.hpp, shared by the job loader and amlops-lint: globs (lint excludes and ignores,
// .amlignore), local paths versus remote references, and ${{ }} bindings.
#include <boost/test/unit_test.hpp>
#include <filesystem>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/json.hpp"
#include "spec/code_asset.hpp"
#include "spec/job.hpp"
#include "spec/refs.hpp"

using namespace amlops;
using spec::Binding;

BOOST_AUTO_TEST_SUITE(spec_refs)

struct GlobCase {
  const char* pattern;
  const char* path;
  bool matches;  // the path itself
  bool covers;   // the path or a parent folder (lint's exclude/ignore)
};

BOOST_AUTO_TEST_CASE(glob_table) {
  const GlobCase cases[] = {
      {"legacy/**", "legacy/a/b.py", true, true},
      {"legacy/**", "legacy", false, false},  // inside the folder only
      {"legacy/**", "legacyx/a.py", false, false},
      {"legacy", "legacy/a.py", false, true},
      {"legacy", "src/legacy", true, true},  // no '/': any depth
      {"*.ipynb", "notebooks/x.ipynb", true, true},
      {"*.ipynb", "x.ipynb.bak", false, false},
      {"src/*.py", "src/a/b.py", false, false},  // '*' stays within a segment
      {"src/*.py", "src/a.py", true, true},
      {"src/*.py", "lib/src/a.py", false, false},  // a '/' inside anchors
      {"**/test_*.py", "test_a.py", true, true},
      {"**/test_*.py", "a/b/test_x.py", true, true},
      {"data/", "data/big.csv", false, true},
      {"data/", "x/data", true, true},  // trailing '/' alone does not anchor
      {"d?ta/*", "data/x", true, true},
      {"d?ta/*", "data/x/y", false, true},
      {"/src/**", "src/x/y", true, true},
      {"/build", "src/build", false, false},
      {"docs/**/*.md", "docs/a.md", true, true},
      {"docs/**/*.md", "docs/x/y/a.md", true, true},
      {"docs/**/*.md", "docs/a.txt", false, false},
      {"*.[ch]", "src/x.c", true, true},  // character classes
      {"*.[ch]", "src/x.o", false, false},
      {"\\#hash", "#hash", true, true},
      {"", "anything", false, false},
      {"/", "anything", false, false},
  };
  for (auto& c : cases) {
    BOOST_TEST_CONTEXT("'" << c.pattern << "' ~ '" << c.path << "'") {
      spec::Glob g(c.pattern);
      BOOST_TEST(g.matches(c.path) == c.matches);
      BOOST_TEST(g.covers(c.path) == c.covers);
      BOOST_TEST(spec::glob_match(c.pattern, c.path) == c.covers);
    }
  }
}

BOOST_AUTO_TEST_CASE(amlignore_uses_the_same_globs) {
  auto r = spec::IgnoreRules::parse("*.pyc\n/build/\n!keep.pyc\n");
  BOOST_TEST(r.size() == 3u);
  BOOST_TEST(r.ignored("deep/a.pyc", false));
  BOOST_TEST(!r.ignored("keep.pyc", false));
  BOOST_TEST(r.ignored("build", true));
  BOOST_TEST(!r.ignored("build", false));
  BOOST_TEST(!r.ignored("src/build", true));
}

struct LocalCase {
  const char* value;
  const char* local;  // nullptr: not a local path
};

BOOST_AUTO_TEST_CASE(local_path_table) {
  const LocalCase cases[] = {
      {"./data", "./data"},
      {"../src", "../src"},
      {"data/train.csv", "data/train.csv"},
      {"/abs/path", "/abs/path"},
      {"file:./components/train.yml", "./components/train.yml"},
      {"C:\\data\\x.csv", "C:\\data\\x.csv"},
      {"", nullptr},
      {"file:", nullptr},
      {"azureml:churn:1", nullptr},
      {"azureml://datastores/ws/paths/x", nullptr},
      {"azureml:/subscriptions/s/x", nullptr},
      {"https://a.blob.core.windows.net/c/x", nullptr},
      {"http:example", nullptr},
      {"wasbs://c@a.blob.core.windows.net/x", nullptr},
      {"abfss://fs@a.dfs.core.windows.net/x", nullptr},
      {"s3://bucket/x", nullptr},
      {"file:///tmp/x", nullptr},
      {"git+https://github.com/a/b", nullptr},
      {"${{parent.inputs.data}}", nullptr},
      {"./x/${{inputs.y}}", nullptr},
  };
  for (auto& c : cases) {
    BOOST_TEST_CONTEXT("'" << c.value << "'") {
      auto got = spec::local_path(c.value);
      BOOST_TEST(got.has_value() == (c.local != nullptr));
      if (got && c.local) BOOST_TEST(*got == c.local);
      BOOST_TEST(spec::is_local_path(c.value) == (c.local != nullptr));
    }
  }
}

struct BindingCase {
  const char* expr;
  Binding::Kind kind;
  const char* job;
  const char* name;
  bool parent;
};

BOOST_AUTO_TEST_CASE(binding_table) {
  using K = Binding::Kind;
  const BindingCase cases[] = {
      {"inputs.lr", K::input, "", "lr", false},
      {" inputs.lr ", K::input, "", "lr", false},
      {"outputs.model", K::output, "", "model", false},
      {"search_space.batch", K::search_space, "", "batch", false},
      {"parent.inputs.raw", K::parent_input, "", "raw", true},
      {"parent.outputs.final", K::parent_output, "", "final", true},
      {"parent.jobs.prep.outputs.clean", K::parent_job_output, "prep", "clean", true},
      {"parent.jobs.prep.inputs.raw", K::other, "", "", true},
      {"parent.jobs.prep", K::other, "", "", true},
      {"parent", K::other, "", "", true},
      {"inputz.a", K::other, "", "", false},
      {"inputs.", K::other, "", "", false},
      {"inputs.a.b", K::other, "", "", false},
      {"name", K::other, "", "", false},
      {"", K::other, "", "", false},
  };
  for (auto& c : cases) {
    BOOST_TEST_CONTEXT("'" << c.expr << "'") {
      Binding b = spec::parse_binding(c.expr);
      BOOST_TEST((b.kind == c.kind));
      BOOST_TEST(b.job == c.job);
      BOOST_TEST(b.name == c.name);
      BOOST_TEST(b.refers_to_parent() == c.parent);
    }
  }
}

BOOST_AUTO_TEST_CASE(bindings_in_text_with_offsets) {
  std::string text = "python t.py --lr ${{ inputs.lr }} --o ${{outputs.m}} --x ${{parent.jobs.a.outputs.b";
  auto bs = spec::find_bindings(text);
  BOOST_TEST_REQUIRE(bs.size() == 3u);
  BOOST_TEST(text.substr(bs[0].offset, bs[0].length) == "${{ inputs.lr }}");
  BOOST_TEST(bs[0].expr == "inputs.lr");
  BOOST_TEST(bs[0].closed);
  BOOST_TEST(text.substr(bs[1].offset, bs[1].length) == "${{outputs.m}}");
  BOOST_TEST((bs[1].kind == Binding::Kind::output));
  BOOST_TEST(!bs[2].closed);  // unterminated: runs to the end
  BOOST_TEST(bs[2].offset + bs[2].length == text.size());
  BOOST_TEST((bs[2].kind == Binding::Kind::parent_job_output));
  BOOST_TEST(spec::find_bindings("no bindings, just $HOME and {{x}}").empty());
}

BOOST_AUTO_TEST_CASE(job_loader_reads_local_paths_by_the_same_rule) {
  namespace fs = std::filesystem;
  files::TempDir t;
  files::write_atomic(
      t.path() / "comp.yml",
      "type: command\ncommand: echo ${{inputs.x}}\nenvironment: azureml:e:1\ninputs: {x: {type: string}}\n");
  fs::create_directories(t.path() / "src");
  spec::LoadOptions lo;
  lo.workspace_id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w";
  // "file:" names a local component file, as amlops-lint reads it.
  auto s = spec::load_job_text("type: pipeline\njobs:\n  a:\n    component: file:./comp.yml\n    inputs: {x: hi}\n",
                               "job.yml", t.path(), lo);
  BOOST_TEST(s.components.size() == 1u);
  // A URL or a binding is not uploaded as a local folder.
  auto r = spec::load_job_text(
      "type: command\ncommand: echo ${{inputs.d}}\nenvironment: azureml:e:1\ncode: src\n"
      "inputs: {d: {type: uri_folder, path: 'https://a.blob.core.windows.net/c/d'}}\n",
      "job.yml", t.path(), lo);
  BOOST_TEST(json::get_string(r.body, "/properties/inputs/d/uri") == "https://a.blob.core.windows.net/c/d");
  BOOST_TEST(r.uploads.size() == 1u);  // the code folder only
  try {
    (void)spec::load_job_text("type: command\ncommand: echo\nenvironment: azureml:e:1\ncode: git+https://x/y\n",
                              "job.yml", t.path(), lo);
    BOOST_FAIL("no error");
  } catch (const ConfigError& e) {
    BOOST_TEST(std::string(e.what()).find("job.yml:4:7: 'code' must be a local path") == 0, e.what());
  }
}

BOOST_AUTO_TEST_SUITE_END()
