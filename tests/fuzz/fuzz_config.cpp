// amlops.yml sections that users write by hand (lint: policy, monitor:, promotion:) and the core parsers every tool
// uses on user input: JSON, YAML, durations, timestamps, key=value overrides.
#include "core/json.hpp"
#include "core/time.hpp"
#include "core/yaml.hpp"
#include "fuzz_common.hpp"
#include "lint/lint.hpp"
#include "monitor/config.hpp"
#include "promote/policy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace amlops;
  const std::string input = fuzz::text(data, size);
  fuzz::expect_typed_errors_only([&] { (void)lint::parse_config(input, "amlops.yml"); });
  fuzz::expect_typed_errors_only([&] { (void)monitor::parse_config(input, "amlops.yml"); });
  fuzz::expect_typed_errors_only([&] { (void)promote::parse_config(yaml::load_string(input, "amlops.yml")); });
  fuzz::expect_typed_errors_only([&] { (void)json::parse(input, "fuzz.json"); });
  fuzz::expect_typed_errors_only([&] { (void)yaml::load_string(input, "fuzz.yml"); });
  if (size < 64) {
    fuzz::expect_typed_errors_only([&] { (void)parse_duration(input); });
    fuzz::expect_typed_errors_only([&] { (void)parse_iso8601(input); });
  }
  return 0;
}
