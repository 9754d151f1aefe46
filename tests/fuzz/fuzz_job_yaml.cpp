// Azure ML CLI v2 job YAML with ${{...}} expressions and --set overrides (amlops-job submit).
#include <filesystem>

#include "fuzz_common.hpp"
#include "spec/job.hpp"
#include "spec/refs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace amlops;
  const std::string input = fuzz::text(data, size);
  spec::LoadOptions opts;
  opts.workspace_id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w";
  // Relative paths resolve against a folder with nothing in it: the loader must report, not crash.
  static const std::filesystem::path base = std::filesystem::temp_directory_path() / "amlops-fuzz-empty";
  std::filesystem::create_directories(base);
  fuzz::expect_typed_errors_only([&] { (void)spec::load_job_text(input, "fuzz.yml", base, opts); });
  fuzz::expect_typed_errors_only([&] { (void)spec::find_bindings(input); });
  return 0;
}
