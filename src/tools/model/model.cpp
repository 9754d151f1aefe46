// amlops-model: register a model from a job output or a path, with provenance and the job's
// metrics; list, show, download.
#include <filesystem>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/hash.hpp"
#include "core/log.hpp"
#include "core/redact.hpp"
#include "core/strings.hpp"
#include "tools/job/session.hpp"

namespace amlops {
namespace {
namespace fs = std::filesystem;

std::pair<std::string, std::string> parse_name_version(const std::string& text) {
  std::string t = text.rfind("azureml:", 0) == 0 ? text.substr(8) : text;
  auto colon = t.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == t.size())
    throw UsageError("expected NAME:VERSION, got '" + text + "'");
  return {t.substr(0, colon), t.substr(colon + 1)};
}

std::map<std::string, std::string> string_map(const json::Value& v, const char* ptr) {
  std::map<std::string, std::string> out;
  const json::Value* m = json::find(v, ptr);
  if (m && m->IsObject())
    for (auto& kv : m->GetObject()) out[kv.name.GetString()] = json::scalar_text(kv.value);
  return out;
}

std::string format_number(double v) {
  std::ostringstream os;
  os.precision(10);
  os << v;
  return os.str();
}

json::Document version_result(const std::string& name, const json::Value& v) {
  json::Document doc(rapidjson::kObjectType);
  json::Builder b(doc.GetAllocator());
  b.set(doc, "name", name);
  b.set(doc, "version", json::opt_string(v, "/name").value_or(""));
  b.set(doc, "id", json::opt_string(v, "/id").value_or(""));
  // A SAS in the URI (e.g. --path https://...?sig=...) is a secret: never printed.
  b.set(doc, "model_uri", redact::url(json::opt_string(v, "/properties/modelUri").value_or("")));
  b.set(doc, "type", json::opt_string(v, "/properties/modelType").value_or(""));
  if (auto c = json::opt_string(v, "/systemData/createdAt")) b.set(doc, "created", *c);
  json::Value tags = b.obj(), props = b.obj();
  for (auto& [k, x] : string_map(v, "/properties/tags")) b.set(tags, k, x);
  for (auto& [k, x] : string_map(v, "/properties/properties")) b.set(props, k, x);
  b.set(doc, "tags", std::move(tags));
  b.set(doc, "properties", std::move(props));
  return doc;
}

void print_version(std::ostream& os, const json::Value& r) {
  os << json::get_string(r, "/name") << ":" << json::get_string(r, "/version") << "\n";
  os << "  uri:  " << json::get_string(r, "/model_uri") << "\n  type: " << json::get_string(r, "/type") << "\n";
  for (auto& k : json::keys(r["tags"])) os << "  tag " << k << " = " << json::scalar_text(r["tags"][k.c_str()]) << "\n";
}

int cmd_register(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "register",
                   "Registers a model version from a job output or a path, with provenance and the job's metrics.",
                   "--name N (--from-job J | --path P)");
  cmd.options()("name", cli::po::value<std::string>(), "model name")("from-job", cli::po::value<std::string>(),
                                                                     "job whose output is the model")(
      "output-name", cli::po::value<std::string>()->default_value("model"), "the job output holding the model")(
      "path", cli::po::value<std::string>(), "a local folder/file (uploaded) or an azureml:// / https:// URI")(
      "type", cli::po::value<std::string>()->default_value("custom_model"), "custom_model or mlflow_model")(
      "tag", cli::po::value<std::vector<std::string>>()->composing(), "tag k=v (repeatable)")(
      "version", cli::po::value<std::string>(), "version (default: the next one)")(
      "description", cli::po::value<std::string>(), "description");
  jobtool::add_connection_options(cmd);
  if (!cmd.parse(args)) return 0;
  std::string name = cmd.required("name");
  std::string job_name = cmd.str("from-job"), path = cmd.str("path");
  if (job_name.empty() == path.empty()) throw UsageError("give exactly one of --from-job and --path");
  std::string type = cmd.str("type", "custom_model");
  if (type != "custom_model" && type != "mlflow_model" && type != "triton_model")
    throw UsageError("--type must be custom_model or mlflow_model");
  auto user_tags = cli::key_values(cmd.list("tag"), "--tag");
  jobtool::workspace_ref(cmd);
  if (!path.empty() && path.find("://") == std::string::npos && path.rfind("azureml:", 0) != 0 && !fs::exists(path))
    throw UsageError("--path " + path + " does not exist");

