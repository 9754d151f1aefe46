#include "aml/uri.hpp"

#include <filesystem>
#include <vector>

#include "core/error.hpp"
#include "core/strings.hpp"

namespace amlops::aml {

namespace {
constexpr std::string_view kScheme = "azureml://";

bool starts_with(const std::string& s, std::string_view p) { return s.compare(0, p.size(), p) == 0; }

// Drops the workspace prefix of a workspace-qualified azureml:// URI; returns what follows it.
std::string after_workspace(const std::string& rest) {
  auto parts = str::split(rest, '/');
  if (parts.size() < 6 || !str::iequals(parts[0], "subscriptions") || !str::iequals(parts[2], "resourcegroups"))
    return rest;
  size_t i = 4;
  if (str::iequals(parts[i], "providers")) i += 2;
  if (i + 1 >= parts.size() || !str::iequals(parts[i], "workspaces")) return rest;
  return str::join(std::vector<std::string>(parts.begin() + static_cast<long>(i) + 2, parts.end()), "/");
}
}  // namespace

NameVersion parse_name_version(const std::string& text) {
  std::string t = starts_with(text, "azureml:") ? text.substr(8) : text;
  auto colon = t.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == t.size() || t.find('/') != std::string::npos)
    throw UsageError("expected NAME:VERSION, got '" + text + "'");
  return {t.substr(0, colon), t.substr(colon + 1)};
}

std::optional<DatastorePath> parse_datastore_uri(const std::string& uri) {
  if (!starts_with(uri, kScheme)) return std::nullopt;
  std::string rest = after_workspace(uri.substr(kScheme.size()));
  if (!starts_with(rest, "datastores/")) return std::nullopt;
  rest = rest.substr(11);
  auto slash = rest.find('/');
  if (slash == 0 || slash == std::string::npos || rest.compare(slash, 7, "/paths/") != 0) return std::nullopt;
  std::string path = rest.substr(slash + 7);
  while (!path.empty() && path.front() == '/') path.erase(0, 1);
  return DatastorePath{rest.substr(0, slash), path};
}

std::string datastore_uri(const std::string& datastore, const std::string& path) {
  return std::string(kScheme) + "datastores/" + datastore + "/paths/" + path;
}

std::optional<JobOutputRef> parse_job_output_uri(const std::string& uri) {
  if (!starts_with(uri, "azureml://jobs/")) return std::nullopt;
  auto parts = str::split(uri.substr(15), '/');
  if (parts.size() < 3 || parts[0].empty() || parts[1] != "outputs" || parts[2].empty()) return std::nullopt;
  JobOutputRef r{parts[0], parts[2], {}};
  if (parts.size() > 3) {
    if (parts[3] != "paths") return std::nullopt;
    r.path = str::join(std::vector<std::string>(parts.begin() + 4, parts.end()), "/");
  }
  return r;
}

std::string job_output_uri(const std::string& job, const std::string& output) {
  return "azureml://jobs/" + job + "/outputs/" + output;
}

std::optional<LabelRef> parse_label_ref(const std::string& ref) {
  if (!starts_with(ref, "azureml:") || starts_with(ref, "azureml:/")) return std::nullopt;
  std::string r = ref.substr(8);
  auto at = r.find('@');
  if (at == std::string::npos || at == 0 || at + 1 == r.size()) return std::nullopt;
  return LabelRef{r.substr(0, at), r.substr(at + 1)};
}

std::optional<std::string> blob_relative_name(const std::string& prefix, const std::string& blob) {
  std::string p = prefix;
  while (!p.empty() && p.back() == '/') p.pop_back();
  std::string rel;
  if (p.empty()) {
    rel = blob;
  } else if (blob == p) {
    rel = std::filesystem::path(blob).filename().string();
  } else if (blob.size() > p.size() && blob.compare(0, p.size(), p) == 0 && blob[p.size()] == '/') {
    rel = blob.substr(p.size() + 1);
  } else {
    return std::nullopt;
  }
  while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
  if (rel.empty() || rel.back() == '/') return std::nullopt;  // folder marker blobs
  return rel;
}

}  // namespace amlops::aml
