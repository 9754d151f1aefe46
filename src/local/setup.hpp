// The workspace's setup resources in amlops-local: computes (AmlCompute records whose
// maxNodeCount bounds the jobs running on them at once), user datastores, and schedules whose
// triggers (cron or recurrence) really fire. This header holds the pure parts, tested alone:
// compute names, VM sizes, cron expressions and recurrence triggers.
#pragma once
#include <bitset>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace amlops::local {

// "cpu", "azureml:cpu" or ".../computes/cpu" -> "cpu"; "" stays "".
std::string compute_name(const std::string& compute_id);

// The Azure spelling of a VM size (matched case-insensitively), or "" when Azure has no such size.
std::string known_vm_size(const std::string& size);

// A trigger that does not parse: the message says what is wrong (answered as 400).
struct TriggerError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A 5-field cron expression (minute hour day-of-month month day-of-week): '*', numbers, ranges
// a-b, steps */n and a-b/n, lists a,b,c, month names JAN..DEC and day names SUN..SAT (0 and 7
// are Sunday). When both day fields are restricted, a day matching either fires (as Vixie cron).
struct CronSpec {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> month_days;  // 1..31
  std::bitset<13> months;      // 1..12
  std::bitset<7> week_days;    // 0 = Sunday
  bool any_month_day = true;
  bool any_week_day = true;
};
CronSpec parse_cron(const std::string& expression);  // throws TriggerError
// The first trigger time (unix seconds, UTC) strictly after `after`; -1 when there is none within 5 years.
int64_t next_cron(const CronSpec& spec, int64_t after);

// A recurrence trigger: every `interval` minutes/hours/days/weeks/months from `start`, on the
// schedule's week days / month days at its hours x minutes (defaults: the start's).
struct Recurrence {
  enum class Frequency { minute, hour, day, week, month } frequency = Frequency::day;
  int interval = 1;
  std::vector<int> hours, minutes, week_days, month_days;  // week_days: 0 = Sunday
  int64_t start = 0;                                       // unix seconds, UTC
};
Recurrence::Frequency parse_frequency(const std::string& text);  // throws TriggerError
int week_day_number(const std::string& name);                    // "Monday" -> 1; throws TriggerError
// The first trigger time strictly after `after` (and not before start); -1 when none within 10 years.
int64_t next_recurrence(const Recurrence& r, int64_t after);

}  // namespace amlops::local
