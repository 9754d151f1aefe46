#include "monitor/sources.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <ctime>
#include <exception>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include "aml/model.hpp"
#include "aml/submit.hpp"
#include "aml/uri.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "core/time.hpp"

namespace amlops::monitor {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

std::string scalar_text(const json::Value& v) {
  if (v.IsString()) return {v.GetString(), v.GetStringLength()};
  if (v.IsNumber()) return stats::format_number(v.GetDouble());
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  return {};
}

// Writes member `name` = `v` of a flat row: objects flatten to "name.k", lists become their JSON text.
void put_member(Writer& w, const std::string& name, const json::Value& v, const std::string& key_column,
                std::string& key) {
  if (v.IsObject()) {
    for (const auto& m : v.GetObject())
      put_member(w, name + "." + std::string(m.name.GetString(), m.name.GetStringLength()), m.value, key_column, key);
    return;
  }
  w.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
  if (v.IsArray()) {
    const auto text = json::dump(v);
    w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
    return;
  }
  v.Accept(w);
  if (!key_column.empty() && name == key_column) key = scalar_text(v);
}

struct RowWriter {
  const std::string& key_column;
  std::vector<FlatRow>& out;
  rapidjson::StringBuffer sb;
  Writer w{sb};
  FlatRow row;

  void begin() {
    sb.Clear();
    w.Reset(sb);
    w.StartObject();
    row.key.clear();
  }
  void member(const std::string& name, const json::Value& v) { put_member(w, name, v, key_column, row.key); }
  void end() {
    w.EndObject();
    row.json.assign(sb.GetString(), sb.GetSize());
    out.push_back(std::move(row));
    row = {};
  }
};

std::string member_name(const json::Value& n) {
  return n.IsString() ? std::string(n.GetString(), n.GetStringLength()) : json::dump(n);
}

// The rows of one `data` payload.
void payload_rows(const json::Value& data, const std::string& collection, RowWriter& rw, int depth = 0) {
  auto one = [&](const std::string& name, const json::Value& v) {
    rw.begin();
    rw.member(name, v);
    rw.end();
  };
  if (data.IsString()) {
    rapidjson::Document inner;
    inner.Parse(data.GetString(), data.GetStringLength());
    if (depth == 0 && !inner.HasParseError() && (inner.IsArray() || inner.IsObject()))
      payload_rows(inner, collection, rw, depth + 1);
    else
      one(collection, data);
    return;
  }
  if (data.IsArray()) {
    for (const auto& e : data.GetArray()) {
      if (e.IsObject()) {
        rw.begin();
        for (const auto& m : e.GetObject()) rw.member(member_name(m.name), m.value);
        rw.end();
      } else if (e.IsArray()) {
        rw.begin();
        rapidjson::SizeType j = 0;
        for (const auto& x : e.GetArray()) rw.member(std::to_string(j++), x);
        rw.end();
      } else {
        one(collection, e);
      }
    }
    return;
  }
  if (!data.IsObject()) {
    if (!data.IsNull()) one(collection, data);
    return;
  }
  // A table: {"columns": [...], "data": [[...], ...]} (pandas orient="split").
  auto cols = data.FindMember("columns");
  auto rows = data.FindMember("data");
  if (cols != data.MemberEnd() && rows != data.MemberEnd() && cols->value.IsArray() && rows->value.IsArray()) {
    std::vector<std::string> names;
    for (const auto& c : cols->value.GetArray()) names.push_back(c.IsString() ? c.GetString() : json::dump(c));
    for (const auto& r : rows->value.GetArray()) {
      if (!r.IsArray()) continue;
      rw.begin();
      for (rapidjson::SizeType j = 0; j < r.Size() && j < names.size(); ++j) rw.member(names[j], r[j]);
      rw.end();
    }
    return;
  }
  // Column-oriented: {"col": [v, ...]} or {"col": {"0": v, ...}} (pandas orient="list"/"columns").
  bool lists = data.MemberCount() > 0, dicts = data.MemberCount() > 0;
  rapidjson::SizeType n = 0;
  for (const auto& m : data.GetObject()) {
    lists = lists && m.value.IsArray();
    dicts = dicts && m.value.IsObject() && m.value.MemberCount() > 0;
  }
  if (lists) {
    for (const auto& m : data.GetObject()) n = std::max(n, m.value.Size());
    for (rapidjson::SizeType i = 0; i < n; ++i) {
      rw.begin();
      for (const auto& m : data.GetObject())
        if (i < m.value.Size()) rw.member(member_name(m.name), m.value[i]);
      rw.end();
    }
    return;
  }
  if (dicts) {
    const auto& first = data.MemberBegin()->value;
    for (const auto& idx : first.GetObject()) {
      rw.begin();
      for (const auto& m : data.GetObject()) {
        auto it = m.value.FindMember(idx.name);
        if (it != m.value.MemberEnd()) rw.member(member_name(m.name), it->value);
      }
      rw.end();
    }
    return;
  }
  rw.begin();
  for (const auto& m : data.GetObject()) rw.member(member_name(m.name), m.value);
  rw.end();
}

// A flat row's JSON object as a CSV line (strings quoted, null empty) and its keys ("\x1f"-joined).
// False for anything but an object of scalars.
bool row_csv(const std::string& json_row, std::string& keys, std::string& line) {
  rapidjson::Document d;
  d.Parse(json_row.data(), json_row.size());
  if (d.HasParseError() || !d.IsObject()) return false;
  keys.clear();
  bool first = true;
  for (const auto& m : d.GetObject()) {
    keys.append(m.name.GetString(), m.name.GetStringLength());
    keys += '\x1f';
    if (!first) line += ',';
    first = false;
    const auto& v = m.value;
    if (v.IsNull()) continue;
    if (v.IsObject() || v.IsArray()) return false;
    if (!v.IsString()) {
      line += scalar_text(v);
      continue;
    }
    line += '"';
    for (const char* c = v.GetString(); c != v.GetString() + v.GetStringLength(); ++c) {
      if (*c == '"') line += '"';
      line += *c;
    }
    line += '"';
  }
  line += '\n';
  return true;
}

// "{a}" + "{b}" -> "{a,b}".
std::string join_objects(const std::string& a, const std::string& b) {
  if (b.size() <= 2) return a;
  if (a.size() <= 2) return b;
  std::string out;
  out.reserve(a.size() + b.size());
  out.append(a, 0, a.size() - 1);
  out += ',';
  out.append(b, 1, std::string::npos);
  return out;
}

std::string hour_path(SysTime t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d/%02d/%02d/%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour);
  return buf;
}

