// Pure checks and comparisons of setup: VM sizes, the field diff (cron expressions: core/cron).
#include <cctype>
#include <regex>
#include <set>

#include "core/strings.hpp"
#include "core/time.hpp"
#include "core/vm_sizes.hpp"
#include "setup/setup.hpp"

namespace amlops::setup {

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
    const auto& sizes = amlcompute_vm_sizes();  // the sizes amlops-local serves
    *suggestion = str::closest(size, sizes);
    if (suggestion->empty() && !str::iequals(size.substr(0, 9), "standard_"))
      *suggestion = str::closest("Standard_" + size, sizes);
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
