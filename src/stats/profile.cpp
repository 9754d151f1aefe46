#include "stats/profile.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <optional>
#include <thread>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/json.hpp"
#include "stats/measures.hpp"

namespace amlops::stats {
namespace {

void finish_numeric(ColumnProfile& c, std::vector<double>&& values, size_t max_values,
                    std::optional<bool> integral = {}, std::vector<uint64_t>* scratch = nullptr) {
  if (scratch)
    sort_values(values, *scratch);
  else
    sort_values(values);
  c.count = static_cast<int64_t>(values.size());
  c.integral =
      integral ? *integral : std::all_of(values.begin(), values.end(), [](double v) { return v == std::floor(v); });
  if (!values.empty()) {
    c.min = values.front();
    c.max = values.back();
    c.mean = mean(values);
    c.std_pop = stddev(values, 0);
    c.std_sample = values.size() > 1 ? stddev(values, 1) : 0.0;
  }
  if (!values.empty()) {
    c.hist_edges = azure_edges(c.min, c.max, values.size());
    c.hist_counts = histogram_sorted(values, c.hist_edges);
  }
  if (max_values > 1 && values.size() > max_values) {
    std::vector<double> s(max_values);
    const double step = static_cast<double>(values.size() - 1) / static_cast<double>(max_values - 1);
    for (size_t i = 0; i < max_values; ++i)
      s[i] = values[static_cast<size_t>(std::llround(static_cast<double>(i) * step))];
    c.sorted = std::move(s);
    c.sampled = true;
  } else {
    c.sorted = std::move(values);
  }
}

ColumnProfile profile_column(const Column& col, const std::vector<size_t>* rows, size_t max_values,
                             std::vector<double>* steal, std::vector<uint64_t>& scratch) {
  ColumnProfile c;
  c.name = col.name;
  c.type = col.type;
  const size_t n = rows ? rows->size() : col.size();
  auto row = [&](size_t i) { return rows ? (*rows)[i] : i; };
  if (col.is_numeric()) {
    std::vector<double> v;
    if (steal) {  // compact the column's own buffer: drop NaN in place
      v = std::move(*steal);
      v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return x != x; }), v.end());
    } else {
      v.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        const double x = col.values[row(i)];
        if (x == x) v.push_back(x);
      }
    }
    c.missing = static_cast<int64_t>(n - v.size());
    if (col.type == ColumnType::datetime) count_calendar(c, v);
    // The reader tracked whether every value is whole; for a subset that stays true, and a
    // subset of a fractional column is checked.
    finish_numeric(c, std::move(v), max_values,
                   col.integral || !rows ? std::optional<bool>(col.integral) : std::nullopt, &scratch);
  } else {
    std::vector<int64_t> cnt(col.categories.size(), 0);
    for (size_t i = 0; i < n; ++i) {
      const int32_t code = col.codes[row(i)];
      if (code < 0)
        ++c.missing;
      else
        ++cnt[static_cast<size_t>(code)];
    }
    for (size_t k = 0; k < cnt.size(); ++k) {
      if (cnt[k] > 0) c.counts.emplace_back(col.categories[k], cnt[k]);
      c.count += cnt[k];
    }
    std::sort(c.counts.begin(), c.counts.end());
  }
  return c;
}

Profile build(const Table& t, const std::vector<size_t>* rows, const ProfileOptions& o, Table* owned = nullptr) {
  Profile p;
  p.source = t.source;
  p.rows = static_cast<int64_t>(rows ? rows->size() : t.rows);
  std::vector<size_t> cols;
  for (size_t i = 0; i < t.columns.size(); ++i) {
    const auto& name = t.columns[i].name;
    if (!o.only.empty() && std::find(o.only.begin(), o.only.end(), name) == o.only.end()) continue;
    if (std::find(o.exclude.begin(), o.exclude.end(), name) != o.exclude.end()) continue;
    cols.push_back(i);
  }
  p.columns.resize(cols.size());
  std::atomic<size_t> next{0};
  // Columns are shared out to the threads; each thread's sort scratch serves all its columns.
  auto work = [&] {
    std::vector<uint64_t> scratch;
    for (size_t k; (k = next++) < cols.size();) {
      const size_t i = cols[k];
      p.columns[k] = profile_column(t.columns[i], rows, o.max_values,
                                    owned && t.columns[i].is_numeric() ? &owned->columns[i].values : nullptr, scratch);
    }
  };
  unsigned threads = o.threads ? o.threads : std::max(1u, std::thread::hardware_concurrency());
  threads = std::min<unsigned>(threads, static_cast<unsigned>(std::max<size_t>(1, cols.size())));
  std::vector<std::thread> pool;
  for (unsigned k = 1; k < threads; ++k) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
  return p;
}

void add_counts(std::vector<int64_t>& into, const std::vector<int64_t>& other) {
  if (into.size() < other.size()) into.resize(other.size(), 0);
  for (size_t i = 0; i < other.size(); ++i) into[i] += other[i];
}

void write_counts(rapidjson::Writer<rapidjson::StringBuffer>& w, const char* key, const std::vector<int64_t>& v) {
  w.Key(key);
  w.StartArray();
  for (int64_t n : v) w.Int64(n);
  w.EndArray();
}

