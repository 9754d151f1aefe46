#define BOOST_TEST_MODULE jobmodel_spec
#include <rapidjson/pointer.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/json.hpp"
#include "spec/code_asset.hpp"
#include "spec/job.hpp"

using namespace amlops;
namespace fs = std::filesystem;

namespace {
const std::string kWs = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w";

spec::JobSpec load(const std::string& yaml, const fs::path& base = fs::temp_directory_path(), spec::Overrides o = {}) {
  spec::LoadOptions lo;
  lo.workspace_id = kWs;
  lo.overrides = std::move(o);
  return spec::load_job_text(yaml, "job.yml", base, lo);
}

std::string config_error(const std::string& yaml, const fs::path& base = fs::temp_directory_path()) {
  try {
    load(yaml, base);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  files::write_atomic(p, text);
}
}  // namespace

BOOST_AUTO_TEST_CASE(command_job_to_rest_body) {
  files::TempDir t;
  write(t.path() / "src/train.py", "print(1)\n");
  write(t.path() / "data/d.csv", "a\n1\n");
  auto s = load(R"(
$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
type: command
name: train-1
display_name: train
experiment_name: fraud
description: trains
tags: {team: ml}
code: ./src
command: >-
  python train.py --data ${{inputs.training_data}} --lr ${{inputs.lr}} --out ${{outputs.model}}
environment: azureml:my-env:3
compute: azureml:cpu-cluster
resources: {instance_count: 2, shm_size: 2g}
distribution: {type: pytorch, process_count_per_instance: 2}
limits: {timeout: 3600}
environment_variables: {A: b}
identity: {type: managed}
queue_settings: {job_tier: standard}
inputs:
  lr: 0.01
  training_data: {type: uri_file, path: ./data/d.csv, mode: ro_mount}
  remote: {type: uri_folder, path: azureml://datastores/workspaceblobstore/paths/x/}
outputs:
  model: {type: uri_folder}
  other:
)",
                t.path());
  const auto& b = s.body;
  BOOST_TEST(s.type == "command");
  BOOST_TEST(*s.name == "train-1");
  BOOST_TEST(json::get_string(b, "/properties/jobType") == "Command");
  BOOST_TEST(json::get_string(b, "/properties/displayName") == "train");
  BOOST_TEST(json::get_string(b, "/properties/experimentName") == "fraud");
  BOOST_TEST(json::get_string(b, "/properties/tags/team") == "ml");
  BOOST_TEST(json::get_string(b, "/properties/command").find("--lr ${{inputs.lr}}") != std::string::npos);
  BOOST_TEST(json::get_string(b, "/properties/environmentId") == kWs + "/environments/my-env/versions/3");
  BOOST_TEST(json::get_string(b, "/properties/computeId") == kWs + "/computes/cpu-cluster");
  BOOST_TEST(json::get_int(b, "/properties/resources/instanceCount") == 2);
  BOOST_TEST(json::get_string(b, "/properties/resources/shmSize") == "2g");
  BOOST_TEST(json::get_string(b, "/properties/distribution/distributionType") == "PyTorch");
  BOOST_TEST(json::get_int(b, "/properties/distribution/processCountPerInstance") == 2);
  BOOST_TEST(json::get_string(b, "/properties/limits/jobLimitsType") == "Command");
  BOOST_TEST(json::get_string(b, "/properties/limits/timeout") == "PT1H");
  BOOST_TEST(json::get_string(b, "/properties/environmentVariables/A") == "b");
  BOOST_TEST(json::get_string(b, "/properties/identity/identityType") == "Managed");
  BOOST_TEST(json::get_string(b, "/properties/queueSettings/jobTier") == "Standard");
  BOOST_TEST(json::get_string(b, "/properties/inputs/lr/jobInputType") == "literal");
  BOOST_TEST(json::get_string(b, "/properties/inputs/lr/value") == "0.01");
  BOOST_TEST(json::get_string(b, "/properties/inputs/training_data/jobInputType") == "uri_file");
  BOOST_TEST(json::get_string(b, "/properties/inputs/training_data/mode") == "ReadOnlyMount");
  BOOST_TEST(json::get_string(b, "/properties/inputs/remote/uri") ==
             "azureml://datastores/workspaceblobstore/paths/x/");
  BOOST_TEST(json::get_string(b, "/properties/outputs/model/jobOutputType") == "uri_folder");
  BOOST_TEST(json::get_string(b, "/properties/outputs/other/jobOutputType") == "uri_folder");
  // The code folder and the local input file, resolved against the YAML's folder.
  BOOST_REQUIRE(s.uploads.size() == 2u);
  BOOST_TEST((s.uploads[0].kind == spec::LocalUpload::Kind::code));
  BOOST_TEST(s.uploads[0].path == (t.path() / "src").lexically_normal());
  BOOST_TEST(s.uploads[0].target.pointer == "/properties/codeId");
  BOOST_TEST((s.uploads[1].kind == spec::LocalUpload::Kind::input));
  BOOST_TEST(s.uploads[1].path == (t.path() / "data/d.csv").lexically_normal());
  BOOST_TEST(s.uploads[1].target.pointer == "/properties/inputs/training_data/uri");
  BOOST_TEST(s.uploads[1].target.suffix.empty());
}

BOOST_AUTO_TEST_CASE(undefined_binding_is_a_config_error_with_location) {
  std::string yaml =
      "type: command\n"
      "command: >-\n"
      "  python train.py\n"
      "  --lr ${{inputs.lr}} --epochs ${{inputs.epochs}}\n"
      "environment: azureml:e:1\n"
      "inputs:\n"
      "  lr: 0.1\n";
  std::string e = config_error(yaml);
  BOOST_TEST(e.find("job.yml:4:32: undefined input 'epochs'") == 0, e);
  BOOST_TEST(e.find("inputs defined: lr") != std::string::npos);
  std::string e2 =
      config_error("type: command\ncommand: python x.py --o ${{outputs.model}}\nenvironment: azureml:e:1\n");
  BOOST_TEST(e2.find("job.yml:2:26: undefined output 'model'") == 0, e2);
  std::string e3 = config_error("type: command\ncommand: echo ${{inputz.a}}\nenvironment: azureml:e:1\n");
  BOOST_TEST(e3.find("job.yml:2:15: unsupported expression ${{inputz.a}}") == 0, e3);
  std::string e4 = config_error("type: command\ncommand: echo hi\nenvironment: azureml:e:1\ncode: ./does-not-exist\n");
  BOOST_TEST(e4.find("job.yml:4:7: code path") == 0, e4);
  std::string e5 = config_error("type: command\ncommand: echo hi\n");
  BOOST_TEST(e5.find("missing required key 'environment'") != std::string::npos, e5);
  std::string e6 = config_error("type: command\ncommand: [echo\n");
  BOOST_TEST(e6.find("job.yml:") == 0, e6);
  std::string e7 = config_error("type: spark\ncommand: echo\n");
  BOOST_TEST(e7.find("job.yml:1:7: unsupported job type 'spark'") == 0, e7);
}

BOOST_AUTO_TEST_CASE(set_overrides_before_conversion) {
  auto s =
      load("type: command\ncommand: python t.py --lr ${{inputs.lr}}\nenvironment: azureml:e:1\ninputs:\n  lr: 0.1\n",
           fs::temp_directory_path(),
           {{"inputs.lr", "0.5"}, {"compute", "gpu"}, {"limits.timeout", "30m"}, {"tags.run", "nightly"}});
  BOOST_TEST(json::get_string(s.body, "/properties/inputs/lr/value") == "0.5");
  BOOST_TEST(json::get_string(s.body, "/properties/computeId") == kWs + "/computes/gpu");
  BOOST_TEST(json::get_string(s.body, "/properties/limits/timeout") == "PT30M");
  BOOST_TEST(json::get_string(s.body, "/properties/tags/run") == "nightly");
  // --set can define what a binding needs, and the check runs after it.
  auto s2 = load("type: command\ncommand: echo ${{inputs.x}}\nenvironment: azureml:e:1\n", fs::temp_directory_path(),
                 {{"inputs.x", "1"}});
  BOOST_TEST(json::get_string(s2.body, "/properties/inputs/x/value") == "1");
  BOOST_CHECK_THROW(
      load("type: command\ncommand: echo\nenvironment: azureml:e:1\n", fs::temp_directory_path(), {{"command.x", "1"}}),
      UsageError);
}

BOOST_AUTO_TEST_CASE(inline_environment_is_anonymous_with_a_content_version) {
  files::TempDir t;
  write(t.path() / "conda.yml", "dependencies: [python=3.11]\n");
  std::string yaml =
      "type: command\ncommand: echo\nenvironment:\n  image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04\n  "
      "conda_file: conda.yml\n";
  auto a = load(yaml, t.path());
  auto b = load(yaml, t.path());
  BOOST_REQUIRE(a.environments.size() == 1u);
  BOOST_TEST(a.environments[0].env.name == "CliV2AnonymousEnvironment");
  BOOST_TEST(a.environments[0].env.version == b.environments[0].env.version);
  BOOST_TEST(a.environments[0].env.version.size() == 32u);
  BOOST_TEST(json::get_string(a.environments[0].env.body, "/properties/condaFile") == "dependencies: [python=3.11]\n");
  BOOST_TEST(a.environments[0].target.pointer == "/properties/environmentId");
  write(t.path() / "conda.yml", "dependencies: [python=3.12]\n");
  BOOST_TEST(load(yaml, t.path()).environments[0].env.version != a.environments[0].env.version);
}

BOOST_AUTO_TEST_CASE(sweep_job) {
  auto s = load(R"(type: sweep
compute: azureml:gpu
sampling_algorithm: random
search_space:
  lr: {type: loguniform, min_value: -6, max_value: -1}
  batch: {type: choice, values: [16, 32]}
objective: {goal: maximize, primary_metric: val_acc}
trial:
  command: python train.py --lr ${{search_space.lr}} --batch ${{search_space.batch}}
  environment: azureml:my-env:3
limits: {max_total_trials: 20, max_concurrent_trials: 4, timeout: 7200, trial_timeout: 1800}
early_termination: {type: bandit, slack_factor: 0.1, evaluation_interval: 1, delay_evaluation: 5}
)");
  const auto& b = s.body;
  BOOST_TEST(json::get_string(b, "/properties/jobType") == "Sweep");
  BOOST_TEST(json::get_string(b, "/properties/samplingAlgorithm/samplingAlgorithmType") == "Random");
  BOOST_TEST(json::get_string(b, "/properties/objective/goal") == "Maximize");
  BOOST_TEST(json::get_string(b, "/properties/objective/primaryMetric") == "val_acc");
  BOOST_TEST(json::dump(*json::find(b, "/properties/searchSpace/batch")) == R"(["choice",[[16,32]]])");
  BOOST_TEST(json::dump(*json::find(b, "/properties/searchSpace/lr")) == R"(["loguniform",[-6,-1]])");
  BOOST_TEST(json::get_int(b, "/properties/limits/maxTotalTrials") == 20);
  BOOST_TEST(json::get_string(b, "/properties/limits/trialTimeout") == "PT30M");
  BOOST_TEST(json::get_string(b, "/properties/earlyTermination/policyType") == "Bandit");
  BOOST_TEST(json::get_number(b, "/properties/earlyTermination/slackFactor") == 0.1);
  BOOST_TEST(json::get_string(b, "/properties/trial/environmentId") == kWs + "/environments/my-env/versions/3");
  std::string e = config_error(
      "type: sweep\nsearch_space:\n  lr: {type: uniform, min_value: 0, max_value: 1}\nobjective: {goal: maximize, "
      "primary_metric: a}\n"
      "trial:\n  command: python t.py --bs ${{search_space.bs}}\n  environment: azureml:e:1\n");
  BOOST_TEST(e.find("job.yml:6:29: undefined search_space parameter 'bs'") == 0, e);
}

BOOST_AUTO_TEST_CASE(pipeline_job_snake_case_steps_and_bindings) {
  files::TempDir t;
  write(t.path() / "src/prep.py", "x");
  auto s = load(R"(type: pipeline
display_name: train-eval
settings:
  default_compute: azureml:cpu-cluster
  default_datastore: azureml:workspaceblobstore
  continue_on_step_failure: false
inputs:
  raw: {type: uri_folder, path: azureml:raw:1}
  lr: 0.01
outputs:
  final_model: {type: mlflow_model}
jobs:
  prep:
    type: command
    code: ./src
    command: python prep.py --raw ${{inputs.raw}} --out ${{outputs.clean}}
    environment: azureml:my-env:3
    inputs:
      raw: ${{parent.inputs.raw}}
    outputs: {clean: {type: uri_folder}}
  train:
    command: python train.py --data ${{inputs.data}} --lr ${{inputs.lr}} --model ${{outputs.model}}
    environment: azureml:my-env:3
    inputs: {data: '${{parent.jobs.prep.outputs.clean}}', lr: '${{parent.inputs.lr}}'}
    outputs: {model: '${{parent.outputs.final_model}}'}
  evaluate:
    type: command
    component: azureml:eval_component:2
    inputs:
      model: ${{parent.jobs.train.outputs.model}}
)",
                t.path());
  const auto& b = s.body;
  BOOST_TEST(json::get_string(b, "/properties/jobType") == "Pipeline");
  BOOST_TEST(json::get_string(b, "/properties/settings/default_compute") == kWs + "/computes/cpu-cluster");
  BOOST_TEST(json::get_string(b, "/properties/settings/default_datastore") == kWs + "/datastores/workspaceblobstore");
  BOOST_TEST(json::get_bool(b, "/properties/settings/continue_on_step_failure") == false);
  BOOST_TEST(json::get_string(b, "/properties/inputs/raw/jobInputType") == "uri_folder");
  BOOST_TEST(json::get_string(b, "/properties/jobs/train/inputs/data/job_input_type") == "literal");
  BOOST_TEST(json::get_string(b, "/properties/jobs/train/inputs/data/value") == "${{parent.jobs.prep.outputs.clean}}");
  BOOST_TEST(json::get_string(b, "/properties/jobs/train/outputs/model/type") == "literal");
  BOOST_TEST(json::get_string(b, "/properties/jobs/train/outputs/model/value") == "${{parent.outputs.final_model}}");
  BOOST_TEST(json::get_string(b, "/properties/jobs/prep/outputs/clean/job_output_type") == "uri_folder");
  BOOST_TEST(json::get_string(b, "/properties/jobs/evaluate/componentId") ==
             kWs + "/components/eval_component/versions/2");
  BOOST_TEST(json::get_string(b, "/properties/jobs/train/_source") == "YAML.JOB");
  // Two inline steps -> two anonymous components; prep's code uploads into its componentSpec.
  BOOST_REQUIRE(s.components.size() == 2u);
  BOOST_TEST(s.components[0].step == "prep");
  BOOST_TEST(json::get_string(s.components[0].body, "/properties/componentSpec/type") == "command");
  BOOST_TEST(json::get_bool(s.components[0].body, "/properties/isAnonymous"));
  BOOST_TEST(json::get_string(s.components[1].body, "/properties/componentSpec/inputs/data/type") == "uri_folder");
  BOOST_TEST(json::get_string(s.components[1].body, "/properties/componentSpec/outputs/model/type") == "mlflow_model");
  BOOST_TEST(json::get_string(s.components[1].body, "/properties/componentSpec/environment") ==
             "azureml:" + kWs + "/environments/my-env/versions/3");
  BOOST_REQUIRE(s.uploads.size() == 1u);
  BOOST_TEST(s.uploads[0].target.component == 0);
  BOOST_TEST(s.uploads[0].target.pointer == "/properties/componentSpec/code");
  BOOST_TEST(s.uploads[0].target.prefix == "azureml:");

