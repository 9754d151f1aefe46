// The persistent store of amlops-local: one SQLite database in WAL mode (metadata: assets, jobs,
// MLflow runs and metrics, blob properties, operations, settings) next to plain files (blobs,
// job working directories). Every statement runs under one mutex; a multi-statement change runs
// in a transaction, so a kill -9 leaves the database at the last committed change.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

struct sqlite3;

namespace amlops::local {

// A bound parameter or a column value.
using SqlValue = std::variant<std::monostate, int64_t, double, std::string>;

struct SqlRow {
  std::vector<SqlValue> cols;
  [[nodiscard]] bool is_null(size_t i) const { return std::holds_alternative<std::monostate>(cols.at(i)); }
  [[nodiscard]] std::string str(size_t i) const;  // "" for NULL
  [[nodiscard]] int64_t i64(size_t i) const;      // 0 for NULL
  [[nodiscard]] double num(size_t i) const;
};

// Creates the data folder owner-only (0700); an existing data folder (one holding the store) is
// made owner-only too.
void ensure_data_dir(const std::filesystem::path& dir);

class Store {
 public:
  // Opens (creating) DIR/amlops-local.db and the schema.
  explicit Store(const std::filesystem::path& data_dir);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Runs a statement; returns the rows (empty for writes).
  std::vector<SqlRow> query(const std::string& sql, const std::vector<SqlValue>& params = {});
  std::optional<SqlRow> one(const std::string& sql, const std::vector<SqlValue>& params = {});
  // Number of rows changed by the last write of exec.
  int64_t exec(const std::string& sql, const std::vector<SqlValue>& params = {});
  // Runs fn inside BEGIN IMMEDIATE .. COMMIT (ROLLBACK on exception). Nested calls join.
  void transaction(const std::function<void()>& fn);

  // settings table: persistent key/value (secrets, ids).
  std::optional<std::string> setting(const std::string& key);
  // Returns the existing value or stores and returns `make()`.
  std::string setting_or(const std::string& key, const std::function<std::string()>& make);

  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }

 private:
  std::vector<SqlRow> run(const std::string& sql, const std::vector<SqlValue>& params, int64_t* changes);
  std::filesystem::path dir_;
  sqlite3* db_ = nullptr;
  std::recursive_mutex mu_;
  int depth_ = 0;
};

}  // namespace amlops::local
