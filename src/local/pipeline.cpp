#include "local/pipeline.hpp"

#include <functional>
#include <map>
#include <regex>
#include <set>

#include "core/strings.hpp"
#include "core/time.hpp"
#include "local/app.hpp"
#include "local/job_util.hpp"
#include "local/runner.hpp"

namespace amlops::local {

// ---------------------------------------------------------------------------------------------
// Pipelines

namespace {

const std::regex kStepRef(R"(\$\{\{\s*parent\.jobs\.([A-Za-z0-9_\-]+)\.outputs\.([A-Za-z0-9_\-]+)\s*\}\})");
const std::regex kParentInput(R"(^\s*\$\{\{\s*parent\.inputs\.([A-Za-z0-9_\-]+)\s*\}\}\s*$)");
const std::regex kParentOutput(R"(^\s*\$\{\{\s*parent\.outputs\.([A-Za-z0-9_\-]+)\s*\}\}\s*$)");

}  // namespace

std::set<std::string> step_deps(const json::Value& step) {
  std::set<std::string> deps;
  if (!step.IsObject() || !step.HasMember("inputs") || !step["inputs"].IsObject()) return deps;
  for (auto& in : step["inputs"].GetObject()) {
    std::string text =
        in.value.IsString()
            ? in.value.GetString()
            : (in.value.IsObject()
                   ? either(in.value, "value", "path").value_or(either(in.value, "uri", "uri").value_or(""))
                   : "");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), kStepRef); it != std::sregex_iterator(); ++it)
      deps.insert((*it)[1]);
  }
  return deps;
}

std::vector<std::string> pipeline_order(const json::Value& jobs) {
  std::map<std::string, std::set<std::string>> graph;
  for (auto& s : jobs.GetObject()) {
    std::string sname = s.name.GetString();
    if (!valid_name(sname))
      throw std::runtime_error("step name '" + sname + "' is not allowed (letters, digits, '_', '-' and '.', no '..')");
    graph[sname] = step_deps(s.value);
  }
  for (auto& [s, deps] : graph)
    for (auto& d : deps)
      if (!graph.count(d)) throw std::runtime_error("step '" + s + "' refers to unknown step '" + d + "'");
  std::vector<std::string> order;
  std::map<std::string, int> state;  // 1 visiting, 2 done
  std::function<void(const std::string&)> visit = [&](const std::string& s) {
    if (state[s] == 2) return;
    if (state[s] == 1) throw std::runtime_error("the pipeline's steps form a cycle through '" + s + "'");
    state[s] = 1;
    for (auto& d : graph[s]) visit(d);
    state[s] = 2;
    order.push_back(s);
  };
  for (auto& [s, deps] : graph) visit(s);
  return order;
}

int Runner::running(const std::vector<JobRow>& kids) {
  int n = 0;
  for (auto& k : kids)
    if (!terminal(k.status)) ++n;
  return n;
}

void Runner::cancel_running(const std::vector<JobRow>& kids) {
  for (auto& k : kids)
    if (!terminal(k.status) && !k.cancel) request_cancel(k.ws, k.name);
}

