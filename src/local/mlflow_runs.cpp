// MLflow experiments and runs kept for jobs (the runner creates and ends them; mlflow.cpp serves them).
#include "local/app.hpp"

namespace amlops::local {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// MLflow bookkeeping

int64_t App::ensure_experiment(const std::string& ws, const std::string& name) {
  int64_t id = 0;
  store_->transaction([&] {
    if (auto r = store_->one("SELECT id FROM experiments WHERE ws=? AND name=?", {ws, name})) {
      id = r->i64(0);
      return;
    }
    store_->exec("INSERT INTO experiments(ws, name, artifact_location, created) VALUES(?, ?, '', ?)",
                 {ws, name, now_ms()});
    id = store_->one("SELECT id FROM experiments WHERE ws=? AND name=?", {ws, name})->i64(0);
    store_->exec("UPDATE experiments SET artifact_location=? WHERE id=?",
                 {"azureml://datastores/workspaceartifactstore/paths/ExperimentRun/" + std::to_string(id), id});
  });
  return id;
}

void App::create_run(const std::string& ws, const std::string& run_id, int64_t experiment_id,
                     const std::string& run_name, const std::string& status) {
  std::string artifact_uri = "file://" + (blob_path({artifact_container(ws), "ExperimentRun/dcid." + run_id})).string();
  store_->exec(
      "INSERT OR IGNORE INTO runs(ws, run_id, experiment_id, status, start_time, run_name, artifact_uri) VALUES(?, ?, "
      "?, ?, ?, ?, ?)",
      {ws, run_id, experiment_id, status, now_ms(), run_name, artifact_uri});
}

void App::set_run_status(const std::string& ws, const std::string& run_id, const std::string& status, bool ended) {
  if (ended)
    store_->exec("UPDATE runs SET status=?, end_time=? WHERE ws=? AND run_id=?", {status, now_ms(), ws, run_id});
  else
    store_->exec("UPDATE runs SET status=? WHERE ws=? AND run_id=?", {status, ws, run_id});
}

std::optional<double> App::last_metric(const std::string& ws, const std::string& run_id, const std::string& key) {
  auto r = store_->one(
      "SELECT value FROM metrics WHERE ws=? AND run_id=? AND key=? ORDER BY step DESC, timestamp DESC, seq DESC LIMIT "
      "1",
      {ws, run_id, key});
  if (!r || r->is_null(0)) return std::nullopt;
  return r->num(0);
}

}  // namespace amlops::local