bool hour_aligned(SysTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count() % 3600 == 0;
}

enum class Format { csv, jsonl, other };
Format format_of(const std::string& name) {
  auto ext = str::to_lower(std::filesystem::path(name).extension().string());
  if (ext == ".csv" || ext == ".tsv" || ext == ".txt") return Format::csv;
  if (ext == ".jsonl" || ext == ".ndjson") return Format::jsonl;
  return Format::other;
}

}  // namespace

bool is_workspace_ref(std::string_view text) { return text.rfind("azureml:", 0) == 0; }

std::pair<SysTime, SysTime> parse_window(const std::string& window, const std::string& from, const std::string& to,
                                         SysTime now) {
  const bool w = !window.empty(), range = !from.empty() || !to.empty();
  if (w && range) throw UsageError("give --window or --from/--to, not both");
  if (!w && !range) throw UsageError("give --window (e.g. 24h) or --from and --to for the collected data");
  if (w) {
    auto d = parse_duration(window);
    if (d.count() <= 0) throw UsageError("--window must be positive, not '" + window + "'");
    return {now - d, now};
  }
  if (from.empty() || to.empty()) throw UsageError("--from and --to go together");
  SysTime f, t;
  try {
    f = parse_iso8601(from);
    t = parse_iso8601(to);
  } catch (const ConfigError& e) {
    throw UsageError(std::string("--from/--to: ") + e.what());
  }
  if (f >= t) throw UsageError("--from must be before --to");
  return {f, t};
}

