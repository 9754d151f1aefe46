// Compute names and recurrence triggers (see setup.hpp; cron is core/cron, VM sizes core/vm_sizes).
#include <algorithm>
#include <chrono>
#include <set>

#include "core/strings.hpp"
#include "local/setup.hpp"

namespace amlops::local {

namespace chr = std::chrono;

std::string compute_name(const std::string& compute_id) {
  std::string s = compute_id;
  if (s.rfind("azureml:", 0) == 0) s = s.substr(8);
  auto slash = s.rfind('/');
  return slash == std::string::npos ? s : s.substr(slash + 1);
}

namespace {

int64_t days_of(int64_t secs) { return secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400); }

chr::year_month_day ymd_of(int64_t day) { return chr::year_month_day(chr::sys_days(chr::days(day))); }

int weekday_of(int64_t day) { return static_cast<int>(chr::weekday(chr::sys_days(chr::days(day))).c_encoding()); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// Recurrence

Recurrence::Frequency parse_frequency(const std::string& text) {
  auto f = str::to_lower(text);
  if (f == "minute") return Recurrence::Frequency::minute;
  if (f == "hour") return Recurrence::Frequency::hour;
  if (f == "day") return Recurrence::Frequency::day;
  if (f == "week") return Recurrence::Frequency::week;
  if (f == "month") return Recurrence::Frequency::month;
  throw TriggerError("recurrence frequency '" + text + "' is not one of Minute, Hour, Day, Week, Month");
}

int week_day_number(const std::string& name) {
  static const std::vector<std::string> names = {"sunday",   "monday", "tuesday", "wednesday",
                                                 "thursday", "friday", "saturday"};
  auto n = str::to_lower(name);
  for (size_t i = 0; i < names.size(); ++i)
    if (n == names[i]) return static_cast<int>(i);
  throw TriggerError("week day '" + name + "' is not one of Monday .. Sunday");
}

int64_t next_recurrence(const Recurrence& r, int64_t after) {
  using F = Recurrence::Frequency;
  const int64_t from = std::max(after + 1, r.start);
  const int64_t interval = std::max(1, r.interval);
  auto period_start = [&](int64_t unit) -> int64_t {
    // The first start + k*unit*interval >= from.
    int64_t p = unit * interval;
    if (from <= r.start) return r.start;
    return r.start + ((from - r.start + p - 1) / p) * p;
  };
  if (r.frequency == F::minute) return period_start(60);
  if (r.frequency == F::hour && r.minutes.empty()) return period_start(3600);
  int64_t start_day = days_of(r.start);
  int start_tod = static_cast<int>(r.start - start_day * 86400);
  if (r.frequency == F::hour) {
    // Every interval-th hour from the start's hour, at the listed minutes.
    std::vector<int> mins = r.minutes;
    std::sort(mins.begin(), mins.end());
    int64_t start_hour = r.start / 3600;
    for (int64_t hour = from / 3600; hour < from / 3600 + 24 * 366 * 10; ++hour) {
      if ((hour - start_hour) % interval != 0) continue;
      for (int m : mins) {
        int64_t t = hour * 3600 + m * 60;
        if (t >= from) return t;
      }
    }
    return -1;
  }
  // Day, week, month: matching days at hours x minutes.
  std::vector<int> hours = r.hours.empty() ? std::vector<int>{start_tod / 3600} : r.hours;
  std::vector<int> mins =
      r.minutes.empty() ? std::vector<int>{r.hours.empty() ? (start_tod % 3600) / 60 : 0} : r.minutes;
  std::set<int> tods;
  for (int h : hours)
    for (int m : mins) tods.insert(h * 3600 + m * 60);
  auto start_ymd = ymd_of(start_day);
  int64_t start_month = static_cast<int>(start_ymd.year()) * 12 + static_cast<int>(unsigned(start_ymd.month())) - 1;
  int64_t week0 = start_day - weekday_of(start_day);  // the Sunday of the start's week
  for (int64_t day = days_of(from); day < days_of(from) + 366 * 10; ++day) {
    auto ymd = ymd_of(day);
    bool ok = false;
    if (r.frequency == F::day) {
      ok = (day - start_day) % interval == 0;
    } else if (r.frequency == F::week) {
      int wd = weekday_of(day);
      bool listed = r.week_days.empty() ? wd == weekday_of(start_day)
                                        : std::find(r.week_days.begin(), r.week_days.end(), wd) != r.week_days.end();
      ok = listed && ((day - week0) / 7) % interval == 0;
    } else {
      int64_t month = static_cast<int>(ymd.year()) * 12 + static_cast<int>(unsigned(ymd.month())) - 1;
      int dom = static_cast<int>(unsigned(ymd.day()));
      bool listed = r.month_days.empty()
                        ? dom == static_cast<int>(unsigned(start_ymd.day()))
                        : std::find(r.month_days.begin(), r.month_days.end(), dom) != r.month_days.end();
      ok = listed && (month - start_month) % interval == 0;
    }
    if (!ok) continue;
    for (int tod : tods) {
      int64_t t = day * 86400 + tod;
      if (t >= from) return t;
    }
  }
  return -1;
}

}  // namespace amlops::local