  jobtool::Session s = jobtool::connect(ctx, cmd);
  azure::Workspace& ws = *s.ws;
  std::map<std::string, std::string> tags, props;
  std::string model_uri;
  if (!job_name.empty()) {
    auto job = ws.get_job(job_name);
    if (!job) throw UsageError("job " + job_name + " not found");
    std::string status = json::opt_string(*job, "/properties/status").value_or("");
    if (status != "Completed")
      throw CheckFailed("job " + job_name + " is " + status +
                        ", not Completed: its outputs are not a model to register");
    std::string out = cmd.str("output-name", "model");
    const json::Value* outputs = json::find(*job, "/properties/outputs");
    if (outputs && outputs->IsObject() && !outputs->HasMember(out.c_str()))
      throw UsageError("job " + job_name + " has no output '" + out +
                       "' (outputs: " + str::join(json::keys(*outputs), ", ") + ")");
    model_uri = "azureml://jobs/" + job_name + "/outputs/" + out;
    // The job's provenance (the commit it trained) and its metrics.
    for (auto& [k, v] : string_map(*job, "/properties/tags"))
      if (k.rfind("amlops.", 0) == 0 && k != "amlops.submission") tags[k] = v;
    for (auto& [k, v] : ws.metrics(job_name)) {
      tags["metric." + k] = format_number(v);
      props["metric." + k] = format_number(v);
    }
    tags["amlops.job"] = job_name;
    props["amlops.job"] = job_name;
  } else if (path.find("://") != std::string::npos || path.rfind("azureml:", 0) == 0) {
    model_uri = path;
  } else {
    jobtool::UploadStats stats;
    fs::path p = fs::absolute(path);
    model_uri = jobtool::ensure_input(ws, p, stats);
  }
  if (tags.find("amlops.git_commit") == tags.end())
    for (auto& [k, v] : jobtool::provenance_tags(ctx)) tags[k] = v;
  for (auto& [k, v] : tags)
    if (k.rfind("amlops.git", 0) == 0 || k == "amlops.ci_run_url") props[k] = v;
  for (auto& [k, v] : user_tags) tags[k] = v;
  std::string source = hash::sha256_hex(model_uri).substr(0, 32);
  props["amlops.source"] = source;

  // Idempotent: the same job output (or content) registered again returns the existing version.
  for (auto& v : ws.list_model_versions(name, {}, "amlops.source=" + source)) {
    if (json::opt_string(v, "/properties/properties/amlops.source").value_or("") != source) continue;
    auto r = version_result(name, v);
    log::info("model ", name, ":", json::get_string(r, "/version"), " already registered from ", model_uri);
    ctx.host.set_output("name", name);
    ctx.host.set_output("version", json::get_string(r, "/version"));
    ctx.host.set_output("model_id", "azureml:" + name + ":" + json::get_string(r, "/version"));
    ctx.emit(r, [&](std::ostream& os) { print_version(os, r); });
    return 0;
  }
  std::string version = cmd.str("version");
  if (version.empty()) {
    int64_t next = 1;
    if (auto c = ws.get_model_container(name)) {
      if (auto nv = json::opt_string(*c, "/properties/nextVersion"); nv && str::parse_int(*nv))
        next = *str::parse_int(*nv);
      else if (auto lv = json::opt_string(*c, "/properties/latestVersion"); lv && str::parse_int(*lv))
        next = *str::parse_int(*lv) + 1;
    }
    for (auto& v : ws.list_model_versions(name))
      if (auto n = str::parse_int(json::opt_string(v, "/name").value_or(""))) next = std::max(next, *n + 1);
    version = std::to_string(next);
  }
  json::Document body = jobtool::model_version_body(type, model_uri, cmd.str("description"), tags, props);
  auto created = ws.put_model_version(name, version, body);
  auto r = version_result(name, created);
  if (json::get_string(r, "/version").empty())
    r["version"].SetString(version.c_str(), static_cast<rapidjson::SizeType>(version.size()), r.GetAllocator());
  log::info("registered model ", name, ":", version, " from ", model_uri);
  ctx.host.set_output("name", name);
  ctx.host.set_output("version", version);
  ctx.host.set_output("model_id", "azureml:" + name + ":" + version);
  ctx.host.summary("### Model `" + name + ":" + version + "` registered\n\nfrom `" + redact::url(model_uri) + "`\n");
  ctx.emit(r, [&](std::ostream& os) { print_version(os, r); });
  return 0;
}

