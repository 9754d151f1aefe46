#include "local/store.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.hpp"

namespace amlops::local {

namespace {

const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS assets(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL, scope TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL,
  body TEXT NOT NULL, created INTEGER NOT NULL, modified INTEGER NOT NULL,
  UNIQUE(kind, scope, name, version));
CREATE TABLE IF NOT EXISTS jobs(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  ws TEXT NOT NULL, name TEXT NOT NULL, parent TEXT, job_type TEXT NOT NULL, status TEXT NOT NULL,
  body TEXT NOT NULL, error TEXT, created INTEGER NOT NULL, started INTEGER, ended INTEGER,
  pid INTEGER, cancel_requested INTEGER NOT NULL DEFAULT 0,
  UNIQUE(ws, name));
CREATE TABLE IF NOT EXISTS experiments(
  id INTEGER PRIMARY KEY AUTOINCREMENT, ws TEXT NOT NULL, name TEXT NOT NULL,
  artifact_location TEXT NOT NULL, lifecycle TEXT NOT NULL DEFAULT 'active',
  created INTEGER NOT NULL, tags TEXT NOT NULL DEFAULT '{}', UNIQUE(ws, name));
CREATE TABLE IF NOT EXISTS runs(
  ws TEXT NOT NULL, run_id TEXT NOT NULL, experiment_id INTEGER NOT NULL, status TEXT NOT NULL,
  start_time INTEGER, end_time INTEGER, run_name TEXT, lifecycle TEXT NOT NULL DEFAULT 'active',
  artifact_uri TEXT NOT NULL DEFAULT '', PRIMARY KEY(ws, run_id));
CREATE TABLE IF NOT EXISTS run_params(ws TEXT, run_id TEXT, key TEXT, value TEXT, PRIMARY KEY(ws, run_id, key));
CREATE TABLE IF NOT EXISTS run_tags(ws TEXT, run_id TEXT, key TEXT, value TEXT, PRIMARY KEY(ws, run_id, key));
CREATE TABLE IF NOT EXISTS metrics(
  seq INTEGER PRIMARY KEY AUTOINCREMENT, ws TEXT NOT NULL, run_id TEXT NOT NULL, key TEXT NOT NULL,
  value REAL, timestamp INTEGER NOT NULL, step INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS metrics_run ON metrics(ws, run_id, key);
CREATE TABLE IF NOT EXISTS blob_props(
  container TEXT NOT NULL, name TEXT NOT NULL, content_type TEXT, content_md5 TEXT,
  metadata TEXT NOT NULL DEFAULT '{}', PRIMARY KEY(container, name));
CREATE TABLE IF NOT EXISTS operations(
  id TEXT PRIMARY KEY, status TEXT NOT NULL, resource TEXT, created INTEGER NOT NULL,
  ready_at INTEGER NOT NULL, error TEXT);
CREATE TABLE IF NOT EXISTS resources(
  kind TEXT NOT NULL, ws TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL, secrets TEXT,
  created INTEGER NOT NULL, modified INTEGER NOT NULL, ready_at INTEGER NOT NULL DEFAULT 0, next_fire INTEGER,
  PRIMARY KEY(kind, ws, name));
)sql";

[[noreturn]] void fail(sqlite3* db, const std::string& what) {
  throw std::runtime_error("sqlite: " + what + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

}  // namespace

std::string SqlRow::str(size_t i) const {
  const auto& v = cols.at(i);
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* n = std::get_if<int64_t>(&v)) return std::to_string(*n);
  if (auto* d = std::get_if<double>(&v)) return std::to_string(*d);
  return {};
}

int64_t SqlRow::i64(size_t i) const {
  const auto& v = cols.at(i);
  if (auto* n = std::get_if<int64_t>(&v)) return *n;
  if (auto* d = std::get_if<double>(&v)) return static_cast<int64_t>(*d);
  if (auto* s = std::get_if<std::string>(&v)) return std::stoll(*s);
  return 0;
}

double SqlRow::num(size_t i) const {
  const auto& v = cols.at(i);
  if (auto* n = std::get_if<int64_t>(&v)) return static_cast<double>(*n);
  if (auto* d = std::get_if<double>(&v)) return *d;
  return 0;
}

void ensure_data_dir(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  bool created = !fs::exists(dir, ec);
  fs::create_directories(dir);
  // It holds the client secret, the account and signing keys: owner-only. An existing folder is
  // tightened only when it is a data folder already (it has the store), never any other folder.
  if (created || fs::exists(dir / "amlops-local.db", ec)) {
    fs::permissions(dir, fs::perms::owner_all, ec);
    if (ec) throw ConfigError("cannot make " + dir.string() + " owner-only: " + ec.message());
  }
}

Store::Store(const std::filesystem::path& data_dir) : dir_(data_dir) {
  ensure_data_dir(dir_);
  auto file = dir_ / "amlops-local.db";
  // Owner-only before SQLite opens it (its -wal and -shm files take the same mode).
  int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) throw ConfigError("cannot open " + file.string() + ": " + std::strerror(errno));
  ::fchmod(fd, 0600);
  ::close(fd);
  if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw ConfigError("cannot open " + file.string() + ": " + msg);
  }
  sqlite3_busy_timeout(db_, 10000);
  // WAL: a reader never blocks the writer; synchronous=NORMAL in WAL mode loses nothing on a
  // process crash (kill -9), only possibly the last commits on power loss.
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON"}) {
    char* err = nullptr;
    if (sqlite3_exec(db_, pragma, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string m = err ? err : "";
      sqlite3_free(err);
      throw ConfigError(std::string("cannot configure the database: ") + pragma + ": " + m);
    }
  }
  char* err = nullptr;
  if (sqlite3_exec(db_, kSchema, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "";
    sqlite3_free(err);
    throw ConfigError("cannot create the schema in " + file.string() + ": " + m);
  }
}

Store::~Store() {
  if (db_) sqlite3_close(db_);
}

std::vector<SqlRow> Store::run(const std::string& sql, const std::vector<SqlValue>& params, int64_t* changes) {
  std::lock_guard lock(mu_);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &st, nullptr) != SQLITE_OK)
    fail(db_, "prepare " + sql);
  struct Finalizer {
    sqlite3_stmt* s;
    ~Finalizer() { sqlite3_finalize(s); }
  } fin{st};
  for (size_t i = 0; i < params.size(); ++i) {
    int idx = static_cast<int>(i) + 1;
    const auto& p = params[i];
    int rc = SQLITE_OK;
    if (std::holds_alternative<std::monostate>(p))
      rc = sqlite3_bind_null(st, idx);
    else if (auto* n = std::get_if<int64_t>(&p))
      rc = sqlite3_bind_int64(st, idx, *n);
    else if (auto* d = std::get_if<double>(&p))
      rc = sqlite3_bind_double(st, idx, *d);
    else {
      const auto& s = std::get<std::string>(p);
      rc = sqlite3_bind_text(st, idx, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    }
    if (rc != SQLITE_OK) fail(db_, "bind");
  }
  std::vector<SqlRow> rows;
  while (true) {
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) fail(db_, "step " + sql.substr(0, 60));
    SqlRow row;
    int n = sqlite3_column_count(st);
    for (int c = 0; c < n; ++c) {
      switch (sqlite3_column_type(st, c)) {
        case SQLITE_INTEGER:
          row.cols.emplace_back(static_cast<int64_t>(sqlite3_column_int64(st, c)));
          break;
        case SQLITE_FLOAT:
          row.cols.emplace_back(sqlite3_column_double(st, c));
          break;
        case SQLITE_NULL:
          row.cols.emplace_back(std::monostate{});
          break;
        default: {
          auto* t = reinterpret_cast<const char*>(sqlite3_column_text(st, c));
          row.cols.emplace_back(std::string(t ? t : "", static_cast<size_t>(sqlite3_column_bytes(st, c))));
        }
      }
    }
    rows.push_back(std::move(row));
  }
  if (changes) *changes = sqlite3_changes64(db_);
  return rows;
}

