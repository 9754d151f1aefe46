// amlops-model: register a model from a job output or a path, with provenance and the job's
// metrics; list, show, download.
#include "aml/model.hpp"

#include <filesystem>

#include "aml/submit.hpp"
#include "aml/uri.hpp"
#include "cli/connection.hpp"
#include "core/error.hpp"
#include "core/redact.hpp"
#include "core/strings.hpp"
#include "report/comment.hpp"
#include "report/fragment.hpp"
#include "report/markdown.hpp"

namespace amlops {
namespace {
namespace fs = std::filesystem;

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
  for (auto& [k, x] : json::string_map(v, "/properties/tags")) b.set(tags, k, x);
  for (auto& [k, x] : json::string_map(v, "/properties/properties")) b.set(props, k, x);
  b.set(doc, "tags", std::move(tags));
  b.set(doc, "properties", std::move(props));
  return doc;
}

void print_version(std::ostream& os, const json::Value& r) {
  os << json::get_string(r, "/name") << ":" << json::get_string(r, "/version") << "\n";
  os << "  uri:  " << json::get_string(r, "/model_uri") << "\n  type: " << json::get_string(r, "/type") << "\n";
  for (auto& k : json::keys(r["tags"])) os << "  tag " << k << " = " << json::scalar_text(r["tags"][k.c_str()]) << "\n";
}

report::Fragment model_fragment(report::FragmentStatus status, std::string verdict, std::string body) {
  report::Fragment f;
  f.title = "Model";
  f.order = 30;
  f.status = status;
  f.verdict = std::move(verdict);
  f.body = std::move(body);
  return f;
}

// "registered churn:7 (from job train-12, commit abc1234)" and a table of its tags.
report::Fragment registered_fragment(const json::Value& r, bool existing) {
  std::string id = json::get_string(r, "/name") + ":" + json::get_string(r, "/version");
  std::vector<std::string> from;
  auto prop = [&](const char* key) { return json::opt_string(r, std::string("/properties/") + key).value_or(""); };
  if (auto job = prop("amlops.job"); !job.empty())
    from.push_back("from job " + job);
  else
    from.push_back("from " + json::get_string(r, "/model_uri"));
  std::string commit = prop("amlops.git_commit");
  if (commit.empty()) commit = json::opt_string(r, "/tags/amlops.git_commit").value_or("");
  if (!commit.empty()) from.push_back("commit " + commit.substr(0, 7));
  std::string verdict = (existing ? "already registered " : "registered ") + id + " (" + str::join(from, ", ") + ")";
  report::MdTable t{{"tag", "value"}, {}};
  for (auto& k : json::keys(r["tags"])) t.rows.push_back({k, json::scalar_text(r["tags"][k.c_str()])});
  std::string body = "`azureml:" + id + "` · type `" + json::get_string(r, "/type") + "` · `" +
                     json::get_string(r, "/model_uri") + "`\n\n";
  if (!t.rows.empty()) body += t.render();
  return model_fragment(report::FragmentStatus::pass, verdict, body);
}

// The fragment goes to the CI step summary and, with --markdown F, to F.
void publish(Context& ctx, const std::string& markdown, const report::Fragment& f) {
  ctx.host.summary(report::render_section(f));
  if (!markdown.empty()) report::write_fragment(markdown, f);
}

int register_model(Context& ctx, cli::Command& cmd, const std::string& markdown);

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
      "description", cli::po::value<std::string>(), "description")(
      "markdown", cli::po::value<std::string>(), "write the result as a report fragment (amlops-report) to this file");
  cli::add_connection_options(cmd);
  if (!cmd.parse(args)) return 0;
  const std::string markdown = cmd.str("markdown");
  try {
    return register_model(ctx, cmd, markdown);
  } catch (const Error& e) {
    if (!dynamic_cast<const InterruptedError*>(&e)) {
      ci::Annotation a;
      a.title = "Model not registered";
      a.message = e.what();
      ctx.host.annotate(a);
    }
    publish(ctx, markdown,
            model_fragment(report::FragmentStatus::fail, "Not registered: " + std::string(e.what()), ""));
    throw;
  }
}

