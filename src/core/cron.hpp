// Azure ML schedule cron expressions: the one grammar that amlops-setup checks before a request
// and amlops-local's scheduler fires on.
//
// Azure documents (learn.microsoft.com, "Schedule machine learning pipeline jobs"; the REST spec's
// CronTrigger.expression) that the expression "should follow NCronTab format": five fields separated
// by spaces, MINUTES HOURS DAYS MONTHS DAYS-OF-WEEK, each a list a,b,c of items, an item being `*`, a
// value, a range a-b, or one of those with a step /n (`5/15` = from 5 every 15). Values: minute 0-59,
// hour 0-23, day-of-month 1-31, month 1-12 or a month name, day-of-week 0-6 (0 = Sunday; 7 is out of
// range as in NCrontab) or a day name. A name is any leading part of the English name, any case
// (JAN, Jan, January; MON, Monday). Two NCrontab leniencies are refused here because their meaning
// surprises: a backwards range (NCrontab silently swaps 22-2 into 2-22) and a step of 0.
//
// Azure also documents that the DAYS and MONTHS fields "aren't supported, and are always treated as
// `*`": they must parse, but only minute, hour and day-of-week choose when a schedule fires.
#pragma once
#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace amlops::cron {

enum class Field { minute, hour, day_of_month, month, day_of_week };
const char* field_name(Field f);  // "minute", "hour", "day-of-month", "month", "day-of-week"

// An expression that does not parse. message() says which field and what is wrong, e.g.
// "hour field: 25 is outside 0-23"; field() is empty when the number of fields is wrong.
// Callers add their context (setup: file:line:col; amlops-local: the 400's property path).
class CronError : public ConfigError {
 public:
  CronError(std::optional<Field> field, const std::string& message) : ConfigError(message), field_(field) {}
  [[nodiscard]] const std::optional<Field>& field() const { return field_; }

 private:
  std::optional<Field> field_;
};

struct CronSpec {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> month_days;  // 1..31
  std::bitset<13> months;      // 1..12
  std::bitset<7> week_days;    // 0 = Sunday
  // True when the day-of-month or month field names less than every value: Azure ML ignores
  // those fields, so such an expression fires more often than it reads.
  [[nodiscard]] bool restricts_ignored_fields() const;
};

CronSpec parse(std::string_view expression);  // throws CronError

// The first fire time (unix seconds, UTC) strictly after `after`, as Azure ML fires: at the
// matching minutes and hours of the matching week days (day-of-month and month ignored). There is
// always one within 8 days.
int64_t next_fire(const CronSpec& spec, int64_t after);

}  // namespace amlops::cron
