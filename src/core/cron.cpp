// Azure ML schedule cron expressions (see cron.hpp for the grammar and where it comes from).
#include "core/cron.hpp"

#include <algorithm>
#include <array>
#include <vector>

#include "core/strings.hpp"

namespace amlops::cron {

const char* field_name(Field f) {
  switch (f) {
    case Field::minute:
      return "minute";
    case Field::hour:
      return "hour";
    case Field::day_of_month:
      return "day-of-month";
    case Field::month:
      return "month";
    case Field::day_of_week:
      return "day-of-week";
  }
  return "?";
}

namespace {

struct FieldDef {
  Field field;
  int lo, hi;
  std::vector<std::string_view> names;  // names of lo, lo+1, ... (NCrontab's full English names)
  const char* name_hint;                // how the names are shown in an error
};

const std::array<FieldDef, 5>& fields() {
  static const std::array<FieldDef, 5> kFields = {
      FieldDef{Field::minute, 0, 59, {}, ""}, FieldDef{Field::hour, 0, 23, {}, ""},
      FieldDef{Field::day_of_month, 1, 31, {}, ""},
      FieldDef{Field::month,
               1,
               12,
               {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                "November", "December"},
               " or month name (JAN-DEC)"},
      FieldDef{Field::day_of_week,
               0,
               6,
               {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
               " or day name (SUN-SAT)"}};
  return kFields;
}

[[noreturn]] void fail(const FieldDef& f, const std::string& what) {
  throw CronError(f.field, std::string(field_name(f.field)) + " field: " + what);
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// A value of the field: a number in range, or a name (any leading part of it, any case).
int value_of(std::string_view v, std::string_view item, const FieldDef& f) {
  if (v.empty()) fail(f, "'" + std::string(item) + "' has an empty value");
  if (v[0] >= '0' && v[0] <= '9') {
    if (!all_digits(v)) fail(f, "'" + std::string(v) + "' is not a number");
    auto n = v.size() > 9 ? std::nullopt : str::parse_int(v);
    if (!n || *n < f.lo || *n > f.hi)
      fail(f, std::string(v) + " is outside " + std::to_string(f.lo) + "-" + std::to_string(f.hi) +
                  (f.field == Field::day_of_week ? " (0 is Sunday)" : ""));
    return static_cast<int>(*n);
  }
  for (size_t k = 0; k < f.names.size(); ++k)
    if (v.size() <= f.names[k].size() && str::iequals(f.names[k].substr(0, v.size()), v))
      return f.lo + static_cast<int>(k);
  fail(f, "'" + std::string(v) + "' is not a number" + f.name_hint);
}

// One field into the set of its values (indexes lo..hi of `out`).
template <size_t N>
void parse_field(std::string_view text, const FieldDef& f, std::bitset<N>& out) {
  for (const auto& item : str::split(text, ',')) {
    if (item.empty()) fail(f, "empty list item in '" + std::string(text) + "'");
    std::string_view body = item;
    int step = 0;
    if (auto slash = item.find('/'); slash != std::string::npos && slash > 0) {
      std::string_view s = std::string_view(item).substr(slash + 1);
      auto n = all_digits(s) && s.size() <= 9 ? str::parse_int(s) : std::nullopt;
      if (!n || *n < 1) fail(f, "step '" + std::string(s) + "' in '" + item + "' is not a positive whole number");
      step = static_cast<int>(*n);
      body = body.substr(0, slash);
    }
    int a = f.lo, b = f.hi;
    if (body != "*") {
      if (auto dash = body.find('-'); dash != std::string_view::npos && dash > 0) {
        a = value_of(body.substr(0, dash), item, f);
        b = value_of(body.substr(dash + 1), item, f);
        if (a > b) fail(f, "range '" + std::string(body) + "' runs backwards");
      } else {
        a = value_of(body, item, f);
        b = step > 0 ? f.hi : a;  // "5/15": from 5 every 15
      }
    }
    for (int v = a; v <= b; v += std::max(step, 1)) out.set(static_cast<size_t>(v));
  }
}

}  // namespace

bool CronSpec::restricts_ignored_fields() const { return month_days.count() < 31 || months.count() < 12; }

CronSpec parse(std::string_view expression) {
  // NCrontab splits on spaces only (a tab is part of a field, and then not a number).
  std::vector<std::string> parts;
  for (auto& p : str::split(expression, ' '))
    if (!p.empty()) parts.push_back(p);
  if (parts.size() != 5)
    throw CronError(std::nullopt, "expected 5 fields (minute hour day-of-month month day-of-week), found " +
                                      std::to_string(parts.size()));
  const auto& f = fields();
  CronSpec s;
  parse_field(parts[0], f[0], s.minutes);
  parse_field(parts[1], f[1], s.hours);
  parse_field(parts[2], f[2], s.month_days);
  parse_field(parts[3], f[3], s.months);
  parse_field(parts[4], f[4], s.week_days);
  return s;
}

int64_t next_fire(const CronSpec& s, int64_t after) {
  auto floor_div = [](int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); };
  const int64_t t = (floor_div(after, 60) + 1) * 60;  // the next whole minute
  const int64_t first_day = floor_div(t, 86400);
  for (int64_t day = first_day; day < first_day + 8; ++day) {
    // 1970-01-01 (day 0) was a Thursday.
    auto week_day = static_cast<size_t>(((day % 7) + 7 + 4) % 7);
    if (!s.week_days[week_day]) continue;
    int from = day == first_day ? static_cast<int>((t - day * 86400) / 60) : 0;
    for (int m = from; m < 24 * 60; ++m)
      if (s.hours[static_cast<size_t>(m / 60)] && s.minutes[static_cast<size_t>(m % 60)]) return day * 86400 + m * 60;
  }
  return -1;  // not reached: every field holds at least one value
}

}  // namespace amlops::cron
