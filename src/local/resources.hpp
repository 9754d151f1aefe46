// Records of the workspace resources that are not assets or jobs (computes, user datastores,
// schedules): one row each in the store's `resources` table, the ARM body as served plus
// secrets that are never served.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "local/store.hpp"

namespace amlops::local {

struct ResourceRecord {
  std::string name;
  std::string body;     // the ARM resource as GET answers it
  std::string secrets;  // JSON, never served by GET (datastore credentials)
  int64_t created = 0;
  int64_t modified = 0;
  int64_t ready_at = 0;              // when its long-running operation ends (provisioningState Succeeded)
  std::optional<int64_t> next_fire;  // schedules: the next trigger time (unix ms, scheduler clock)
};

std::optional<ResourceRecord> load_resource(Store& st, const std::string& kind, const std::string& ws,
                                            const std::string& name);
std::vector<ResourceRecord> list_resources(Store& st, const std::string& kind, const std::string& ws);
void save_resource(Store& st, const std::string& kind, const std::string& ws, const ResourceRecord& r);
// True when a record was deleted.
bool delete_resource(Store& st, const std::string& kind, const std::string& ws, const std::string& name);

// User datastores (datastores.cpp): the resource as served, and listSecrets' answer; nullopt for an unknown one.
std::optional<std::string> user_datastore_body(Store& st, const std::string& ws, const std::string& name);
std::optional<std::string> user_datastore_secrets(Store& st, const std::string& ws, const std::string& name);

}  // namespace amlops::local
