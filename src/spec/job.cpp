#include "spec/job.hpp"

#include <rapidjson/pointer.h>

#include <functional>
#include <map>
#include <set>

#include "core/files.hpp"
#include "core/hash.hpp"
#include "core/strings.hpp"
#include "core/time.hpp"
#include "spec/refs.hpp"
#include "spec/job_schema.hpp"

namespace amlops::spec {
namespace fs = std::filesystem;

std::string camel(const std::string& snake) {
  std::string out;
  bool up = false;
  for (char c : snake) {
    if (c == '_') {
      up = true;
      continue;
    }
    out += up ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    up = false;
  }
  return out;
}

std::string pointer_token(const std::string& key) {
  return str::replace_all(str::replace_all(key, "~", "~0"), "/", "~1");
}

json::Value yaml_to_json(const YAML::Node& node, json::Allocator& a) {
  json::Builder b(a);
  if (!node || node.IsNull()) return json::Value(rapidjson::kNullType);
  if (node.IsSequence()) {
    json::Value arr = b.arr();
    for (const auto& n : node) b.push(arr, yaml_to_json(n, a));
    return arr;
  }
  if (node.IsMap()) {
    json::ObjectBuilder o(b);
    for (const auto& kv : node) o.set(kv.first.Scalar(), yaml_to_json(kv.second, a));
    return o.take();
  }
  const std::string& s = node.Scalar();
  if (node.Tag() == "!") return b.str(s);  // quoted
  std::string l = str::to_lower(s);
  if (l == "null" || l == "~") return json::Value(rapidjson::kNullType);
  if (l == "true") return json::Value(true);
  if (l == "false") return json::Value(false);
  if (auto i = str::parse_int(s)) return json::Value(static_cast<int64_t>(*i));
  if (auto d = str::parse_double(s)) {
    if (s.find_first_of("0123456789") != std::string::npos && l != "nan" && l != "inf" && l != "-inf")
      return json::Value(*d);
  }
  return b.str(s);
}

void apply_overrides(YAML::Node root, const Overrides& overrides) {
  for (const auto& [path, value] : overrides) {
    auto parts = str::split(path, '.');
    for (auto& p : parts)
      if (p.empty()) throw UsageError("--set " + path + "=...: empty path segment");
    YAML::Node cur = root;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      YAML::Node next = cur[parts[i]];
      if (!next || next.IsNull() || !next.IsMap()) {
        if (next && next.IsDefined() && !next.IsNull() && !next.IsMap())
          throw UsageError("--set " + path + ": '" + parts[i] + "' is not a mapping");
        cur[parts[i]] = YAML::Node(YAML::NodeType::Map);
      }
      cur.reset(cur[parts[i]]);  // rebind (operator= would assign into the node)
    }
    YAML::Node v;
    try {
      v = YAML::Load(value);
    } catch (const YAML::Exception& e) {
      throw UsageError("--set " + path + ": value is not valid YAML: " + e.msg);
    }
    cur[parts.back()] = v;
  }
}

std::string asset_id(const std::string& workspace_id, const std::string& kind, const std::string& ref) {
  if (ref.rfind("azureml://", 0) == 0) return ref;
  if (ref.rfind("azureml:/", 0) == 0) return ref.substr(8);
  if (ref.rfind("/subscriptions/", 0) == 0) return ref;
  std::string r = ref.rfind("azureml:", 0) == 0 ? ref.substr(8) : ref;
  auto at = r.find('@');
  if (at != std::string::npos) return "azureml:" + r;  // label (e.g. @latest): the submitter resolves it
  auto colon = r.rfind(':');
  if (colon == std::string::npos) return workspace_id + "/" + kind + "/" + r;
  return workspace_id + "/" + kind + "/" + r.substr(0, colon) + "/versions/" + r.substr(colon + 1);
}

