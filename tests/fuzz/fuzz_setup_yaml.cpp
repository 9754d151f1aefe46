// amlops-setup's readers (compute, datastore, data, environment, component, schedule YAML) and
// cron expressions: bad input is a typed error, never a crash; a parsed cron always fires.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/cron.hpp"
#include "core/env.hpp"
#include "fuzz_common.hpp"
#include "setup/setup.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace amlops;
  namespace fs = std::filesystem;
  const std::string input = fuzz::text(data, size);
  // The readers take a file (relative paths resolve next to it): a folder with only that file.
  static const fs::path dir = fs::temp_directory_path() / ("amlops-fuzz-setup-" + std::to_string(getpid()));
  static const fs::path file = dir / "fuzz.yml";
  fs::create_directories(dir);
  std::ofstream(file, std::ios::binary | std::ios::trunc) << input;
  setup::LoadOptions opts;
  opts.workspace_id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w";
  opts.require_secrets = true;
  static const MapEnv env;
  fuzz::expect_typed_errors_only([&] { (void)setup::load_file(file, env, opts); });
  fuzz::expect_typed_errors_only([&] {
    // Whatever parses fires within a week (the scheduler relies on it).
    if (cron::next_fire(cron::parse(input), 0) < 0) __builtin_trap();
  });
  return 0;
}
