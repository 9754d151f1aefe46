// Named job outputs become assets, as Azure ML registers them: when a job (command, pipeline or
// sweep) completes, each output with assetName becomes a new version of that data asset
// (uri_file, uri_folder, mltable) or model (mlflow_model, custom_model, triton_model) whose URI
// is the output's location. The version is assetVersion, else the next integer after the asset's
// highest numeric version. A version that already exists is not replaced: the job stays
// Completed and its log says why the output was not registered. Failed and canceled jobs
// register nothing.
#include <algorithm>

#include "core/log.hpp"
#include "core/strings.hpp"
#include "core/time.hpp"
#include "local/app.hpp"
#include "local/job_util.hpp"
#include "local/runner.hpp"

namespace amlops::local {

namespace {

bool is_model_type(const std::string& t) { return t == "mlflow_model" || t == "custom_model" || t == "triton_model"; }

// The next integer version of asset `name` (1 for a new asset).
std::string next_version(Store& st, const std::string& kind, const std::string& scope, const std::string& name) {
  int64_t max_num = 0;
  for (auto& r : st.query("SELECT version FROM assets WHERE kind=? AND scope=? AND name=?", {kind, scope, name}))
    if (auto n = str::parse_int(r.str(0))) max_num = std::max(max_num, *n);
  return std::to_string(max_num + 1);
}

}  // namespace

void Runner::register_output_assets(const std::string& ws, const std::string& job) {
  auto& st = app_.store();
  auto row = st.one("SELECT body, job_type FROM jobs WHERE ws=? AND name=?", {ws, job});
  if (!row) return;
  auto body = json::parse(row->str(0));
  const json::Value* outs = json::find(body, "/properties/outputs");
  if (!outs || !outs->IsObject()) return;
  std::string type_of_job = row->str(1);
  std::string log_file = type_of_job == "Pipeline" ? "logs/azureml/executionlogs.txt"
                         : type_of_job == "Sweep"  ? "azureml-logs/hyperdrive.txt"
                                                   : "";
  auto note = [&](const std::string& line) {
    append_log(ws, job, iso8601_utc(std::chrono::system_clock::now()) + " " + line, log_file);
  };
  const std::string scope = "ws/" + ws;
  for (auto& o : outs->GetObject()) {
    if (!o.value.IsObject()) continue;
    auto asset = member_text(o.value, "assetName");
    if (!asset || asset->empty()) continue;
    std::string oname = o.name.GetString();
    std::string type = output_type(o.value);
    bool model = is_model_type(type);
    std::string kind = model ? "models" : "data";
    const char* what = model ? "model" : "data asset";
    auto uri = member_text(o.value, "uri");
    if (!uri || uri->empty()) {
      note("Warning: output '" + oname + "' was not registered as " + what + " " + *asset +
           ": the output has no location (no step writes it)");
      continue;
    }
    std::string version;
    try {
      st.transaction([&] {
        auto pinned = member_text(o.value, "assetVersion");
        version = pinned ? *pinned : next_version(st, kind, scope, *asset);
        if (st.one("SELECT 1 FROM assets WHERE kind=? AND scope=? AND name=? AND version=?",
                   {kind, scope, *asset, version}))
          throw ArmError(409, "UserError", "version " + version + " already exists (asset versions are immutable)",
                         "Conflict");
        json::Document req_body(rapidjson::kObjectType);
        json::Builder b(req_body.GetAllocator());
        json::Value p = b.obj();
        b.set(p, model ? "modelType" : "dataType", type);
        b.set(p, model ? "modelUri" : "dataUri", *uri);
        b.set(p, "description", "Output '" + oname + "' of job " + job + ".");
        json::Value props = b.obj();
        b.set(props, "azureml.jobName", job);
        b.set(props, "azureml.jobOutputName", oname);
        b.set(p, "properties", std::move(props));
        b.set(req_body, "properties", std::move(p));
        net::ServerRequest put;
        put.method = "PUT";
        put.path = app_.workspace_id(ws) + "/" + kind + "/" + *asset + "/versions/" + version;
        put.body = json::dump(req_body);
        app_.route_assets(put, scope, kind, {kind, *asset, "versions", version}, 0);
      });
      note("output '" + oname + "' registered as " + what + " " + *asset + ":" + version);
    } catch (const std::exception& e) {
      std::string v = version.empty() ? "" : ":" + version;
      note("Warning: output '" + oname + "' was not registered as " + what + " " + *asset + v + ": " + e.what());
      log::warn("amlops-local: job ", job, ": output '", oname, "' not registered as ", *asset, v, ": ", e.what());
    }
  }
}

}  // namespace amlops::local