std::vector<SqlRow> Store::query(const std::string& sql, const std::vector<SqlValue>& params) {
  return run(sql, params, nullptr);
}

std::optional<SqlRow> Store::one(const std::string& sql, const std::vector<SqlValue>& params) {
  auto rows = run(sql, params, nullptr);
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

int64_t Store::exec(const std::string& sql, const std::vector<SqlValue>& params) {
  int64_t changes = 0;
  run(sql, params, &changes);
  return changes;
}

void Store::transaction(const std::function<void()>& fn) {
  std::lock_guard lock(mu_);
  if (depth_ > 0) {
    ++depth_;
    try {
      fn();
    } catch (...) {
      --depth_;
      throw;
    }
    --depth_;
    return;
  }
  run("BEGIN IMMEDIATE", {}, nullptr);
  ++depth_;
  try {
    fn();
    --depth_;
    run("COMMIT", {}, nullptr);
  } catch (...) {
    --depth_;
    try {
      run("ROLLBACK", {}, nullptr);
    } catch (...) {
    }
    throw;
  }
}

std::optional<std::string> Store::setting(const std::string& key) {
  auto r = one("SELECT value FROM settings WHERE key=?", {key});
  if (!r) return std::nullopt;
  return r->str(0);
}

std::string Store::setting_or(const std::string& key, const std::function<std::string()>& make) {
  std::lock_guard lock(mu_);
  if (auto v = setting(key)) return *v;
  std::string v = make();
  exec("INSERT INTO settings(key, value) VALUES(?, ?)", {key, v});
  return v;
}

}  // namespace amlops::local
