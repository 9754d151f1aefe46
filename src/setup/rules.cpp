// Pure checks and comparisons of setup: cron expressions, VM sizes, the field diff.
#include <cctype>
#include <regex>
#include <set>

#include "core/strings.hpp"
#include "core/time.hpp"
#include "setup/setup.hpp"

namespace amlops::setup {

namespace {

struct Field {
  const char* name;
  int lo, hi;
  std::vector<std::string> names;  // names for lo, lo+1, ...
};

// A value of a field: a number in range or one of its names.
std::optional<int> value_of(const std::string& v, const Field& f) {
  if (auto i = str::parse_int(v)) {
    if (*i >= f.lo && *i <= f.hi) return static_cast<int>(*i);
    return std::nullopt;
  }
  for (size_t k = 0; k < f.names.size(); ++k)
    if (str::iequals(v, f.names[k])) return f.lo + static_cast<int>(k);
  return std::nullopt;
}

std::optional<std::string> field_error(const std::string& text, const Field& f) {
  const std::string range = " (" + std::to_string(f.lo) + "-" + std::to_string(f.hi) + ")";
  for (auto& item : str::split(text, ',')) {
    if (item.empty()) return std::string(f.name) + ": empty list item in '" + text + "'";
    std::string body = item;
    if (auto slash = item.find('/'); slash != std::string::npos) {
      body = item.substr(0, slash);
      auto step = str::parse_int(item.substr(slash + 1));
      if (!step || *step < 1 || *step > f.hi)
        return std::string(f.name) + ": step '" + item.substr(slash + 1) + "' is not a positive number" + range;
    }
    if (body == "*") continue;
    auto dash = body.find('-');
    if (dash != std::string::npos && dash > 0) {
      auto a = value_of(body.substr(0, dash), f), b = value_of(body.substr(dash + 1), f);
      if (!a || !b) return std::string(f.name) + ": '" + body + "' is not a range of values" + range;
      if (*a > *b) return std::string(f.name) + ": range '" + body + "' runs backwards";
      continue;
    }
    if (!value_of(body, f)) return std::string(f.name) + ": '" + body + "' is not a value" + range;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> cron_error(const std::string& expression) {
  std::vector<std::string> parts;
  for (auto& p : str::split(std::string(str::trim(expression)), ' '))
    if (!p.empty()) parts.push_back(p);
  if (parts.size() != 5)
    return "expected 5 fields (minute hour day-of-month month day-of-week), found " + std::to_string(parts.size());
  static const std::vector<Field> kFields = {
      {"minute", 0, 59, {}},
      {"hour", 0, 23, {}},
      {"day of month", 1, 31, {}},
      {"month", 1, 12, {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
      {"day of week", 0, 7, {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}}};
  for (size_t i = 0; i < 5; ++i)
    if (auto e = field_error(parts[i], kFields[i])) return e;
  return std::nullopt;
}

bool known_vm_size(const std::string& size, std::string* suggestion) {
  // Azure's naming: Standard_<family><vCPUs>[-<constrained>]<features>[_<accelerator>][_v<N>]
  // (learn.microsoft.com "Azure virtual machine sizes naming conventions"), with the families
  // AmlCompute offers.
  static const std::regex kSize(
      R"(^standard_(a|b|d|ds|dc|e|es|ec|f|fs|fx|g|gs|h|hb|hc|hx|l|ls|m|ms|nc|nd|ng|np|nv)[0-9]+(-[0-9]+)?[a-z]*(_[a-z0-9]+)*$)",
      std::regex::icase);
  static const std::regex kVersion(R"(_v([0-9]+)$)", std::regex::icase);
  std::smatch m;
  bool ok = std::regex_match(size, kSize);
  if (ok && std::regex_search(size, m, kVersion)) ok = str::parse_int(m[1].str()).value_or(99) <= 6;
  if (ok) return true;
  if (suggestion) {
    static const std::vector<std::string_view> kCommon = {
        "Standard_DS2_v2",  "Standard_DS3_v2",     "Standard_DS4_v2",          "Standard_DS5_v2",
        "Standard_DS11_v2", "Standard_DS12_v2",    "Standard_D2_v3",           "Standard_D4_v3",
        "Standard_D2s_v3",  "Standard_D4s_v3",     "Standard_D8s_v3",          "Standard_D16s_v3",
        "Standard_E4s_v3",  "Standard_E8s_v3",     "Standard_F4s_v2",          "Standard_F8s_v2",
        "Standard_NC6s_v3", "Standard_NC12s_v3",   "Standard_NC24ads_A100_v4", "Standard_ND40rs_v2",
        "Standard_NV6",     "Standard_NC4as_T4_v3"};
    *suggestion = str::closest(size, kCommon);
    if (suggestion->empty() && !str::iequals(size.substr(0, 9), "standard_"))
      *suggestion = str::closest("Standard_" + size, kCommon);
  }
  return false;
}

namespace {

bool enum_like(const std::string& key) {
  static const std::set<std::string> kKeys = {
      "vmSize",   "vmPriority", "computeType",     "datastoreType",
      "protocol", "endpoint",   "triggerType",     "frequency",
      "dataType", "osType",     "credentialsType", "secretsType",
      "type",     "timeZone",   "weekDays",        "remoteLoginPortPublicAccess"};
  return kKeys.count(key) > 0;
}

bool duration_like(const std::string& key) { return key == "nodeIdleTimeBeforeScaleDown" || key == "timeout"; }

bool empty_value(const json::Value& v) {
  return v.IsNull() || (v.IsObject() && v.MemberCount() == 0) || (v.IsArray() && v.Empty()) ||
         (v.IsString() && v.GetStringLength() == 0);
}

bool same(const std::string& key, const json::Value& d, const json::Value& a) {
  if (empty_value(d) && empty_value(a)) return true;  // [] = null = absent, as services answer
  if (d.IsNumber() && a.IsNumber()) return d.GetDouble() == a.GetDouble();
  if (d.IsString() && a.IsString()) {
    std::string ds = d.GetString(), as = a.GetString();
    if (ds == as) return true;
    if (enum_like(key)) return str::iequals(ds, as);
    if (duration_like(key)) {
      try {
        return parse_duration(ds) == parse_duration(as);
      } catch (const Error&) {
        return false;
      }
    }
    return false;
  }
  if (d.IsArray() && a.IsArray()) {
    if (d.Size() != a.Size()) return false;
    for (rapidjson::SizeType i = 0; i < d.Size(); ++i)
      if (!same(key, d[i], a[i])) return false;
    return true;
  }
  if (d.IsObject() && a.IsObject()) {
    if (d.MemberCount() != a.MemberCount()) return false;
    for (auto& m : d.GetObject()) {
      auto it = a.FindMember(m.name);
      if (it == a.MemberEnd() || !same(m.name.GetString(), m.value, it->value)) return false;
    }
    return true;
  }
  return json::dump(d) == json::dump(a);
}

// Maps (tags, properties, userAssignedIdentities) compare as a whole; others member by member.
// (A "properties" map of strings is the asset's own properties; a compute's "properties" holds settings.)
bool whole(const std::string& key, const json::Value& d) {
  if (key == "properties" && d.IsObject()) {
    for (auto& m : d.GetObject())
      if (!m.value.IsString()) return false;
    return true;
  }
  return key == "tags" || key == "userAssignedIdentities" || key == "componentSpec";
}

void diff(const std::string& path, const std::string& key, const json::Value& d, const json::Value* a,
          std::vector<std::string>& out) {
  if (d.IsObject() && !whole(key, d) && a && a->IsObject()) {
    for (auto& m : d.GetObject()) {
      std::string k = m.name.GetString();
      auto it = a->FindMember(m.name);
      diff(path.empty() ? k : path + "/" + k, k, m.value, it == a->MemberEnd() ? nullptr : &it->value, out);
    }
    return;
  }
  if (!a) {
    // Absent in the workspace: only a change when the desired value says something.
    if (!empty_value(d)) out.push_back(path);
    return;
  }
  if (!same(key, d, *a)) out.push_back(path);
}

}  // namespace

std::vector<std::string> changed_fields(const json::Value& desired, const json::Value& actual) {
  std::vector<std::string> out;
  if (!desired.IsObject()) return out;
  for (auto& m : desired.GetObject()) {
    std::string k = m.name.GetString();
    auto it = actual.IsObject() ? actual.FindMember(m.name) : actual.MemberEnd();
    const json::Value* a = actual.IsObject() && it != actual.MemberEnd() ? &it->value : nullptr;
    if (k == "properties" && m.value.IsObject() && a && a->IsObject()) {
      for (auto& p : m.value.GetObject()) {
        std::string pk = p.name.GetString();
        auto pit = a->FindMember(p.name);
        diff("properties/" + pk, pk, p.value, pit == a->MemberEnd() ? nullptr : &pit->value, out);
      }
    } else {
      diff(k, k, m.value, a, out);
    }
  }
  return out;
}

}  // namespace amlops::setup