  std::string bad = R"(type: pipeline
jobs:
  a:
    command: echo ${{inputs.x}}
    environment: azureml:e:1
    inputs: {x: '${{parent.jobs.b.outputs.y}}'}
)";
  std::string e = config_error(bad);
  BOOST_TEST(e.find("job.yml:6:18: undefined step 'b'") == 0, e);
  std::string bad2 =
      "type: pipeline\ninputs: {a: 1}\njobs:\n  s:\n    command: echo\n    environment: azureml:e:1\n    inputs: {x: "
      "'${{parent.inputs.b}}'}\n";
  e = config_error(bad2);
  BOOST_TEST(e.find("job.yml:7:18: undefined pipeline input 'b'") == 0, e);
}

BOOST_AUTO_TEST_CASE(asset_ids) {
  BOOST_TEST(spec::asset_id(kWs, "environments", "azureml:e:1") == kWs + "/environments/e/versions/1");
  BOOST_TEST(spec::asset_id(kWs, "environments", "azureml:e@latest") == "azureml:e@latest");
  BOOST_TEST(spec::asset_id(kWs, "computes", "cpu") == kWs + "/computes/cpu");
  BOOST_TEST(spec::asset_id(kWs, "models", "azureml://registries/r/models/m/versions/1") ==
             "azureml://registries/r/models/m/versions/1");
  BOOST_TEST(spec::asset_id(kWs, "codes", "azureml:/subscriptions/x/codes/c/versions/1") ==
             "/subscriptions/x/codes/c/versions/1");
}