// Counts from a profile file (hour_of_day / day_of_week); false when absent or malformed.
bool read_counts(const json::Value& v, const char* pointer, size_t size, std::vector<int64_t>& out) {
  const auto* a = json::find(v, pointer);
  if (!a || !a->IsArray() || a->Size() != size) return false;
  out.clear();
  for (const auto& x : a->GetArray()) {
    if (!x.IsInt64()) return false;
    out.push_back(x.GetInt64());
  }
  return true;
}

}  // namespace

void count_calendar(ColumnProfile& c, const std::vector<double>& epoch_seconds) {
  c.hours.assign(24, 0);
  c.weekdays.assign(7, 0);
  for (double t : epoch_seconds) {
    const double day = std::floor(t / 86400.0);
    const auto hour = static_cast<int64_t>(std::floor((t - day * 86400.0) / 3600.0));
    ++c.hours[static_cast<size_t>(std::clamp<int64_t>(hour, 0, 23))];
    // 1970-01-01 was a Thursday (Monday = 0).
    const auto wd = static_cast<int64_t>(std::fmod(std::fmod(day + 3.0, 7.0) + 7.0, 7.0));
    ++c.weekdays[static_cast<size_t>(wd)];
  }
}

int64_t ColumnProfile::distinct() const {
  if (!numeric()) return static_cast<int64_t>(counts.size());
  int64_t d = 0;
  for (size_t i = 0; i < sorted.size(); ++i)
    if (i == 0 || sorted[i] != sorted[i - 1]) ++d;
  return d;
}

double ColumnProfile::quantile(double q) const {
  if (sorted.empty()) return std::nan("");
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - static_cast<double>(lo));
}

const ColumnProfile* Profile::find(std::string_view name) const {
  for (const auto& c : columns)
    if (c.name == name) return &c;
  return nullptr;
}

Profile profile_table(const Table& t, const ProfileOptions& o) { return build(t, nullptr, o); }
Profile profile_table(Table&& t, const ProfileOptions& o) { return build(t, nullptr, o, &t); }
Profile profile_rows(const Table& t, const std::vector<size_t>& rows, const ProfileOptions& o) {
  return build(t, &rows, o);
}

void merge(Profile& into, const Profile& other, const ProfileOptions& o) {
  into.rows += other.rows;
  for (const auto& oc : other.columns) {
    auto it = std::find_if(into.columns.begin(), into.columns.end(), [&](auto& c) { return c.name == oc.name; });
    if (it == into.columns.end()) {
      into.columns.push_back(oc);
      continue;
    }
    ColumnProfile& c = *it;
    if (c.numeric() != oc.numeric())
      throw ConfigError("cannot merge profiles: column '" + c.name + "' is " + std::string(type_name(c.type)) +
                        " in one and " + std::string(type_name(oc.type)) + " in the other");
    c.missing += oc.missing;
    if (c.type == ColumnType::datetime) {
      add_counts(c.hours, oc.hours);
      add_counts(c.weekdays, oc.weekdays);
    }
    if (c.numeric()) {
      std::vector<double> v;
      v.reserve(c.sorted.size() + oc.sorted.size());
      std::merge(c.sorted.begin(), c.sorted.end(), oc.sorted.begin(), oc.sorted.end(), std::back_inserter(v));
      const bool sampled = c.sampled || oc.sampled;
      const int64_t missing = c.missing, total = c.count + oc.count;
      finish_numeric(c, std::move(v), o.max_values);
      c.sampled = c.sampled || sampled;
      c.missing = missing;
      c.count = total;
    } else {
      std::map<std::string, int64_t> m(c.counts.begin(), c.counts.end());
      for (auto& [k, n] : oc.counts) m[k] += n;
      c.counts.assign(m.begin(), m.end());
      c.count += oc.count;
    }
  }
}

