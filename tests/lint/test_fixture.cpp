// A repository with every problem planted (and git history made here with the git CLI): each
// planted problem is found at its file and line with its rule; the clean starter project has none.
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <set>
#include <sstream>
#include <tuple>

#include "core/files.hpp"
#include "core/process.hpp"
#include "lint/lint.hpp"
#include "support/git_repo.hpp"

using namespace amlops;
namespace fs = std::filesystem;

namespace {
using amlops::testing::run_git;

void write(const fs::path& root, const std::string& rel, const std::string& content) {
  fs::create_directories((root / rel).parent_path());
  files::write_atomic(root / rel, content);
}

// Deterministic pseudo-random text from an alphabet (secrets are built here, never stored in the repo).
std::string chars(size_t n, unsigned seed, std::string_view alphabet) {
  std::string s;
  uint32_t x = seed;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    s += alphabet[(x >> 16) % alphabet.size()];
  }
  return s;
}
constexpr std::string_view kB64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
constexpr std::string_view kLetters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

const std::string kAzurite =
    std::string("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq") + "/K1SZFPTOtr/KBHBeksoGMGw==";

struct Planted {
  std::string path;
  int line;
  std::string rule;
};

std::vector<Planted> plant(const fs::path& root) {
  const std::string storage_key = chars(86, 1, kB64) + "==";
  const std::string old_key = chars(86, 2, kB64) + "==";
  const std::string entra = "abc8Q~" + chars(34, 3, kAlnum);
  const std::string hf = "hf_" + chars(34, 4, kLetters);
  const std::string hf2 = "hf_" + chars(34, 5, kLetters);
  const std::string sig = chars(43, 6, kAlnum) + "%3D";
  const std::string begin_key = std::string("-----BEGIN OPENSSH ") + "PRIVATE KEY-----";

  run_git(root, {"init", "-q"});
  // History: a key committed and later deleted, a big CSV committed and later deleted.
  write(root, "old_secrets.env", "# connection settings\nAZURE_STORAGE_KEY=" + old_key + "\n");
  write(root, "data/big.csv", std::string(6 * 1024 * 1024, 'x'));
  run_git(root, {"add", "."});
  run_git(root, {"commit", "-qm", "add data and settings"});
  fs::remove(root / "old_secrets.env");
  fs::remove(root / "data/big.csv");
  run_git(root, {"add", "-A"});
  run_git(root, {"commit", "-qm", "remove data and settings"});

  write(root, "jobs/train-job.yml",
        "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"  // 1
        "type: command\n"                                                                // 2
        "code: ../src\n"                                                                 // 3
        "command: >-\n"                                                                  // 4
        "  python train.py\n"                                                            // 5
        "  --training_data ${{inputs.training_data}}\n"                                  // 6
        "  --learning_rte ${{inputs.learning_rate}}\n"                                   // 7 AML008
        "  --epochs ${{inputs.epochs}}\n"                                                // 8 AML006
        "  --model_output ${{outputs.model}}\n"                                          // 9
        "inputs:\n"                                                                      // 10
        "  training_data:\n"                                                             // 11
        "    type: uri_folder\n"                                                         // 12
        "    path: ../data/missing\n"                                                    // 13 AML005
        "  learning_rate: 0.01\n"                                                        // 14
        "outputs:\n"                                                                     // 15
        "  model:\n"                                                                     // 16
        "    type: mlflow_model\n"                                                       // 17
        "environment: azureml:sklearn-env@latest\n"                                      // 18 AML007
        "compute: azureml:cpu-cluster\n"                                                 // 19
        "queue_settings:\n"                                                              // 20
        "  job_tier: standard\n"                                                         // 21
        "experiment_nmae: churn\n");                                                     // 22 AML004
  write(root, "src/train.py",
        "import argparse\n"                                                       // 1
        "import pandas as pd\n"                                                   // 2
        "\n"                                                                      // 3
        "def main():\n"                                                           // 4
        "    parser = argparse.ArgumentParser()\n"                                // 5
        "    parser.add_argument(\"--training_data\", type=str)\n"                // 6
        "    parser.add_argument(\n"                                              // 7
        "        \"--learning_rate\", type=float, default=0.1)\n"                 // 8
        "    parser.add_argument(\"--epochs\", type=int, default=10)\n"           // 9
        "    parser.add_argument(\"--model_output\", type=str)\n"                 // 10
        "    parser.add_argument(\"--registered_model_name\", required=True)\n"   // 11
        "    args = parser.parse_args()\n"                                        // 12
        "    df = pd.read_csv(\"/home/alice/data/train.csv\")\n"                  // 13 CODE003
        "    raw = \"abfss://data@mlacct.dfs.core.windows.net/raw/train.csv\"\n"  // 14 CODE004
        "\n"
        "if __name__ == \"__main__\":\n"
        "    main()\n");
  write(root, "jobs/prep-job.yml",
        "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
        "code: ../src\n"
        "command: python prep.py --raw ${{inputs.raw}} --extra 1\n"
        "inputs:\n"
        "  raw:\n"
        "    type: uri_file\n"
        "    path: azureml:raw-data:2\n"
        "environment: azureml:sklearn-env:3\n");
  write(root, "src/prep.py",
        "import argparse\n"
        "p = argparse.ArgumentParser()\n"
        "p.add_argument('--raw')\n"
        "args, rest = p.parse_known_args()\n"  // 4 AML009
        "print(args.raw, rest)\n");
  write(root, "src/train_simple.py",
        "import pandas as pd\ndf = pd.read_csv(\"data.csv\")\nprint(df.shape)\n");  // CODE002
  write(root, "deploy/deployment.yml",
        "$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json\n"  // 1 AML002
        "name: blue\n"                                                                                // 2
        "endpoint_name: churn-endpoint\n"                                                             // 3
        "model: azureml:churn-model:1\n"                                                              // 4
        "code_configuration:\n"                                                                       // 5
        "  code: ../src\n"                                                                            // 6
        "  scoring_script: score.py\n"                                                                // 7 AML005
        "environment:\n"                                                                              // 8
        "  image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04\n"                               // 9 AML007
        "  conda_file: ../env/conda.yml\n"                                                            // 10
        "instance_count: 1\n");                                                                       // 11
  write(root, "env/conda.yml",
        "name: train-env\n"                                   // 1
        "channels:\n"                                         // 2
        "  - conda-forge\n"                                   // 3
        "dependencies:\n"                                     // 4
        "  - python=3.10\n"                                   // 5
        "  - scikit-learn\n"                                  // 6 REPO004
        "  - pip\n"                                           // 7
        "  - pip:\n"                                          // 8
        "    - mlflow>=2.0\n");                               // 9 REPO004
  write(root, "requirements.txt", "pandas==2.1.4\nnumpy\n");  // 2 REPO003
  write(root, "pipelines/pipeline.yml",
        "$schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json\n"            // 1
        "type: pipeline\n"                                                                          // 2
        "inputs:\n"                                                                                 // 3
        "  raw:\n"                                                                                  // 4
        "    type: uri_file\n"                                                                      // 5
        "    path: azureml://datastores/workspaceblobstore/paths/raw.csv\n"                         // 6
        "jobs:\n"                                                                                   // 7
        "  prep:\n"                                                                                 // 8
        "    type: command\n"                                                                       // 9
        "    code: ../notebooks\n"                                                                  // 10
        "    command: jupyter nbconvert --execute prep.ipynb --output-dir ${{outputs.prepared}}\n"  // 11 CODE001
        "    environment: azureml:sklearn-env:3\n"                                                  // 12
        "    inputs:\n"                                                                             // 13
        "      data: ${{parent.inputs.raw}}\n"                                                      // 14
        "    outputs:\n"                                                                            // 15
        "      prepared:\n"                                                                         // 16
        "        type: uri_folder\n"                                                                // 17
        "  train:\n"                                                                                // 18
        "    type: command\n"                                                                       // 19
        "    component: ./train-component.yml\n"                                                    // 20
        "    inputs:\n"                                                                             // 21
        "      data: ${{parent.jobs.prep.outputs.cleaned}}\n"
        "      epochs: 3\n");  // 22 AML006
  write(root, "pipelines/train-component.yml",
        "$schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json\n"
        "name: train_model\n"
        "type: command\n"
        "inputs:\n"
        "  data:\n"
        "    type: uri_folder\n"
        "outputs:\n"
        "  model_out:\n"
        "    type: uri_folder\n"
        "code: ../src\n"
        "environment: azureml:sklearn-env:3\n"
        "command: python train.py --training_data ${{inputs.data}} --model_output ${{outputs.model_out}} "
        "--registered_model_name churn\n");
  write(root, "jobs/sweep.yml",
        "$schema: https://azuremlschemas.azureedge.net/latest/sweepJob.schema.json\n"                  // 1
        "type: sweep\n"                                                                                // 2
        "sampling_algorithm: randomized\n"                                                             // 3 AML003
        "search_space:\n"                                                                              // 4
        "  learning_rate:\n"                                                                           // 5
        "    type: uniform\n"                                                                          // 6
        "    min_value: 0.01\n"                                                                        // 7
        "    max_value: 0.1\n"                                                                         // 8
        "objective:\n"                                                                                 // 9
        "  primary_metric: accuracy\n"                                                                 // 10
        "  goal: maximize\n"                                                                           // 11
        "trial:\n"                                                                                     // 12
        "  code: ../src\n"                                                                             // 13
        "  command: python train.py --learning_rate ${{search_space.lr}} --registered_model_name m\n"  // 14 AML006
        "  environment: azureml:sklearn-env:3\n"                                                       // 15
        "inputs:\n"                                                                                    // 16
        "  data:\n"                                                                                    // 17
        "    type: uri_table\n"                                                                        // 18 AML003
        "    path: azureml:taxi:1\n");                                                                 // 19
  write(root, "jobs/broken.yml",
        "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"  // 1
        "type: command\n"                                                                // 2
        "inputs: [a, b\n"                                                                // 3
        "command: python train.py\n");                                                   // 4 AML001 (reported here)
  write(root, "notebooks/prep.ipynb",
        "{\n"                                                                             // 1
        " \"cells\": [\n"                                                                 // 2
        "  {\n"                                                                           // 3
        "   \"cell_type\": \"code\",\n"                                                   // 4
        "   \"execution_count\": 1,\n"                                                    // 5
        "   \"metadata\": {},\n"                                                          // 6
        "   \"outputs\": [\n"                                                             // 7
        "    {\n"                                                                         // 8
        "     \"name\": \"stdout\",\n"                                                    // 9
        "     \"output_type\": \"stream\",\n"                                             // 10
        "     \"text\": [\n"                                                              // 11
        "      \"https://mlacct.blob.core.windows.net/c/f.csv?sv=2022-11-02&sr=b&sig=" +  // 12 SEC002
            sig +
            "\\n\"\n"
            "     ]\n"                                                                      // 13
            "    }\n"                                                                       // 14
            "   ],\n"                                                                       // 15
            "   \"source\": [\n"                                                            // 16
            "    \"import pandas as pd\\n\",\n"                                             // 17
            "    \"df = pd.read_csv('C:\\\\\\\\Users\\\\\\\\bob\\\\\\\\data.csv')\\n\",\n"  // 18 CODE003
            "    \"print(df.shape)\"\n"                                                     // 19
            "   ]\n"                                                                        // 20
            "  }\n"                                                                         // 21
            " ],\n"                                                                         // 22
            " \"metadata\": {},\n"                                                          // 23
            " \"nbformat\": 4,\n"                                                           // 24
            " \"nbformat_minor\": 5\n"                                                      // 25
            "}\n");
  write(root, ".github/workflows/train.yml",
        "name: train\n"                                              // 1
        "on:\n"                                                      // 2
        "  push:\n"                                                  // 3
        "    branches: [main]\n"                                     // 4
        "jobs:\n"                                                    // 5
        "  train:\n"                                                 // 6
        "    runs-on: ubuntu-20.04\n"                                // 7 PIPE003
        "    steps:\n"                                               // 8
        "      - uses: actions/checkout@main\n"                      // 9 PIPE004
        "      - uses: azure/login@v2\n"                             // 10
        "        with:\n"                                            // 11
        "          creds: ${{ secrets.AZURE_CREDENTIALS }}\n"        // 12 PIPE005
        "      - name: Train model\n"                                // 13
        "        run: az ml job create --file jobs/train-job.yml\n"  // 14
        "        continue-on-error: true\n"                          // 15 PIPE001
        "  deploy:\n"                                                // 16
        "    runs-on: ubuntu-latest\n"                               // 17
        "    steps:\n"                                               // 18
        "      - uses: azure/login@v2\n"                             // 19 PIPE006
        "        with:\n"                                            // 20
        "          client-id: ${{ secrets.AZURE_CLIENT_ID }}\n"      // 21
        "          tenant-id: ${{ secrets.AZURE_TENANT_ID }}\n"
        "          subscription-id: ${{ secrets.AZURE_SUBSCRIPTION_ID }}\n");
  write(root, ".github/workflows/broken.yml",
        "name: broken\n"
        "on: push\n"
        "jobs:\n"
        "  build:\n"
        "    runs-on: ubuntu-latest\n"
        "   steps: []\n");  // 6 PIPE007
  // Not findings: a reusable workflow inherits id-token from its caller; vendored code is skipped.
  write(root, ".github/workflows/reusable-login.yml",
        "on:\n  workflow_call:\njobs:\n  login:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - uses: azure/login@v2\n        with:\n          client-id: ${{ vars.ID }}\n");
  write(root, "tools/node_modules/pkg/README.md", "token: " + std::string("ghp_") + chars(36, 9, kAlnum) + "\n");
  write(root, "azure-pipelines.yml",
        "trigger: none\n"                                                          // 1
        "schedules:\n"                                                             // 2
        "  - cron: \"0 3 * * 1\"\n"                                                // 3 PIPE002
        "    displayName: weekly retrain\n"                                        // 4
        "    branches:\n"                                                          // 5
        "      include: [main]\n"                                                  // 6
        "resources:\n"                                                             // 7
        "  repositories:\n"                                                        // 8
        "    - repository: mlops-templates\n"                                      // 9
        "      type: github\n"                                                     // 10
        "      name: Azure/mlops-templates\n"                                      // 11
        "      endpoint: github-conn\n"                                            // 12
        "      ref: main\n"                                                        // 13 PIPE004
        "pool:\n"                                                                  // 14
        "  vmImage: ubuntu-20.04\n"                                                // 15 PIPE003
        "steps:\n"                                                                 // 16
        "  - template: templates/aml-cli-v2/install-az-cli.yml@mlops-templates\n"  // 17
        "  - script: az ml job create --file jobs/train-job.yml\n"                 // 18
        "    displayName: Train\n"                                                 // 19
        "    continueOnError: true\n");                                            // 20 PIPE001
  write(root, "config/settings.py",
        "STORAGE = \"DefaultEndpointsProtocol=https;AccountName=mlacct;AccountKey=" + storage_key +
            ";EndpointSuffix=core.windows.net\"\n"  // 1 SEC001
            "AZURITE = \"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" +
            kAzurite +
            ";\"\n"  // 2 allowed
            "CLIENT_SECRET = \"" +
            entra +
            "\"\n"  // 3 SEC003
            "HF_TOKEN = \"" +
            hf +
            "\"\n"  // 4 SEC005
            "OTHER_TOKEN = \"" +
            hf2 + "\"  # amlops-lint: disable=SEC005\n");  // 5 suppressed
  write(root, "keys/deploy_key",
        begin_key + "\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n");  // 1 SEC004
  write(root, "legacy/old_loader.py", "PATH = \"/home/carol/legacy.csv\"\n");            // ignored by amlops.yml
  write(root, "amlops.yml", "lint:\n  ignore:\n    - path: legacy/**\n      rules: [CODE003]\n");
  write(root, "models/model.pkl", std::string(6 * 1024 * 1024, '\0'));  // REPO001
  run_git(root, {"add", "."});
  run_git(root, {"commit", "-qm", "project"});

  return {
      {"jobs/train-job.yml", 7, "AML008"},
      {"jobs/train-job.yml", 8, "AML006"},
      {"jobs/train-job.yml", 13, "AML005"},
      {"jobs/train-job.yml", 18, "AML007"},
      {"jobs/train-job.yml", 22, "AML004"},
      {"jobs/train-job.yml", 4, "AML010"},
      {"src/prep.py", 4, "AML009"},
      {"src/train.py", 13, "CODE003"},
      {"src/train.py", 14, "CODE004"},
      {"src/train.py", 1, "REPO005"},
      {"src/train_simple.py", 1, "CODE002"},
      {"deploy/deployment.yml", 1, "AML002"},
      {"deploy/deployment.yml", 7, "AML005"},
      {"deploy/deployment.yml", 9, "AML007"},
      {"env/conda.yml", 6, "REPO004"},
      {"env/conda.yml", 9, "REPO004"},
      {"requirements.txt", 2, "REPO003"},
      {"pipelines/pipeline.yml", 11, "CODE001"},
      {"pipelines/pipeline.yml", 22, "AML006"},
      {"pipelines/pipeline.yml", 23, "AML006"},
      {"jobs/sweep.yml", 3, "AML003"},
      {"jobs/sweep.yml", 14, "AML006"},
      {"jobs/sweep.yml", 18, "AML003"},
      {"jobs/broken.yml", 4, "AML001"},
      {"notebooks/prep.ipynb", 12, "SEC002"},
      {"notebooks/prep.ipynb", 18, "CODE003"},
      {".github/workflows/broken.yml", 6, "PIPE007"},
      {".github/workflows/train.yml", 7, "PIPE003"},
      {".github/workflows/train.yml", 9, "PIPE004"},
      {".github/workflows/train.yml", 12, "PIPE005"},
      {".github/workflows/train.yml", 15, "PIPE001"},
      {".github/workflows/train.yml", 19, "PIPE006"},
      {"azure-pipelines.yml", 3, "PIPE002"},
      {"azure-pipelines.yml", 13, "PIPE004"},
      {"azure-pipelines.yml", 15, "PIPE003"},
      {"azure-pipelines.yml", 20, "PIPE001"},
      {"config/settings.py", 1, "SEC001"},
      {"config/settings.py", 3, "SEC003"},
      {"config/settings.py", 4, "SEC005"},
      {"keys/deploy_key", 1, "SEC004"},
      {"models/model.pkl", 1, "REPO001"},
      {"old_secrets.env", 2, "SEC001"},  // history only
      {"data/big.csv", 1, "REPO002"},    // history only
  };
}