BOOST_AUTO_TEST_CASE(ignore_rules_gitwildmatch) {
  auto r = spec::IgnoreRules::parse(
      "# comment\n*.pyc\n/build/\ndata/\n!keep.log\n*.log\n!important.log\ndocs/**/*.md\n\\#hash\n");
  BOOST_TEST(r.ignored("a.pyc", false));
  BOOST_TEST(r.ignored("deep/x/a.pyc", false));
  BOOST_TEST(r.ignored("build", true));
  BOOST_TEST(!r.ignored("src/build", true));  // anchored
  BOOST_TEST(!r.ignored("build", false));     // directories only
  BOOST_TEST(r.ignored("x/data", true));
  BOOST_TEST(r.ignored("keep.log", false));  // the later *.log wins
  BOOST_TEST(!r.ignored("important.log", false));
  BOOST_TEST(r.ignored("docs/a.md", false));
  BOOST_TEST(r.ignored("docs/x/y/a.md", false));
  BOOST_TEST(!r.ignored("docs/a.txt", false));
  BOOST_TEST(r.ignored("#hash", false));
}

BOOST_AUTO_TEST_CASE(content_hash_202208_matches_the_sdk_algorithm) {
  // Expected value computed with the SDK's algorithm in Python (hashlib) over the same tree.
  files::TempDir t;
  fs::path src = t.path() / "src";
  write(src / "train.py", "print(\"hi\")\n");
  write(src / "sub/B.txt", "x");
  write(src / "sub/a.txt", "yy");
  write(src / ".amlignore", "*.log\ndata/\n!keep.log\n");
  write(src / "run.log", "log");
  write(src / "keep.log", "k");
  write(src / "data/big.csv", "1,2\n");
  write(src / ".git/HEAD", "ref: refs/heads/main\n");
  auto list = spec::collect_code_files(src);
  std::vector<std::string> rels;
  for (auto& f : list) rels.push_back(f.rel);
  BOOST_TEST(rels == (std::vector<std::string>{".amlignore", "keep.log", "sub/a.txt", "sub/B.txt", "train.py"}),
             boost::test_tools::per_element());
  BOOST_TEST(spec::content_hash(list) == "c7dab7fb274f0b7d03f7f05f30b782921fc45c8215613808838ef1f0cf09e7f3");
  // .gitignore is used when there is no .amlignore.
  fs::remove(src / ".amlignore");
  write(src / ".gitignore", "sub/\n");
  rels.clear();
  for (auto& f : spec::collect_code_files(src)) rels.push_back(f.rel);
  BOOST_TEST(rels == (std::vector<std::string>{".gitignore", "data/big.csv", "keep.log", "run.log", "train.py"}),
             boost::test_tools::per_element());
}

