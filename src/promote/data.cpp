// Data assets that travel with a promoted model (policy `promotion.data`): find the version the
// model's training job registered, copy its files into the target workspace's default datastore
// and register them there as a version of the same name tagged with the model.
//
// How a job's registered output is recognised: a job output with `assetName` becomes a data
// version when the job completes (JobOutput.assetName, "asset name the job's named output is
// registered with"; the jobs list filters by it). The job's GET keeps the output's assetName (and
// assetVersion where the API version accepts one: 2025-01-01-preview rejects it) and its `uri`
// (absent: the default azureml://datastores/<default>/paths/azureml/<job>/<output>/), and the
// version's dataUri is that output's location. A DataVersion has no jobName field (a ModelVersion
// has): the properties azureml.jobName / azureml.jobOutputName are matched when present.
#include <algorithm>
#include <set>

#include "aml/model.hpp"
#include "aml/uri.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "promote/promotion.hpp"

namespace amlops::promote {
namespace {

constexpr const char* kDefaultDatastore = "workspaceblobstore";

std::vector<json::Document> data_versions(azure::Workspace& ws, const std::string& name) {
  try {
    return ws.arm().list(ws.path("/data/" + name + "/versions?api-version=" + ws.arm().options().api_version));
  } catch (const HttpError& e) {
    if (e.status() == 404) return {};  // no such asset
    throw;
  }
}

// Datastore and path of a URI without a trailing '/', for comparing two spellings of one location.
std::optional<std::pair<std::string, std::string>> location(const std::string& uri) {
  auto dp = aml::parse_datastore_uri(uri);
  if (!dp) return std::nullopt;
  std::string p = dp->path;
  while (!p.empty() && p.back() == '/') p.pop_back();
  return std::make_pair(dp->datastore, p);
}

struct JobOutput {
  std::string output, uri, version;  // version: assetVersion when the job reports one
};

}  // namespace

std::vector<DataCopy> find_model_data(azure::Workspace& source, const json::Value& model_version, const ModelRef& model,
                                      const std::vector<std::string>& names) {
  std::vector<DataCopy> out;
  if (names.empty()) return out;
  auto props = json::string_map(model_version, "/properties/properties");
  auto tags = json::string_map(model_version, "/properties/tags");
  std::string job_name = props.count("amlops.job") ? props["amlops.job"] : tags["amlops.job"];
  if (job_name.empty()) job_name = json::opt_string(model_version, "/properties/jobName").value_or("");
  if (job_name.empty())
    throw UsageError("promotion.data lists " + str::join(names, ", ") + " but " + model.str() +
                     " records no training job (property amlops.job, set by amlops-model register --from-job): "
                     "the data that belongs to it cannot be found");
  auto job = source.get_job(job_name);
  if (!job)
    throw UsageError("job " + job_name + " that trained " + model.str() + " is not in workspace " + source.ref().name);

  std::vector<std::string> missing;
  for (const auto& name : names) {
    std::vector<JobOutput> outs;
    if (const json::Value* o = json::find(*job, "/properties/outputs"); o && o->IsObject())
      for (auto& m : o->GetObject()) {
        if (!m.value.IsObject() || json::opt_string(m.value, "/assetName").value_or("") != name) continue;
        outs.push_back({m.name.GetString(), json::opt_string(m.value, "/uri").value_or(""),
                        json::opt_string(m.value, "/assetVersion").value_or("")});
      }
    std::optional<json::Document> best;
    std::string best_version;
    for (auto& v : data_versions(source, name)) {
      std::string ver = json::opt_string(v, "/name").value_or("");
      auto vp = json::string_map(v, "/properties/properties");
      std::string uri = json::opt_string(v, "/properties/dataUri").value_or("");
      bool match = vp.count("azureml.jobName") && vp["azureml.jobName"] == job_name;
      for (auto& jo : outs) {
        if (!jo.version.empty() && jo.version == ver) match = true;
        if (uri == aml::job_output_uri(job_name, jo.output)) match = true;
        auto a = location(uri), b = location(jo.uri);
        if (a && b && *a == *b) match = true;
        // The service's default output location: azureml/{job}/{output} of the default datastore.
        if (a && jo.uri.empty() && a->second == "azureml/" + job_name + "/" + jo.output) match = true;
      }
      if (!match || ver.empty()) continue;
      if (!best || version_less(best_version, ver)) {
        best_version = ver;
        best = std::move(v);
      }
    }
    if (!best) {
      missing.push_back(name + (outs.empty() ? " (job " + job_name + " has no output with assetName " + name + ")"
                                             : " (no version registered from job " + job_name + ")"));
      continue;
    }
    DataCopy d;
    d.name = name;
    d.source_version = best_version;
    d.type = json::opt_string(*best, "/properties/dataType").value_or("uri_folder");
    std::string what = "data asset " + name + ":" + best_version;
    d.source_uri = aml::resolve_model_uri(source, json::get_string(*best, "/properties/dataUri", what));
    auto dp = aml::parse_datastore_uri(d.source_uri);
    if (!dp) {
      missing.push_back(name + ":" + best_version + " (points at " + d.source_uri + ", not a datastore path)");
      continue;
    }
    d.datastore = dp->datastore;
    auto container = source.datastore_container(dp->datastore);
    for (auto& blob : container.list(dp->path)) {
      auto rel = aml::blob_relative_name(dp->path, blob.name);
      if (!rel) continue;
      if (!files::is_safe_relative(*rel)) throw HttpError(200, "refusing unsafe blob name " + blob.name);
      // A file asset is one blob: it keeps its file name under the target folder.
      d.blobs.emplace_back(blob.name, rel->empty() ? std::filesystem::path(blob.name).filename().string() : *rel);
      d.bytes += blob.size;
    }
    if (d.blobs.empty()) {
      missing.push_back(name + ":" + best_version + " (no files at " + d.source_uri + ")");
      continue;
    }
    log::info(model.str(), " was trained by job ", job_name, ", which produced ", what);
    out.push_back(std::move(d));
  }
  if (!missing.empty())
    throw UsageError("promotion.data: no data of " + model.str() + " to take along in workspace " + source.ref().name +
                     ": " + str::join(missing, "; ") + ". Nothing was promoted.");
  return out;
}

void plan_model_data(azure::Workspace& target, const ModelRef& model, std::vector<DataCopy>& data) {
  for (auto& d : data) {
    std::set<std::string> taken;
    std::string latest_num = "0";
    d.status.clear();
    for (auto& v : data_versions(target, d.name)) {
      std::string ver = json::opt_string(v, "/name").value_or("");
      taken.insert(ver);
      if (str::parse_int(ver) && version_less(latest_num, ver)) latest_num = ver;
      auto tags = json::string_map(v, "/properties/tags");
      if (tags["amlops.model"] == model.str() && d.status.empty()) {
        d.status = "unchanged";
        d.target_version = ver;
        d.target_uri = json::opt_string(v, "/properties/dataUri").value_or("");
      }
    }
    if (!d.status.empty()) continue;
    d.status = "to copy";
    d.target_version = taken.count(model.version) ? std::to_string(*str::parse_int(latest_num) + 1) : model.version;
    std::string prefix = "amlops-promoted/" + model.name + "/" + model.version + "/" + d.name;
    // A file asset points at its one file; a folder (or MLTable folder) at the folder.
    bool one_file = d.type == "uri_file" && d.blobs.size() == 1;
    d.target_uri = aml::datastore_uri(kDefaultDatastore, prefix + "/" + (one_file ? d.blobs.front().second : ""));
  }
}

void copy_model_data(azure::Workspace& source, azure::Workspace& target, const ModelRef& model,
                     std::vector<DataCopy>& data) {
  for (auto& d : data) {
    if (d.status != "to copy") continue;
    auto from = source.datastore_container(d.datastore);
    auto to = target.datastore_container(kDefaultDatastore);
    std::string prefix = "amlops-promoted/" + model.name + "/" + model.version + "/" + d.name + "/";
    files::TempDir tmp("amlops-promote-data");
    for (auto& [blob, rel] : d.blobs) {
      auto local = tmp.path() / rel;
      from.download(blob, local);
      to.upload_file(prefix + rel, local);
      std::error_code ec;
      std::filesystem::remove(local, ec);
    }
    json::Document body(rapidjson::kObjectType);
    json::Builder b(body.GetAllocator());
    json::Value p = b.obj();
    b.set(p, "dataType", d.type);
    b.set(p, "dataUri", d.target_uri);
    b.set(p, "description",
          "Data of model " + model.str() + ": " + d.name + ":" + d.source_version + " of workspace " +
              source.ref().name + ", copied at promotion.");
    json::Value t = b.obj();
    b.set(t, "amlops.model", model.str());
    b.set(t, "amlops.promoted_from", source.ref().name + "/" + d.name + ":" + d.source_version);
    b.set(p, "tags", std::move(t));
    json::Value pr = b.obj();
    b.set(pr, "amlops.model", model.str());
    b.set(pr, "amlops.source_data", source.ref().name + "/" + d.name + ":" + d.source_version);
    b.set(p, "properties", std::move(pr));
    b.set(body, "properties", std::move(p));
    std::string path = target.path("/data/" + d.name + "/versions/" + d.target_version);
    try {
      target.arm().put(path, body);
    } catch (const HttpError& e) {
      // A retried PUT whose first attempt created the version is refused as a change of it.
      auto existing = e.status() >= 400 && e.status() < 500 ? target.arm().get_if_exists(path) : std::nullopt;
      if (!existing || json::string_map(*existing, "/properties/tags")["amlops.model"] != model.str()) throw;
    }
    d.status = "copied";
    log::info("registered data asset ", d.name, ":", d.target_version, " in workspace ", target.ref().name, " (",
              d.blobs.size(), " files of ", d.name, ":", d.source_version, ")");
  }
}

}  // namespace amlops::promote
