// Schedules: a Cron or Recurrence trigger with a CreateJob action. They really fire: the runner's
// tick calls fire_schedules(), which submits the schedule's job at each trigger time (missed
// times are not made up, as in Azure) and computes the next one. The scheduler's clock is wall
// time plus an offset that POST /_amlops/clock advances, so tests need not wait.
#include <mutex>

#include "core/cron.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "local/app.hpp"
#include "local/resources.hpp"
#include "local/runner.hpp"
#include "local/setup.hpp"

namespace amlops::local {

namespace {

const char* kScheduleType = "Microsoft.MachineLearningServices/workspaces/schedules";

ArmError bad(const std::string& message) { return ArmError(400, "UserError", message, "ScheduleInvalid"); }

int64_t parse_time(const std::string& field, const std::string& text) {
  try {
    return unix_seconds(parse_iso8601(text));
  } catch (const std::exception&) {
    throw bad("trigger." + field + " '" + text + "' is not an ISO 8601 time (e.g. 2026-01-01T06:00:00).");
  }
}

// UTC only: g++ 12's libstdc++ has no time zone database (std::chrono::locate_zone).
void check_time_zone(const std::string& tz) {
  static const std::vector<std::string> utc = {
      "", "UTC", "Etc/UTC", "GMT", "Etc/GMT", "Z", "Coordinated Universal Time", "UTC+00:00", "Universal"};
  for (auto& u : utc)
    if (str::iequals(tz, u)) return;
  throw bad("trigger.timeZone '" + tz +
            "' is not supported by amlops-local: it computes trigger times in UTC only (use \"UTC\").");
}

std::vector<int> int_list(const json::Value& sched, const char* key, int lo, int hi) {
  std::vector<int> out;
  const auto* v = json::find(sched, std::string("/") + key);
  if (!v || v->IsNull()) return out;
  if (!v->IsArray()) throw bad(std::string("trigger.schedule.") + key + " must be a list of numbers.");
  for (auto& e : v->GetArray()) {
    if (!e.IsInt() || e.GetInt() < lo || e.GetInt() > hi)
      throw bad(std::string("trigger.schedule.") + key + " values must be numbers from " + std::to_string(lo) + " to " +
                std::to_string(hi) + ", not " + json::dump(e) + ".");
    out.push_back(e.GetInt());
  }
  return out;
}

// A validated trigger: when it fires next after `after` (unix seconds), or -1.
struct Trigger {
  bool cron = false;
  cron::CronSpec spec;
  Recurrence rec;
  int64_t start = 0;
  std::optional<int64_t> end;
  [[nodiscard]] int64_t next(int64_t after) const {
    int64_t t = cron ? cron::next_fire(spec, std::max(after, start - 1)) : next_recurrence(rec, after);
    if (t < 0 || (end && t > *end)) return -1;
    return t;
  }
};

// `default_start`: unix seconds used when the trigger has no startTime (the creation time).
Trigger parse_trigger(const json::Value& trig, int64_t default_start) {
  if (!trig.IsObject()) throw bad("properties.trigger is required.");
  Trigger t;
  check_time_zone(json::opt_string(trig, "/timeZone").value_or("UTC"));
  t.start = default_start;
  if (auto s = json::opt_string(trig, "/startTime"); s && !s->empty()) t.start = parse_time("startTime", *s);
  if (auto e = json::opt_string(trig, "/endTime"); e && !e->empty()) t.end = parse_time("endTime", *e);
  if (t.end && *t.end < t.start) throw bad("trigger.endTime is before trigger.startTime.");
  std::string type = json::opt_string(trig, "/triggerType").value_or("");
  if (type == "Cron") {
    t.cron = true;
    try {
      t.spec = cron::parse(json::opt_string(trig, "/expression").value_or(""));
    } catch (const cron::CronError& e) {
      throw bad("trigger.expression: " + e.message() + ".");
    }
    return t;
  }
  if (type != "Recurrence") throw bad("trigger.triggerType must be Cron or Recurrence, not '" + type + "'.");
  try {
    t.rec.frequency = parse_frequency(json::opt_string(trig, "/frequency").value_or(""));
  } catch (const TriggerError& e) {
    throw bad(std::string("trigger.frequency: ") + e.what() + ".");
  }
  auto interval = json::opt_int(trig, "/interval");
  if (!interval || *interval < 1 || *interval > 1000) throw bad("trigger.interval must be a number from 1 to 1000.");
  t.rec.interval = static_cast<int>(*interval);
  t.rec.start = t.start;
  if (const auto* s = json::find(trig, "/schedule"); s && s->IsObject()) {
    t.rec.hours = int_list(*s, "hours", 0, 23);
    t.rec.minutes = int_list(*s, "minutes", 0, 59);
    t.rec.month_days = int_list(*s, "monthDays", 1, 31);
    if (const auto* wd = json::find(*s, "/weekDays"); wd && wd->IsArray())
      for (auto& d : wd->GetArray()) {
        try {
          t.rec.week_days.push_back(week_day_number(d.IsString() ? d.GetString() : json::dump(d)));
        } catch (const TriggerError& e) {
          throw bad(std::string("trigger.schedule.weekDays: ") + e.what() + ".");
        }
      }
  }
  return t;
}

void check_job_definition(const json::Value& job) {
  if (!job.IsObject()) throw bad("action.jobDefinition must be a job's properties object.");
  std::string jt = json::opt_string(job, "/jobType").value_or("");
  if (jt != "Command" && jt != "Pipeline" && jt != "Sweep")
    throw bad("action.jobDefinition.jobType must be Command, Pipeline or Sweep, not '" + jt + "'.");
  if (jt == "Command" && !json::opt_string(job, "/command")) throw bad("A command job needs jobDefinition.command.");
}

// The job properties of a CreateJob action (a bare JobBaseProperties, or {"properties":{...}}).
const json::Value* job_definition(const json::Value& props) {
  const auto* jd = json::find(props, "/action/jobDefinition");
  if (jd && jd->IsObject() && !jd->HasMember("jobType") && jd->HasMember("properties")) jd = &(*jd)["properties"];
  return jd;
}

std::string compact_time(int64_t secs) {
  // 2026-11-27T18:30:00Z -> 20261127183000
  std::string iso = iso8601_utc(std::chrono::system_clock::time_point(std::chrono::seconds(secs)));
  std::string out;
  for (char c : iso)
    if (std::isdigit(static_cast<unsigned char>(c))) out += c;
  return out;
}

std::optional<int64_t> to_ms(int64_t secs) {
  if (secs < 0) return std::nullopt;
  return secs * 1000;
}

}  // namespace

net::ServerResponse App::route_clock(const net::ServerRequest& req) {
  if (req.method == "POST") {
    auto body = parse_body(req);
    const auto* v = json::find(body, "/advance_seconds");
    if (!v || !v->IsNumber() || v->GetDouble() < 0)
      throw ArmError(400, "UserError", "advance_seconds must be a non-negative number.", "RequestInvalid");
    advance_clock(static_cast<int64_t>(v->GetDouble() * 1000));
    fire_schedules();
  } else if (req.method != "GET") {
    throw ArmError(405, "MethodNotAllowed", "_amlops/clock takes GET or POST.");
  }
  json::Document d(rapidjson::kObjectType);
  json::Builder b(d.GetAllocator());
  b.set(d, "now", ms_iso(clock_ms()));
  b.set(d, "offsetSeconds", static_cast<double>(clock_offset_ms_.load()) / 1000.0);
  return json_response(200, d);
}

void App::fire_schedules() {
  static std::mutex mu;  // the runner's tick and POST /_amlops/clock may both call this
  std::lock_guard lock(mu);
  int64_t now = clock_ms();
  auto due = store_->query(
      "SELECT ws, name FROM resources WHERE kind='schedule' AND next_fire IS NOT NULL AND next_fire<=? ORDER BY "
      "next_fire",
      {now});
  for (auto& row : due) {
    std::string ws = row.str(0);
    if (!has_workspace(ws)) continue;  // a workspace of an earlier configuration
    auto rec = load_resource(*store_, "schedule", ws, row.str(1));
    if (!rec || !rec->next_fire) continue;
    auto d = json::parse(rec->body);
    int64_t fire_s = *rec->next_fire / 1000;
    bool enabled = json::opt_bool(d, "/properties/isEnabled").value_or(true);
    auto state = json::parse(rec->secrets.empty() ? "{}" : rec->secrets);
    try {
      Trigger trig = parse_trigger(d["properties"]["trigger"], json::opt_int(state, "/start").value_or(fire_s));
      rec->next_fire = enabled ? to_ms(trig.next(now / 1000)) : std::nullopt;
    } catch (const std::exception& e) {
      log::warn("amlops-local: schedule ", rec->name, ": ", e.what());
      rec->next_fire = std::nullopt;
    }
    save_resource(*store_, "schedule", ws, *rec);
    if (!enabled) continue;
    // Submit the job, named after the schedule and the trigger time, carrying the schedule's name.
    const auto* jd = job_definition(d["properties"]);
    json::Document job(rapidjson::kObjectType);
    json::Builder b(job.GetAllocator());
    json::Value props = b.copy(*jd);
    std::string job_name = rec->name + "-" + compact_time(fire_s);
    if (store_->one("SELECT 1 FROM jobs WHERE ws=? AND name=?", {ws, job_name})) job_name += "-" + str::random_hex(3);
    if (!props.HasMember("properties") || !props["properties"].IsObject()) b.set(props, "properties", b.obj());
    b.set(props["properties"], "azureml.ScheduleName", rec->name);
    b.set(props["properties"], "azureml.ScheduleId", json::opt_string(d, "/id").value_or(""));
    b.set(props["properties"], "azureml.ScheduledTime",
          iso8601_utc(std::chrono::system_clock::time_point(std::chrono::seconds(fire_s))));
    if (!json::opt_string(props, "/displayName")) b.set(props, "displayName", job_name);
    if (!json::opt_string(props, "/experimentName")) b.set(props, "experimentName", rec->name);
    b.set(job, "properties", std::move(props));
    try {
      check_job_computes(ws, job["properties"]);
      runner_->create_job(ws, job_name, job, std::nullopt);
      log::info("amlops-local: schedule ", rec->name, " submitted job ", job_name);
    } catch (const std::exception& e) {
      log::warn("amlops-local: schedule ", rec->name, " could not submit its job: ", e.what());
    }
  }
}

void App::add_schedule_routes(RouteTable& t, const std::string& ws_path, const WsOf& ws_of) {
  using Req = net::ServerRequest;
  t.add("GET", ws_path + "/schedules", [this, ws_of](const Req& req, const RouteMatch& m) {
    auto ws = ws_of(m);
    std::string view = req.param("listViewType").value_or("EnabledOnly");
    if (view != "EnabledOnly" && view != "DisabledOnly" && view != "All")
      throw ArmError(400, "UserError", "listViewType must be EnabledOnly, DisabledOnly or All.", "RequestInvalid");
    std::vector<std::string> items;
    for (auto& r : list_resources(*store_, "schedule", ws)) {
      auto d = json::parse(r.body);
      bool enabled = json::opt_bool(d, "/properties/isEnabled").value_or(true);
      if ((view == "EnabledOnly" && !enabled) || (view == "DisabledOnly" && enabled)) continue;
      if (!matches_filter(json::find(d, "/properties/tags"), req.param("tags").value_or(""))) continue;
      items.push_back(r.body);
    }
    return paged(*this, req, items, cfg_.page_size, [&](size_t n) { return page_link(req, n); });
  });
  t.add("GET", ws_path + "/schedules/{schedule}", [this, ws_of](const Req&, const RouteMatch& m) {
    auto ws = ws_of(m);
    auto rec = load_resource(*store_, "schedule", ws, m["schedule"]);
    if (!rec)
      throw ArmError(404, "UserError", "Schedule " + m["schedule"] + " not found in workspace " + ws + ".",
                     "ScheduleNotFound");
    return net::ServerResponse::json(200, rec->body);
  });
  t.add("PUT", ws_path + "/schedules/{schedule}", [this, ws_of](const Req& req, const RouteMatch& m) {
    auto ws = ws_of(m);
    const std::string name = m["schedule"];
    require_name("schedule name", name);
    auto body = parse_body(req);
    const auto* props = json::find(body, "/properties");
    if (!props || !props->IsObject()) throw bad("The request body must have a 'properties' object.");
    std::string action = json::opt_string(*props, "/action/actionType").value_or("");
    if (action != "CreateJob")
      throw bad("action.actionType '" + action + "' is not supported by amlops-local (CreateJob is).");
    const auto* jd = job_definition(*props);
    if (!jd) throw bad("action.jobDefinition is required for a CreateJob action.");
    check_job_definition(*jd);
    check_job_computes(ws, *jd);
    int64_t clock_s = clock_ms() / 1000;
    const auto* trig_v = json::find(*props, "/trigger");
    if (!trig_v) throw bad("properties.trigger is required.");
    Trigger trig = parse_trigger(*trig_v, clock_s);

    auto existing = load_resource(*store_, "schedule", ws, name);
    int64_t now = now_ms();
    int64_t created = existing ? existing->created : now;
    std::string stored = existing ? existing->name : name;
    json::Document d(rapidjson::kObjectType);
    json::Builder b(d.GetAllocator());
    b.set(d, "id", workspace_id(ws) + "/schedules/" + stored);
    b.set(d, "name", stored);
    b.set(d, "type", kScheduleType);
    json::Value p = b.copy(*props);
    if (!p.HasMember("isEnabled") || !p["isEnabled"].IsBool()) b.set(p, "isEnabled", true);
    for (const char* k : {"tags", "properties"})
      if (!p.HasMember(k) || !p[k].IsObject()) b.set(p, k, b.obj());
    if (!p.HasMember("description")) b.set(p, "description", "");
    if (!p.HasMember("displayName")) b.set(p, "displayName", stored);
    if (!p["trigger"].HasMember("timeZone")) b.set(p["trigger"], "timeZone", "UTC");
    b.set(p, "provisioningState", "Succeeded");
    bool enabled = p["isEnabled"].GetBool();
    b.set(d, "properties", std::move(p));
    b.set(d, "systemData", system_data(b, ms_iso(created), ms_iso(now), id_.client_id));
    // Private state: the start used when the trigger names none (the first PUT's time).
    json::Document state(rapidjson::kObjectType);
    json::Builder sb(state.GetAllocator());
    int64_t start = trig.start;
    if (existing && !json::opt_string(*trig_v, "/startTime"))
      start =
          json::opt_int(json::parse(existing->secrets.empty() ? "{}" : existing->secrets), "/start").value_or(start);
    sb.set(state, "start", start);
    if (!json::opt_string(*trig_v, "/startTime")) trig = parse_trigger(*trig_v, start);
    ResourceRecord rec{stored,
                       json::dump(d),
                       json::dump(state),
                       created,
                       now,
                       now + cfg_.lro_delay.count(),
                       enabled ? to_ms(trig.next(clock_s - 1)) : std::nullopt};
    save_resource(*store_, "schedule", ws, rec);
    runner_->wake();
    std::string op = create_operation("schedule:" + ws + "/" + stored);
    return lro_accepted(existing ? 200 : 201, op, rec.body, true);
  });
  t.add("DELETE", ws_path + "/schedules/{schedule}", [this, ws_of](const Req&, const RouteMatch& m) {
    auto ws = ws_of(m);
    if (!delete_resource(*store_, "schedule", ws, m["schedule"])) {
      net::ServerResponse r;
      r.status = 204;
      return r;
    }
    return lro_accepted(202, create_operation("schedule:" + ws + "/" + m["schedule"]), "", true);
  });
}

}  // namespace amlops::local