namespace {
// A code folder of a few files, and a cache that remembers files changed up to now (racy window
// 0: the test does not wait for its files to age).
struct CachedFolder {
  files::TempDir t;
  fs::path src = t.path() / "src";
  spec::HashCache cache{t.path() / "cache", std::chrono::nanoseconds(0)};
  CachedFolder() {
    write(src / "train.py", "print('train')\n");
    write(src / "lib/util.py", "x = 1\n");
    write(src / "data.txt", "abcdef");
  }
  // The hash through the cache; `hit` whether it came from it. Always equal to the uncached hash.
  std::string hash(bool& hit) {
    auto files = spec::collect_code_files(src);
    std::string h = spec::content_hash(src, files, cache, &hit);
    BOOST_TEST(h == spec::content_hash(files));
    return h;
  }
  bool hit() {
    bool h = false;
    hash(h);
    return h;
  }
  std::vector<fs::path> entries() const {
    std::vector<fs::path> out;
    std::error_code ec;
    for (auto& e : fs::directory_iterator(cache.dir, ec)) out.push_back(e.path());
    return out;
  }
};

void set_mtime(const fs::path& p, fs::file_time_type t) { fs::last_write_time(p, t); }
}  // namespace

BOOST_AUTO_TEST_CASE(hash_cache_reuses_the_hash_of_an_unchanged_folder) {
  CachedFolder f;
  BOOST_TEST(!f.hit());  // first run: hashed and remembered
  BOOST_TEST(f.entries().size() == 1u);
  BOOST_TEST(f.hit());
  BOOST_TEST(f.hit());
  // Another folder has its own entry.
  write(f.t.path() / "other/a.py", "a\n");
  auto other = spec::collect_code_files(f.t.path() / "other");
  bool hit = true;
  spec::content_hash(f.t.path() / "other", other, f.cache, &hit);
  BOOST_TEST(!hit);
  BOOST_TEST(f.entries().size() == 2u);
}

