// The plan (desired vs the workspace, GETs only), its application in dependency order, and its
// rendering.
#include <rapidjson/pointer.h>

#include <map>
#include <set>
#include <sstream>

#include "aml/submit.hpp"
#include "aml/upload.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "setup/setup.hpp"

namespace amlops::setup {

const char* action_name(Action a) {
  switch (a) {
    case Action::create:
      return "create";
    case Action::update:
      return "update";
    case Action::unchanged:
      return "unchanged";
    case Action::remove:
      return "delete";
  }
  return "";
}

size_t Plan::count(Action a) const {
  size_t n = 0;
  for (auto& c : changes) n += c.action == a ? 1 : 0;
  return n;
}

namespace {

std::string api(azure::Workspace& ws) { return "api-version=" + ws.arm().options().api_version; }

// Where a kind keeps its tags: computes are tracked ARM resources (top-level tags); the others
// keep them in properties.
const char* tags_pointer(Kind k) { return k == Kind::compute ? "/tags" : "/properties/tags"; }

json::Value* tags_of(json::Value& body, Kind k) {
  auto* v = rapidjson::Pointer(tags_pointer(k)).Get(body);
  return v && v->IsObject() ? v : nullptr;
}

std::map<std::string, std::string> tags_map(const json::Value& body, Kind k) {
  return json::string_map(body, tags_pointer(k));
}

void set_tag(json::Document& body, Kind k, const std::string& key, const std::string& value) {
  json::Builder b(body.GetAllocator());
  if (!tags_of(body, k)) rapidjson::Pointer(tags_pointer(k)).Set(body, json::Value(rapidjson::kObjectType));
  b.set(*tags_of(body, k), key, value);
}

// A copy of `body` without the tags setup writes (amlops.*): what a user declares.
json::Document user_view(const json::Value& body, Kind k) {
  json::Document d;
  d.CopyFrom(body, d.GetAllocator());
  if (json::Value* t = tags_of(d, k)) {
    std::vector<std::string> ours;
    for (auto& m : t->GetObject())
      if (std::string(m.name.GetString()).rfind("amlops.", 0) == 0) ours.emplace_back(m.name.GetString());
    for (auto& key : ours) t->EraseMember(key.c_str());
  }
  return d;
}

std::optional<json::Document> get_if_exists(azure::Workspace& ws, const std::string& sub) {
  return ws.arm().get_if_exists(ws.path(sub));
}

// Every version of an asset, newest first; empty when the asset does not exist.
std::vector<json::Document> versions(azure::Workspace& ws, Kind k, const std::string& name, size_t top = 0) {
  try {
    std::string q = "/" + std::string(collection(k)) + "/" + name + "/versions?" + api(ws) +
                    "&$orderBy=" + str::url_encode("createdtime desc") + (top ? "&$top=" + std::to_string(top) : "");
    return ws.arm().list(ws.path(q), top);
  } catch (const HttpError& e) {
    if (e.status() == 404) return {};
    throw;
  }
}

std::string next_version(const std::vector<json::Document>& existing, const std::optional<std::string>& wanted,
                         std::string& note) {
  std::set<std::string> names;
  int64_t max = 0;
  for (auto& v : existing) {
    std::string n = json::opt_string(v, "/name").value_or("");
    names.insert(n);
    if (auto i = str::parse_int(n)) max = std::max(max, *i);
  }
  if (wanted && !names.count(*wanted)) return *wanted;
  std::string next = std::to_string(max + 1);
  if (wanted) note = "version " + *wanted + " holds other content; the new content is version " + next;
  return next;
}

void plan_versioned(azure::Workspace& ws, Resource& r, Change& c) {
  set_tag(r.body, r.kind, kManagedTag, "true");
  set_tag(r.body, r.kind, kContentTag, r.fingerprint);
  auto all = versions(ws, r.kind, r.name);
  const json::Document* latest = all.empty() ? nullptr : &all.front();
  if (latest &&
      json::opt_string(*latest, std::string("/properties/tags/") + kContentTag).value_or("") == r.fingerprint) {
    c.version = json::opt_string(*latest, "/name").value_or("");
    c.id = json::opt_string(*latest, "/id").value_or("");
    auto kept = std::make_shared<json::Document>();
    kept->CopyFrom(*latest, kept->GetAllocator());
    c.actual = kept;
    // Same content: only what may change in place (description, tags, properties) is compared.
    json::Document desired(rapidjson::kObjectType);
    json::Builder b(desired.GetAllocator());
    json::Value props = b.obj();
    for (const char* k : {"description", "tags", "properties"}) {
      auto it = r.body["properties"].FindMember(k);
      if (it != r.body["properties"].MemberEnd()) b.set(props, k, b.copy(it->value));
    }
    if (!props.HasMember("description")) b.set(props, "description", "");
    b.set(desired, "properties", std::move(props));
    c.fields = changed_fields(user_view(desired, r.kind), user_view(*latest, r.kind));
    c.action = c.fields.empty() ? Action::unchanged : Action::update;
    return;
  }
  c.action = Action::create;
  c.version = next_version(all, r.version, c.note);
  if (latest) {
    if (c.note.empty()) c.note = "content changed since version " + json::opt_string(*latest, "/name").value_or("?");
  }
}

void plan_plain(azure::Workspace& ws, Resource& r, Change& c) {
  set_tag(r.body, r.kind, kManagedTag, "true");
  set_tag(r.body, r.kind, kSpecTag, r.fingerprint);
  if (r.kind == Kind::schedule) set_tag(r.body, r.kind, kJobTag, r.job_fingerprint);
  if (r.kind == Kind::compute && !r.body.HasMember("location")) {
    auto loc = json::opt_string(ws.info(), "/location");
    if (loc) json::Builder(r.body.GetAllocator()).set(r.body, "location", *loc);
  }
  auto actual = get_if_exists(ws, "/" + std::string(collection(r.kind)) + "/" + r.name);
  if (!actual) {
    c.action = Action::create;
    return;
  }
  c.id = json::opt_string(*actual, "/id").value_or("");
  json::Document desired = user_view(r.body, r.kind);
  desired.EraseMember("location");  // set once, at creation
  // Secrets are never returned: only the credential type compares.
  if (json::Value* cred = rapidjson::Pointer("/properties/credentials").Get(desired); cred && cred->IsObject())
    cred->EraseMember("secrets");
  c.fields = changed_fields(desired, user_view(*actual, r.kind));
  auto tags = tags_map(*actual, r.kind);
  if (tags[kSpecTag] != r.fingerprint && c.fields.empty()) {
    if (r.kind == Kind::schedule && tags[kJobTag] != r.job_fingerprint)
      c.fields.push_back("create_job");
    else if (r.kind == Kind::datastore)
      c.fields.push_back("properties/credentials");
    else
      c.fields.push_back(tags.count(kSpecTag) ? "spec" : "tags (not created by amlops-setup)");
  }
  if (r.kind == Kind::schedule && tags[kJobTag] != r.job_fingerprint &&
      std::find(c.fields.begin(), c.fields.end(), "create_job") == c.fields.end())
    c.fields.push_back("create_job");
  c.action = c.fields.empty() ? Action::unchanged : Action::update;
  if (c.action == Action::update && !tags.count(kManagedTag))
    c.note = "exists, not created by amlops-setup; from now on it carries amlops.managed";
  c.actual = std::make_shared<json::Document>(std::move(*actual));
}

bool managed(const json::Value& v, Kind k) {
  auto t = json::string_map(v, tags_pointer(k));
  return t.count(kManagedTag) && t[kManagedTag] == "true";
}

void plan_prune(azure::Workspace& ws, const std::vector<Resource>& rs, Plan& plan) {
  // The files are the whole configuration: every kind is looked at.
  std::map<Kind, std::set<std::string>> declared;
  for (Kind k : {Kind::datastore, Kind::data, Kind::environment, Kind::component, Kind::compute, Kind::schedule})
    declared[k];
  for (auto& r : rs) declared[r.kind].insert(r.name);
  for (auto it = declared.rbegin(); it != declared.rend(); ++it) {
    Kind k = it->first;
    std::vector<json::Document> items;
    try {
      // Disabled schedules and archived assets are listed only with listViewType=All.
      bool views = versioned(k) || k == Kind::schedule;
      items =
          ws.arm().list(ws.path("/" + std::string(collection(k)) + "?" + api(ws) + (views ? "&listViewType=All" : "")));
    } catch (const HttpError& e) {
      if (e.status() != 404) throw;
    }
    for (auto& item : items) {
      std::string name = json::opt_string(item, "/name").value_or("");
      if (name.empty() || it->second.count(name)) continue;
      bool ours = managed(item, k);
      if (!ours && versioned(k)) {
        auto latest = versions(ws, k, name, 1);
        ours = !latest.empty() && managed(latest.front(), k);
      }
      if (!ours) continue;
      Change c;
      c.kind = k;
      c.name = name;
      c.action = Action::remove;
      c.id = json::opt_string(item, "/id").value_or(ws.path("/" + std::string(collection(k)) + "/" + name));
      c.note = "tagged amlops.managed, not in the files";
      plan.changes.push_back(std::move(c));
    }
  }
}

}  // namespace

Plan make_plan(azure::Workspace& ws, std::vector<Resource>& resources, bool prune) {
  Plan plan;
  std::set<std::string> computes;
  for (auto& r : resources)
    if (r.kind == Kind::compute) computes.insert(r.name);
  for (size_t i = 0; i < resources.size(); ++i) {
    Resource& r = resources[i];
    for (auto& name : r.computes) {
      if (computes.count(name) || name == "serverless") continue;
      if (!get_if_exists(ws, "/computes/" + name))
        throw ConfigError(r.where, r.label() + ": its job runs on compute '" + name +
                                       "', which is neither declared in the files nor in workspace " + ws.ref().name);
      computes.insert(name);
    }
    Change c;
    c.kind = r.kind;
    c.name = r.name;
    c.resource = static_cast<int>(i);
    if (versioned(r.kind))
      plan_versioned(ws, r, c);
    else
      plan_plain(ws, r, c);
    plan.changes.push_back(std::move(c));
  }
  if (prune) plan_prune(ws, resources, plan);
  return plan;
}

namespace {

void set_string(json::Document& doc, const std::string& pointer, const std::string& v) {
  rapidjson::Pointer(pointer.c_str())
      .Set(doc, json::Value(v.c_str(), static_cast<rapidjson::SizeType>(v.size()), doc.GetAllocator()),
           doc.GetAllocator());
}

std::string apply_versioned(azure::Workspace& ws, const Change& c, Resource& r, aml::UploadStats& stats) {
  json::Document body;
  if (c.action == Action::update) {
    // Same content: the existing version with the new description, tags and properties.
    body.CopyFrom(*c.actual, body.GetAllocator());
    json::Builder b(body.GetAllocator());
    for (const char* k : {"id", "name", "type", "systemData"})
      if (body.HasMember(k)) body.EraseMember(k);
    json::Value& props = body["properties"];
    if (props.HasMember("provisioningState")) props.EraseMember("provisioningState");
    for (const char* k : {"description", "tags", "properties"}) {
      auto it = r.body["properties"].FindMember(k);
      if (it != r.body["properties"].MemberEnd()) b.set(props, k, b.copy(it->value));
    }
  } else {
    body.CopyFrom(r.body, body.GetAllocator());
    if (r.kind == Kind::data && r.local)
      set_string(body, "/properties/dataUri", aml::ensure_input(ws, *r.local, stats));
    if (r.kind == Kind::component) {
      if (r.local)
        set_string(body, "/properties/componentSpec/code", "azureml:" + aml::ensure_code(ws, *r.local, stats));
      set_string(body, "/properties/componentSpec/name", r.name);
      set_string(body, "/properties/componentSpec/version", c.version);
    }
  }
  auto doc =
      ws.arm().put(ws.path("/" + std::string(collection(r.kind)) + "/" + r.name + "/versions/" + c.version), body);
  return json::opt_string(doc, "/id")
      .value_or(ws.path("/" + std::string(collection(r.kind)) + "/" + r.name + "/versions/" + c.version));
}

std::string apply_plain(azure::Workspace& ws, Resource& r, const Env& env, aml::UploadStats& stats) {
  json::Document body;
  body.CopyFrom(r.body, body.GetAllocator());
  for (auto& s : r.secrets) {
    auto v = env.nonempty(s.env_var);
    if (!v) throw ConfigError(s.where, "environment variable " + s.env_var + " is not set");
    set_string(body, s.pointer, *v);
  }
  if (r.kind == Kind::schedule) {
    spec::JobSpec& job = *r.job;
    aml::resolve_assets(ws, job, stats);
    json::Builder b(body.GetAllocator());
    json::Value def = b.copy(job.body["properties"]);
    // The exact data versions each run consumes, in the job's properties (as amlops-job submit
    // records them). An input at azureml:NAME@latest stays a label: each run takes the newest data.
    json::Document probe;
    probe.CopyFrom(job.body, probe.GetAllocator());
    for (auto& [k, v] : aml::data_provenance(probe, [](const std::string&) { return std::string("@latest"); })) {
      if (v.find(":@latest") != std::string::npos) continue;
      if (!def.HasMember("properties") || !def["properties"].IsObject()) b.set(def, "properties", b.obj());
      b.set(def["properties"], k, v);
    }
    if (!def.HasMember("experimentName")) b.set(def, "experimentName", job.experiment_name.value_or(r.name));
    b.set(body["properties"]["action"], "jobDefinition", std::move(def));
  }
  auto doc = ws.arm().put(ws.path("/" + std::string(collection(r.kind)) + "/" + r.name), body);
  return json::opt_string(doc, "/id").value_or(ws.path("/" + std::string(collection(r.kind)) + "/" + r.name));
}

// DELETE of the resource (for versioned kinds the container). A service without container DELETE
// (405) gets each version deleted instead.
void remove(azure::Workspace& ws, Kind k, const std::string& name) {
  std::string path = "/" + std::string(collection(k)) + "/" + name;
  try {
    ws.arm().del(ws.path(path));
  } catch (const HttpError& e) {
    if (!versioned(k) || e.status() != 405) throw;
    log::debug(path, ": no container DELETE (", e.what(), "); deleting its versions");
    for (auto& v : versions(ws, k, name))
      ws.arm().del(ws.path(path + "/versions/" + json::get_string(v, "/name", path)));
  }
}

}  // namespace

void apply(azure::Workspace& ws, Plan& plan, std::vector<Resource>& resources, const Env& env,
           const std::function<void(const Change&)>& done, const std::function<void(const Change&)>& failed) {
  aml::UploadStats stats;
  for (auto& c : plan.changes) {
    if (c.action == Action::unchanged) {
      done(c);
      continue;
    }
    try {
      if (c.action == Action::remove) {
        log::info("deleting ", kind_name(c.kind), " ", c.name);
        remove(ws, c.kind, c.name);
      } else {
        Resource& r = resources.at(static_cast<size_t>(c.resource));
        log::info(action_name(c.action), " ", r.label(), c.version.empty() ? "" : ":" + c.version);
        c.id = versioned(c.kind) ? apply_versioned(ws, c, r, stats) : apply_plain(ws, r, env, stats);
      }
    } catch (...) {
      failed(c);
      throw;
    }
    done(c);
  }
}

namespace {
std::string what(const Change& c) {
  return std::string(kind_name(c.kind)) + " " + c.name + (c.version.empty() ? "" : ":" + c.version);
}
}  // namespace

std::string plan_text(const Plan& plan, bool applied) {
  std::ostringstream os;
  for (auto& c : plan.changes) {
    const char* mark = c.action == Action::create   ? "+"
                       : c.action == Action::update ? "~"
                       : c.action == Action::remove ? "-"
                                                    : "=";
    static const std::map<Action, std::pair<const char*, const char*>> kWords = {
        {Action::create, {"create", "created"}},
        {Action::update, {"update", "updated"}},
        {Action::unchanged, {"unchanged", "unchanged"}},
        {Action::remove, {"delete", "deleted"}}};
    std::string word = applied ? kWords.at(c.action).second : kWords.at(c.action).first;
    os << mark << " " << word << std::string(word.size() < 10 ? 10 - word.size() : 1, ' ') << what(c);
    if (!c.fields.empty()) os << " (" << str::join(c.fields, ", ") << ")";
    if (!c.note.empty()) os << " [" << c.note << "]";
    if (applied && !c.id.empty()) os << "\n    " << c.id;
    os << "\n";
  }
  if (plan.empty()) {
    os << "No changes: the workspace matches the files (" << plan.changes.size() << " resources).\n";
  } else {
    os << (applied ? "Applied: " : "Plan: ") << plan.count(Action::create) << (applied ? " created, " : " to create, ")
       << plan.count(Action::update) << (applied ? " updated, " : " to update, ") << plan.count(Action::unchanged)
       << " unchanged, " << plan.count(Action::remove) << (applied ? " deleted.\n" : " to delete.\n");
  }
  return os.str();
}

json::Document plan_json(const Plan& plan, bool applied) {
  json::Document d(rapidjson::kObjectType);
  json::Builder b(d.GetAllocator());
  b.set(d, "applied", applied);
  json::Value arr = b.arr();
  for (auto& c : plan.changes) {
    json::Value o = b.obj();
    b.set(o, "kind", kind_name(c.kind));
    b.set(o, "name", c.name);
    if (!c.version.empty()) b.set(o, "version", c.version);
    b.set(o, "action", action_name(c.action));
    json::Value f = b.arr();
    for (auto& x : c.fields) b.push(f, x);
    b.set(o, "fields", std::move(f));
    if (!c.note.empty()) b.set(o, "note", c.note);
    b.set(o, "id", c.id);
    b.push(arr, std::move(o));
  }
  b.set(d, "changes", std::move(arr));
  json::Value s = b.obj();
  for (Action a : {Action::create, Action::update, Action::unchanged, Action::remove})
    b.set(s, action_name(a), static_cast<int64_t>(plan.count(a)));
  b.set(d, "summary", std::move(s));
  return d;
}

}  // namespace amlops::setup
