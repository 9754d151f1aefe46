#include "promote/promotion.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "aml/uri.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"

namespace amlops::promote {
namespace {

constexpr const char* kProvider = "/providers/Microsoft.MachineLearningServices/";

// "azureml://datastores/..." or "azureml://jobs/..." of `ws` in the form another workspace can
// resolve (azureml://subscriptions/S/resourcegroups/RG/workspaces/W/...); other URIs unchanged.
std::string qualified_uri(const std::string& uri, const azure::WorkspaceRef& ws) {
  const std::string pfx = "azureml://";
  if (uri.rfind(pfx, 0) != 0) return uri;
  std::string rest = uri.substr(pfx.size());
  if (rest.rfind("datastores/", 0) != 0 && rest.rfind("jobs/", 0) != 0) return uri;
  return pfx + "subscriptions/" + ws.subscription + "/resourcegroups/" + ws.resource_group + "/workspaces/" + ws.name +
         "/" + rest;
}

json::Document properties_body(const json::Value& version) {
  json::Document body(rapidjson::kObjectType);
  json::Builder b(body.GetAllocator());
  json::Value props = b.obj();
  if (const json::Value* p = json::find(version, "/properties"); p && p->IsObject())
    for (auto& m : p->GetObject()) {
      std::string k = m.name.GetString();
      if (k == "provisioningState") continue;  // read-only
      b.set(props, k, b.copy(m.value));
    }
  b.set(body, "properties", std::move(props));
  return body;
}

}  // namespace

bool version_less(const std::string& a, const std::string& b) {
  auto x = str::parse_int(a), y = str::parse_int(b);
  if (x && y) return *x < *y;
  if (x != y) return static_cast<bool>(x);  // numbers sort before names
  return a < b;
}

ModelRef ModelRef::parse(const std::string& text) {
  auto nv = aml::parse_name_version(text);
  return {nv.name, nv.version};
}

Scope Scope::of_workspace(const azure::WorkspaceRef& ws) {
  Scope s;
  s.label = "workspace " + ws.name;
  s.base = ws.arm_id();
  s.workspace = ws;
  return s;
}

Scope Scope::of_environment(const Environment& env) {
  azure::WorkspaceRef ws = azure::WorkspaceRef::parse(env.workspace);
  if (env.registry.empty()) return of_workspace(ws);
  Scope s;
  s.label = "registry " + env.registry;
  s.base = "/subscriptions/" + ws.subscription + "/resourceGroups/" + ws.resource_group + kProvider + "registries/" +
           env.registry;
  s.registry = env.registry;
  s.workspace = ws;
  return s;
}

std::string Scope::asset_id(const ModelRef& m) const {
  if (!registry.empty()) return "azureml://registries/" + registry + "/models/" + m.name + "/versions/" + m.version;
  return "azureml:" + m.name + ":" + m.version;
}

std::optional<json::Document> Models::get(const ModelRef& m) {
  return arm_.get_if_exists(scope_.base + "/models/" + m.name + "/versions/" + m.version);
}

std::vector<json::Document> Models::list(const std::string& name, const std::string& tags_filter) {
  std::string p = scope_.base + "/models/" + name + "/versions?api-version=" + arm_.options().api_version;
  if (!tags_filter.empty()) p += "&tags=" + str::url_encode(tags_filter);
  try {
    return arm_.list(p);
  } catch (const HttpError& e) {
    if (e.status() == 404) return {};  // no such model yet
    throw;
  }
}

void Models::put_tags(const ModelRef& m, const json::Value& version, const std::map<std::string, std::string>& tags) {
  json::Document body = properties_body(version);
  json::Builder b(body.GetAllocator());
  json::Value t = b.obj();
  for (auto& [k, v] : tags) b.set(t, k, v);
  b.set(body["properties"], "tags", std::move(t));
  arm_.put(scope_.base + "/models/" + m.name + "/versions/" + m.version, body);
}

ModelFacts facts_of(const json::Value& version, const std::string& id, azure::Workspace* source, bool job_metrics) {
  ModelFacts f;
  f.id = id;
  f.tags = json::string_map(version, "/properties/tags");
  auto props = json::string_map(version, "/properties/properties");
  // Properties are what amlops-model writes as the record (immutable); tags are the fallback.
  for (auto* src : {&f.tags, &props})
    for (auto& [k, v] : *src) {
      if (k.rfind("metric.", 0) != 0 || k.size() == 7) continue;
      auto d = str::parse_double(str::trim(v));
      f.metrics[k.substr(7)] = d ? *d : std::numeric_limits<double>::quiet_NaN();
    }
  f.job = props.count("amlops.job") ? props["amlops.job"] : (f.tags.count("amlops.job") ? f.tags["amlops.job"] : "");
  if (source && !f.job.empty()) {
    if (f.metrics.empty() && job_metrics) {
      log::info(id, " has no metric.* tags: reading job ", f.job, "'s MLflow metrics");
      for (auto& [k, v] : source->metrics(f.job)) f.metrics[k] = v;
    }
    try {  // the link is for readers only: its absence never changes the decision
      if (auto job = source->get_job(f.job))
        f.job_url = json::opt_string(*job, "/properties/services/Studio/endpoint").value_or("");
    } catch (const Error& e) {
      log::debug("link to job ", f.job, ": ", e.what());
    }
  }
  return f;
}

std::pair<std::string, std::string> champion_tag(const Policy& p) {
  if (p.champion.kind == ChampionSelector::Kind::version) return {"stage", "production"};
  return {p.champion.key, p.champion.value};
}

ChampionLookup find_champion(Models& models, const Policy& p, const std::string& name,
                             const std::optional<ModelRef>& explicit_champion, const std::string& exclude) {
  ChampionLookup out;
  std::optional<ModelRef> fixed = explicit_champion;
  if (!fixed && p.champion.kind == ChampionSelector::Kind::version) fixed = ModelRef{name, p.champion.value};
  if (fixed) {
    out.ref = fixed;
    out.doc = models.get(*fixed);
    if (!out.doc) out.error = fixed->str() + " not found in " + models.scope().label;
    return out;
  }
  auto [key, value] = champion_tag(p);
  std::vector<std::pair<std::string, json::Document>> tagged;
  for (auto& v : models.list(name, key + "=" + value)) {
    std::string ver = json::opt_string(v, "/name").value_or("");
    auto tags = json::string_map(v, "/properties/tags");
    auto it = tags.find(key);
    if (ver.empty() || ver == exclude || it == tags.end() || it->second != value) continue;
    tagged.emplace_back(ver, std::move(v));
  }
  std::sort(tagged.begin(), tagged.end(), [](auto& a, auto& b) { return version_less(b.first, a.first); });
  for (size_t i = 0; i < tagged.size(); ++i) {
    if (i == 0) {
      out.ref = ModelRef{name, tagged[i].first};
      out.doc = std::move(tagged[i].second);
    } else {
      out.also_tagged.push_back(ModelRef{name, tagged[i].first});
    }
  }
  return out;
}

Outcome promote(azure::Workspace& source, Models& target, const Policy& policy, const ModelRef& cand,
                const PromoteOptions& opts) {
  Outcome o;
  const Scope& scope = target.scope();
  o.model_id = scope.asset_id(cand);
  auto cand_doc = source.get_model_version(cand.name, cand.version);
  if (!cand_doc) throw UsageError("candidate " + cand.str() + " not found in workspace " + source.ref().name);
  o.candidate = facts_of(*cand_doc, cand.str(), &source);
  auto cand_props = json::string_map(*cand_doc, "/properties/properties");

  // The candidate's copy in the target, when a previous run published it.
  auto existing = target.get(cand);
  if (existing && json::string_map(*existing, "/properties/properties") != cand_props)
    throw CheckFailed(scope.label + " already holds " + cand.str() +
                      " with different properties: it is another model, not this candidate");
  auto [key, value] = champion_tag(policy);
  ChampionLookup champ = find_champion(target, policy, cand.name, std::nullopt, cand.version);
  // The champion's job is linked when the candidate's workspace knows it; its metrics are its own.
  if (champ.ref && champ.doc) o.champion = facts_of(*champ.doc, champ.ref->str(), &source, false);
  if (champ.ref) o.previous = champ.ref->str();

  // The data that travels with the model (promotion.data): found, with its files, before anything
  // is written; it lives in the environment's workspace even when the model goes to a registry.
  std::optional<azure::Workspace> data_ws;
  auto prepare_data = [&] {
    if (policy.data.empty()) return;
    o.data = find_model_data(source, *cand_doc, cand, policy.data);
    if (scope.workspace.arm_id() == source.ref().arm_id()) {
      for (auto& d : o.data) {
        d.status = "unchanged";
        d.target_version = d.source_version;
        d.target_uri = d.source_uri;
      }
      return;
    }
    data_ws.emplace(source.arm(), scope.workspace);
    plan_model_data(*data_ws, cand, o.data);
  };
  auto data_plan = [&] {
    for (auto& d : o.data) {
      if (d.status == "unchanged") {
        o.plan.push_back("data asset " + d.name + ":" + d.target_version + " in workspace " + scope.workspace.name +
                         " already belongs to " + cand.str() + " (unchanged)");
        continue;
      }
      o.plan.push_back("copy data asset " + d.name + ":" + d.source_version + " (" + std::to_string(d.blobs.size()) +
                       " files) of workspace " + source.ref().name + " to workspace " + scope.workspace.name + " as " +
                       d.name + ":" + d.target_version + " at " + d.target_uri + ", tagged amlops.model=" + cand.str());
    }
  };
  auto copy_data = [&] {
    if (!data_ws) return;
    copy_model_data(source, *data_ws, cand, o.data);
    for (auto& d : o.data)
      if (d.status == "copied") o.changed = true;
  };

  bool cand_is_champion = existing && json::string_map(*existing, "/properties/tags")[key] == value;
  if (cand_is_champion && !champ.ref && champ.error.empty()) {
    o.already = true;
    o.decision.promote = true;
    o.decision.candidate = cand.str();
    o.previous.clear();
    prepare_data();
    data_plan();
    bool all_there =
        std::all_of(o.data.begin(), o.data.end(), [](const DataCopy& d) { return d.status == "unchanged"; });
    o.decision.reasons.push_back(cand.str() + " is already the champion in " + scope.label + " (" + key + "=" + value +
                                 ")" + (all_there ? ": nothing to do" : ": only its data is missing"));
    if (!opts.dry_run) copy_data();
    return o;
  }

  o.decision = decide(policy, o.candidate, o.champion, champ.error);
  if (!o.decision.promote) return o;
  prepare_data();

  // The plan. Every read above finished before any write below.
  if (!existing) {
    if (!scope.registry.empty())
      o.plan.push_back("publish " + cand.str() + " from workspace " + source.ref().name + " to registry " +
                       scope.registry + " (same name and version, files copied)");
    else
      o.plan.push_back("register " + cand.str() + " in " + scope.label + " with the files of workspace " +
                       source.ref().name);
  }
  o.plan.push_back("tag " + cand.str() + " in " + scope.label + ": " + key + "=" + value +
                   ", amlops.promoted_from, amlops.promoted_at, amlops.decision");
  std::vector<ModelRef> to_archive;
  if (champ.ref && champ.doc) to_archive.push_back(*champ.ref);
  for (auto& r : champ.also_tagged) to_archive.push_back(r);
  for (auto& r : to_archive) o.plan.push_back("tag previous champion " + r.str() + ": " + key + "=archived");
  data_plan();
  if (opts.dry_run) return o;

  if (!existing) {
    std::string ws_model = source.path("/models/" + cand.name + "/versions/" + cand.version);
    if (!scope.registry.empty()) {
      json::Document body(rapidjson::kObjectType);
      json::Builder b(body.GetAllocator());
      b.set(body, "destinationName", cand.name);
      b.set(body, "destinationVersion", cand.version);
      b.set(body, "registryName", scope.registry);
      try {
        // Not repeated blindly (POST): when the answer is lost or an error, the registry's state decides.
        source.arm().post(ws_model + "/publish", json::dump(body), false);
      } catch (const HttpError& e) {
        if (e.status() != 409 && !target.get(cand)) throw;
        log::info("publish of ", cand.str(), " answered ", e.what(), "; registry ", scope.registry,
                  " holds it: checking it is this candidate");
      }
    } else {
      json::Document body = properties_body(*cand_doc);
      json::Builder b(body.GetAllocator());
      std::string uri = json::opt_string(*cand_doc, "/properties/modelUri").value_or("");
      b.set(body["properties"], "modelUri", qualified_uri(uri, source.ref()));
      target.put_tags(cand, body, json::string_map(*cand_doc, "/properties/tags"));
    }
    existing = target.get(cand);
    if (!existing) throw HttpError(404, cand.str() + " is not in " + scope.label + " after the copy");
    if (json::string_map(*existing, "/properties/properties") != cand_props)
      throw CheckFailed(scope.label + " holds " + cand.str() + " with different properties after the copy");
  }
  copy_data();  // before the champion tag: the endpoint's monitoring finds its reference first
  auto tags = json::string_map(*existing, "/properties/tags");
  tags[key] = value;
  tags["amlops.promoted_from"] = source.ref().name + "/" + cand.str();
  tags["amlops.promoted_at"] = opts.promoted_at;
  tags["amlops.decision"] = o.decision.summary() + (o.previous.empty() ? "" : " vs " + o.previous);
  target.put_tags(cand, *existing, tags);
  for (auto& r : to_archive) {
    auto doc = target.get(r);
    if (!doc) continue;
    auto t = json::string_map(*doc, "/properties/tags");
    t[key] = "archived";
    t["amlops.archived_by"] = cand.str();
    target.put_tags(r, *doc, t);
  }
  o.changed = true;
  return o;
}

}  // namespace amlops::promote