BOOST_AUTO_TEST_CASE(hash_cache_sees_every_change_that_moves_size_mtime_ctime_or_inode) {
  CachedFolder f;
  f.hit();
  BOOST_REQUIRE(f.hit());
  // Same size, mtime restored afterwards: ctime moved, so the change is seen.
  auto before = fs::last_write_time(f.src / "data.txt");
  {
    std::fstream io(f.src / "data.txt", std::ios::in | std::ios::out | std::ios::binary);
    io.seekp(0);
    io.write("ABCDEF", 6);
  }
  set_mtime(f.src / "data.txt", before);
  BOOST_TEST(fs::file_size(f.src / "data.txt") == 6u);
  BOOST_TEST(!f.hit());
  BOOST_TEST(f.hit());
  // A different size.
  write(f.src / "train.py", "print('train!')\n");
  BOOST_TEST(!f.hit());
  BOOST_TEST(f.hit());
  // Replaced by another file (new inode) of the same size and mtime.
  before = fs::last_write_time(f.src / "lib/util.py");
  write(f.t.path() / "util.new", "y = 2\n");
  set_mtime(f.t.path() / "util.new", before);
  fs::rename(f.t.path() / "util.new", f.src / "lib/util.py");
  BOOST_TEST(!f.hit());
  BOOST_TEST(f.hit());
  // A file added, then removed; a file renamed.
  write(f.src / "new.py", "n\n");
  BOOST_TEST(!f.hit());
  fs::remove(f.src / "new.py");
  BOOST_TEST(!f.hit());
  fs::rename(f.src / "data.txt", f.src / "data2.txt");
  BOOST_TEST(!f.hit());
}