std::pair<SysTime, SysTime> reference_window(SysTime from, SysTime to, const std::string& size,
                                             const std::string& offset) {
  auto positive = [](const std::string& flag, const std::string& text) {
    Duration d{0};
    try {
      d = parse_duration(text);
    } catch (const ConfigError& e) {
      throw UsageError(flag + ": " + e.what());
    }
    if (d.count() <= 0) throw UsageError(flag + " must be a positive duration, not '" + text + "'");
    return d;
  };
  const auto length = positive("--reference-window", size);
  const auto off =
      offset.empty() ? std::chrono::duration_cast<Duration>(to - from) : positive("--reference-offset", offset);
  const SysTime end = to - off, start = end - length;
  if (end > from)
    throw UsageError("the reference window " + iso8601_utc(start) + ".." + iso8601_utc(end) +
                     " overlaps the current window " + iso8601_utc(from) + ".." + iso8601_utc(to) +
                     ": --reference-offset must be at least the current window's length (" +
                     format_duration(std::chrono::duration_cast<Duration>(to - from)) + ")");
  return {start, end};
}

std::vector<std::string> hour_folders(const std::string& base, SysTime from, SysTime to) {
  std::vector<std::string> out;
  auto h = std::chrono::floor<std::chrono::hours>(from);
  for (; h < to; h += std::chrono::hours(1)) out.push_back(base + "/" + hour_path(h) + "/");
  return out;
}

std::string describe(const CollectedQuery& q) {
  return "endpoint " + q.endpoint + (q.deployment.empty() ? "" : "/" + q.deployment) + " " +
         str::join(q.collections, "+") + " " + iso8601_utc(q.from) + ".." + iso8601_utc(q.to);
}

void fetch_blobs(azure::BlobContainer& c, const std::vector<BlobRef>& blobs, const FetchOptions& o,
                 const std::function<void(size_t, std::string&&)>& each) {
  struct Task {
    size_t blob;
    uint64_t offset, length;
  };
  const uint64_t range = std::max<uint64_t>(o.range_bytes, 64 * 1024);
  std::vector<Task> tasks;
  for (size_t i = 0; i < blobs.size(); ++i) {
    if (blobs[i].size == 0) tasks.push_back({i, 0, 0});
    for (uint64_t off = 0; off < blobs[i].size; off += range)
      tasks.push_back({i, off, std::min(range, blobs[i].size - off)});
  }
  struct Slot {
    std::once_flag alloc;
    std::string buf;
    std::atomic<size_t> left{0};
  };
  std::unique_ptr<Slot[]> slots(new Slot[blobs.size()]);
  for (const auto& t : tasks) slots[t.blob].left.fetch_add(1);
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_mu;
  auto work = [&] {
    for (;;) {
      const size_t k = next.fetch_add(1);
      if (k >= tasks.size() || failed) return;
      const auto& t = tasks[k];
      auto& s = slots[t.blob];
      try {
        std::call_once(s.alloc, [&] { s.buf.resize(blobs[t.blob].size); });
        if (t.length) {
          auto part =
              c.get(blobs[t.blob].name, std::make_pair(t.offset, std::optional<uint64_t>(t.offset + t.length - 1)));
          if (part.size() != t.length)
            throw HttpError(0, "Get Blob " + blobs[t.blob].name + ": expected " + std::to_string(t.length) +
                                   " bytes at offset " + std::to_string(t.offset) + ", got " +
                                   std::to_string(part.size()) + " (did the blob change while it was read?)");
          std::memcpy(s.buf.data() + t.offset, part.data(), part.size());
        }
        if (s.left.fetch_sub(1) == 1) {
          if (!o.stage_dir.empty()) files::write_atomic(std::filesystem::path(o.stage_dir) / blobs[t.blob].name, s.buf);
          std::string text = std::move(s.buf);
          s.buf = std::string();
          each(t.blob, std::move(text));
        }
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mu);
        if (!error) error = std::current_exception();
        failed = true;
        return;
      }
    }
  };
  const unsigned n = std::max(1u, std::min<unsigned>(o.parallelism, static_cast<unsigned>(tasks.size())));
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < n; ++i) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);
}