namespace {

const std::map<std::string, std::string> kModes = {{"ro_mount", "ReadOnlyMount"},
                                                   {"rw_mount", "ReadWriteMount"},
                                                   {"download", "Download"},
                                                   {"direct", "Direct"},
                                                   {"upload", "Upload"},
                                                   {"eval_mount", "EvalMount"},
                                                   {"eval_download", "EvalDownload"}};
const std::set<std::string> kInputTypes = {"uri_file",     "uri_folder",   "mltable",
                                           "mlflow_model", "custom_model", "triton_model"};
const std::set<std::string> kOutputTypes = {"uri_file",     "uri_folder",   "mltable",
                                            "mlflow_model", "custom_model", "triton_model"};

std::string title_case(const std::string& s) {
  std::string out = s;
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

// How a step or job declares its inputs/outputs (for binding checks and component types).
struct Io {
  std::map<std::string, std::string> inputs;   // name -> type ("literal" for literals)
  std::map<std::string, std::string> outputs;  // name -> type
  bool known = true;                           // false for registered components (not inspected)
};

class Converter {
 public:
  Converter(const yaml::Document& doc, std::string text, fs::path base, const LoadOptions& opts, JobSpec& spec)
      : doc_(doc), text_(std::move(text)), base_(std::move(base)), opts_(opts), spec_(spec) {}

  void run() {
    const YAML::Node& root = doc_.root;
    if (!root.IsMap()) doc_.fail(root, "a job YAML must be a mapping");
    std::string type = doc_.opt_string(root, "type").value_or("command");
    spec_.type = type;
    spec_.name = doc_.opt_string(root, "name");
    spec_.experiment_name = doc_.opt_string(root, "experiment_name");
    json::Document& body = spec_.body;
    body.SetObject();
    json::Builder b(body.GetAllocator());
    json::Value props = b.obj();
    common(root, props, b);
    if (type == "command") {
      command(root, props, b, "/properties", -1);
      b.set(props, "jobType", "Command");
    } else if (type == "sweep") {
      sweep(root, props, b);
    } else if (type == "pipeline") {
      pipeline(root, props, b);
    } else {
      doc_.fail(root["type"], "unsupported job type '" + type + "' (supported: command, pipeline, sweep)");
    }
    b.set(body, "properties", std::move(props));
  }

 private:
  const yaml::Document& doc_;
  std::string text_;
  fs::path base_;
  const LoadOptions& opts_;
  JobSpec& spec_;

  [[noreturn]] void fail(const YAML::Node& n, const std::string& msg) const { doc_.fail(n, msg); }

  // The location of the text `needle` inside node `n` (the node's own mark when not found).
  SourceLocation locate(const YAML::Node& n, const std::string& needle, size_t nth) const {
    auto m = n.Mark();
    if (!m.is_null() && static_cast<size_t>(m.pos) <= text_.size()) {
      size_t pos = static_cast<size_t>(m.pos);
      for (size_t k = 0; k <= nth; ++k) {
        size_t f = text_.find(needle, pos);
        if (f == std::string::npos) {
          pos = std::string::npos;
          break;
        }
        pos = f + (k < nth ? needle.size() : 0);
      }
      if (pos != std::string::npos) {
        int line = 1, col = 1;
        for (size_t i = 0; i < pos; ++i) {
          if (text_[i] == '\n') {
            ++line;
            col = 1;
          } else {
            ++col;
          }
        }
        return {doc_.file, line, col};
      }
    }
    return doc_.at(n);
  }

  std::string ws() const { return opts_.workspace_id; }

  fs::path resolve(const std::string& p) const {
    fs::path path(p);
    if (p.rfind("file:", 0) == 0) path = p.substr(5);
    if (path.is_relative()) path = base_ / path;
    return path.lexically_normal();
  }

  void string_map(const YAML::Node& root, const char* key, json::Value& o, const char* out_key, json::Builder& b) {
    YAML::Node m = root[key];
    if (!m || m.IsNull()) return;
    if (!m.IsMap()) fail(m, std::string("'") + key + "' must be a mapping");
    json::ObjectBuilder v(b);
    for (const auto& kv : m) {
      if (!kv.second.IsScalar() && !kv.second.IsNull())
        fail(kv.second, std::string(key) + "." + kv.first.Scalar() + " must be a scalar");
      v.set(kv.first.Scalar(), b.str(yaml::scalar(kv.second)));
    }
    b.set(o, out_key, v.take());
  }

  void common(const YAML::Node& root, json::Value& props, json::Builder& b) {
    if (auto v = doc_.opt_string(root, "display_name")) b.set(props, "displayName", *v);
    if (auto v = doc_.opt_string(root, "experiment_name")) b.set(props, "experimentName", *v);
    if (auto v = doc_.opt_string(root, "description")) b.set(props, "description", *v);
    string_map(root, "tags", props, "tags", b);
    string_map(root, "properties", props, "properties", b);
    if (auto c = doc_.opt_string(root, "compute")) b.set(props, "computeId", asset_id(ws(), "computes", *c));
    YAML::Node id = root["identity"];
    if (id && id.IsMap()) {
      std::string t = doc_.get_string(id, "type");
      static const std::map<std::string, std::string> kIds = {
          {"managed", "Managed"}, {"user_identity", "UserIdentity"}, {"aml_token", "AMLToken"}};
      auto it = kIds.find(t);
      if (it == kIds.end()) fail(id["type"], "identity.type must be managed, user_identity or aml_token");
      json::Value o = b.obj();
      b.set(o, "identityType", it->second);
      b.set(props, "identity", std::move(o));
    }
    YAML::Node q = root["queue_settings"];
    if (q && q.IsMap()) {
      json::Value o = b.obj();
      if (auto t = doc_.opt_string(q, "job_tier")) b.set(o, "jobTier", title_case(*t));
      if (auto p = doc_.opt_string(q, "priority")) b.set(o, "priority", *p);
      b.set(props, "queueSettings", std::move(o));
    }
  }

  json::Value duration(const YAML::Node& n, json::Builder& b) {
    std::string s = yaml::scalar(n);
    try {
      Duration d = str::parse_int(s) ? std::chrono::seconds(*str::parse_int(s)) : parse_duration(s);
      return b.str(iso8601_duration(d));
    } catch (const ConfigError&) {
      fail(n, "'" + s + "' is not a duration (seconds or e.g. 30m, PT1H)");
    }
  }

  // "azureml:<name>@<label>" (not an id): recorded for the submitter to resolve; true when it was one.
  bool label_ref(const std::string& ref, const std::string& kind, const Target& where) {
    if (ref.rfind("azureml:/", 0) == 0) return false;
    std::string r = ref.substr(8);
    auto at = r.find('@');
    if (at == std::string::npos || at == 0 || at + 1 == r.size()) return false;
    spec_.labels.push_back({kind, r.substr(0, at), r.substr(at + 1), where});
    return true;
  }

  void environment(const YAML::Node& root, json::Value& o, json::Builder& b, const std::string& key,
                   const Target& where) {
    YAML::Node e = root["environment"];
    if (!e || e.IsNull()) fail(root, "missing required key 'environment'");
    if (e.IsScalar()) {
      std::string ref = e.Scalar();
      if (ref.rfind("azureml:", 0) == 0) {
        if (!label_ref(ref, "environments", where))
          b.set(o, key, where.prefix + asset_id(ws(), "environments", ref));
        else
          b.set(o, key, std::string("pending:environment"));
        return;
      }
      fs::path p = resolve(ref);
      std::error_code ec;
      if (!fs::is_regular_file(p, ec))
        fail(e, "environment '" + ref + "' is neither azureml:<name>:<version> nor an environment YAML file");
      EnvironmentRef r{load_environment(p), where};
      b.set(o, key, std::string("pending:environment"));
      spec_.environments.push_back(std::move(r));
      return;
    }
    if (!e.IsMap()) fail(e, "'environment' must be a reference or a mapping");
    EnvironmentSpec env;
    env.body.SetObject();
    json::Builder eb(env.body.GetAllocator());
    json::Value props = eb.obj();
    environment_props(e, props, eb, doc_, base_);
    std::string canon = json::dump(props);
    env.name = "CliV2AnonymousEnvironment";
    env.version = hash::sha256_hex(canon).substr(0, 32);
    eb.set(props, "isAnonymous", true);
    eb.set(env.body, "properties", std::move(props));
    b.set(o, key, std::string("pending:environment"));
    spec_.environments.push_back({std::move(env), where});
  }

 public:
  static void environment_props(const YAML::Node& e, json::Value& props, json::Builder& eb, const yaml::Document& d,
                                const fs::path& base) {
    if (auto v = d.opt_string(e, "image")) eb.set(props, "image", *v);
    if (auto v = d.opt_string(e, "description")) eb.set(props, "description", *v);
    if (auto v = d.opt_string(e, "os_type")) eb.set(props, "osType", title_case(*v));
    YAML::Node conda = e["conda_file"];
    if (conda && conda.IsScalar()) {
      fs::path p(conda.Scalar());
      if (p.is_relative()) p = base / p;
      std::error_code ec;
      if (!fs::is_regular_file(p, ec)) d.fail(conda, "conda_file " + p.string() + " not found");
      eb.set(props, "condaFile", files::read(p));
    } else if (conda && conda.IsMap()) {
      YAML::Emitter em;
      em << conda;
      eb.set(props, "condaFile", std::string(em.c_str()));
    }
    if (e["build"]) d.fail(e["build"], "environments with a docker build context are not supported; use an image");
    if (!e["image"]) d.fail(e, "an environment needs 'image'");
    YAML::Node tags = e["tags"];
    if (tags && tags.IsMap()) {
      json::ObjectBuilder t(eb);
      for (const auto& kv : tags) t.set(kv.first.Scalar(), eb.str(yaml::scalar(kv.second)));
      eb.set(props, "tags", t.take());
    }
  }

 private:
  void code(const YAML::Node& root, json::Value& o, json::Builder& b, const std::string& key, const Target& where) {
    YAML::Node c = root["code"];
    if (!c || c.IsNull()) return;
    if (!c.IsScalar()) fail(c, "'code' must be a path or azureml:<name>:<version>");
    std::string ref = c.Scalar();
    if (ref.rfind("azureml:", 0) == 0) {
      b.set(o, key, where.prefix + asset_id(ws(), "codes", ref));
      return;
    }
    auto local = local_path(ref);
    if (!local) fail(c, "'code' must be a local path or azureml:<name>:<version>");
    fs::path p = resolve(*local);
    std::error_code ec;
    if (!fs::exists(p, ec)) fail(c, "code path " + p.string() + " does not exist");
    b.set(o, key, std::string("pending:code"));
    spec_.uploads.push_back({LocalUpload::Kind::code, p, where, doc_.at(c)});
  }

  // inputs: camelCase (jobInputType) or snake_case (job_input_type, pipeline steps).
  void inputs(const YAML::Node& root, json::Value& o, json::Builder& b, bool snake, const std::string& pointer,
              int component, Io& io) {
    YAML::Node in = root["inputs"];
    if (!in || in.IsNull()) return;
    if (!in.IsMap()) fail(in, "'inputs' must be a mapping");
    json::ObjectBuilder out(b);
    const char* type_key = snake ? "job_input_type" : "jobInputType";
    for (const auto& kv : in) {
      std::string name = kv.first.Scalar();
      const YAML::Node& v = kv.second;
      json::Value i = b.obj();
      if (v.IsScalar() || v.IsNull()) {
        b.set(i, type_key, "literal");
        b.set(i, "value", yaml::scalar(v));
        io.inputs[name] = "literal";
      } else if (v.IsMap()) {
        std::string type = doc_.opt_string(v, "type").value_or("uri_folder");
        if (type == "string" || type == "number" || type == "integer" || type == "boolean") {
          b.set(i, type_key, "literal");
          b.set(i, "value", yaml::scalar(v["default"] ? v["default"] : v["value"]));
          io.inputs[name] = "literal";
        } else {
          if (!kInputTypes.count(type))
            fail(v["type"],
                 "input type '" + type +
                     "' is not one of uri_file, uri_folder, mltable, mlflow_model, custom_model, triton_model");
          io.inputs[name] = type;
          b.set(i, type_key, type);
          std::optional<std::string> path = doc_.opt_string(v, "path");
          if (!path || path->empty()) fail(v, "input '" + name + "' needs 'path'");
          if (auto local = local_path(*path); !local) {
            b.set(i, "uri", *path);
          } else {
            fs::path p = resolve(*local);
            std::error_code ec;
            if (!fs::exists(p, ec)) fail(v["path"], "input path " + p.string() + " does not exist");
            Target t{component, pointer + "/" + pointer_token(name) + "/uri", "", ""};
            fs::path folder = p;
            if (fs::is_regular_file(p, ec)) {
              // A file input is uploaded alone; its URI names the file.
              if (type == "uri_folder")
                fail(v["path"], "input '" + name + "' is uri_folder but " + p.string() + " is a file");
            }
            b.set(i, "uri", std::string("pending:input"));
            spec_.uploads.push_back({LocalUpload::Kind::input, folder, t, doc_.at(v["path"])});
          }
          if (auto m = doc_.opt_string(v, "mode")) {
            auto it = kModes.find(*m);
            if (it == kModes.end()) fail(v["mode"], "unknown mode '" + *m + "'");
            b.set(i, "mode", it->second);
          }
        }
        if (auto d = doc_.opt_string(v, "description")) b.set(i, "description", *d);
      } else {
        fail(v, "input '" + name + "' must be a value or a mapping");
      }
      out.set(name, std::move(i));
    }
    b.set(o, "inputs", out.take());
  }

  void outputs(const YAML::Node& root, json::Value& o, json::Builder& b, bool snake, Io& io) {
    YAML::Node outn = root["outputs"];
    if (!outn || outn.IsNull()) return;
    if (!outn.IsMap()) fail(outn, "'outputs' must be a mapping");
    json::ObjectBuilder out(b);
    const char* type_key = snake ? "job_output_type" : "jobOutputType";
    for (const auto& kv : outn) {
      std::string name = kv.first.Scalar();
      const YAML::Node& v = kv.second;
      json::Value i = b.obj();
      std::string type = "uri_folder";
      if (v.IsMap()) {
        type = doc_.opt_string(v, "type").value_or("uri_folder");
        if (!kOutputTypes.count(type))
          fail(v["type"],
               "output type '" + type +
                   "' is not one of uri_file, uri_folder, mltable, mlflow_model, custom_model, triton_model");
        b.set(i, type_key, type);
        if (auto m = doc_.opt_string(v, "mode")) {
          auto it = kModes.find(*m);
          if (it == kModes.end()) fail(v["mode"], "unknown mode '" + *m + "'");
          b.set(i, "mode", it->second);
        }
        if (auto p = doc_.opt_string(v, "path")) b.set(i, "uri", *p);
        if (auto d = doc_.opt_string(v, "description")) b.set(i, "description", *d);
        asset_name_version(v, name, i, b);
      } else if (v.IsNull()) {
        b.set(i, type_key, type);
      } else {
        fail(v, "output '" + name + "' must be a mapping");
      }
      io.outputs[name] = type;
      out.set(name, std::move(i));
    }
    b.set(o, "outputs", out.take());
  }

  // name:/version: of an output: the data (or model) asset the service registers the output as
  // when the job completes (assetName/assetVersion; without a version it takes the next integer).
  void asset_name_version(const YAML::Node& v, const std::string& output, json::Value& i, json::Builder& b) {
    YAML::Node n = v["name"], ver = v["version"];
    if (n && !n.IsNull()) {
      std::string an = yaml::scalar(n);
      if (!n.IsScalar() || !valid_asset_name(an))
        fail(n, "output '" + output + "': name '" + an +
                    "' is not an asset name (a letter or digit, then letters, digits, '-', '_' or '.'; at most "
                    "255 characters)");
      b.set(i, "assetName", an);
    }
    if (ver && !ver.IsNull()) {
      if (!n || n.IsNull()) fail(ver, "output '" + output + "': 'version' needs a 'name' (the asset to register)");
      std::string av = yaml::scalar(ver);
      if (!ver.IsScalar() || !valid_asset_name(av))
        fail(ver, "output '" + output + "': version '" + av +
                      "' is not an asset version (a letter or digit, then letters, digits, '-', '_' or '.')");
      b.set(i, "assetVersion", av);
    }
  }

  void resources_distribution(const YAML::Node& root, json::Value& o, json::Builder& b, bool snake) {
    YAML::Node r = root["resources"];
    if (r && r.IsMap()) {
      json::Value v = b.obj();
      for (const auto& kv : r) {
        std::string k = kv.first.Scalar();
        b.set(v, snake ? k : camel(k), yaml_to_json(kv.second, b.allocator()));
      }
      b.set(o, "resources", std::move(v));
    }
    YAML::Node d = root["distribution"];
    if (d && d.IsMap()) {
      static const std::map<std::string, std::string> kTypes = {
          {"pytorch", "PyTorch"}, {"tensorflow", "TensorFlow"}, {"mpi", "Mpi"}, {"ray", "Ray"}};
      std::string t = doc_.get_string(d, "type");
      auto it = kTypes.find(str::to_lower(t));
      if (it == kTypes.end()) fail(d["type"], "distribution.type must be pytorch, tensorflow, mpi or ray");
      json::Value v = b.obj();
      b.set(v, snake ? "distribution_type" : "distributionType", it->second);
      for (const auto& kv : d) {
        std::string k = kv.first.Scalar();
        if (k == "type") continue;
        b.set(v, snake ? k : camel(k), yaml_to_json(kv.second, b.allocator()));
      }
      b.set(o, "distribution", std::move(v));
    }
  }

  // ${{...}} in `n`'s text must name something that exists.
  void check_bindings(const YAML::Node& n, const std::string& text,
                      const std::function<std::optional<std::string>(const Binding&)>& check) {
    size_t nth = 0;
    for (const Binding& e : find_bindings(text)) {
      if (auto problem = check(e)) throw ConfigError(locate(n, "${{", nth), *problem);
      ++nth;
    }
  }

  static std::optional<std::string> check_io(const Binding& e, const Io& io,
                                             const std::set<std::string>& search_space) {
    auto names = [](const std::map<std::string, std::string>& m) {
      std::vector<std::string> v;
      for (auto& [k, _] : m) v.push_back(k);
      return v.empty() ? std::string("none") : str::join(v, ", ");
    };
    const std::string in = " in ${{" + e.expr + "}}";
    switch (e.kind) {
      case Binding::Kind::input:
        if (io.inputs.count(e.name)) return std::nullopt;
        return "undefined input '" + e.name + "'" + in + " (inputs defined: " + names(io.inputs) + ")";
      case Binding::Kind::output:
        if (io.outputs.count(e.name)) return std::nullopt;
        return "undefined output '" + e.name + "'" + in + " (outputs defined: " + names(io.outputs) + ")";
      case Binding::Kind::search_space:
        if (search_space.count(e.name)) return std::nullopt;
        return "undefined search_space parameter '" + e.name + "'" + in;
      default:
        return "unsupported expression ${{" + e.expr + "}} (expected inputs.<name>, outputs.<name>" +
               std::string(search_space.empty() ? "" : " or search_space.<name>") + ")";
    }
  }

  // A command (job, sweep trial or pipeline step) into `o`.
  void command(const YAML::Node& root, json::Value& o, json::Builder& b, const std::string& pointer, int component,
               const std::set<std::string>& search_space = {}, Io* io_out = nullptr) {
    YAML::Node cmd = root["command"];
    if (!cmd || !cmd.IsScalar()) fail(cmd ? cmd : root, "missing required key 'command'");
    b.set(o, "command", cmd.Scalar());
    code(root, o, b, "codeId", {component, pointer + "/codeId", "", ""});
    environment(root, o, b, "environmentId", {component, pointer + "/environmentId", "", ""});
    string_map(root, "environment_variables", o, "environmentVariables", b);
    Io io;
    inputs(root, o, b, false, pointer + "/inputs", component, io);
    outputs(root, o, b, false, io);
    resources_distribution(root, o, b, false);
    YAML::Node lim = root["limits"];
    if (lim && lim.IsMap() && lim["timeout"]) {
      json::Value l = b.obj();
      b.set(l, "jobLimitsType", "Command");
      b.set(l, "timeout", duration(lim["timeout"], b));
      b.set(o, "limits", std::move(l));
    }
    check_bindings(cmd, cmd.Scalar(), [&](const Binding& e) { return check_io(e, io, search_space); });
    if (io_out) *io_out = io;
  }

  void sweep(const YAML::Node& root, json::Value& props, json::Builder& b) {
    b.set(props, "jobType", "Sweep");
    YAML::Node ss = root["search_space"];
    if (!ss || !ss.IsMap()) fail(ss ? ss : root, "a sweep job needs a 'search_space' mapping");
    std::set<std::string> names;
    json::Value space = b.obj();
    for (const auto& kv : ss) {
      std::string name = kv.first.Scalar();
      names.insert(name);
      const YAML::Node& p = kv.second;
      if (!p.IsMap()) fail(p, "search_space." + name + " must be a mapping with 'type'");
      std::string t = doc_.get_string(p, "type");
      json::Value args = b.arr();
      auto num = [&](const char* k) {
        if (!p[k]) fail(p, "search_space." + name + " (" + t + ") needs '" + k + "'");
        b.push(args, yaml_to_json(p[k], b.allocator()));
      };
      if (t == "choice") {
        if (!p["values"] || !p["values"].IsSequence())
          fail(p, "search_space." + name + " (choice) needs a 'values' list");
        b.push(args, yaml_to_json(p["values"], b.allocator()));
      } else if (t == "uniform" || t == "loguniform") {
        num("min_value");
        num("max_value");
      } else if (t == "quniform" || t == "qloguniform") {
        num("min_value");
        num("max_value");
        num("q");
      } else if (t == "normal" || t == "lognormal") {
        num("mu");
        num("sigma");
      } else if (t == "qnormal" || t == "qlognormal") {
        num("mu");
        num("sigma");
        num("q");
      } else if (t == "randint") {
        num("upper");
      } else {
        fail(p["type"], "unknown search space type '" + t + "'");
      }
      json::Value expr = b.arr();
      b.push(expr, t);
      b.push(expr, std::move(args));
      b.set(space, name, std::move(expr));
    }
    b.set(props, "searchSpace", std::move(space));
    YAML::Node sa = root["sampling_algorithm"];
    json::Value algo = b.obj();
    std::string at = sa && sa.IsMap() ? doc_.get_string(sa, "type") : (sa ? yaml::scalar(sa) : "random");
    if (at != "random" && at != "grid" && at != "bayesian")
      fail(sa, "sampling_algorithm must be random, grid or bayesian");
    b.set(algo, "samplingAlgorithmType", title_case(at));
    if (sa && sa.IsMap()) {
      if (sa["seed"]) b.set(algo, "seed", yaml_to_json(sa["seed"], b.allocator()));
      if (auto r = doc_.opt_string(sa, "rule")) b.set(algo, "rule", title_case(*r));
    }
    b.set(props, "samplingAlgorithm", std::move(algo));
    YAML::Node obj = root["objective"];
    if (!obj || !obj.IsMap()) fail(obj ? obj : root, "a sweep job needs 'objective' with goal and primary_metric");
    json::Value ob = b.obj();
    std::string goal = str::to_lower(doc_.get_string(obj, "goal"));
    if (goal != "maximize" && goal != "minimize") fail(obj["goal"], "objective.goal must be maximize or minimize");
    b.set(ob, "goal", title_case(goal));
    b.set(ob, "primaryMetric", doc_.get_string(obj, "primary_metric"));
    b.set(props, "objective", std::move(ob));
    YAML::Node lim = root["limits"];
    json::Value l = b.obj();
    b.set(l, "jobLimitsType", "Sweep");
    if (lim && lim.IsMap()) {
      for (const auto& kv : lim) {
        std::string k = kv.first.Scalar();
        if (k == "timeout" || k == "trial_timeout") {
          b.set(l, camel(k), duration(kv.second, b));
        } else {
          b.set(l, camel(k), yaml_to_json(kv.second, b.allocator()));
        }
      }
    }
    b.set(props, "limits", std::move(l));
    YAML::Node et = root["early_termination"];
    if (et && et.IsMap()) {
      static const std::map<std::string, std::string> kPolicies = {
          {"bandit", "Bandit"}, {"median_stopping", "MedianStopping"}, {"truncation_selection", "TruncationSelection"}};
      std::string t = doc_.get_string(et, "type");
      auto it = kPolicies.find(t);
      if (it == kPolicies.end())
        fail(et["type"], "early_termination.type must be bandit, median_stopping or truncation_selection");
      json::Value e = b.obj();
      b.set(e, "policyType", it->second);
      for (const auto& kv : et) {
        std::string k = kv.first.Scalar();
        if (k != "type") b.set(e, camel(k), yaml_to_json(kv.second, b.allocator()));
      }
      b.set(props, "earlyTermination", std::move(e));
    }
    Io io;
    inputs(root, props, b, false, "/properties/inputs", -1, io);
    outputs(root, props, b, false, io);
    YAML::Node trial = root["trial"];
    if (!trial || !trial.IsMap()) fail(trial ? trial : root, "a sweep job needs a 'trial' mapping");
    json::Value t = b.obj();
    YAML::Node cmd = trial["command"];
    if (!cmd || !cmd.IsScalar()) fail(cmd ? cmd : trial, "missing required key 'command'");
    b.set(t, "command", cmd.Scalar());
    code(trial, t, b, "codeId", {-1, "/properties/trial/codeId", "", ""});
    environment(trial, t, b, "environmentId", {-1, "/properties/trial/environmentId", "", ""});
    string_map(trial, "environment_variables", t, "environmentVariables", b);
    resources_distribution(trial, t, b, false);
    check_bindings(cmd, cmd.Scalar(), [&](const Binding& e) { return check_io(e, io, names); });
    b.set(props, "trial", std::move(t));
  }

  void pipeline(const YAML::Node& root, json::Value& props, json::Builder& b) {
    b.set(props, "jobType", "Pipeline");
    YAML::Node st = root["settings"];
    json::Value settings = b.obj();
    if (st && st.IsMap()) {
      for (const auto& kv : st) {
        std::string k = kv.first.Scalar();
        if (k == "default_compute") {
          b.set(settings, k, asset_id(ws(), "computes", yaml::scalar(kv.second)));
        } else if (k == "default_datastore") {
          b.set(settings, k, asset_id(ws(), "datastores", yaml::scalar(kv.second)));
        } else {
          b.set(settings, k, yaml_to_json(kv.second, b.allocator()));
        }
      }
    }
    b.set(props, "settings", std::move(settings));
    Io parent;
    inputs(root, props, b, false, "/properties/inputs", -1, parent);
    outputs(root, props, b, false, parent);
    YAML::Node jobs = root["jobs"];
    if (!jobs || !jobs.IsMap() || jobs.size() == 0)
      fail(jobs ? jobs : root, "a pipeline job needs a non-empty 'jobs' mapping");
    // First pass: each step's declared outputs, for ${{parent.jobs.<step>.outputs.<name>}}.
    std::map<std::string, Io> steps;
    for (const auto& kv : jobs) {
      Io io;
      const YAML::Node& s = kv.second;
      if (!s.IsMap()) fail(s, "step '" + kv.first.Scalar() + "' must be a mapping");
      if (s["component"] && yaml::scalar(s["component"]).rfind("azureml:", 0) == 0) io.known = false;
      YAML::Node def = s;
      if (s["component"] && !yaml::scalar(s["component"]).empty() &&
          yaml::scalar(s["component"]).rfind("azureml:", 0) != 0) {
        // A component file: its outputs are declared there.
        io.known = false;
      }
      if (def["outputs"] && def["outputs"].IsMap())
        for (const auto& o : def["outputs"]) io.outputs[o.first.Scalar()] = "uri_folder";
      steps[kv.first.Scalar()] = io;
    }
    json::Value out_jobs = b.obj();
    for (const auto& kv : jobs) {
      std::string step = kv.first.Scalar();
      out_jobs.AddMember(b.str(step), step_body(step, kv.second, b, parent, steps), b.allocator());
    }
    b.set(props, "jobs", std::move(out_jobs));
  }

  std::optional<std::string> check_parent(const Binding& e, const std::string& self, const Io& parent,
                                          const std::map<std::string, Io>& steps) {
    const std::string in = " in ${{" + e.expr + "}}";
    switch (e.kind) {
      case Binding::Kind::parent_input:
        if (parent.inputs.count(e.name)) return std::nullopt;
        return "undefined pipeline input '" + e.name + "'" + in;
      case Binding::Kind::parent_output:
        if (parent.outputs.count(e.name)) return std::nullopt;
        return "undefined pipeline output '" + e.name + "'" + in;
      case Binding::Kind::parent_job_output: {
        auto it = steps.find(e.job);
        if (it == steps.end()) return "undefined step '" + e.job + "'" + in;
        if (e.job == self) return "step '" + self + "' cannot consume its own output" + in;
        if (it->second.known && !it->second.outputs.count(e.name))
          return "step '" + e.job + "' has no output '" + e.name + "'" + in;
        return std::nullopt;
      }
      default:
        return "unsupported expression ${{" + e.expr +
               "}} in a step binding (expected parent.inputs.<x>, parent.outputs.<y> or "
               "parent.jobs.<step>.outputs.<z>)";
    }
  }

  json::Value step_body(const std::string& step, const YAML::Node& s, json::Builder& b, const Io& parent,
                        const std::map<std::string, Io>& steps) {
    json::Value o = b.obj();
    std::string type = doc_.opt_string(s, "type").value_or("command");
    b.set(o, "type", type);
    b.set(o, "name", step);
    b.set(o, "_source", "YAML.JOB");
    if (auto c = doc_.opt_string(s, "compute")) b.set(o, "computeId", asset_id(ws(), "computes", *c));
    if (auto d = doc_.opt_string(s, "display_name")) b.set(o, "display_name", *d);
    // Step inputs and outputs (bindings kept as literal strings; the service resolves them).
    std::map<std::string, std::string> input_types;
    YAML::Node in = s["inputs"];
    if (in && in.IsMap()) {
      json::Value inputs_v = b.obj();
      for (const auto& kv : in) {
        std::string name = kv.first.Scalar();
        json::Value i = b.obj();
        const YAML::Node& v = kv.second;
        if (v.IsScalar() || v.IsNull()) {
          std::string text = yaml::scalar(v);
          check_bindings(v, text, [&](const Binding& e) { return check_parent(e, step, parent, steps); });
          b.set(i, "job_input_type", "literal");
          b.set(i, "value", text);
          std::string t = "string";
          auto exprs = find_bindings(text);
          if (exprs.size() == 1) {
            if (exprs[0].kind == Binding::Kind::parent_input) {
              auto it = parent.inputs.find(exprs[0].name);
              if (it != parent.inputs.end() && it->second != "literal") t = it->second;
            } else if (exprs[0].kind == Binding::Kind::parent_job_output) {
              t = "uri_folder";
            }
          } else if (exprs.empty() && str::parse_double(text)) {
            t = str::parse_int(text) ? "integer" : "number";
          }
          input_types[name] = t;
        } else if (v.IsMap()) {
          std::string type_s = doc_.opt_string(v, "type").value_or("uri_folder");
          input_types[name] = type_s;
          b.set(i, "job_input_type", type_s);
          auto path = doc_.opt_string(v, "path");
          if (!path || path->empty()) fail(v, "input '" + name + "' needs 'path'");
          if (auto local = local_path(*path); !local) {
            b.set(i, "uri", *path);
          } else {
            fs::path p = resolve(*local);
            std::error_code ec;
            if (!fs::exists(p, ec)) fail(v["path"], "input path " + p.string() + " does not exist");
            Target t{-1, "/properties/jobs/" + pointer_token(step) + "/inputs/" + pointer_token(name) + "/uri", "", ""};
            fs::path folder = p;
            if (fs::is_regular_file(p, ec)) {
              // A file input is uploaded alone; its URI names the file.
            }
            b.set(i, "uri", std::string("pending:input"));
            spec_.uploads.push_back({LocalUpload::Kind::input, folder, t, doc_.at(v["path"])});
          }
          if (auto m = doc_.opt_string(v, "mode")) {
            auto it = kModes.find(*m);
            if (it == kModes.end()) fail(v["mode"], "unknown mode '" + *m + "'");
            b.set(i, "mode", it->second);
          }
        } else {
          fail(v, "input '" + name + "' must be a value or a mapping");
        }
        b.set(inputs_v, name, std::move(i));
      }
      b.set(o, "inputs", std::move(inputs_v));
    }
    std::map<std::string, std::string> output_types;
    YAML::Node outn = s["outputs"];
    if (outn && outn.IsMap()) {
      json::Value outputs_v = b.obj();
      for (const auto& kv : outn) {
        std::string name = kv.first.Scalar();
        json::Value i = b.obj();
        const YAML::Node& v = kv.second;
        if (v.IsScalar()) {
          std::string text = v.Scalar();
          check_bindings(v, text, [&](const Binding& e) { return check_parent(e, step, parent, steps); });
          b.set(i, "type", "literal");
          b.set(i, "value", text);
          auto exprs = find_bindings(text);
          std::string t = "uri_folder";
          if (exprs.size() == 1 && exprs[0].kind == Binding::Kind::parent_output && parent.outputs.count(exprs[0].name))
            t = parent.outputs.at(exprs[0].name);
          output_types[name] = t;
        } else {
          std::string t = v.IsMap() ? doc_.opt_string(v, "type").value_or("uri_folder") : "uri_folder";
          output_types[name] = t;
          b.set(i, "job_output_type", t);
          if (v.IsMap() && v["name"])
            fail(v["name"], "step '" + step + "', output '" + name +
                                "': name a pipeline output instead (bind this output to ${{parent.outputs.<x>}} "
                                "and give <x> a name)");
          if (v.IsMap())
            if (auto m = doc_.opt_string(v, "mode")) {
              auto it = kModes.find(*m);
              if (it == kModes.end()) fail(v["mode"], "unknown mode '" + *m + "'");
              b.set(i, "mode", it->second);
            }
        }
        b.set(outputs_v, name, std::move(i));
      }
      b.set(o, "outputs", std::move(outputs_v));
    }

    YAML::Node comp = s["component"];
    if (comp && comp.IsScalar() && comp.Scalar().rfind("azureml:", 0) == 0) {
      b.set(o, "componentId", asset_id(ws(), "components", comp.Scalar()));
      return o;
    }
    if (type != "command")
      fail(s, "step '" + step + "': inline steps must be command steps (use component: for other types)");
    // Inline command step, or a component YAML file: an anonymous component.
    const yaml::Document* d = &doc_;
    yaml::Document comp_doc;
    fs::path comp_base = base_;
    YAML::Node def = s;
    if (comp && comp.IsScalar()) {
      auto local = local_path(comp.Scalar());
      if (!local) fail(comp, "component '" + comp.Scalar() + "' must be azureml:<name>:<version> or a local YAML file");
      fs::path p = resolve(*local);
      std::error_code ec;
      if (!fs::is_regular_file(p, ec)) fail(comp, "component file " + p.string() + " not found");
      comp_doc = yaml::load_file(p);
      d = &comp_doc;
      def.reset(comp_doc.root);
      comp_base = p.parent_path();
    }
    int index = static_cast<int>(spec_.components.size());
    ComponentSpec cs;
    cs.step = step;
    cs.body.SetObject();
    json::Builder cb(cs.body.GetAllocator());
    json::Value cspec = cb.obj();
    cb.set(cspec, "name", "azureml_anonymous");
    cb.set(cspec, "version", "1");
    cb.set(cspec, "type", "command");
    cb.set(cspec, "is_deterministic", true);
    YAML::Node cmd = def["command"];
    if (!cmd || !cmd.IsScalar()) d->fail(cmd ? cmd : def, "step '" + step + "' needs 'command'");
    cb.set(cspec, "command", cmd.Scalar());
    // Code and environment of the component.
    if (def["code"]) {
      std::string ref = yaml::scalar(def["code"]);
      if (ref.rfind("azureml:", 0) == 0) {
        cb.set(cspec, "code", "azureml:" + asset_id(ws(), "codes", ref));
      } else {
        fs::path p(ref);
        if (p.is_relative()) p = comp_base / p;
        p = p.lexically_normal();
        std::error_code ec;
        if (!fs::exists(p, ec)) d->fail(def["code"], "code path " + p.string() + " does not exist");
        cb.set(cspec, "code", std::string("pending:code"));
        spec_.uploads.push_back({LocalUpload::Kind::code,
                                 p,
                                 {index, "/properties/componentSpec/code", "azureml:", ""},
                                 d->at(def["code"])});
      }
    }
    YAML::Node env = def["environment"];
    if (!env) d->fail(def, "step '" + step + "' needs 'environment'");
    if (env.IsScalar() && env.Scalar().rfind("azureml:", 0) == 0) {
      std::string id = asset_id(ws(), "environments", env.Scalar());
      if (label_ref(env.Scalar(), "environments", {index, "/properties/componentSpec/environment", "azureml:", ""}))
        cb.set(cspec, "environment", std::string("pending:environment"));
      else
        cb.set(cspec, "environment", id.rfind("azureml:", 0) == 0 ? id : "azureml:" + id);
    } else if (env.IsMap()) {
      EnvironmentSpec es;
      es.body.SetObject();
      json::Builder eb(es.body.GetAllocator());
      json::Value ep = eb.obj();
      environment_props(env, ep, eb, *d, comp_base);
      es.name = "CliV2AnonymousEnvironment";
      es.version = hash::sha256_hex(json::dump(ep)).substr(0, 32);
      eb.set(ep, "isAnonymous", true);
      eb.set(es.body, "properties", std::move(ep));
      cb.set(cspec, "environment", std::string("pending:environment"));
      spec_.environments.push_back({std::move(es), {index, "/properties/componentSpec/environment", "azureml:", ""}});
    } else {
      d->fail(env, "step environment must be azureml:<name>:<version> or an inline mapping");
    }
    // Declared interface: a component file declares it; an inline step's comes from its bindings.
    Io io;
    if (d != &doc_) {
      json::Value ins = cb.obj(), outs = cb.obj();
      if (def["inputs"] && def["inputs"].IsMap())
        for (const auto& kv : def["inputs"]) {
          io.inputs[kv.first.Scalar()] = "x";
          ins.AddMember(cb.str(kv.first.Scalar()), yaml_to_json(kv.second, cb.allocator()), cb.allocator());
        }
      if (def["outputs"] && def["outputs"].IsMap())
        for (const auto& kv : def["outputs"]) {
          io.outputs[kv.first.Scalar()] = "x";
          outs.AddMember(cb.str(kv.first.Scalar()), yaml_to_json(kv.second, cb.allocator()), cb.allocator());
        }
      cb.set(cspec, "inputs", std::move(ins));
      cb.set(cspec, "outputs", std::move(outs));
    } else {
      json::Value ins = cb.obj(), outs = cb.obj();
      for (auto& [name, t] : input_types) {
        io.inputs[name] = t;
        json::Value x = cb.obj();
        cb.set(x, "type", t);
        cb.set(ins, name, std::move(x));
      }
      for (auto& [name, t] : output_types) {
        io.outputs[name] = t;
        json::Value x = cb.obj();
        cb.set(x, "type", t);
        cb.set(outs, name, std::move(x));
      }
      cb.set(cspec, "inputs", std::move(ins));
      cb.set(cspec, "outputs", std::move(outs));
    }
    if (d == &doc_) {
      check_bindings(cmd, cmd.Scalar(), [&](const Binding& e) { return check_io(e, io, {}); });
    }
    cb.set(cspec, "_source", "YAML.JOB");
    json::Value cprops = cb.obj();
    cb.set(cprops, "isAnonymous", true);
    cb.set(cprops, "isArchived", false);
    cb.set(cprops, "componentSpec", std::move(cspec));
    cb.set(cs.body, "properties", std::move(cprops));
    spec_.components.push_back(std::move(cs));
    b.set(o, "componentId", std::string("pending:component"));
    return o;
  }
};

}  // namespace

JobSpec load_job_text(const std::string& text, const std::string& source, const fs::path& base_dir,
                      const LoadOptions& opts) {
  yaml::LoadOptions yo;
  yo.unique_keys = true;
  yaml::Document doc = yaml::load_string(text, source, yo);
  if (!doc.root || doc.root.IsNull()) throw ConfigError(SourceLocation{source, 1, 1}, "the job YAML is empty");
  if (!opts.overrides.empty()) {
    if (!doc.root.IsMap()) doc.fail(doc.root, "a job YAML must be a mapping");
    apply_overrides(doc.root, opts.overrides);
  }
  validate_job_yaml(doc);
  JobSpec spec;
  spec.file = source;
  Converter c(doc, text, base_dir, opts, spec);
  c.run();
  return spec;
}

JobSpec load_job(const fs::path& file, const LoadOptions& opts) {
  std::error_code ec;
  if (fs::is_directory(file, ec)) throw ConfigError(file.string() + " is a directory, not a job YAML");
  std::string text = files::read_bounded(file, yaml::kMaxDocumentBytes);
  fs::path base = fs::absolute(file).parent_path();
  return load_job_text(text, file.string(), base, opts);
}

EnvironmentSpec load_environment(const fs::path& file) {
  yaml::Document doc = yaml::load_file(file);
  if (!doc.root.IsMap()) doc.fail(doc.root, "an environment YAML must be a mapping");
  EnvironmentSpec env;
  env.body.SetObject();
  json::Builder b(env.body.GetAllocator());
  json::Value props = b.obj();
  Converter::environment_props(doc.root, props, b, doc, fs::absolute(file).parent_path());
  env.name = doc.get_string(doc.root, "name");
  env.version = doc.opt_string(doc.root, "version").value_or(hash::sha256_hex(json::dump(props)).substr(0, 32));
  b.set(env.body, "properties", std::move(props));
  return env;
}

}  // namespace amlops::spec