BOOST_AUTO_TEST_CASE(hash_cache_does_not_remember_a_folder_with_a_racy_file) {
  // Default window (2 s): files written just now could change again within the same timestamp
  // tick, so the hash is not remembered (git's "racily clean" rule).
  CachedFolder f;
  f.cache.racy = std::chrono::seconds(2);
  BOOST_TEST(!f.hit());
  BOOST_TEST(!f.hit());
  BOOST_TEST(f.entries().empty());
  // Once nothing is recent (timestamps an hour old would need ctime too: a window of 0 stands in).
  f.cache.racy = std::chrono::nanoseconds(0);
  BOOST_TEST(!f.hit());
  BOOST_TEST(f.hit());
}

BOOST_AUTO_TEST_CASE(hash_cache_ignores_a_corrupt_or_foreign_entry_and_rewrites_it) {
  CachedFolder f;
  f.hit();
  BOOST_REQUIRE(f.entries().size() == 1u);
  fs::path entry = f.entries().front();
  std::string good = files::read(entry);
  for (std::string bad :
       {std::string(), std::string("garbage\n"), good.substr(0, good.size() / 2),
        // a hash changed without its check line
        good.substr(0, good.find("\nhash ") + 6) + std::string(64, 'a') + good.substr(good.find("\nhash ") + 70)}) {
    files::write_atomic(entry, bad);
    bool hit = true;
    std::string h = f.hash(hit);  // f.hash asserts the value is the real hash
    BOOST_TEST(!hit);
    BOOST_TEST(files::read(entry) == good);  // rewritten
  }
  // A folder (not a file) where the entry should be: hashed, nothing thrown.
  fs::remove(entry);
  fs::create_directories(entry / "x");
  BOOST_TEST(!f.hit());
  // A cache folder that cannot be created (a file is in the way): hashed, nothing thrown.
  f.cache.dir = f.src / "train.py" / "cache";
  BOOST_TEST(!f.hit());
}