std::vector<FlatRecord> parse_collected(std::string_view text, const std::string& source, const std::string& collection,
                                        const std::string& key_column) {
  std::vector<FlatRecord> out;
  size_t pos = 0, line = 0, skipped = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view ln = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line;
    if (str::trim(ln).empty()) continue;
    rapidjson::Document d;
    d.Parse(ln.data(), ln.size());
    if (d.HasParseError() || !d.IsObject())
      throw ConfigError(SourceLocation{source, static_cast<int>(line), 0},
                        "expected one collector record (a JSON object) per line");
    FlatRecord r;
    if (auto it = d.FindMember("correlationid"); it != d.MemberEnd() && it->value.IsString())
      r.id = it->value.GetString();
    if (auto it = d.FindMember("time"); it != d.MemberEnd() && it->value.IsString()) r.time = it->value.GetString();
    auto data = d.FindMember("data");
    if (data == d.MemberEnd()) continue;
    if (auto in_blob = d.FindMember("datainblob"); in_blob != d.MemberEnd() && scalar_text(in_blob->value) == "true") {
      ++skipped;  // payloads > 4 MB live in their own blob: not read
      continue;
    }
    RowWriter rw{key_column, r.rows};
    payload_rows(data->value, collection, rw);
    out.push_back(std::move(r));
  }
  if (skipped) log::warn(source, ": ", skipped, " records keep their payload in a separate blob (datainblob); skipped");
  return out;
}

// ---------------------------------------------------------------------------------------------
WorkspaceData::WorkspaceData(azure::Workspace& ws, FetchOptions o) : ws_(ws), o_(std::move(o)) {}

azure::BlobContainer& WorkspaceData::container(const std::string& datastore) {
  for (auto& [name, c] : containers_)
    if (name == datastore) return *c;
  containers_.emplace_back(datastore, std::make_unique<azure::BlobContainer>(ws_.datastore_container(datastore)));
  return *containers_.back().second;
}