int cmd_list(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "list", "Lists a model's versions, newest first, optionally filtered by tags.",
                   "--name N [--tag k=v]...");
  cmd.options()("name", cli::po::value<std::string>(), "model name")(
      "tag", cli::po::value<std::vector<std::string>>()->composing(),
      "only versions with this tag k=v (or k) (repeatable)");
  jobtool::add_connection_options(cmd);
  if (!cmd.parse(args)) return 0;
  std::string name = cmd.required("name");
  std::vector<std::pair<std::string, std::optional<std::string>>> want;
  std::vector<std::string> filter;
  for (auto& t : cmd.list("tag")) {
    auto kv = str::split_key_value(t);
    if (kv) {
      want.emplace_back(kv->first, kv->second);
      filter.push_back(kv->first + "=" + kv->second);
    } else {
      want.emplace_back(t, std::nullopt);
      filter.push_back(t);
    }
  }
  jobtool::Session s = jobtool::connect(ctx, cmd);
  auto versions = s.ws->list_model_versions(name, str::join(filter, ","));
  json::Document doc(rapidjson::kArrayType);
  for (auto& v : versions) {
    auto tags = string_map(v, "/properties/tags");
    bool ok = true;
    for (auto& [k, val] : want) {
      auto it = tags.find(k);
      if (it == tags.end() || (val && it->second != *val)) ok = false;
    }
    if (!ok) continue;
    auto r = version_result(name, v);
    doc.PushBack(json::Value(r, doc.GetAllocator()), doc.GetAllocator());
  }
  ctx.host.set_output("count", std::to_string(doc.Size()));
  if (doc.Size() > 0) ctx.host.set_output("latest", "azureml:" + name + ":" + json::get_string(doc[0], "/version"));
  ctx.emit(doc, [&](std::ostream& os) {
    for (auto& r : doc.GetArray()) {
      os << json::get_string(r, "/version") << "\t" << json::opt_string(r, "/created").value_or("-");
      for (auto& k : json::keys(r["tags"])) os << "\t" << k << "=" << json::scalar_text(r["tags"][k.c_str()]);
      os << "\n";
    }
  });
  return 0;
}

int cmd_show(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "show", "Shows a model version.", "NAME:VERSION");
  cmd.options()("model", cli::po::value<std::string>(), "NAME:VERSION");
  cmd.positional("model");
  jobtool::add_connection_options(cmd);
  if (!cmd.parse(args)) return 0;
  auto [name, version] = parse_name_version(cmd.required("model"));
  jobtool::Session s = jobtool::connect(ctx, cmd);
  auto v = s.ws->get_model_version(name, version);
  if (!v) throw UsageError("model " + name + ":" + version + " not found");
  auto r = version_result(name, *v);
  ctx.emit(r, [&](std::ostream& os) { print_version(os, r); });
  return 0;
}

// azureml://datastores/<ds>/paths/<p> (with or without the workspace prefix) -> (datastore, path).
std::optional<std::pair<std::string, std::string>> datastore_path(const std::string& uri) {
  auto pos = uri.find("/datastores/");
  if (uri.rfind("azureml://", 0) != 0 || pos == std::string::npos) return std::nullopt;
  std::string rest = uri.substr(pos + 12);
  auto slash = rest.find('/');
  if (slash == std::string::npos || rest.compare(slash, 7, "/paths/") != 0) return std::nullopt;
  return std::make_pair(rest.substr(0, slash), rest.substr(slash + 7));
}