BOOST_AUTO_TEST_CASE(hash_cache_off_reads_everything_and_writes_nothing) {
  CachedFolder f;
  f.cache.dir.clear();
  BOOST_TEST(!f.hit());
  BOOST_TEST(!f.hit());
  BOOST_TEST(!fs::exists(f.t.path() / "cache"));
}

BOOST_AUTO_TEST_CASE(hash_cache_is_safe_under_concurrent_runs) {
  CachedFolder f;
  auto files = spec::collect_code_files(f.src);
  const std::string expected = spec::content_hash(files);
  std::vector<std::string> got(8);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < got.size(); ++i)
    threads.emplace_back([&, i] {
      for (int r = 0; r < 20; ++r) got[i] = spec::content_hash(f.src, files, f.cache);
    });
  for (auto& t : threads) t.join();
  for (auto& g : got) BOOST_TEST(g == expected);
  BOOST_TEST(f.entries().size() == 1u);  // no temporary file left behind
  BOOST_TEST(f.hit());
}

BOOST_AUTO_TEST_CASE(hash_cache_location_follows_the_xdg_convention) {
  using Vars = std::map<std::string, std::string>;
  auto dir = [](Vars v) { return spec::default_hash_cache_dir(MapEnv(std::move(v))); };
  BOOST_TEST(dir(Vars{{"HOME", "/h"}}) == fs::path("/h/.cache/amlops/content-hashes"));
  BOOST_TEST(dir(Vars{{"HOME", "/h"}, {"XDG_CACHE_HOME", "/x"}}) == fs::path("/x/amlops/content-hashes"));
  BOOST_TEST(dir(Vars{{"HOME", "/h"}, {"AMLOPS_CACHE_DIR", "/a"}}) == fs::path("/a/content-hashes"));
  BOOST_TEST(dir(Vars{}).empty());
}

BOOST_AUTO_TEST_CASE(mutated_yaml_fails_cleanly) {
  // Deterministic mutations of a valid pipeline + command job: every outcome is a body or a
  // typed amlops error (exit 2), never a crash or a third-party exception.
  const std::string base = R"(type: pipeline
inputs: {lr: 0.1, raw: {type: uri_folder, path: azureml:raw:1}}
outputs: {m: {type: mlflow_model}}
settings: {default_compute: azureml:cpu}
jobs:
  a:
    command: python a.py --lr ${{inputs.lr}} --o ${{outputs.o}}
    environment: azureml:e:1
    inputs: {lr: '${{parent.inputs.lr}}'}
    outputs: {o: {type: uri_folder}}
  b:
    command: echo ${{inputs.x}}
    environment: {image: python:3.11}
    inputs: {x: '${{parent.jobs.a.outputs.o}}'}
    outputs: {y: '${{parent.outputs.m}}'}
)";
  const std::string alphabet = ":{}[]-'\"$#\n &*!|>%@`,?";
  uint64_t seed = 42;
  auto next = [&] {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<size_t>(seed >> 33);
  };
  int ok = 0, errors = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string y = base;
    int edits = 1 + static_cast<int>(next() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t pos = next() % y.size();
      switch (next() % 3) {
        case 0:
          y[pos] = alphabet[next() % alphabet.size()];
          break;
        case 1:
          y.erase(pos, 1 + next() % 8);
          break;
        default:
          y.insert(pos, 1, alphabet[next() % alphabet.size()]);
          break;
      }
    }
    try {
      load(y);
      ++ok;
    } catch (const Error&) {
      ++errors;
    } catch (const std::exception& e) {
      BOOST_FAIL("mutation " << i << " threw a non-amlops exception: " << e.what() << "\n" << y);
    }
  }
  BOOST_TEST(ok > 0);
  BOOST_TEST(errors > 0);
}