void Runner::step_pipeline(const JobRow& j) {
  auto body = json::parse(j.body);
  const json::Value& props = body["properties"];
  auto kids = children(j.ws, j.name);
  std::map<std::string, JobRow> by_step;  // step -> child
  for (auto& k : kids) {
    auto cb = json::parse(k.body);
    if (auto s = json::opt_string(cb, "/properties/properties/azureml.pipeline.step")) by_step[*s] = k;
  }
  auto log = [&](const std::string& line) {
    append_log(j.ws, j.name, iso8601_utc(std::chrono::system_clock::now()) + " " + line,
               "logs/azureml/executionlogs.txt");
  };
  int active = running(kids);
  if (j.cancel) {
    cancel_running(kids);
    if (active == 0) {
      log("pipeline canceled");
      finish(j.ws, j.name, "Canceled");
    }
    return;
  }
  const json::Value* steps = props.HasMember("jobs") && props["jobs"].IsObject() ? &props["jobs"] : nullptr;
  if (j.status == "NotStarted") {
    // Validate the graph once: unknown steps and cycles fail the pipeline before any step runs.
    if (steps) {
      try {
        pipeline_order(*steps);
      } catch (const std::runtime_error& e) {
        throw JobFailure("UserError", e.what());
      }
    }
    log("pipeline started");
    set_status(j, "Running");
    return;
  }
  bool continue_on_failure = false;
  if (const auto* set = json::find(props, "/settings"); set && set->IsObject())
    continue_on_failure = either(*set, "continue_on_step_failure", "continueOnStepFailure").value_or("false") == "true";
  int limit = app_.config().pipeline_concurrency;
  if (const auto* set = json::find(props, "/settings"); set && set->IsObject())
    if (auto mc = either(*set, "max_concurrency", "maxConcurrency"))
      if (auto n = str::parse_int(*mc); n && *n > 0) limit = static_cast<int>(*n);

  bool failed = false;
  for (auto& [s, k] : by_step)
    if (k.status == "Failed" || k.status == "Canceled") failed = true;
  bool stop_new = failed && !continue_on_failure;
  if (stop_new) cancel_running(kids);

  bool blocked_forever = true;
  size_t total = steps ? steps->MemberCount() : 0;
  if (steps && !stop_new) {
    for (auto& s : steps->GetObject()) {
      std::string sname = s.name.GetString();
      if (by_step.count(sname)) continue;
      auto deps = step_deps(s.value);
      bool ready = true, dead = false;
      for (auto& d : deps) {
        auto f = by_step.find(d);
        if (f == by_step.end() || f->second.status != "Completed") ready = false;
        if (f != by_step.end() && (f->second.status == "Failed" || f->second.status == "Canceled")) dead = true;
      }
      if (dead) continue;
      blocked_forever = false;
      if (!ready || active >= limit) continue;
      // Build the child command job.
      const json::Value& step = s.value;
      json::Document child(rapidjson::kObjectType);
      json::Builder b(child.GetAllocator());
      json::Value cp = b.obj();
      b.set(cp, "jobType", "Command");
      json::Value spec_holder;
      std::optional<json::Document> comp;
      if (auto cid = either(step, "componentId", "component_id")) {
        auto ref = parse_asset_ref(j.ws, "components", *cid);
        comp = ref ? load_asset(app_.store(), "components", *ref) : std::nullopt;
        if (!comp) throw JobFailure("UserError", "step '" + sname + "': component '" + *cid + "' was not found");
      }
      const json::Value* spec = comp ? json::find(*comp, "/properties/componentSpec") : nullptr;
      auto field = [&](const char* camel, const char* snake) -> std::optional<std::string> {
        if (auto v = either(step, camel, snake)) return v;
        if (spec) return either(*spec, camel, snake);
        return std::nullopt;
      };
      std::string stype = str::to_lower(
          member_text(step, "type").value_or(spec ? member_text(*spec, "type").value_or("command") : "command"));
      if (stype != "command")
        throw JobFailure("UserError",
                         "step '" + sname + "' has type " + stype + "; amlops-local runs command steps only");
      auto cmd = field("command", "command");
      if (!cmd) throw JobFailure("UserError", "step '" + sname + "' has no command");
      b.set(cp, "command", *cmd);
      if (auto code = field("codeId", "code")) b.set(cp, "codeId", *code);
      if (auto envid = field("environmentId", "environment")) b.set(cp, "environmentId", *envid);
      b.set(cp, "experimentName", member_text(props, "experimentName").value_or("Default"));
      b.set(cp, "displayName", sname);
      json::Value cprops = b.obj();
      b.set(cprops, "azureml.pipeline.step", sname);
      b.set(cp, "properties", std::move(cprops));
      json::Value envv = b.obj();
      for (const json::Value* src : {spec, &step}) {
        if (!src) continue;
        for (const char* k : {"environmentVariables", "environment_variables"})
          if (src->HasMember(k) && (*src)[k].IsObject())
            for (auto& e : (*src)[k].GetObject()) b.set(envv, e.name.GetString(), json::scalar_text(e.value));
      }
      b.set(cp, "environmentVariables", std::move(envv));
      if (step.HasMember("limits") && step["limits"].IsObject()) b.set(cp, "limits", b.copy(step["limits"]));
      // Inputs: component defaults, then the step's bindings.
      json::Value ins = b.obj();
      if (spec && spec->HasMember("inputs") && (*spec)["inputs"].IsObject())
        for (auto& in : (*spec)["inputs"].GetObject())
          if (in.value.IsObject() && in.value.HasMember("default")) {
            json::Value lit = b.obj();
            b.set(lit, "jobInputType", "literal");
            b.set(lit, "value", json::scalar_text(in.value["default"]));
            b.set(ins, in.name.GetString(), std::move(lit));
          }
      if (step.HasMember("inputs") && step["inputs"].IsObject()) {
        for (auto& in : step["inputs"].GetObject()) {
          std::string iname = in.name.GetString();
          std::string text = in.value.IsString() ? in.value.GetString()
                                                 : (in.value.IsObject() ? member_text(in.value, "value").value_or("")
                                                                        : json::scalar_text(in.value));
          std::smatch m;
          json::Value bound;
          if (std::regex_match(text, m, kParentInput)) {
            const json::Value* pin = json::find(props, "/inputs/" + m[1].str());
            if (!pin)
              throw JobFailure("UserError", "step '" + sname + "' binds ${{parent.inputs." + m[1].str() +
                                                "}}, which the pipeline does not define");
            bound = b.copy(*pin);
          } else if (
              std::regex_match(
                  text, m,
                  std::regex(
                      R"(^\s*\$\{\{\s*parent\.jobs\.([A-Za-z0-9_\-]+)\.outputs\.([A-Za-z0-9_\-]+)\s*\}\}\s*$)"))) {
            auto& up = by_step.at(m[1].str());
            auto ub = json::parse(up.body);
            auto uri = json::opt_string(ub, "/properties/outputs/" + m[2].str() + "/uri");
            if (!uri)
              throw JobFailure("UserError", "step '" + sname + "' binds ${{parent.jobs." + m[1].str() + ".outputs." +
                                                m[2].str() + "}}, which that step does not produce");
            std::string ut =
                json::opt_string(ub, "/properties/outputs/" + m[2].str() + "/jobOutputType").value_or("uri_folder");
            bound = b.obj();
            b.set(bound, "jobInputType", ut == "uri_file" ? "uri_file" : "uri_folder");
            b.set(bound, "uri", *uri);
          } else if (in.value.IsObject()) {
            bound = b.copy(in.value);
            if (!bound.HasMember("jobInputType")) b.set(bound, "jobInputType", input_type(in.value));
          } else {
            bound = b.obj();
            b.set(bound, "jobInputType", "literal");
            b.set(bound, "value", text);
          }
          b.set(ins, iname, std::move(bound));
        }
      }
      b.set(cp, "inputs", std::move(ins));
      // Outputs: declared by the component and/or the step; parent bindings share the parent's output.
      json::Value outs = b.obj();
      std::vector<std::pair<std::string, std::string>> parent_bindings;  // child output -> parent output
      auto add_output = [&](const std::string& oname, const json::Value* decl) {
        json::Value o = b.obj();
        std::string text = decl && decl->IsObject() ? member_text(*decl, "value").value_or("")
                                                    : (decl && decl->IsString() ? decl->GetString() : "");
        std::smatch m;
        if (std::regex_match(text, m, kParentOutput)) {
          const json::Value* pout = json::find(props, "/outputs/" + m[1].str());
          b.set(o, "jobOutputType", pout ? output_type(*pout) : std::string("uri_folder"));
          if (pout)
            if (auto u = member_text(*pout, "uri")) b.set(o, "uri", *u);
          parent_bindings.emplace_back(oname, m[1].str());
        } else if (decl && decl->IsObject()) {
          b.set(o, "jobOutputType", output_type(*decl));
          if (auto u = member_text(*decl, "uri")) b.set(o, "uri", *u);
        } else {
          b.set(o, "jobOutputType", "uri_folder");
        }
        b.set(o, "mode", "ReadWriteMount");
        b.set(outs, oname, std::move(o));
      };
      if (spec && spec->HasMember("outputs") && (*spec)["outputs"].IsObject())
        for (auto& o : (*spec)["outputs"].GetObject()) add_output(o.name.GetString(), &o.value);
      if (step.HasMember("outputs") && step["outputs"].IsObject())
        for (auto& o : step["outputs"].GetObject()) add_output(o.name.GetString(), &o.value);
      b.set(cp, "outputs", std::move(outs));
      b.set(child, "properties", std::move(cp));
      std::string cname = j.name + "_" + sname;
      create_job(j.ws, cname, child, j.name);
      log("step " + sname + " submitted as " + cname);
      if (!parent_bindings.empty()) {
        auto cb = json::parse(app_.store().one("SELECT body FROM jobs WHERE ws=? AND name=?", {j.ws, cname})->str(0));
        update_body(j.ws, j.name, [&](json::Document& d) {
          json::Builder pb(d.GetAllocator());
          if (!d["properties"].HasMember("outputs") || !d["properties"]["outputs"].IsObject())
            pb.set(d["properties"], "outputs", pb.obj());
          for (auto& [co, po] : parent_bindings) {
            auto uri = json::opt_string(cb, "/properties/outputs/" + co + "/uri");
            if (!uri) continue;
            auto& pouts = d["properties"]["outputs"];
            if (!pouts.HasMember(po.c_str()) || !pouts[po.c_str()].IsObject()) {
              json::Value o = pb.obj();
              pb.set(o, "jobOutputType", "uri_folder");
              pb.set(o, "mode", "ReadWriteMount");
              pb.set(pouts, po, std::move(o));
            }
            pb.set(pouts[po.c_str()], "uri", *uri);
          }
        });
      }
      ++active;
    }
  }
  // Done?
  kids = children(j.ws, j.name);
  active = 0;
  int completed = 0;
  bool any_failed = false;
  for (auto& k : kids) {
    if (!terminal(k.status)) ++active;
    if (k.status == "Completed") ++completed;
    if (k.status == "Failed" || k.status == "Canceled") any_failed = true;
  }
  if (active > 0) return;
  if (static_cast<size_t>(completed) == total) {
    log("pipeline completed");
    finish(j.ws, j.name, "Completed");
  } else if (any_failed && (stop_new || blocked_forever)) {
    std::string failed_steps;
    for (auto& k : kids)
      if (k.status == "Failed" || k.status == "Canceled") failed_steps += (failed_steps.empty() ? "" : ", ") + k.name;
    log("pipeline failed: " + failed_steps);
    finish(j.ws, j.name, "Failed", "UserError", "Pipeline step(s) failed: " + failed_steps + ".");
  }
}

}  // namespace amlops::local
