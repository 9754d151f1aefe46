#include "stats/table.hpp"

#include <fast_float/fast_float.h>
#include <fcntl.h>
#include <rapidjson/document.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstring>
#include <exception>
#include <fstream>
#include <limits>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "core/time.hpp"

namespace amlops::stats {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using Dict = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

struct Field {
  std::string_view raw;
  bool quoted = false;
  bool escaped = false;  // contains "" pairs
};

// A located parse error: the byte offset in the text; turned into a line number at the end.
struct ParseFailure {
  size_t offset = std::numeric_limits<size_t>::max();
  std::string message;
};

// Parses one field at p into f. Returns the position of the byte after the field (a delimiter,
// a line end or `end`); nullptr with `fail` set on malformed quoting.
inline const char* parse_field(const char* p, const char* end, char delim, Field& f, const char* base,
                               ParseFailure& fail) {
  f.quoted = f.escaped = false;
  if (p < end && *p == '"') {
    const char* open = p;
    ++p;
    const char* start = p;
    while (true) {
      const auto* q = static_cast<const char*>(std::memchr(p, '"', static_cast<size_t>(end - p)));
      if (!q) {
        fail = {static_cast<size_t>(open - base), "unterminated quoted field"};
        return nullptr;
      }
      if (q + 1 < end && q[1] == '"') {
        f.escaped = true;
        p = q + 2;
        continue;
      }
      f.raw = std::string_view(start, static_cast<size_t>(q - start));
      p = q + 1;
      break;
    }
    f.quoted = true;
    if (p < end && *p != delim && *p != '\n' && *p != '\r') {
      fail = {static_cast<size_t>(p - base), "unexpected character after a closing quote"};
      return nullptr;
    }
    return p;
  }
  const char* start = p;
  while (p < end && *p != delim && *p != '\n' && *p != '\r') ++p;
  f.raw = std::string_view(start, static_cast<size_t>(p - start));
  return p;
}

// Parses one record at p. Returns the position after its line terminator.
const char* parse_record(const char* p, const char* end, char delim, std::vector<Field>& out, const char* base,
                         ParseFailure& fail) {
  out.clear();
  while (true) {
    Field f;
    p = parse_field(p, end, delim, f, base, fail);
    if (!p) return end;
    out.push_back(f);
    if (p >= end) return end;
    if (*p == delim) {
      ++p;
      continue;
    }
    if (*p == '\r') ++p;
    if (p < end && *p == '\n') ++p;
    return p;
  }
}

std::string unescape(const Field& f) {
  if (!f.escaped) return std::string(f.raw);
  std::string s;
  s.reserve(f.raw.size());
  for (size_t i = 0; i < f.raw.size(); ++i) {
    s.push_back(f.raw[i]);
    if (f.raw[i] == '"' && i + 1 < f.raw.size() && f.raw[i + 1] == '"') ++i;
  }
  return s;
}

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// v is a whole number (no libm call: this runs once per parsed value).
inline bool is_whole(double v) { return !(std::abs(v) < 4.5e15) || v == static_cast<double>(static_cast<int64_t>(v)); }

bool parse_number(std::string_view s, double& out) {
  s = trim_spaces(s);
  if (s.empty()) return false;
  const char* b = s.data();
  const char* e = b + s.size();
  if (*b == '+') ++b;
  auto r = fast_float::from_chars(b, e, out);
  return r.ec == std::errc() && r.ptr == e;
}

std::optional<bool> parse_bool(std::string_view s) {
  s = trim_spaces(s);
  if (str::iequals(s, "true")) return true;
  if (str::iequals(s, "false")) return false;
  return std::nullopt;
}

bool looks_like_date(std::string_view s) {
  s = trim_spaces(s);
  if (s.size() < 10) return false;
  for (int i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (!std::isdigit(static_cast<unsigned char>(s[static_cast<size_t>(i)]))) return false;
  return s[4] == '-' && s[7] == '-';
}

std::optional<double> parse_datetime(std::string_view s) {
  if (!looks_like_date(s)) return std::nullopt;
  try {
    auto tp = parse_iso8601(trim_spaces(s));
    return std::chrono::duration<double>(tp.time_since_epoch()).count();
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// a == b for the short strings categories and missing-value tokens usually are (inline, no library call).
inline bool same_short(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) return false;
  return true;
}

struct Na {
  std::vector<std::string> tokens;
  size_t max_len = 0;
  explicit Na(std::vector<std::string> t) : tokens(std::move(t)) {
    for (const auto& x : tokens) max_len = std::max(max_len, x.size());
  }
  bool operator()(std::string_view s) const {
    if (s.size() > max_len) return false;
    for (const auto& t : tokens)
      if (same_short(s, t)) return true;
    return false;
  }
};

// Per-column output of one chunk: values are written in place into the chunk's slice of the
// column's storage (sized once from the count of line ends), categories interned per chunk.
struct ColBuf {
  double* values = nullptr;  // numeric, datetime
  int32_t* codes = nullptr;  // categorical, boolean
  size_t n = 0;              // values written
  Dict dict;
  std::vector<std::string> cats;
  int64_t missing = 0;
  bool integral = true;
  size_t bad_offset = std::numeric_limits<size_t>::max();  // first value that does not fit the type

  void number(double v) { values[n++] = v; }
  void missing_number() {
    values[n++] = kNaN;
    ++missing;
  }
  void missing_code() {
    codes[n++] = -1;
    ++missing;
  }
  void bad(size_t offset) {
    if (bad_offset == std::numeric_limits<size_t>::max()) bad_offset = offset;
  }
};

void add_value(ColumnType type, ColBuf& c, const Field& f, const Na& na, size_t offset) {
  switch (type) {
    case ColumnType::numeric: {
      double v;
      if (parse_number(f.raw, v)) {
        if (!std::isfinite(v)) {
          c.missing_number();
        } else {
          if (c.integral && !is_whole(v)) c.integral = false;
          c.number(v);
        }
      } else {
        if (!na(f.raw) && !na(trim_spaces(f.raw))) c.bad(offset);
        c.missing_number();
      }
      break;
    }
    case ColumnType::datetime: {
      if (na(f.raw)) {
        c.missing_number();
      } else if (auto v = parse_datetime(f.raw)) {
        c.number(*v);
      } else {
        c.bad(offset);
        c.missing_number();
      }
      break;
    }
    case ColumnType::boolean:
    case ColumnType::categorical: {
      if (na(f.raw)) {
        c.missing_code();
        break;
      }
      std::string key;
      std::string_view k = f.raw;
      if (type == ColumnType::boolean) {
        auto b = parse_bool(f.raw);
        if (!b) {
          c.bad(offset);
          c.missing_code();
          break;
        }
        k = *b ? "true" : "false";
      } else if (f.escaped) {
        key = unescape(f);
        k = key;
      }
      // Few categories (the usual case) are found by comparing; many by hashing.
      int32_t code = -1;
      if (c.cats.size() <= 16) {
        for (size_t j = 0; j < c.cats.size() && code < 0; ++j)
          if (same_short(c.cats[j], k)) code = static_cast<int32_t>(j);
      } else if (auto it = c.dict.find(k); it != c.dict.end()) {
        code = it->second;
      }
      if (code < 0) {
        code = static_cast<int32_t>(c.cats.size());
        c.cats.emplace_back(k);
        c.dict.emplace(std::string(k), code);
      }
      c.codes[c.n++] = code;
      break;
    }
  }
}

// Sizes a column's storage for `rows` values of its type (the other vector is emptied).
void size_storage(Column& col, size_t rows) {
  if (col.is_numeric()) {
    std::vector<int32_t>().swap(col.codes);
    col.values.resize(rows);
  } else {
    std::vector<double>().swap(col.values);
    col.codes.resize(rows);
  }
}

// Points a chunk's buffer at its slice [offset, ...) of the column.
void attach(ColBuf& b, Column& col, size_t offset) {
  if (col.is_numeric())
    b.values = col.values.data() + offset;
  else
    b.codes = col.codes.data() + offset;
}

// Completes a column from its chunks' buffers, which wrote rows[k] values at offsets[k]: the
// slices are closed up when a chunk wrote fewer rows than its slice holds (blank lines, quoted
// line breaks), categories renumbered in order of first appearance, counts summed.
void finish_column(Column& col, std::vector<ColBuf*>& parts, const std::vector<size_t>& offsets,
                   const std::vector<size_t>& rows) {
  col.missing = 0;
  col.integral = true;
  col.categories.clear();
  size_t at = 0;
  Dict global;
  for (size_t k = 0; k < parts.size(); ++k) {
    auto* p = parts[k];
    col.missing += p->missing;
    if (col.is_numeric()) {
      col.integral = col.integral && p->integral;
      if (at != offsets[k])
        std::memmove(col.values.data() + at, col.values.data() + offsets[k], rows[k] * sizeof(double));
    } else {
      std::vector<int32_t> remap(p->cats.size());
      bool identity = true;
      for (size_t i = 0; i < p->cats.size(); ++i) {
        auto it = global.find(p->cats[i]);
        if (it == global.end()) {
          it = global.emplace(p->cats[i], static_cast<int32_t>(col.categories.size())).first;
          col.categories.push_back(std::move(p->cats[i]));
        }
        remap[i] = it->second;
        identity = identity && remap[i] == static_cast<int32_t>(i);
      }
      if (identity && at == offsets[k]) {
        at += rows[k];
        continue;
      }
      const int32_t* src = col.codes.data() + offsets[k];
      int32_t* dst = col.codes.data() + at;
      for (size_t r = 0; r < rows[k]; ++r) {
        const int32_t c = src[r];
        dst[r] = c < 0 || identity ? c : remap[static_cast<size_t>(c)];
      }
    }
    at += rows[k];
  }
  if (col.is_numeric())
    col.values.resize(at);
  else
    col.codes.resize(at);
}

// An upper bound on the records in [b, e): line ends ("\n", "\r\n", a lone "\r") plus one for
// a last line without one; `quote` tells whether a '"' occurs.
size_t max_records(const char* b, const char* e, bool& quote) {
  // One vectorisable pass: line feeds counted, carriage returns and quotes noticed.
  size_t n = 0;
  unsigned char cr = 0, dq = 0;
  for (const char* p = b; p < e; ++p) {
    n += *p == '\n';
    cr |= *p == '\r';
    dq |= *p == '"';
  }
  if (dq) quote = true;
  if (cr)
    for (const char* p = b; p < e; ++p)
      if (*p == '\r' && (p + 1 == e || p[1] != '\n')) ++n;
  return n + (b < e && e[-1] != '\n' && e[-1] != '\r' ? 1 : 0);
}

// The pages of a private read-only file mapping wholly inside [b, e) go back to the page cache
// (they are read again from it if touched), so that text already scanned or parsed does not
// stay in the resident memory.
// Returns the end of what was released (e rounded down to a page).
size_t release_pages(const char* base, size_t b, size_t e) {
  static const size_t page = [] {
    const long p = ::sysconf(_SC_PAGESIZE);
    return static_cast<size_t>(p > 0 ? p : 4096);
  }();
  b = (b + page - 1) / page * page;
  e = e / page * page;
  if (b < e) ::madvise(const_cast<char*>(base) + b, e - b, MADV_DONTNEED);
  return std::max(b, e);
}

constexpr size_t kReleaseStep = size_t{8} << 20;

// max_records over [b, e) of text at base, block by block, releasing each block when asked.
size_t count_records(const char* base, size_t b, size_t e, bool release, bool& quote) {
  size_t n = 0;
  for (size_t at = b; at < e; at += kReleaseStep) {
    const size_t to = std::min(e, at + kReleaseStep);
    const bool last = to == e;
    // Interior blocks end between two bytes of one line: count line ends only, then add the
    // final-line allowance once.
    n += last ? max_records(base + at, base + to, quote)
              : max_records(base + at, base + to, quote) - (base[to - 1] != '\n' && base[to - 1] != '\r' ? 1 : 0);
    if (release) release_pages(base, at, to);
  }
  return n;
}

size_t line_of(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  return 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

ColumnType infer(const std::vector<std::string_view>& sample, const Na& na) {
  bool any = false, num = true, boolean = true, dt = true;
  double v;
  for (auto s : sample) {
    if (na(s) || na(trim_spaces(s))) continue;
    any = true;
    if (num && !parse_number(s, v)) num = false;
    if (boolean && !parse_bool(s)) boolean = false;
    if (dt && !parse_datetime(s)) dt = false;
    if (!num && !boolean && !dt) return ColumnType::categorical;
  }
  if (!any || num) return ColumnType::numeric;
  if (boolean) return ColumnType::boolean;
  if (dt) return ColumnType::datetime;
  return ColumnType::categorical;
}

// Splits [begin, end) into about `n` ranges of whole records.
std::vector<std::pair<size_t, size_t>> split_chunks(std::string_view text, size_t begin, unsigned n, char delim,
                                                    bool has_quotes) {
  std::vector<std::pair<size_t, size_t>> out;
  const size_t end = text.size();
  if (n <= 1 || end - begin < (size_t{1} << 20)) {
    out.emplace_back(begin, end);
    return out;
  }
  const size_t step = (end - begin) / n;
  std::vector<size_t> cuts{begin};
  if (!has_quotes) {
    for (unsigned i = 1; i < n; ++i) {
      size_t target = std::max(begin + step * i, cuts.back());
      const auto* nl = static_cast<const char*>(std::memchr(text.data() + target, '\n', end - target));
      if (!nl) break;
      cuts.push_back(static_cast<size_t>(nl - text.data()) + 1);
    }
  } else {
    // The same quoting rule as parse_field: a '"' opens a quoted field only at the start of a
    // field; elsewhere in an unquoted field it is a literal character.
    bool in_q = false;
    size_t next = begin + step;
    for (size_t i = begin; i < end && cuts.size() < n; ++i) {
      const char ch = text[i];
      if (in_q) {
        if (ch == '"') {
          if (i + 1 < end && text[i + 1] == '"')
            ++i;
          else
            in_q = false;
        }
      } else if (ch == '"') {
        const char prev = i > begin ? text[i - 1] : '\n';
        if (prev == delim || prev == '\n' || prev == '\r') in_q = true;
      } else if (ch == '\n' && i + 1 >= next) {
        cuts.push_back(i + 1);
        next = begin + step * cuts.size();
      }
    }
  }
  cuts.push_back(end);
  for (size_t i = 0; i + 1 < cuts.size(); ++i)
    if (cuts[i] < cuts[i + 1]) out.emplace_back(cuts[i], cuts[i + 1]);
  return out;
}

}  // namespace

std::string_view type_name(ColumnType t) {
  switch (t) {
    case ColumnType::numeric:
      return "numeric";
    case ColumnType::categorical:
      return "categorical";
    case ColumnType::boolean:
      return "boolean";
    case ColumnType::datetime:
      return "datetime";
  }
  return "numeric";
}

std::optional<ColumnType> parse_type(std::string_view s) {
  if (s == "numeric" || s == "numerical" || s == "number") return ColumnType::numeric;
  if (s == "categorical" || s == "category" || s == "string") return ColumnType::categorical;
  if (s == "boolean" || s == "bool") return ColumnType::boolean;
  if (s == "datetime" || s == "timestamp") return ColumnType::datetime;
  return std::nullopt;
}

bool fits_type(std::string_view text, ColumnType t) {
  switch (t) {
    case ColumnType::numeric:
      return parse_number_text(text).has_value();
    case ColumnType::datetime:
      return parse_datetime(text).has_value();
    case ColumnType::boolean:
      return parse_bool(text).has_value();
    case ColumnType::categorical:
      break;
  }
  return true;
}

std::optional<double> parse_number_text(std::string_view text) {
  double v;
  if (parse_number(text, v) && std::isfinite(v)) return v;
  return std::nullopt;
}

std::string format_number(double v) {
  if (std::isnan(v)) return "";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string Column::text(size_t row) const {
  if (is_missing(row)) return "";
  if (type == ColumnType::datetime)
    return iso8601_utc(std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(values[row]))));
  if (is_numeric()) return format_number(values[row]);
  return categories[static_cast<size_t>(codes[row])];
}

const Column* Table::find(std::string_view name) const {
  for (const auto& c : columns)
    if (c.name == name) return &c;
  return nullptr;
}

const Column& Table::at(std::string_view name) const {
  if (const auto* c = find(name)) return *c;
  throw UsageError(source + ": no column '" + std::string(name) + "'");
}

namespace {

// Runs job(0 .. n-1), one thread per index when there are several.
template <class Job>
void run_chunks(size_t n, Job&& job) {
  if (n == 1) {
    job(size_t{0});
    return;
  }
  std::vector<std::thread> pool;
  for (size_t k = 0; k < n; ++k) pool.emplace_back(job, k);
  for (auto& th : pool) th.join();
}

// parse_csv; with release_parsed, `text` is a private read-only file mapping whose parsed pages
// may be dropped (madvise) as the parse advances.
Table parse_csv_text(std::string_view text, const std::string& source, const ReadOptions& options,
                     bool release_parsed) {
  Na na(options.na_values);
  const char* base = text.data();
  const char* end = base + text.size();
  const char* p = base;
  if (text.size() >= 3 && std::memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;  // UTF-8 BOM
  std::vector<Field> fields;
  ParseFailure fail;
  auto raise = [&](const ParseFailure& f) {
    throw ConfigError(SourceLocation{source, static_cast<int>(line_of(text, f.offset)), 0}, f.message);
  };
  if (p >= end) throw ConfigError(SourceLocation{source, 1, 0}, "empty file: expected a header row");
  p = parse_record(p, end, options.delimiter, fields, base, fail);
  if (!fail.message.empty()) raise(fail);
  Table t;
  t.source = source;
  for (const auto& f : fields) {
    Column c;
    c.name = unescape(f);
    t.columns.push_back(std::move(c));
  }
  const size_t ncols = t.columns.size();
  const size_t body = static_cast<size_t>(p - base);

  // Types: declared, else inferred from the first rows.
  std::vector<std::vector<std::string_view>> sample(ncols);
  {
    const char* q = p;
    for (size_t r = 0; r < options.infer_rows && q < end; ++r) {
      q = parse_record(q, end, options.delimiter, fields, base, fail);
      if (!fail.message.empty()) break;
      if (fields.size() != ncols) continue;  // reported by the full parse
      for (size_t i = 0; i < ncols; ++i) sample[i].push_back(fields[i].raw);
    }
    fail = {};
  }
  std::vector<bool> declared(ncols, false);
  for (size_t i = 0; i < ncols; ++i) {
    auto it = options.declared.find(t.columns[i].name);
    if (it != options.declared.end()) {
      t.columns[i].type = it->second;
      declared[i] = true;
    } else {
      t.columns[i].type = infer(sample[i], na);
    }
  }

  unsigned threads = options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  threads = std::min(threads, 16u);
  // Storage is sized once: each chunk gets a slice as long as its count of line ends, which
  // bounds its records; its thread writes values in place (no growth, no copy at the end).
  // Chunks are cut at line ends first; if the text has quotes (a quoted field may hold a line
  // end) they are cut again by the quote-aware scan and counted again.
  auto chunks = split_chunks(text, body, threads, options.delimiter, false);
  std::vector<size_t> offsets;
  for (int pass = 0; pass < 2; ++pass) {
    std::vector<size_t> cap(chunks.size());
    std::vector<char> quote(chunks.size(), 0);
    run_chunks(chunks.size(), [&](size_t k) {
      bool q = false;
      cap[k] = count_records(base, chunks[k].first, chunks[k].second, release_parsed, q);
      quote[k] = q;
    });
    offsets.assign(chunks.size() + 1, 0);
    for (size_t k = 0; k < chunks.size(); ++k) offsets[k + 1] = offsets[k] + cap[k];
    if (pass > 0 || chunks.size() == 1 || std::find(quote.begin(), quote.end(), 1) == quote.end()) break;
    chunks = split_chunks(text, body, threads, options.delimiter, true);
  }

  for (size_t attempt = 0; attempt <= ncols; ++attempt) {
    for (auto& c : t.columns) size_storage(c, offsets.back());
    std::vector<std::vector<ColBuf>> bufs(chunks.size(), std::vector<ColBuf>(ncols));
    std::vector<ParseFailure> fails(chunks.size());
    std::vector<size_t> rows(chunks.size(), 0);
    std::vector<ColumnType> types;
    for (const auto& c : t.columns) types.push_back(c.type);
    auto work = [&](size_t k) {
      const char* q = base + chunks[k].first;
      const char* e = base + chunks[k].second;
      const size_t cap = offsets[k + 1] - offsets[k];
      auto& out = bufs[k];
      for (size_t i = 0; i < ncols; ++i) attach(out[i], t.columns[i], offsets[k]);
      // Mapped text already parsed is handed back to the page cache as the chunk advances, so
      // the file does not add to the resident memory (it is read again only to locate an error).
      size_t released = chunks[k].first;
      const char delim = options.delimiter;
      Field f;
      while (q < e) {
        const char* rec = q;
        if (ncols != 1 && (*q == '\n' || *q == '\r')) {  // blank line
          if (*q == '\r') ++q;
          if (q < e && *q == '\n') ++q;
          continue;
        }
        if (rows[k] == cap) {  // cannot happen: every record but the last ends a line
          fails[k] = {static_cast<size_t>(rec - base), "more records than line ends"};
          return;
        }
        // Fields go straight into their columns; a short or long row is an error (the chunk's
        // columns are then discarded with the whole parse).
        size_t i = 0;
        while (true) {
          // A plain number is parsed where it stands, its end found by the number parser; any
          // other field (quoted, padded, a missing-value token, text) goes the general way.
          double v;
          fast_float::from_chars_result r{};
          if (i < ncols && types[i] == ColumnType::numeric && q < e && *q != '"' &&
              (r = fast_float::from_chars(q, e, v)).ec == std::errc() &&
              (r.ptr == e || *r.ptr == delim || *r.ptr == '\n' || *r.ptr == '\r')) {
            auto& c = out[i];
            if (std::isfinite(v)) {
              c.integral = c.integral && is_whole(v);
              c.number(v);
            } else {
              c.missing_number();
            }
            q = r.ptr;
          } else {
            q = parse_field(q, e, delim, f, base, fails[k]);
            if (!q) return;
            if (i < ncols) add_value(types[i], out[i], f, na, static_cast<size_t>(f.raw.data() - base));
          }
          ++i;
          if (q < e && *q == delim) {
            ++q;
            continue;
          }
          if (q < e && *q == '\r') ++q;
          if (q < e && *q == '\n') ++q;
          break;
        }
        if (i != ncols) {
          fails[k] = {static_cast<size_t>(rec - base),
                      "expected " + std::to_string(ncols) + " fields, found " + std::to_string(i)};
          return;
        }
        ++rows[k];
        if (release_parsed && static_cast<size_t>(q - base) >= released + kReleaseStep) {
          released = release_pages(base, released, static_cast<size_t>(q - base));
        }
      }
    };
    run_chunks(chunks.size(), work);
    for (const auto& f : fails)
      if (!f.message.empty()) raise(f);
    // Columns whose values do not fit the inferred type are re-read as categorical.
    bool again = false;
    for (size_t i = 0; i < ncols; ++i) {
      size_t bad = std::numeric_limits<size_t>::max();
      for (auto& b : bufs) bad = std::min(bad, b[i].bad_offset);
      if (bad == std::numeric_limits<size_t>::max()) continue;
      if (declared[i]) {
        raise({bad, "column '" + t.columns[i].name + "' is declared " + std::string(type_name(t.columns[i].type)) +
                        " but has a value that is not"});
      }
      log::debug(source, ": column '", t.columns[i].name, "' is not ", type_name(t.columns[i].type),
                 " after all; reading it as categorical");
      t.columns[i].type = ColumnType::categorical;
      again = true;
    }
    if (again) continue;
    t.rows = 0;
    for (size_t r : rows) t.rows += r;
    for (size_t i = 0; i < ncols; ++i) {
      std::vector<ColBuf*> parts;
      for (auto& b : bufs) parts.push_back(&b[i]);
      finish_column(t.columns[i], parts, offsets, rows);
    }
    break;
  }
  return t;
}

}  // namespace

Table parse_csv(std::string_view text, const std::string& source, const ReadOptions& options) {
  return parse_csv_text(text, source, options, false);
}

namespace {

// A JSON Lines value as read: absent/null, a number (kept as a double: it need not be printed
// and parsed again when its column is numeric), a string (in the chunk's arena) or a boolean.
struct JsonCell {
  enum Kind : uint8_t { none, number, text, yes, no };
  double num = 0;
  uint64_t off = 0;
  uint32_t len = 0;
  Kind kind = none;
};

// One chunk of JSON Lines (whole lines) by column: the chunk's columns in order of first
// appearance, one cell per row.
struct JsonChunk {
  std::vector<std::string> names;
  std::unordered_map<std::string, size_t, StringHash, std::equal_to<>> index;
  std::vector<std::vector<JsonCell>> cols;
  std::string arena;             // the strings' bytes
  std::vector<size_t> row_line;  // line of each row within the chunk (1-based; blank lines skipped)
  size_t rows = 0, lines = 0;
  size_t error_line = 0;  // 1-based line within the chunk of the first error (0 = none)
  std::string error;
};

void parse_json_chunk(std::string_view text, JsonChunk& out) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view ln = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++out.lines;
    if (str::trim(ln).empty()) continue;
    rapidjson::Document d;  // one per line: a reused document keeps every line's values in its pool
    // Full precision: numbers correctly rounded, as fast_float reads them from CSV.
    d.Parse<rapidjson::kParseFullPrecisionFlag>(ln.data(), ln.size());
    if (d.HasParseError() || !d.IsObject()) {
      out.error_line = out.lines;
      out.error = "expected one JSON object per line";
      return;
    }
    const size_t row = out.rows;
    for (auto& m : d.GetObject()) {
      const std::string_view key(m.name.GetString(), m.name.GetStringLength());
      auto it = out.index.find(key);
      if (it == out.index.end()) {
        it = out.index.emplace(std::string(key), out.names.size()).first;
        out.names.emplace_back(key);
        out.cols.emplace_back(row);
      }
      auto& col = out.cols[it->second];
      col.resize(row + 1);
      const auto& v = m.value;
      JsonCell& cell = col[row];
      cell = {};
      if (v.IsNull()) {
      } else if (v.IsString()) {
        cell.kind = JsonCell::text;
        cell.off = out.arena.size();
        cell.len = v.GetStringLength();
        out.arena.append(v.GetString(), v.GetStringLength());
      } else if (v.IsBool()) {
        cell.kind = v.GetBool() ? JsonCell::yes : JsonCell::no;
      } else if (v.IsNumber()) {
        cell.kind = JsonCell::number;
        cell.num = v.GetDouble();
      } else {
        out.error_line = out.lines;
        out.error = "field '" + std::string(key) + "' is not a scalar";
        return;
      }
    }
    out.row_line.push_back(out.lines);
    ++out.rows;
    for (auto& c : out.cols) c.resize(out.rows);
  }
}

}  // namespace

Table parse_jsonl(std::string_view text, const std::string& source, const ReadOptions& options) {
  Na na(options.na_values);
  unsigned threads = options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  threads = std::min(threads, 16u);
  // Lines are cut into chunks at line ends (a JSON string cannot hold a raw line break) and
  // parsed in parallel; the chunks' columns are then joined in order, so the table is the one
  // a serial parse gives: columns in order of first appearance, the first error in the file.
  const auto ranges = split_chunks(text, 0, threads, ',', false);
  std::vector<JsonChunk> chunks(ranges.size());
  run_chunks(ranges.size(), [&](size_t k) {
    parse_json_chunk(text.substr(ranges[k].first, ranges[k].second - ranges[k].first), chunks[k]);
  });
  size_t lines_before = 0;
  for (auto& ch : chunks) {
    if (!ch.error.empty())
      throw ConfigError(SourceLocation{source, static_cast<int>(lines_before + ch.error_line), 0}, ch.error);
    lines_before += ch.lines;
  }
  std::vector<std::string> names;
  std::unordered_map<std::string, size_t> index;
  std::vector<size_t> row_line;  // the file line of each row
  std::vector<size_t> first_row(chunks.size() + 1, 0);
  lines_before = 0;
  for (size_t k = 0; k < chunks.size(); ++k) {
    for (const auto& n : chunks[k].names)
      if (index.emplace(n, names.size()).second) names.push_back(n);
    for (size_t l : chunks[k].row_line) row_line.push_back(lines_before + l);
    lines_before += chunks[k].lines;
    first_row[k + 1] = first_row[k] + chunks[k].rows;
  }
  const size_t rows = first_row.back();
  Table t;
  t.source = source;
  t.rows = rows;
  t.columns.resize(names.size());
  std::vector<std::exception_ptr> errors(names.size());
  std::atomic<size_t> next{0};
  auto type_columns = [&](size_t) {
    std::string scratch;
    for (size_t i; (i = next++) < names.size();) {
      try {
        Column& c = t.columns[i];
        c.name = names[i];
        std::vector<size_t> in_chunk(chunks.size(), std::numeric_limits<size_t>::max());
        for (size_t k = 0; k < chunks.size(); ++k)
          if (auto it = chunks[k].index.find(c.name); it != chunks[k].index.end()) in_chunk[k] = it->second;
        static const JsonCell kAbsent;
        auto each = [&](auto&& fn) {  // fn(row, cell, chunk) over every row in order
          for (size_t k = 0; k < chunks.size(); ++k)
            for (size_t r = 0; r < chunks[k].rows; ++r) {
              const JsonCell& cell =
                  in_chunk[k] == std::numeric_limits<size_t>::max() ? kAbsent : chunks[k].cols[in_chunk[k]][r];
              if (!fn(first_row[k] + r, cell, chunks[k])) return;
            }
        };
        // The text of a cell as the CSV reader would see it (numbers in shortest form).
        auto text_of = [&](const JsonCell& cell, const JsonChunk& ch, std::string& buf) -> std::string_view {
          switch (cell.kind) {
            case JsonCell::number:
              buf = format_number(cell.num);
              return buf;
            case JsonCell::text:
              return std::string_view(ch.arena).substr(cell.off, cell.len);
            case JsonCell::yes:
              return "true";
            case JsonCell::no:
              return "false";
            case JsonCell::none:
              break;
          }
          return {};
        };
        auto it = options.declared.find(c.name);
        std::vector<std::string> sample_text;
        std::vector<std::string_view> sample;
        each([&](size_t, const JsonCell& cell, const JsonChunk& ch) {
          if (cell.kind != JsonCell::none) {
            std::string buf;
            auto v = text_of(cell, ch, buf);
            sample_text.emplace_back(v);
          }
          return sample_text.size() < options.infer_rows;
        });
        for (const auto& x : sample_text) sample.push_back(x);
        c.type = it != options.declared.end() ? it->second : infer(sample, na);
        for (int attempt = 0; attempt < 2; ++attempt) {
          size_storage(c, rows);
          ColBuf b;
          attach(b, c, 0);
          each([&](size_t r, const JsonCell& cell, const JsonChunk& ch) {
            if (cell.kind == JsonCell::number && c.type == ColumnType::numeric) {
              // What add_value does with the number's shortest text, without printing it.
              if (b.integral && !is_whole(cell.num)) b.integral = false;
              b.number(cell.num);
              return true;
            }
            Field f;
            f.raw = text_of(cell, ch, scratch);
            add_value(c.type, b, f, na, r);
            return true;
          });
          if (b.bad_offset != std::numeric_limits<size_t>::max()) {
            if (it != options.declared.end())
              throw ConfigError(SourceLocation{source, static_cast<int>(row_line[b.bad_offset]), 0},
                                "field '" + c.name + "' does not match its declared type");
            c.type = ColumnType::categorical;
            continue;
          }
          std::vector<ColBuf*> parts{&b};
          finish_column(c, parts, {0}, {rows});
          break;
        }
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  run_chunks(std::max<size_t>(1, std::min<size_t>(threads, names.size())), type_columns);
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  return t;
}

namespace {
// The whole file, memory-mapped read-only (no copy out of the page cache); empty files and
// anything mmap refuses (pipes) are read into a buffer instead.
class FileText {
 public:
  explicit FileText(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw ConfigError("cannot read " + path.string() + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
      size_ = static_cast<size_t>(st.st_size);
      void* m = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (m != MAP_FAILED) {
        map_ = static_cast<const char*>(m);
        ::madvise(m, size_, MADV_SEQUENTIAL);
        ::close(fd);
        return;
      }
    }
    ::close(fd);
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError("cannot read " + path.string() + ": " + std::strerror(errno));
    std::ostringstream ss;
    ss << in.rdbuf();
    buf_ = ss.str();
    size_ = buf_.size();
  }
  ~FileText() {
    if (map_) ::munmap(const_cast<char*>(map_), size_);
  }
  FileText(const FileText&) = delete;
  FileText& operator=(const FileText&) = delete;
  [[nodiscard]] std::string_view view() const { return map_ ? std::string_view(map_, size_) : std::string_view(buf_); }
  [[nodiscard]] bool mapped() const { return map_ != nullptr; }

 private:
  const char* map_ = nullptr;
  size_t size_ = 0;
  std::string buf_;
};
}  // namespace

Table read_csv(const std::filesystem::path& path, const ReadOptions& options) {
  FileText text(path);
  return parse_csv_text(text.view(), path.string(), options, text.mapped());
}

Table read_jsonl(const std::filesystem::path& path, const ReadOptions& options) {
  FileText text(path);
  return parse_jsonl(text.view(), path.string(), options);
}

Table read_table(const std::filesystem::path& path, const ReadOptions& options) {
  const auto ext = str::to_lower(path.extension().string());
  if (ext == ".jsonl" || ext == ".ndjson") return read_jsonl(path, options);
  if (ext == ".tsv" && options.delimiter == ',') {
    ReadOptions o = options;
    o.delimiter = '\t';
    return read_csv(path, o);
  }
  return read_csv(path, options);
}

}  // namespace amlops::stats