stats::Table WorkspaceData::read_ref(const std::string& ref, const stats::ReadOptions& ro, ReadStats* st) {
  std::string uri = ref;
  if (!aml::parse_datastore_uri(ref)) {
    if (ref.rfind("azureml://", 0) == 0)
      throw UsageError(ref +
                       ": expected azureml://datastores/<datastore>/paths/<path>, azureml:<name>:<version> or "
                       "azureml:<name>@latest");
    std::string id, what;
    if (const auto l = aml::parse_label_ref(ref)) {
      id = aml::resolve_label(ws_, "data", l->name, l->label);  // the version's ARM id
      what = "data asset " + l->name + "@" + l->label;
    } else {
      const auto nv = aml::parse_name_version(ref);
      id = ws_.path("/data/" + nv.name + "/versions/" + nv.version);
      what = "data asset " + nv.name + ":" + nv.version;
    }
    auto asset = ws_.arm().get(id);
    // A job's named output registers with the job's output URI (azureml://jobs/J/outputs/O): the
    // job's record says where that output lives.
    uri = aml::resolve_model_uri(ws_, json::get_string(asset, "/properties/dataUri", what));
    if (!aml::parse_datastore_uri(uri))
      throw UsageError(what + " points at " + uri + ", not a datastore path (azureml://datastores/...)");
  }
  const auto dp = *aml::parse_datastore_uri(uri);
  auto& c = container(dp.datastore);
  std::vector<BlobRef> blobs;
  Format fmt = Format::other;
  for (auto& item : c.list(dp.path)) {
    if (!aml::blob_relative_name(dp.path, item.name)) continue;
    const auto f = format_of(item.name);
    if (f == Format::other) continue;  // MLTable files, markers, other formats
    if (fmt != Format::other && f != fmt) throw UsageError(ref + ": mixes CSV and JSON Lines files; point at one kind");
    fmt = f;
    blobs.push_back({item.name, item.size});
  }
  if (blobs.empty()) throw UsageError(ref + ": no CSV or JSON Lines file at " + uri);
  std::sort(blobs.begin(), blobs.end(), [](const BlobRef& a, const BlobRef& b) { return a.name < b.name; });
  std::vector<std::string> texts(blobs.size());
  fetch_blobs(c, blobs, o_, [&](size_t i, std::string&& t) { texts[i] = std::move(t); });
  std::string all;
  std::string header;
  for (size_t i = 0; i < texts.size(); ++i) {
    std::string_view t = texts[i];
    if (fmt == Format::csv) {
      const auto nl = t.find('\n');
      std::string_view h = str::trim(t.substr(0, nl));
      if (i == 0) {
        header = std::string(h);
      } else if (h != header) {
        throw ConfigError(SourceLocation{blobs[i].name, 1, 1},
                          "CSV header differs from " + blobs[0].name + "'s; the files of a folder must agree");
      } else {
        t = nl == std::string_view::npos ? std::string_view() : t.substr(nl + 1);
      }
    }
    all.append(t);
    if (!all.empty() && all.back() != '\n') all += '\n';
    std::string().swap(texts[i]);
  }
  if (st) {
    st->blobs += blobs.size();
    for (const auto& b : blobs) st->bytes += b.size;
  }
  auto ro2 = ro;
  if (fmt == Format::csv && std::filesystem::path(blobs[0].name).extension() == ".tsv") ro2.delimiter = '\t';
  auto table = fmt == Format::csv ? stats::parse_csv(all, ref, ro2) : stats::parse_jsonl(all, ref, ro2);
  if (st) st->rows += table.rows;
  return table;
}