int cmd_download(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "download", "Downloads a model version's files.", "NAME:VERSION --to DIR");
  cmd.options()("model", cli::po::value<std::string>(), "NAME:VERSION")("to", cli::po::value<std::string>(),
                                                                        "destination folder");
  cmd.positional("model");
  jobtool::add_connection_options(cmd);
  if (!cmd.parse(args)) return 0;
  auto [name, version] = parse_name_version(cmd.required("model"));
  fs::path to = cmd.required("to");
  jobtool::Session s = jobtool::connect(ctx, cmd);
  azure::Workspace& ws = *s.ws;
  auto v = ws.get_model_version(name, version);
  if (!v) throw UsageError("model " + name + ":" + version + " not found");
  std::string uri = json::get_string(*v, "/properties/modelUri", "model version");
  // azureml://jobs/<job>/outputs/<out>[/paths/<p>] -> the output's own URI.
  if (uri.rfind("azureml://jobs/", 0) == 0) {
    auto parts = str::split(uri.substr(15), '/');
    if (parts.size() < 3 || parts[1] != "outputs") throw HttpError(200, "unsupported model URI " + uri);
    auto job = ws.get_job(parts[0]);
    if (!job) throw UsageError("job " + parts[0] + " of model " + name + ":" + version + " not found");
    auto out_uri = json::opt_string(*job, "/properties/outputs/" + parts[2] + "/uri");
    if (!out_uri) throw HttpError(200, "job " + parts[0] + " has no URI for output " + parts[2]);
    std::string sub;
    if (parts.size() > 4 && parts[3] == "paths")
      sub = str::join(std::vector<std::string>(parts.begin() + 4, parts.end()), "/");
    uri = *out_uri;
    if (!sub.empty()) uri += (uri.back() == '/' ? "" : "/") + sub;
  }
  auto dp = datastore_path(uri);
  if (!dp)
    throw HttpError(200, "cannot download model URI " + uri +
                             " (supported: azureml://jobs/..., azureml://datastores/.../paths/...)");
  auto container = ws.datastore_container(dp->first);
  std::string prefix = dp->second;
  auto blobs = container.list(prefix);
  if (blobs.empty()) throw HttpError(404, "no files under " + uri);
  size_t n = 0;
  uint64_t bytes = 0;
  for (auto& blob : blobs) {
    auto rel = jobtool::blob_relative_name(prefix, blob.name);
    if (!rel) continue;  // a sibling that only shares the string prefix (models/v10 for models/v1)
    if (!files::is_safe_relative(*rel)) throw HttpError(200, "refusing unsafe blob name " + blob.name);
    container.download(blob.name, to / *rel);
    ++n;
    bytes += blob.size;
  }
  if (n == 0) throw HttpError(404, "no files under " + uri);
  json::Document doc(rapidjson::kObjectType);
  json::Builder b(doc.GetAllocator());
  b.set(doc, "name", name);
  b.set(doc, "version", version);
  b.set(doc, "path", fs::absolute(to).string());
  b.set(doc, "files", static_cast<int64_t>(n));
  b.set(doc, "bytes", static_cast<int64_t>(bytes));
  ctx.host.set_output("path", fs::absolute(to).string());
  ctx.emit(doc, [&](std::ostream& os) {
    os << "downloaded " << n << " files (" << bytes << " bytes) to " << to.string() << "\n";
  });
  return 0;
}

}  // namespace

int run_model(Context& ctx, const std::vector<std::string>& args) {
  return cli::dispatch(ctx, "Azure ML models: register with provenance and metrics, list, show, download.",
                       {{"register", "register a model version from a job output or a path", cmd_register},
                        {"list", "list a model's versions", cmd_list},
                        {"show", "show a model version", cmd_show},
                        {"download", "download a model version's files", cmd_download}},
                       args);
}

}  // namespace amlops
