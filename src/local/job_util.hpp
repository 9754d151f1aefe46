// Helpers the runner's parts share (runner.cpp, pipeline.cpp, sweep.cpp); internal to src/local.
#pragma once
#include <optional>
#include <stdexcept>
#include <string>

#include "core/json.hpp"
#include "local/store.hpp"

namespace amlops::local {

// Fails the job being stepped with an error code (UserError, SystemError, JobTimeout...).
struct JobFailure : std::runtime_error {
  JobFailure(std::string code, const std::string& msg) : std::runtime_error(msg), code(std::move(code)) {}
  std::string code;
};

// "k" in object o as a string (numbers and bools as text).
std::optional<std::string> member_text(const json::Value& o, const char* k);
// member_text of `a`, else of `b` (camelCase REST and snake_case step keys).
std::optional<std::string> either(const json::Value& o, const char* a, const char* b);

struct AssetRef {
  std::string scope, name, version;  // version empty = latest
};
// ARM ids, azureml:/subscriptions/..., azureml:name:version, azureml:name@latest,
// azureml://registries/R/<kind>/N/versions/V.
std::optional<AssetRef> parse_asset_ref(const std::string& ws, const std::string& kind, std::string ref);
std::optional<json::Document> load_asset(Store& store, const std::string& kind, const AssetRef& r);

// The properties.inputs/outputs types clients send in camelCase (REST) or snake_case (pipeline steps).
std::string input_type(const json::Value& in);
std::string output_type(const json::Value& out);

// A number as JSON writes it (1, 0.5, 1e-05).
std::string num_text(double d);

}  // namespace amlops::local
