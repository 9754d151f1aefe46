#include "aml/submit.hpp"

#include <rapidjson/pointer.h>

#include <regex>
#include <utility>

#include "aml/uri.hpp"
#include "core/error.hpp"
#include "core/hash.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "git/repo.hpp"

namespace amlops::aml {
namespace fs = std::filesystem;

std::map<std::string, std::string> provenance_tags(const Env& env, const ci::Host& host) {
  std::map<std::string, std::string> tags;
  git::Provenance p = git::provenance(env, fs::current_path(), host.run_url());
  if (p.commit) tags["amlops.git_commit"] = *p.commit;
  if (p.ref) tags["amlops.git_ref"] = *p.ref;
  if (p.repository) tags["amlops.git_repository"] = *p.repository;
  tags["amlops.git_dirty"] = p.dirty ? "true" : "false";
  if (p.run_url) tags["amlops.ci_run_url"] = *p.run_url;
  return tags;
}

std::string resolve_label(azure::Workspace& ws, const std::string& kind, const std::string& name,
                          const std::string& label) {
  std::string what = (kind == "data" ? kind : kind.substr(0, kind.size() - 1)) + " " + name + "@" + label;
  if (label != "latest") throw ConfigError(what + ": only the label @latest is supported");
  std::vector<json::Document> items;
  try {
    items = ws.arm().list(ws.path("/" + kind + "/" + name + "/versions?api-version=" + ws.arm().options().api_version +
                                  "&$orderBy=" + str::url_encode("createdtime desc") + "&$top=1"),
                          1);
  } catch (const HttpError& e) {
    if (e.status() != 404) throw;
  }
  if (items.empty()) throw ConfigError(what + ": no version of " + name + " in workspace " + ws.ref().name);
  std::string version = json::get_string(items.front(), "/name", what);
  log::info(what, " is version ", version);
  return json::opt_string(items.front(), "/id").value_or(ws.path("/" + kind + "/" + name + "/versions/" + version));
}

namespace {
void set_string(json::Document& doc, const std::string& pointer, const std::string& v) {
  rapidjson::Pointer(pointer.c_str())
      .Set(doc, json::Value(v.c_str(), static_cast<rapidjson::SizeType>(v.size()), doc.GetAllocator()),
           doc.GetAllocator());
}

void set_target(spec::JobSpec& spec, const spec::Target& t, const std::string& id) {
  json::Document& doc = t.component < 0 ? spec.body : spec.components.at(static_cast<size_t>(t.component)).body;
  set_string(doc, t.pointer, t.prefix + id + t.suffix);
}
}  // namespace

void resolve_assets(azure::Workspace& ws, spec::JobSpec& spec, UploadStats& stats, const spec::HashCache& hash_cache) {
  std::map<std::string, std::string> done;  // folder -> id (a folder used twice is uploaded once)
  for (auto& up : spec.uploads) {
    bool code = up.kind == spec::LocalUpload::Kind::code;
    std::string key = (code ? "code:" : "input:") + up.path.string();
    if (!done.count(key))
      done[key] = code ? ensure_code(ws, up.path, stats, hash_cache) : ensure_input(ws, up.path, stats, hash_cache);
    set_target(spec, up.target, done[key]);
  }
  for (auto& e : spec.environments)
    set_target(spec, e.target, ws.ensure_environment(e.env.name, e.env.version, e.env.body));
  std::map<std::string, std::string> labels;  // kind/name@label -> id (resolved once)
  for (auto& l : spec.labels) {
    std::string key = l.kind + "/" + l.name + "@" + l.label;
    if (!labels.count(key)) labels[key] = resolve_label(ws, l.kind, l.name, l.label);
    set_target(spec, l.target, labels[key]);
  }
  for (auto& c : spec.components) {
    std::string version = hash::sha256_hex(json::dump(c.body)).substr(0, 32);
    std::string id = ws.put_component("azureml_anonymous", version, c.body);
    set_string(spec.body, "/properties/jobs/" + spec::pointer_token(c.step) + "/componentId", id);
  }
}

std::string generate_job_name(const fs::path& file) {
  std::string clean;
  for (char c : str::to_lower(file.stem().string())) clean += (std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  if (clean.empty()) clean = "job";
  return clean + "_" + str::random_hex(5);
}

json::Document put_job_repeat_safe(azure::Workspace& ws, const std::string& name, json::Document& body,
                                   const std::string& submission) {
  json::Builder b(body.GetAllocator());
  json::Value& props = body["properties"];
  if (!props.HasMember("tags")) b.set(props, "tags", b.obj());
  b.set(props["tags"], "amlops.submission", submission);
  try {
    return ws.put_job(name, body);
  } catch (const HttpError& e) {
    auto existing = e.status() >= 400 && e.status() < 500 ? ws.get_job(name) : std::nullopt;
    if (!existing || json::opt_string(*existing, "/properties/tags/amlops.submission").value_or("") != submission)
      throw;
    log::debug("job ", name, ": the PUT was refused but the job is ours (", e.what(), ")");
    return std::move(*existing);
  }
}

std::string spec_fingerprint(const json::Value& body) {
  json::Document copy;
  copy.CopyFrom(body, copy.GetAllocator());
  json::Value* tags = copy.IsObject() && copy.HasMember("properties") && copy["properties"].IsObject() &&
                              copy["properties"].HasMember("tags")
                          ? &copy["properties"]["tags"]
                          : nullptr;
  if (tags && tags->IsObject()) {
    std::vector<std::string> ours;
    for (auto& m : std::as_const(*tags).GetObject())
      if (std::string(m.name.GetString()).rfind("amlops.", 0) == 0) ours.emplace_back(m.name.GetString());
    for (auto& k : ours) tags->EraseMember(k.c_str());
  }
  return hash::sha256_hex(json::dump(copy)).substr(0, 32);
}

namespace {

// "name:version" of a data asset reference, or "" when `uri` names none; `label` gets the
// azureml:NAME@LABEL reference, to be pinned by the caller.
std::string data_asset_of(const std::string& uri, std::optional<LabelRef>& label) {
  static const std::regex version_id(R"((?:^|/)data/([^/]+)/versions/([^/?]+)$)");
  std::smatch m;
  if (std::regex_search(uri, m, version_id) && (uri.rfind("/subscriptions/", 0) == 0 || uri.rfind("azureml:/", 0) == 0))
    return m[1].str() + ":" + m[2].str();
  if ((label = parse_label_ref(uri))) return {};
  if (uri.rfind("azureml:", 0) != 0 || uri.rfind("azureml:/", 0) == 0) return {};
  try {
    auto nv = parse_name_version(uri);
    return nv.name + ":" + nv.version;
  } catch (const UsageError&) {
    return {};
  }
}

}  // namespace

std::map<std::string, std::string> data_provenance(json::Document& body,
                                                   const std::function<std::string(const std::string&)>& latest) {
  std::map<std::string, std::string> out;
  json::Builder b(body.GetAllocator());
  auto scan = [&](json::Value& inputs, const std::string& prefix) {
    if (!inputs.IsObject()) return;
    for (auto& in : inputs.GetObject()) {
      if (!in.value.IsObject() || !in.value.HasMember("uri") || !in.value["uri"].IsString()) continue;
      std::optional<LabelRef> label;
      std::string asset = data_asset_of(in.value["uri"].GetString(), label);
      if (label) {
        if (label->label != "latest")
          throw ConfigError("input " + prefix + in.name.GetString() + ": only the label @latest is supported (" +
                            label->name + "@" + label->label + ")");
        asset = label->name + ":" + latest(label->name);
        b.set(in.value, "uri", "azureml:" + asset);
      }
      if (!asset.empty()) out["amlops.data." + prefix + in.name.GetString()] = asset;
    }
  };
  json::Value& props = body["properties"];
  if (props.HasMember("inputs")) scan(props["inputs"], "");
  if (props.HasMember("jobs") && props["jobs"].IsObject())
    for (auto& step : props["jobs"].GetObject())
      if (step.value.IsObject() && step.value.HasMember("inputs"))
        scan(step.value["inputs"], std::string(step.name.GetString()) + ".");
  if (!out.empty()) {
    if (!props.HasMember("properties") || !props["properties"].IsObject()) b.set(props, "properties", b.obj());
    for (auto& [k, v] : out) b.set(props["properties"], k, v);
  }
  return out;
}

Submitted submit_job(azure::Workspace& ws, spec::JobSpec& spec, const SubmitOptions& opts) {
  Submitted s;
  resolve_assets(ws, spec, s.stats, opts.hash_cache);
  // Provenance: the exact data versions the job consumes, in its properties.
  data_provenance(spec.body, [&](const std::string& name) {
    std::string id = resolve_label(ws, "data", name, "latest");  // the version's ARM id
    return id.substr(id.rfind('/') + 1);
  });
  s.name = !opts.name.empty() ? opts.name : spec.name.value_or("");
  if (s.name.empty()) s.name = generate_job_name(spec.file);
  json::Builder b(spec.body.GetAllocator());
  json::Value& props = spec.body["properties"];
  std::string experiment = !opts.experiment.empty() ? opts.experiment : spec.experiment_name.value_or("");
  if (experiment.empty()) experiment = opts.default_experiment;
  b.set(props, "experimentName", experiment);
  if (!props.HasMember("tags")) b.set(props, "tags", b.obj());
  for (auto& [k, v] : opts.tags) b.set(props["tags"], k, v);
  std::string fingerprint = spec_fingerprint(spec.body);
  b.set(props["tags"], "amlops.spec", fingerprint);
  if (auto existing = ws.get_job(s.name)) {
    if (json::opt_string(*existing, "/properties/tags/amlops.spec").value_or("") != fingerprint)
      throw UsageError("job name '" + s.name + "' is taken in workspace " + ws.ref().name +
                       " by a job with a different spec; choose another --name (or leave it out)");
    log::info("job ", s.name, " exists with the same spec: not submitted again");
    s.job = std::move(*existing);
    s.existing = true;
    return s;
  }
  log::debug("job body: ", json::dump(spec.body));
  s.job = put_job_repeat_safe(ws, s.name, spec.body, str::random_hex(8));
  return s;
}

}  // namespace amlops::aml