stats::Table WorkspaceData::read_collected(const CollectedQuery& q, const stats::ReadOptions& ro, ReadStats* st) {
  if (q.endpoint.empty()) throw UsageError("--endpoint is required for collected data");
  if (q.collections.empty() || q.collections.size() > 2)
    throw UsageError("--collection takes one collection, or two joined by correlationid (model_inputs,model_outputs)");
  ReadStats local;
  ReadStats& s = st ? *st : local;
  auto& c = container(q.datastore);
  const bool filter_time = !hour_aligned(q.from) || !hour_aligned(q.to);
  std::set<std::string> hours;
  for (const auto& f : hour_folders("", q.from, q.to)) hours.insert(f.substr(1, f.size() - 2));  // "yyyy/MM/dd/HH"
  const std::string key_column = q.labels && q.labels_on != "correlationid" ? q.labels_on : std::string();

  // Blobs of one collection in the window, in time order.
  auto list_collection = [&](const std::string& collection) {
    std::vector<BlobRef> blobs;
    auto keep = [&](const azure::BlobItem& item) {
      // {root}/{endpoint}/{deployment}/{collection}/{yyyy}/{MM}/{dd}/{HH}/{instance}.jsonl
      auto parts = str::split(item.name, '/');
      const auto root_parts = str::split(q.root, '/').size();
      if (parts.size() != root_parts + 8) return;
      const size_t at = root_parts;
      if (parts[at] != q.endpoint || (!q.deployment.empty() && parts[at + 1] != q.deployment) ||
          parts[at + 2] != collection)
        return;
      if (!hours.count(parts[at + 3] + "/" + parts[at + 4] + "/" + parts[at + 5] + "/" + parts[at + 6])) return;
      blobs.push_back({item.name, item.size});
    };
    if (!q.deployment.empty()) {
      for (const auto& folder :
           hour_folders(q.root + "/" + q.endpoint + "/" + q.deployment + "/" + collection, q.from, q.to)) {
        s.folders.push_back(folder);
        for (const auto& item : c.list(folder)) keep(item);
      }
    } else {
      s.folders.push_back(q.root + "/" + q.endpoint + "/");
      for (const auto& item : c.list(q.root + "/" + q.endpoint + "/")) keep(item);
    }
    // Time folders sort as text; the deployment comes first in the name, so order by the hour part.
    std::sort(blobs.begin(), blobs.end(), [&](const BlobRef& a, const BlobRef& b) {
      const auto ha = a.name.substr(a.name.find('/' + collection + '/'));
      const auto hb = b.name.substr(b.name.find('/' + collection + '/'));
      return ha != hb ? ha < hb : a.name < b.name;
    });
    return blobs;
  };
  // A record's rows as JSON Lines (with its time as a column when asked); the rows are freed.
  auto add_time = [&](const FlatRecord& r, FlatRow& row) {
    if (!q.time_column || r.time.empty()) return;
    rapidjson::StringBuffer sb;
    Writer w(sb);
    w.StartObject();
    w.Key(q.time_column->c_str());
    w.String(r.time.c_str());
    w.EndObject();
    row.json = join_objects(row.json, std::string(sb.GetString(), sb.GetSize()));
  };
  auto append_rows = [&](std::string& text, FlatRecord& r) {
    size_t n = 0;
    for (auto& row : r.rows) {
      add_time(r, row);
      text += row.json;
      text += '\n';
      ++n;
    }
    std::vector<FlatRow>().swap(r.rows);
    return n;
  };
  // Without joins each blob's rows become text on the worker that read it (no records kept).
  const bool stream = q.collections.size() == 1 && !q.labels;
  std::vector<std::string> streamed, csv_body, csv_keys;
  std::atomic<bool> csv_ok{true};
  auto read_collection = [&](const std::string& collection, const std::string& key) {
    auto blobs = list_collection(collection);
    std::vector<std::vector<FlatRecord>> per_blob(blobs.size());
    std::vector<size_t> records(blobs.size()), rows(blobs.size());
    if (stream) {
      streamed.resize(blobs.size());
      csv_body.resize(blobs.size());
      csv_keys.resize(blobs.size());
    }
    fetch_blobs(c, blobs, o_, [&](size_t i, std::string&& text) {
      per_blob[i] = parse_collected(text, blobs[i].name, collection, key);
      std::string().swap(text);
      if (filter_time)
        std::erase_if(per_blob[i], [&](const FlatRecord& r) {
          if (r.time.empty()) return false;
          try {
            const auto t = parse_iso8601(r.time);
            return t < q.from || t >= q.to;
          } catch (const ConfigError&) {
            return false;
          }
        });
      records[i] = per_blob[i].size();
      if (!stream) return;
      // The rows as CSV too, while every row has the same keys (the CSV reader is leaner than the
      // JSON Lines one); the JSON text stays for when another blob's rows differ.
      std::string keys, row_keys;
      bool uniform = csv_ok;
      for (auto& r : per_blob[i]) {
        for (auto& row : r.rows) {
          add_time(r, row);
          if (uniform) {
            uniform = row_csv(row.json, row_keys, csv_body[i]) && (keys.empty() || row_keys == keys);
            if (keys.empty()) keys = row_keys;
          }
          streamed[i] += row.json;
          streamed[i] += '\n';
          ++rows[i];
        }
        std::vector<FlatRow>().swap(r.rows);
      }
      std::vector<FlatRecord>().swap(per_blob[i]);
      if (!uniform) {
        csv_ok = false;
        std::string().swap(csv_body[i]);
      }
      csv_keys[i] = std::move(keys);
    });
    s.blobs += blobs.size();
    for (const auto& b : blobs) s.bytes += b.size;
    for (size_t i = 0; i < blobs.size(); ++i) {
      s.records += records[i];
      s.rows += rows[i];
    }
    std::vector<FlatRecord> all;
    for (auto& v : per_blob) {
      std::move(v.begin(), v.end(), std::back_inserter(all));
      std::vector<FlatRecord>().swap(v);
    }
    return all;
  };

  auto records = read_collection(q.collections[0], key_column);
  if (q.collections.size() == 2) {
    auto outputs = read_collection(q.collections[1], {});
    std::unordered_map<std::string, FlatRecord*> by_id;
    for (auto& r : outputs)
      if (!r.id.empty()) by_id.emplace(r.id, &r);
    for (auto& r : records) {
      auto it = by_id.find(r.id);
      if (r.id.empty() || it == by_id.end() || it->second->rows.size() != r.rows.size()) {
        ++s.unmatched;
        continue;
      }
      for (size_t i = 0; i < r.rows.size(); ++i)
        r.rows[i].json = join_objects(r.rows[i].json, it->second->rows[i].json);
    }
    if (s.unmatched)
      log::warn(s.unmatched, " ", q.collections[0], " records have no ", q.collections[1],
                " record with the same correlationid and row count; their output columns are missing");
  }
  if (q.labels) {
    auto labels = is_workspace_ref(*q.labels) ? read_ref(*q.labels, ro) : stats::read_table(*q.labels, ro);
    const auto& id = labels.at(q.labels_on);
    std::unordered_map<std::string, std::string> by_key;
    rapidjson::StringBuffer sb;
    for (size_t row = 0; row < labels.rows; ++row) {
      sb.Clear();
      Writer w(sb);
      w.StartObject();
      for (const auto& col : labels.columns) {
        if (col.name == q.labels_on) continue;
        w.Key(col.name.c_str());
        if (col.is_missing(row))
          w.Null();
        else if (col.type == stats::ColumnType::numeric)
          w.Double(col.values[row]);
        else {
          const auto t = col.text(row);
          w.String(t.c_str(), static_cast<rapidjson::SizeType>(t.size()));
        }
      }
      w.EndObject();
      by_key.emplace(id.text(row), std::string(sb.GetString(), sb.GetSize()));
    }
    size_t missing = 0;
    for (auto& r : records)
      for (auto& row : r.rows) {
        auto it = by_key.find(key_column.empty() ? r.id : row.key);
        if (it == by_key.end()) {
          ++missing;
          continue;
        }
        row.json = join_objects(row.json, it->second);
      }
    if (missing) log::warn(missing, " collected rows have no label in ", *q.labels, " (joined on ", q.labels_on, ")");
    s.unmatched += missing;
  }

  std::string text;
  // Every blob's rows had the same keys: one CSV text (header from the keys).
  std::string first_keys;
  for (const auto& k : csv_keys)
    if (!k.empty()) {
      first_keys = k;
      break;
    }
  bool as_csv = stream && csv_ok && !first_keys.empty();
  for (const auto& k : csv_keys) as_csv = as_csv && (k.empty() || k == first_keys);
  if (as_csv) {
    std::vector<std::string>().swap(streamed);
    std::string csv;
    for (auto& name : str::split(first_keys.substr(0, first_keys.size() - 1), '\x1f')) {
      csv += csv.empty() ? "\"" : ",\"";
      for (char ch : name) csv += ch == '"' ? std::string("\"\"") : std::string(1, ch);
      csv += '"';
    }
    csv += '\n';
    size_t total = csv.size();
    for (const auto& b : csv_body) total += b.size();
    csv.reserve(total);
    for (auto& b : csv_body) {
      csv += b;
      std::string().swap(b);
    }
    auto o = ro;
    o.delimiter = ',';
    return stats::parse_csv(csv, describe(q), o);
  }
  std::vector<std::string>().swap(csv_body);
  if (stream) {
    size_t total = 0;
    for (const auto& t : streamed) total += t.size();
    text.reserve(total);
    for (auto& t : streamed) {
      text += t;
      std::string().swap(t);
    }
  }
  for (auto& r : records) s.rows += append_rows(text, r);
  std::vector<FlatRecord>().swap(records);
  const auto source = describe(q);
  if (text.empty()) {
    stats::Table empty;
    empty.source = source;
    return empty;
  }
  return stats::parse_jsonl(text, source, ro);
}

}  // namespace amlops::monitor
