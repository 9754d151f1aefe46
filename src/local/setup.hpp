// The workspace's setup resources in amlops-local: computes (AmlCompute records whose
// maxNodeCount bounds the jobs running on them at once), user datastores, and schedules whose
// triggers (cron or recurrence) really fire. This header holds the pure parts, tested alone:
// compute names and recurrence triggers (cron expressions: core/cron.hpp; VM sizes: core/vm_sizes.hpp).
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace amlops::local {

// "cpu", "azureml:cpu" or ".../computes/cpu" -> "cpu"; "" stays "".
std::string compute_name(const std::string& compute_id);

// A trigger that does not parse: the message says what is wrong (answered as 400).
struct TriggerError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

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