int register_model(Context& ctx, cli::Command& cmd, const std::string& markdown) {
  aml::RegisterRequest req;
  req.name = cmd.required("name");
  req.from_job = cmd.str("from-job");
  req.path = cmd.str("path");
  if (req.from_job.empty() == req.path.empty()) throw UsageError("give exactly one of --from-job and --path");
  req.type = cmd.str("type", "custom_model");
  if (req.type != "custom_model" && req.type != "mlflow_model" && req.type != "triton_model")
    throw UsageError("--type must be custom_model or mlflow_model");
  req.output_name = cmd.str("output-name", "model");
  req.version = cmd.str("version");
  req.description = cmd.str("description");
  for (auto& [k, v] : cli::key_values(cmd.list("tag"), "--tag")) req.tags[k] = v;
  req.provenance = [&ctx] { return aml::provenance_tags(ctx.env, ctx.host); };
  aml::workspace_ref(cmd.str("workspace"));
  const std::string& path = req.path;
  if (!path.empty() && path.find("://") == std::string::npos && path.rfind("azureml:", 0) != 0 && !fs::exists(path))
    throw UsageError("--path " + path + " does not exist");

  aml::Connection s = cli::connect(ctx, cmd);
  aml::Registered reg = aml::register_model(*s.ws, req);
  auto r = version_result(req.name, reg.version);
  const std::string& version = reg.version_name;
  r["version"].SetString(version.c_str(), static_cast<rapidjson::SizeType>(version.size()), r.GetAllocator());
  ctx.host.set_output("name", req.name);
  ctx.host.set_output("version", version);
  ctx.host.set_output("model_id", "azureml:" + req.name + ":" + version);
  publish(ctx, markdown, registered_fragment(r, reg.existing));
  ctx.emit(r, [&](std::ostream& os) { print_version(os, r); });
  return 0;
}

int cmd_list(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "list", "Lists a model's versions, newest first, optionally filtered by tags.",
                   "--name N [--tag k=v]...");
  cmd.options()("name", cli::po::value<std::string>(), "model name")(
      "tag", cli::po::value<std::vector<std::string>>()->composing(),
      "only versions with this tag k=v (or k) (repeatable)");
  cli::add_connection_options(cmd);
  if (!cmd.parse(args)) return 0;
  std::string name = cmd.required("name");
  aml::Connection s = cli::connect(ctx, cmd);
  json::Document doc(rapidjson::kArrayType);
  for (auto& v : aml::list_models(*s.ws, name, cmd.list("tag"))) {
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
  cli::add_connection_options(cmd);
  if (!cmd.parse(args)) return 0;
  auto [name, version] = aml::parse_name_version(cmd.required("model"));
  aml::Connection s = cli::connect(ctx, cmd);
  auto v = s.ws->get_model_version(name, version);
  if (!v) throw UsageError("model " + name + ":" + version + " not found");
  auto r = version_result(name, *v);
  ctx.emit(r, [&](std::ostream& os) { print_version(os, r); });
  return 0;
}

int cmd_download(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "download", "Downloads a model version's files.", "NAME:VERSION --to DIR");
  cmd.options()("model", cli::po::value<std::string>(), "NAME:VERSION")("to", cli::po::value<std::string>(),
                                                                        "destination folder");
  cmd.positional("model");
  cli::add_connection_options(cmd);
  if (!cmd.parse(args)) return 0;
  auto [name, version] = aml::parse_name_version(cmd.required("model"));
  fs::path to = cmd.required("to");
  aml::Connection s = cli::connect(ctx, cmd);
  aml::Downloaded d = aml::download_model(*s.ws, name, version, to);
  size_t n = d.files;
  uint64_t bytes = d.bytes;
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