BOOST_AUTO_TEST_CASE(environment_yaml) {
  files::TempDir t;
  write(t.path() / "env/conda.yml", "dependencies: [python=3.11, scikit-learn]\n");
  write(t.path() / "env/env.yml",
        "name: sklearn-env\nversion: \"3\"\nimage: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04\nconda_file: "
        "conda.yml\ndescription: sk\ntags: {team: ml}\n");
  auto e = spec::load_environment(t.path() / "env/env.yml");
  BOOST_TEST(e.name == "sklearn-env");
  BOOST_TEST(e.version == "3");
  BOOST_TEST(json::get_string(e.body, "/properties/image") == "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04");
  BOOST_TEST(json::get_string(e.body, "/properties/condaFile").find("scikit-learn") != std::string::npos);
  BOOST_TEST(json::get_string(e.body, "/properties/tags/team") == "ml");
  write(t.path() / "env/bad.yml", "name: x\nbuild: {path: ./docker}\nimage: y\n");
  try {
    spec::load_environment(t.path() / "env/bad.yml");
    BOOST_FAIL("no error");
  } catch (const ConfigError& err) {
    BOOST_TEST(
        std::string(err.what()).find("bad.yml:2:8: environments with a docker build context are not supported") !=
            std::string::npos,
        err.what());
  }
  // A job may name an environment YAML file: it is ensured under its own name and version.
  write(t.path() / "job.yml", "type: command\ncommand: echo\nenvironment: env/env.yml\n");
  auto j = spec::load_job(t.path() / "job.yml", {kWs, {}});
  BOOST_REQUIRE(j.environments.size() == 1u);
  BOOST_TEST(j.environments[0].env.name == "sklearn-env");
}

BOOST_AUTO_TEST_CASE(targets_are_valid_json_pointers_for_any_key) {
  // Input and step names are YAML keys: '~' and '/' must be escaped (RFC 6901) in the pointer
  // where the uploaded asset's id is written, or the submitter overwrites the whole body.
  files::TempDir t;
  write(t.path() / "data.csv", "a\n1\n");
  auto resolve = [](const spec::JobSpec& s, const spec::Target& target) -> std::string {
    rapidjson::Pointer p(target.pointer.c_str());
    BOOST_REQUIRE_MESSAGE(p.IsValid(), target.pointer);
    const json::Value* v = p.Get(s.body);
    BOOST_REQUIRE_MESSAGE(v != nullptr, target.pointer);
    return v->IsString() ? v->GetString() : "";
  };
  auto cmd = load(
      "command: echo ${{inputs.d~x}}\nenvironment: azureml:e:1\ninputs:\n  d~x:\n    type: uri_file\n    path: "
      "./data.csv\n",
      t.path());
  BOOST_REQUIRE_EQUAL(cmd.uploads.size(), 1u);
  BOOST_TEST(resolve(cmd, cmd.uploads[0].target) == "pending:input");
  auto pipe = load(
      "type: pipeline\njobs:\n  a/b~c:\n    command: echo\n    environment: azureml:e:1\n    inputs:\n      in/1:\n"
      "        type: uri_file\n        path: ./data.csv\n",
      t.path());
  BOOST_REQUIRE_EQUAL(pipe.uploads.size(), 1u);
  BOOST_TEST(resolve(pipe, pipe.uploads[0].target) == "pending:input");
  BOOST_REQUIRE_EQUAL(pipe.components.size(), 1u);
  BOOST_TEST(spec::pointer_token("a/b~c") == "a~1b~0c");
  spec::Target comp{-1, "/properties/jobs/" + spec::pointer_token(pipe.components[0].step) + "/componentId", "", ""};
  BOOST_TEST(resolve(pipe, comp) == "pending:component");
}

BOOST_AUTO_TEST_CASE(a_directory_is_not_a_job_yaml) {
  files::TempDir t;
  spec::LoadOptions lo;
  lo.workspace_id = kWs;
  try {
    spec::load_job(t.path(), lo);
    BOOST_FAIL("no error");
  } catch (const ConfigError& e) {
    BOOST_TEST(std::string(e.what()).find("is a directory") != std::string::npos, e.what());
  }
}
