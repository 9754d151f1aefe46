// Production data as monitor input: workspace data assets (azureml:NAME:VERSION), datastore
// folders (azureml://datastores/D/paths/P) and what an online endpoint's data collector wrote
// (modelDataCollector/{endpoint}/{deployment}/{collection}/{yyyy}/{MM}/{dd}/{HH}/{instance}.jsonl
// in the workspace blob store). Blobs are streamed with parallel ranged GETs into memory; nothing
// is staged on disk unless asked (FetchOptions::stage_dir).
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "azure/workspace.hpp"
#include "stats/table.hpp"

namespace amlops::monitor {

using SysTime = std::chrono::system_clock::time_point;

// "azureml:NAME:VERSION", "azureml:NAME@latest" or an azureml://datastores/... URI (read from the
// workspace, not a file).
bool is_workspace_ref(std::string_view text);

// What an endpoint's data collector wrote in [from, to).
struct CollectedQuery {
  std::string endpoint;
  std::string deployment;                                   // empty: every deployment of the endpoint
  std::vector<std::string> collections = {"model_inputs"};  // a second one is joined by correlationid
  SysTime from, to;
  std::string datastore = "workspaceblobstore";
  std::string root = "modelDataCollector";
  std::optional<std::string> labels;  // a local file or workspace ref, joined by `labels_on`
  std::string labels_on = "correlationid";
  std::optional<std::string> time_column;  // add each record's "time" (ISO 8601) as this column
};

// `--window 24h` ending at `now`, or `--from T --to T` (ISO 8601). UsageError when both or neither
// are given, or when from >= to.
std::pair<SysTime, SysTime> parse_window(const std::string& window, const std::string& from, const std::string& to,
                                         SysTime now);

// The reference window of --reference-window SIZE --reference-offset OFFSET (Azure ML's
// reference_data.data_window lookback_window_size / lookback_window_offset on production data):
// [to - offset - size, to - offset) for the current window [from, to); `offset` defaults to the
// current window's length (the window just before it). UsageError for texts that are not positive
// durations and when the reference window overlaps the current one.
std::pair<SysTime, SysTime> reference_window(SysTime from, SysTime to, const std::string& size,
                                             const std::string& offset);

struct FetchOptions {
  unsigned parallelism = 8;           // concurrent ranged GETs
  uint64_t range_bytes = 4ULL << 20;  // bytes per GET
  std::string stage_dir;              // non-empty: also write every blob read under this folder
};

struct ReadStats {
  size_t blobs = 0;
  uint64_t bytes = 0;
  size_t records = 0;                // collector records (lines)
  size_t rows = 0;                   // rows after flattening
  size_t unmatched = 0;              // records of the joined collection / labels without a partner
  std::vector<std::string> folders;  // hour folders listed
};

// One blob to read: its name and size (from List Blobs).
struct BlobRef {
  std::string name;
  uint64_t size = 0;
};

// Reads blobs with parallel ranged GETs; `each(i, text)` runs on a worker thread once blob i is
// complete (its raw text is freed afterwards). Exceptions of workers are rethrown.
void fetch_blobs(azure::BlobContainer& c, const std::vector<BlobRef>& blobs, const FetchOptions& o,
                 const std::function<void(size_t, std::string&&)>& each);

// ---- collector records (pure; exposed for tests) ----------------------------------------------
// One row of a record, flattened: a JSON object's text ("{...}") and the value of the join key
// column (when asked and present).
struct FlatRow {
  std::string json;
  std::string key;
};
struct FlatRecord {
  std::string id;    // correlationid
  std::string time;  // as written
  std::vector<FlatRow> rows;
};
// Parses one collector blob (JSON Lines of CloudEvents-style records). `data` may be a list of
// row objects, a list of scalars (one column named `collection`), a list of lists (columns "0",
// "1", ...), a table as {"columns": [...], "data": [[...]]} or as {"col": [...]}, or one object;
// a string holding such JSON is parsed. Nested objects flatten to "a.b" columns; lists inside a
// row become their JSON text. `key_column` names the column whose value FlatRow::key keeps.
// ConfigError (source:line) for a line that is not a JSON object.
std::vector<FlatRecord> parse_collected(std::string_view text, const std::string& source, const std::string& collection,
                                        const std::string& key_column = {});
// The hour folders "{base}/{yyyy}/{MM}/{dd}/{HH}/" that [from, to) touches.
std::vector<std::string> hour_folders(const std::string& base, SysTime from, SysTime to);

// ---- reading -----------------------------------------------------------------------------------
class WorkspaceData {
 public:
  WorkspaceData(azure::Workspace& ws, FetchOptions o = {});
  // A data asset (its dataUri; by version or @latest, the most recently created version) or a
  // datastore path: one CSV/JSON Lines file, or a folder whose CSV/JSON Lines files are read as
  // one table (CSV headers must agree).
  stats::Table read_ref(const std::string& ref, const stats::ReadOptions& ro, ReadStats* st = nullptr);
  // The collected records of the query's window, flattened to one row per `data` row.
  stats::Table read_collected(const CollectedQuery& q, const stats::ReadOptions& ro, ReadStats* st = nullptr);

 private:
  azure::BlobContainer& container(const std::string& datastore);
  azure::Workspace& ws_;
  FetchOptions o_;
  std::vector<std::pair<std::string, std::unique_ptr<azure::BlobContainer>>> containers_;
};

// "endpoint churn/blue model_inputs 2026-11-27T10:00:00Z..2026-11-27T11:00:00Z" (names the data in reports).
std::string describe(const CollectedQuery& q);

}  // namespace amlops::monitor
