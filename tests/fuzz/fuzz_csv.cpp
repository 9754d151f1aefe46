// CSV and JSON Lines readers (amlops-monitor's input).
#include "fuzz_common.hpp"
#include "stats/table.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace amlops;
  const std::string input = fuzz::text(data, size);
  stats::ReadOptions opts;
  opts.threads = 2;  // exercise the chunked parallel parse
  opts.infer_rows = 16;
  fuzz::expect_typed_errors_only([&] { (void)stats::parse_csv(input, "fuzz.csv", opts); });
  fuzz::expect_typed_errors_only([&] { (void)stats::parse_jsonl(input, "fuzz.jsonl", opts); });
  opts.delimiter = ';';
  fuzz::expect_typed_errors_only([&] { (void)stats::parse_csv(input, "fuzz.csv", opts); });
  return 0;
}