std::string to_json(const Profile& p) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.SetMaxDecimalPlaces(rapidjson::Writer<rapidjson::StringBuffer>::kDefaultMaxDecimalPlaces);
  w.StartObject();
  w.Key("kind");
  w.String("amlops.profile");
  w.Key("version");
  w.Int(1);
  w.Key("source");
  w.String(p.source.c_str());
  w.Key("rows");
  w.Int64(p.rows);
  w.Key("columns");
  w.StartArray();
  for (const auto& c : p.columns) {
    w.StartObject();
    w.Key("name");
    w.String(c.name.c_str(), static_cast<rapidjson::SizeType>(c.name.size()));
    w.Key("type");
    auto tn = type_name(c.type);
    w.String(tn.data(), static_cast<rapidjson::SizeType>(tn.size()));
    w.Key("count");
    w.Int64(c.count);
    w.Key("missing");
    w.Int64(c.missing);
    if (c.numeric()) {
      auto num = [&](const char* k, double v) {
        w.Key(k);
        if (std::isfinite(v))
          w.Double(v);
        else
          w.Null();
      };
      num("min", c.min);
      num("max", c.max);
      num("mean", c.mean);
      num("std", c.std_sample);
      num("std_pop", c.std_pop);
      w.Key("integral");
      w.Bool(c.integral);
      w.Key("quantiles");
      w.StartObject();
      for (double q : {0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99}) {
        std::string k = format_number(q);
        w.Key(k.c_str());
        double v = c.quantile(q);
        if (std::isfinite(v))
          w.Double(v);
        else
          w.Null();
      }
      w.EndObject();
      w.Key("histogram");
      w.StartObject();
      w.Key("edges");
      w.StartArray();
      for (double e : c.hist_edges) w.Double(e);
      w.EndArray();
      w.Key("counts");
      w.StartArray();
      for (double n : c.hist_counts) w.Int64(static_cast<int64_t>(n));
      w.EndArray();
      w.EndObject();
      if (c.type == ColumnType::datetime) {
        write_counts(w, "hour_of_day", c.hours);
        write_counts(w, "day_of_week", c.weekdays);
      }
      w.Key("sampled");
      w.Bool(c.sampled);
      w.Key("values");
      w.StartArray();
      for (double v : c.sorted) w.Double(v);
      w.EndArray();
    } else {
      w.Key("categories");
      w.StartObject();
      for (const auto& [k, n] : c.counts) {
        w.Key(k.c_str(), static_cast<rapidjson::SizeType>(k.size()));
        w.Int64(n);
      }
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize()) + "\n";
}

Profile profile_from_json(std::string_view text, const std::string& source) {
  auto doc = json::parse(text, source);
  if (json::opt_string(doc, "/kind").value_or("") != "amlops.profile")
    throw ConfigError(source + ": not an amlops profile (expected \"kind\": \"amlops.profile\")");
  Profile p;
  p.source = json::opt_string(doc, "/source").value_or(source);
  p.rows = json::get_int(doc, "/rows", source);
  const auto* cols = json::find(doc, "/columns");
  if (!cols || !cols->IsArray()) throw ConfigError(source + ": /columns: expected an array");
  for (rapidjson::SizeType i = 0; i < cols->Size(); ++i) {
    const auto& v = (*cols)[i];
    const std::string at = "/columns/" + std::to_string(i);
    ColumnProfile c;
    c.name = json::get_string(v, "/name", source + " " + at);
    auto t = parse_type(json::get_string(v, "/type", source + " " + at));
    if (!t) throw ConfigError(source + ": " + at + "/type: unknown column type");
    c.type = *t;
    c.count = json::get_int(v, "/count", source);
    c.missing = json::get_int(v, "/missing", source);
    if (c.numeric()) {
      c.min = json::opt_number(v, "/min").value_or(0);
      c.max = json::opt_number(v, "/max").value_or(0);
      c.mean = json::opt_number(v, "/mean").value_or(0);
      c.std_sample = json::opt_number(v, "/std").value_or(0);
      c.std_pop = json::opt_number(v, "/std_pop").value_or(0);
      c.integral = json::opt_bool(v, "/integral").value_or(false);
      c.sampled = json::opt_bool(v, "/sampled").value_or(false);
      if (const auto* h = json::find(v, "/histogram/edges"); h && h->IsArray())
        for (const auto& e : h->GetArray())
          if (e.IsNumber()) c.hist_edges.push_back(e.GetDouble());
      if (const auto* h = json::find(v, "/histogram/counts"); h && h->IsArray())
        for (const auto& e : h->GetArray())
          if (e.IsNumber()) c.hist_counts.push_back(e.GetDouble());
      const auto* vals = json::find(v, "/values");
      if (!vals || !vals->IsArray()) throw ConfigError(source + ": " + at + "/values: expected an array");
      c.sorted.reserve(vals->Size());
      for (const auto& x : vals->GetArray()) {
        if (!x.IsNumber()) throw ConfigError(source + ": " + at + "/values: expected numbers");
        c.sorted.push_back(x.GetDouble());
      }
      if (!std::is_sorted(c.sorted.begin(), c.sorted.end())) sort_values(c.sorted);
      if (c.type == ColumnType::datetime &&
          !(read_counts(v, "/hour_of_day", 24, c.hours) && read_counts(v, "/day_of_week", 7, c.weekdays)))
        count_calendar(c, c.sorted);  // an older profile: from the stored values
    } else {
      const auto* cats = json::find(v, "/categories");
      if (!cats || !cats->IsObject()) throw ConfigError(source + ": " + at + "/categories: expected an object");
      for (auto& m : cats->GetObject()) {
        if (!m.value.IsInt64()) throw ConfigError(source + ": " + at + "/categories: expected integer counts");
        c.counts.emplace_back(std::string(m.name.GetString(), m.name.GetStringLength()), m.value.GetInt64());
      }
      std::sort(c.counts.begin(), c.counts.end());
    }
    p.columns.push_back(std::move(c));
  }
  return p;
}

Profile load_profile(const std::filesystem::path& path) { return profile_from_json(files::read(path), path.string()); }

bool is_profile_path(const std::filesystem::path& path) {
  const auto s = path.filename().string();
  return s.size() >= 13 && s.substr(s.size() - 13) == ".profile.json";
}

}  // namespace amlops::stats
