#include "core/time.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <thread>

#include "core/error.hpp"
#include "core/signals.hpp"
#include "core/strings.hpp"

namespace amlops {
namespace {

Duration unit_ms(std::string_view unit, std::string_view whole) {
  if (unit == "ms") return Duration(1);
  if (unit == "s" || unit.empty()) return Duration(1000);
  if (unit == "m") return Duration(60'000);
  if (unit == "h") return Duration(3'600'000);
  if (unit == "d") return Duration(86'400'000);
  throw ConfigError("invalid duration '" + std::string(whole) + "': unknown unit '" + std::string(unit) +
                    "' (use ms, s, m, h, d or ISO 8601 like PT1H30M)");
}

Duration parse_iso(std::string_view text) {
  // P[nD]T[nH][nM][n(.n)S]
  double total_ms = 0;
  bool in_time = false;
  bool any = false;
  size_t i = 1;
  while (i < text.size()) {
    if (text[i] == 'T' || text[i] == 't') {
      in_time = true;
      ++i;
      continue;
    }
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (start == i || i >= text.size()) throw ConfigError("invalid ISO 8601 duration '" + std::string(text) + "'");
    auto v = str::parse_double(text.substr(start, i - start));
    if (!v) throw ConfigError("invalid ISO 8601 duration '" + std::string(text) + "'");
    char u = static_cast<char>(std::toupper(static_cast<unsigned char>(text[i])));
    ++i;
    any = true;
    if (!in_time && u == 'D')
      total_ms += *v * 86'400'000;
    else if (!in_time && u == 'W')
      total_ms += *v * 7 * 86'400'000;
    else if (in_time && u == 'H')
      total_ms += *v * 3'600'000;
    else if (in_time && u == 'M')
      total_ms += *v * 60'000;
    else if (in_time && u == 'S')
      total_ms += *v * 1000;
    else
      throw ConfigError("invalid ISO 8601 duration '" + std::string(text) + "'");
  }
  if (!any) throw ConfigError("invalid ISO 8601 duration '" + std::string(text) + "'");
  return Duration(static_cast<int64_t>(std::llround(total_ms)));
}

}  // namespace

Duration parse_duration(std::string_view whole) {
  std::string_view text = str::trim(whole);
  if (text.empty()) throw ConfigError("invalid duration: empty");
  if (text[0] == 'P' || text[0] == 'p') return parse_iso(text);
  double total_ms = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (start == i)
      throw ConfigError("invalid duration '" + std::string(whole) + "' (examples: 90s, 15m, 2h, 1h30m, PT1H)");
    auto v = str::parse_double(text.substr(start, i - start));
    if (!v) throw ConfigError("invalid duration '" + std::string(whole) + "'");
    size_t ustart = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    total_ms += *v * static_cast<double>(unit_ms(str::to_lower(text.substr(ustart, i - ustart)), whole).count());
  }
  if (total_ms < 0) throw ConfigError("invalid duration '" + std::string(whole) + "': negative");
  return Duration(static_cast<int64_t>(std::llround(total_ms)));
}

std::string format_duration(Duration d) {
  int64_t ms = d.count();
  if (ms < 1000) return std::to_string(ms) + "ms";
  if (ms < 60'000) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms) / 1000.0);
    return buf;
  }
  int64_t s = ms / 1000;
  char buf[64];
  if (s < 3600)
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%lldh%02lldm%02llds", static_cast<long long>(s / 3600),
                  static_cast<long long>((s / 60) % 60), static_cast<long long>(s % 60));
  return buf;
}

std::string iso8601_duration(Duration d) {
  int64_t s = (d.count() + 999) / 1000;
  std::string out = "PT";
  if (s >= 3600) out += std::to_string(s / 3600) + "H";
  if ((s / 60) % 60) out += std::to_string((s / 60) % 60) + "M";
  if (s % 60 || s == 0) out += std::to_string(s % 60) + "S";
  return out;
}

void SystemClock::sleep(Duration d) {
  auto end = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < end) {
    if (signals::interrupted()) return;
    auto left = end - std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(50)));
  }
}

Clock& system_clock() {
  static SystemClock c;
  return c;
}

std::string iso8601_utc(std::chrono::system_clock::time_point t, bool millis) {
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
  std::time_t tt = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buf;
  if (millis) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - secs).count();
    char f[8];
    std::snprintf(f, sizeof f, ".%03d", static_cast<int>(ms));
    out += f;
  }
  return out + "Z";
}

std::chrono::system_clock::time_point parse_iso8601(std::string_view text) {
  std::string s(str::trim(text));
  std::tm tm{};
  int frac_ms = 0;
  const char* p = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!p) p = strptime(s.c_str(), "%Y-%m-%d %H:%M:%S", &tm);
  if (!p) {
    std::tm d{};
    const char* q = strptime(s.c_str(), "%Y-%m-%d", &d);
    if (q && *q == '\0') {
      tm = d;
      p = q;
    }
  }
  if (!p) throw ConfigError("invalid timestamp '" + s + "' (expected ISO 8601)");
  if (*p == '.') {
    ++p;
    int digits = 0;
    while (std::isdigit(static_cast<unsigned char>(*p))) {
      if (digits < 3) frac_ms = frac_ms * 10 + (*p - '0');
      ++digits;
      ++p;
    }
    for (; digits < 3; ++digits) frac_ms *= 10;
  }
  int64_t offset_s = 0;
  if (*p == 'Z' || *p == 'z')
    ++p;
  else if (*p == '+' || *p == '-') {
    int sign = *p == '-' ? -1 : 1;
    int hh = 0, mm = 0;
    if (std::sscanf(p + 1, "%2d:%2d", &hh, &mm) < 1) throw ConfigError("invalid timestamp offset in '" + s + "'");
    offset_s = sign * (hh * 3600 + mm * 60);
    p += std::string_view(p).size();
  }
  if (*p != '\0') throw ConfigError("invalid timestamp '" + s + "' (expected ISO 8601)");
  std::time_t tt = timegm(&tm);
  return std::chrono::system_clock::from_time_t(tt) - std::chrono::seconds(offset_s) +
         std::chrono::milliseconds(frac_ms);
}

std::string http_date(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  static const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
                tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::chrono::system_clock::time_point parse_http_date(std::string_view text) {
  std::string s(str::trim(text));
  std::tm tm{};
  const char* p = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!p) throw ConfigError("invalid HTTP date '" + s + "'");
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace amlops