std::string describe(const std::vector<lint::Finding>& fs) {
  std::ostringstream os;
  for (auto& f : fs) os << "  " << f.path << ":" << f.line << ":" << f.col << " " << f.rule << " " << f.message << "\n";
  return os.str();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(lint_fixture)

BOOST_AUTO_TEST_CASE(every_planted_problem_is_found_at_its_file_line_and_rule) {
  files::TempDir dir("amlops-lint-fixture");
  fs::path root = fs::canonical(dir.path());
  auto planted = plant(root);

  lint::Options opt;
  opt.path = root;
  opt.config = lint::load_config(root / "amlops.yml");
  lint::Report report = lint::check(opt);
  BOOST_TEST_MESSAGE("findings:\n" << describe(report.findings));

  std::set<std::tuple<std::string, int, std::string>> found;
  for (auto& f : report.findings) found.insert({f.path, f.line, f.rule});
  for (auto& p : planted) {
    BOOST_TEST_CONTEXT(p.path << ":" << p.line << " " << p.rule) {
      BOOST_TEST(found.count({p.path, p.line, p.rule}) == 1u);
    }
  }
  // Nothing else: no false positives in the planted repository either.
  std::set<std::tuple<std::string, int, std::string>> expected;
  for (auto& p : planted) expected.insert({p.path, p.line, p.rule});
  for (auto& f : report.findings) {
    BOOST_TEST_CONTEXT(f.path << ":" << f.line << " " << f.rule << " " << f.message) {
      BOOST_TEST(expected.count({f.path, f.line, f.rule}) == 1u);
    }
  }
  BOOST_TEST(report.findings.size() == planted.size());
  // Every rule is exercised by at least one planted problem.
  for (auto& r : lint::rules()) {
    bool planted_once = std::any_of(planted.begin(), planted.end(), [&](const Planted& p) { return p.rule == r.id; });
    BOOST_TEST(planted_once, "rule " << r.id << " has no planted problem");
  }

  // History findings name the commit; secret values never appear in messages.
  for (auto& f : report.findings) {
    if (f.path == "old_secrets.env" || f.path == "data/big.csv") BOOST_TEST(f.commit.size() == 40u);
    if (f.rule.rfind("SEC", 0) == 0) {
      BOOST_TEST(f.message.find("…") != std::string::npos);
      BOOST_TEST(f.message.size() < 120u);
    }
  }
  BOOST_TEST(report.suppressed >= 2u);       // the inline disable and the amlops.yml path ignore
  BOOST_TEST(report.commits_scanned == 3u);  // every commit walked, the deletion too
  BOOST_TEST(report.history.complete);
  BOOST_TEST(report.notes.empty());

  // Without history, the history-only findings go away.
  opt.history = false;
  lint::Report tree = lint::check(opt);
  BOOST_TEST(tree.findings.size() == planted.size() - 2);
}

BOOST_AUTO_TEST_CASE(clean_starter_project_has_no_findings) {
  files::TempDir dir("amlops-lint-clean");
  fs::path root = fs::canonical(dir.path());
  fs::copy(fs::path(AMLOPS_SOURCE_DIR) / "tests/lint/fixtures/clean", root, fs::copy_options::recursive);
  run_git(root, {"init", "-q"});
  run_git(root, {"add", "."});
  run_git(root, {"commit", "-qm", "starter"});
  lint::Options opt;
  opt.path = root;
  lint::Report report = lint::check(opt);
  BOOST_TEST(report.findings.empty(), "findings:\n" << describe(report.findings));
  BOOST_TEST(report.files_scanned > 10u);
  BOOST_TEST(report.commits_scanned == 1u);
}

BOOST_AUTO_TEST_CASE(baseline_hides_known_findings_and_reports_new_ones) {
  files::TempDir dir("amlops-lint-baseline");
  fs::path root = fs::canonical(dir.path());
  write(root, "requirements.txt", "numpy\npandas\n");
  lint::Options opt;
  opt.path = root;
  opt.history = false;
  auto first = lint::check(opt);
  BOOST_TEST(first.findings.size() == 2u);
  lint::write_baseline(root / "baseline.json", first.findings);
  // Lines move and a new problem appears: only the new one is reported.
  write(root, "requirements.txt", "# deps\nscipy\nnumpy\npandas\n");
  opt.baseline = root / "baseline.json";
  auto second = lint::check(opt);
  BOOST_TEST_REQUIRE(second.findings.size() == 1u);
  BOOST_TEST(second.findings[0].line == 2);
  BOOST_TEST(second.baselined == 2u);
}

BOOST_AUTO_TEST_CASE(every_document_of_a_multi_document_yaml_is_checked) {
  // tests/lint/fixtures/multidoc/deploy/online.yml: endpoint, then two deployments after "---".
  files::TempDir dir("amlops-lint-multidoc");
  fs::path root = fs::canonical(dir.path());
  fs::copy(fs::path(AMLOPS_SOURCE_DIR) / "tests/lint/fixtures/multidoc", root, fs::copy_options::recursive);
  lint::Options opt;
  opt.path = root;
  opt.history = false;
  lint::Report report = lint::check(opt);
  std::set<std::tuple<std::string, int, std::string>> found;
  for (auto& f : report.findings) found.insert({f.path, f.line, f.rule});
  const std::set<std::tuple<std::string, int, std::string>> expected = {
      {"deploy/online.yml", 10, "AML007"},  // second document: model@latest
      {"deploy/online.yml", 24, "AML005"},  // third document: scoring.py missing
      {"deploy/online.yml", 28, "AML004"},  // third document: unknown field
  };
  BOOST_TEST((found == expected), "findings:\n" << describe(report.findings));
}

BOOST_AUTO_TEST_SUITE_END()
