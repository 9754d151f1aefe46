#include "aml/model.hpp"

#include <sstream>

#include "aml/upload.hpp"
#include "aml/uri.hpp"
#include "aml/wait.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/hash.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"

namespace amlops::aml {
namespace fs = std::filesystem;

json::Document model_version_body(const std::string& type, const std::string& uri, const std::string& description,
                                  const std::map<std::string, std::string>& tags,
                                  const std::map<std::string, std::string>& properties) {
  json::Document body(rapidjson::kObjectType);
  json::Builder b(body.GetAllocator());
  json::Value p = b.obj(), t = b.obj(), pp = b.obj();
  b.set(p, "modelType", type);
  b.set(p, "modelUri", uri);
  if (!description.empty()) b.set(p, "description", description);
  b.set(p, "isAnonymous", false);
  for (auto& [k, v] : tags) b.set(t, k, v);
  for (auto& [k, v] : properties) b.set(pp, k, v);
  b.set(p, "tags", std::move(t));
  b.set(p, "properties", std::move(pp));
  b.set(body, "properties", std::move(p));
  return body;
}

int64_t next_version(const json::Value* container, const std::vector<json::Document>& versions) {
  int64_t next = 1;
  if (container) {
    if (auto nv = json::opt_string(*container, "/properties/nextVersion"); nv && str::parse_int(*nv))
      next = *str::parse_int(*nv);
    else if (auto lv = json::opt_string(*container, "/properties/latestVersion"); lv && str::parse_int(*lv))
      next = *str::parse_int(*lv) + 1;
  }
  for (auto& v : versions)
    if (auto n = str::parse_int(json::opt_string(v, "/name").value_or(""))) next = std::max(next, *n + 1);
  return next;
}

namespace {
// list_model_versions, where a 404 means "no such model" only when the workspace exists.
std::vector<json::Document> model_versions(azure::Workspace& ws, const std::string& name, const std::string& tags = {},
                                           const std::string& props = {}) {
  try {
    return ws.list_model_versions(name, tags, props);
  } catch (const HttpError& e) {
    if (e.status() != 404) throw;
    ws.info();  // throws the workspace's own error (URL and status) when it is the workspace that is missing
    return {};
  }
}
}  // namespace

std::string next_model_version(azure::Workspace& ws, const std::string& name) {
  auto c = ws.get_model_container(name);
  return std::to_string(next_version(c ? &*c : nullptr, model_versions(ws, name)));
}

std::vector<json::Document> list_models(azure::Workspace& ws, const std::string& name,
                                        const std::vector<std::string>& tag_filters) {
  std::vector<std::pair<std::string, std::optional<std::string>>> want;
  for (auto& t : tag_filters) {
    if (auto kv = str::split_key_value(t))
      want.emplace_back(kv->first, kv->second);
    else
      want.emplace_back(t, std::nullopt);
  }
  std::vector<json::Document> out;
  for (auto& v : model_versions(ws, name, str::join(tag_filters, ","))) {
    const json::Value* tags = json::find(v, "/properties/tags");
    bool ok = true;
    for (auto& [k, val] : want) {
      const json::Value* t = tags && tags->IsObject() && tags->HasMember(k.c_str()) ? &(*tags)[k.c_str()] : nullptr;
      if (!t || (val && json::scalar_text(*t) != *val)) ok = false;
    }
    if (ok) out.push_back(std::move(v));
  }
  return out;
}

std::string model_source(const std::string& model_uri) { return hash::sha256_hex(model_uri).substr(0, 32); }

namespace {
std::string format_number(double v) {
  std::ostringstream os;
  os.precision(10);
  os << v;
  return os.str();
}

bool is_uri(const std::string& path) { return path.find("://") != std::string::npos || path.rfind("azureml:", 0) == 0; }

// True when `v` (a step's output binding, in whatever shape the service keeps it) names `binding`.
bool binds(const json::Value& v, const std::string& binding) {
  if (v.IsString()) return str::trim(v.GetString()) == binding;
  if (v.IsObject())
    for (auto& m : v.GetObject())
      if (binds(m.value, binding)) return true;
  return false;
}

// The metrics a registered model carries: the job's own, or for a pipeline (which logs none of its
// own) those of the step whose output is bound to the pipeline output being registered.
std::map<std::string, double> job_metrics(azure::Workspace& ws, const std::string& name, const json::Value& job,
                                          const std::string& output) {
  auto own = ws.metrics(name);
  const json::Value* steps = json::find(job, "/properties/jobs");
  if (!own.empty() || json::opt_string(job, "/properties/jobType").value_or("") != "Pipeline" || !steps ||
      !steps->IsObject())
    return own;
  const std::string binding = "${{parent.outputs." + output + "}}";
  std::string step;
  for (auto& s : steps->GetObject()) {
    const json::Value* outs = json::find(s.value, "/outputs");
    if (outs && outs->IsObject())
      for (auto& o : outs->GetObject())
        if (binds(o.value, binding)) step = s.name.GetString();
  }
  if (step.empty()) return own;
  for (const auto& child : ws.run_children(name)) {
    auto cj = require_job(ws, child);
    if (json::opt_string(cj, "/properties/properties/azureml.pipeline.step").value_or("") == step ||
        json::opt_string(cj, "/properties/displayName").value_or("") == step)
      return ws.metrics(child);
  }
  return own;
}

std::string source_of(const json::Value& version) {
  return json::opt_string(version, "/properties/properties/amlops.source").value_or("");
}
}  // namespace

Registered register_model(azure::Workspace& ws, const RegisterRequest& req) {
  Registered out;
  std::map<std::string, std::string> tags, props;
  if (!req.from_job.empty()) {
    auto job = require_job(ws, req.from_job);
    std::string status = job_status(job);
    if (status != "Completed")
      throw CheckFailed("job " + req.from_job + " is " + status +
                        ", not Completed: its outputs are not a model to register");
    const json::Value* outputs = json::find(job, "/properties/outputs");
    if (outputs && outputs->IsObject() && !outputs->HasMember(req.output_name.c_str()))
      throw UsageError("job " + req.from_job + " has no output '" + req.output_name +
                       "' (outputs: " + str::join(json::keys(*outputs), ", ") + ")");
    out.model_uri = job_output_uri(req.from_job, req.output_name);
    // The job's provenance (the commit it trained) and its metrics.
    for (auto& [k, v] : json::string_map(job, "/properties/tags"))
      if (k.rfind("amlops.", 0) == 0 && k != "amlops.submission") tags[k] = v;
    // The data versions it trained on (amlops.data.<input>, set by amlops-job submit).
    for (auto& [k, v] : json::string_map(job, "/properties/properties"))
      if (k.rfind("amlops.data.", 0) == 0) {
        tags[k] = v;
        props[k] = v;
      }
    for (auto& [k, v] : job_metrics(ws, req.from_job, job, req.output_name)) {
      tags["metric." + k] = format_number(v);
      props["metric." + k] = format_number(v);
    }
    tags["amlops.job"] = req.from_job;
    props["amlops.job"] = req.from_job;
  } else if (is_uri(req.path)) {
    out.model_uri = req.path;
  } else {
    UploadStats stats;
    out.model_uri = ensure_input(ws, fs::absolute(req.path), stats);
  }
  if (tags.find("amlops.git_commit") == tags.end() && req.provenance)
    for (auto& [k, v] : req.provenance()) tags[k] = v;
  for (auto& [k, v] : tags)
    if (k.rfind("amlops.git", 0) == 0 || k == "amlops.ci_run_url") props[k] = v;
  for (auto& [k, v] : req.tags) tags[k] = v;
  std::string source = model_source(out.model_uri);
  props["amlops.source"] = source;

  // The same source registered again returns the existing version.
  for (auto& v : model_versions(ws, req.name, {}, "amlops.source=" + source)) {
    if (source_of(v) != source) continue;
    out.version = std::move(v);
    out.version_name = json::opt_string(out.version, "/name").value_or("");
    out.existing = true;
    log::info("model ", req.name, ":", out.version_name, " already registered from ", out.model_uri);
    return out;
  }
  std::string version = req.version.empty() ? next_model_version(ws, req.name) : req.version;
  json::Document body = model_version_body(req.type, out.model_uri, req.description, tags, props);
  try {
    out.version = ws.put_model_version(req.name, version, body);
  } catch (const HttpError& e) {
    // A retried PUT whose first attempt created the version may be refused as a change of it.
    auto existing = e.status() >= 400 && e.status() < 500 ? ws.get_model_version(req.name, version) : std::nullopt;
    if (!existing || source_of(*existing) != source) throw;
    out.version = std::move(*existing);
  }
  out.version_name = json::opt_string(out.version, "/name").value_or(version);
  if (out.version_name.empty()) out.version_name = version;
  log::info("registered model ", req.name, ":", out.version_name, " from ", out.model_uri);
  return out;
}

std::string resolve_model_uri(azure::Workspace& ws, const std::string& uri) {
  if (uri.rfind("azureml://jobs/", 0) != 0) return uri;
  auto ref = parse_job_output_uri(uri);
  if (!ref) throw HttpError(200, "unsupported model URI " + uri);
  auto job = ws.get_job(ref->job);
  if (!job) throw UsageError("job " + ref->job + " of model URI " + uri + " not found");
  auto out_uri = json::opt_string(*job, "/properties/outputs/" + ref->output + "/uri");
  if (!out_uri) throw HttpError(200, "job " + ref->job + " has no URI for output " + ref->output);
  std::string resolved = *out_uri;
  if (!ref->path.empty()) resolved += (resolved.back() == '/' ? "" : "/") + ref->path;
  return resolved;
}

Downloaded download_model(azure::Workspace& ws, const std::string& name, const std::string& version,
                          const fs::path& to) {
  auto v = ws.get_model_version(name, version);
  if (!v) throw UsageError("model " + name + ":" + version + " not found");
  std::string uri = resolve_model_uri(ws, json::get_string(*v, "/properties/modelUri", "model version"));
  auto dp = parse_datastore_uri(uri);
  if (!dp)
    throw HttpError(200, "cannot download model URI " + uri +
                             " (supported: azureml://jobs/..., azureml://datastores/.../paths/...)");
  auto container = ws.datastore_container(dp->datastore);
  auto blobs = container.list(dp->path);
  Downloaded d;
  for (auto& blob : blobs) {
    auto rel = blob_relative_name(dp->path, blob.name);
    if (!rel) continue;  // a sibling that only shares the string prefix (models/v10 for models/v1)
    if (!files::is_safe_relative(*rel)) throw HttpError(200, "refusing unsafe blob name " + blob.name);
    container.download(blob.name, to / *rel);
    ++d.files;
    d.bytes += blob.size;
  }
  if (d.files == 0) throw HttpError(404, "no files under " + uri);
  return d;
}

}  // namespace amlops::aml
