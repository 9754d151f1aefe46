// core/cron: the Azure ML schedule cron grammar (NCrontab's, as Azure documents it) and the next
// fire time as Azure fires (day-of-month and month parsed but ignored).
#include <boost/test/unit_test.hpp>
#include <initializer_list>

#include "core/cron.hpp"
#include "core/time.hpp"

using namespace amlops;

namespace {

int64_t at(const std::string& iso) { return unix_seconds(parse_iso8601(iso)); }
std::string iso(int64_t secs) { return iso8601_utc(std::chrono::system_clock::time_point(std::chrono::seconds(secs))); }

std::string error_of(const std::string& expr) {
  try {
    (void)cron::parse(expr);
  } catch (const cron::CronError& e) {
    return e.message();
  }
  return "parsed";
}

template <size_t N>
bool holds_exactly(const std::bitset<N>& set, std::initializer_list<int> values) {
  std::bitset<N> want;
  for (int v : values) want.set(static_cast<size_t>(v));
  return set == want;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cron_expressions)

BOOST_AUTO_TEST_CASE(what_azure_accepts_parses) {
  for (const char* ok : {"0 2 * * 1", "*/15 * * * *", "0 0 1 JAN,JUL *", "30 6-18/2 * * MON-FRI", "0 6 * * 1-5",
                         "0 0 * JAN,jul *", "0 0 1,15 * *", "5-10/2 8 * * *", "0 0 29 2 *", "0 12 * * 0",
                         "59 23 31 12 6", "  0  2 * * *  ", "0 0 * * Monday", "0 0 * December Sat", "*/100 * * * *"})
    BOOST_TEST(error_of(ok) == "parsed", ok);
}

BOOST_AUTO_TEST_CASE(fields_hold_their_values) {
  auto s = cron::parse("*/15 6-18/4 1,15,31 JAN-MAR,dec MON-FRI");
  BOOST_TEST(holds_exactly(s.minutes, {0, 15, 30, 45}));
  BOOST_TEST(holds_exactly(s.hours, {6, 10, 14, 18}));
  BOOST_TEST(holds_exactly(s.month_days, {1, 15, 31}));
  BOOST_TEST(holds_exactly(s.months, {1, 2, 3, 12}));
  BOOST_TEST(holds_exactly(s.week_days, {1, 2, 3, 4, 5}));
  // A value with a step runs from the value to the field's end.
  BOOST_TEST(holds_exactly(cron::parse("5/15 * * * *").minutes, {5, 20, 35, 50}));
  BOOST_TEST(holds_exactly(cron::parse("1-10/3 * * * *").minutes, {1, 4, 7, 10}));
  // A step longer than the field keeps its first value (NCrontab does the same).
  BOOST_TEST(holds_exactly(cron::parse("*/100 * * * *").minutes, {0}));
  BOOST_TEST(cron::parse("* * * * *").minutes.all());
  BOOST_TEST(cron::parse("* * * * *").week_days.all());
  // Names: any leading part of the English name, any case (NCrontab's rule).
  for (const char* sunday : {"0", "SUN", "sun", "Sunday", "su"})
    BOOST_TEST(holds_exactly(cron::parse(std::string("0 0 * * ") + sunday).week_days, {0}), sunday);
  BOOST_TEST(holds_exactly(cron::parse("0 0 * * sat,6").week_days, {6}));
  BOOST_TEST(holds_exactly(cron::parse("0 0 * Sep-November *").months, {9, 10, 11}));
}

BOOST_AUTO_TEST_CASE(field_ranges_end_where_azure_says) {
  struct Row {
    const char* expr;
    const char* error;  // "parsed" when accepted
  };
  const Row rows[] = {
      {"0 * * * *", "parsed"},
      {"59 * * * *", "parsed"},
      {"60 * * * *", "minute field: 60 is outside 0-59"},
      {"61 * * * *", "minute field: 61 is outside 0-59"},
      {"0 23 * * *", "parsed"},
      {"0 24 * * *", "hour field: 24 is outside 0-23"},
      {"0 25 * * *", "hour field: 25 is outside 0-23"},
      {"0 0 1 * *", "parsed"},
      {"0 0 31 * *", "parsed"},
      {"0 0 0 * *", "day-of-month field: 0 is outside 1-31"},
      {"0 0 32 * *", "day-of-month field: 32 is outside 1-31"},
      {"0 0 * 1 *", "parsed"},
      {"0 0 * 12 *", "parsed"},
      {"0 0 * 0 *", "month field: 0 is outside 1-12"},
      {"0 0 * 13 *", "month field: 13 is outside 1-12"},
      {"0 0 * * 0", "parsed"},
      {"0 0 * * 6", "parsed"},
      // Azure's day-of-week is 0-6 (NCrontab's range); 7 is not a second Sunday there.
      {"0 0 * * 7", "day-of-week field: 7 is outside 0-6 (0 is Sunday)"},
      {"0 0 * * 5-7", "day-of-week field: 7 is outside 0-6 (0 is Sunday)"},
      {"99999999999 * * * *", "minute field: 99999999999 is outside 0-59"},
  };
  for (auto& r : rows) BOOST_TEST(error_of(r.expr) == r.error, r.expr);
}

BOOST_AUTO_TEST_CASE(bad_expressions_say_which_field_and_what_is_wrong) {
  struct Row {
    const char* expr;
    const char* error;
  };
  const Row rows[] = {
      {"0 2 * *", "expected 5 fields (minute hour day-of-month month day-of-week), found 4"},
      {"* * * *", "expected 5 fields (minute hour day-of-month month day-of-week), found 4"},
      {"0 0 * * * *", "expected 5 fields (minute hour day-of-month month day-of-week), found 6"},
      {"", "expected 5 fields (minute hour day-of-month month day-of-week), found 0"},
      {"not a cron at all", "minute field: 'not' is not a number"},
      {"0 0 * FOO *", "month field: 'FOO' is not a number or month name (JAN-DEC)"},
      {"0 0 * * FUNDAY", "day-of-week field: 'FUNDAY' is not a number or day name (SUN-SAT)"},
      {"0 0 * * MONDAYS", "day-of-week field: 'MONDAYS' is not a number or day name (SUN-SAT)"},
      {"0 MON * * *", "hour field: 'MON' is not a number"},
      {"1.5 * * * *", "minute field: '1.5' is not a number"},
      {"-5 * * * *", "minute field: '-5' is not a number"},
      {"*/0 * * * *", "minute field: step '0' in '*/0' is not a positive whole number"},
      {"*/-1 * * * *", "minute field: step '-1' in '*/-1' is not a positive whole number"},
      {"*/x * * * *", "minute field: step 'x' in '*/x' is not a positive whole number"},
      {"0 */ * * *", "hour field: step '' in '*/' is not a positive whole number"},
      {"/5 * * * *", "minute field: '/5' is not a number"},
      {"5-1 * * * *", "minute field: range '5-1' runs backwards"},
      {"0 5-2 * * *", "hour field: range '5-2' runs backwards"},
      {"0 0 * * FRI-MON", "day-of-week field: range 'FRI-MON' runs backwards"},
      {"5- * * * *", "minute field: '5-' has an empty value"},
      {"1,,2 * * * *", "minute field: empty list item in '1,,2'"},
      {"0 1,,2 * * *", "hour field: empty list item in '1,,2'"},
      {"0 0 * * 1,", "day-of-week field: empty list item in '1,'"},
      {"*-5 * * * *", "minute field: '*' is not a number"},
  };
  for (auto& r : rows) BOOST_TEST(error_of(r.expr) == r.error, r.expr);
}

BOOST_AUTO_TEST_CASE(the_error_is_typed_and_names_its_field) {
  try {
    (void)cron::parse("0 0 * * 9");
    BOOST_FAIL("parsed");
  } catch (const cron::CronError& e) {
    BOOST_TEST((e.field() == cron::Field::day_of_week));
    BOOST_TEST(static_cast<int>(describe_error(e).code) == 2);  // a configuration error
  }
  try {
    (void)cron::parse("0 0 *");
    BOOST_FAIL("parsed");
  } catch (const cron::CronError& e) {
    BOOST_TEST(!e.field().has_value());
  }
}

BOOST_AUTO_TEST_CASE(day_of_month_and_month_are_flagged_as_ignored) {
  BOOST_TEST(!cron::parse("0 0 * * *").restricts_ignored_fields());
  BOOST_TEST(!cron::parse("0 0 1-31 JAN-DEC MON").restricts_ignored_fields());
  BOOST_TEST(cron::parse("0 0 1 * *").restricts_ignored_fields());
  BOOST_TEST(cron::parse("0 0 * JUL *").restricts_ignored_fields());
}

BOOST_AUTO_TEST_CASE(next_fire_times) {
  struct Row {
    const char* expr;
    const char* after;
    const char* next;
  };
  const Row rows[] = {
      {"* * * * *", "2026-11-27T10:00:00Z", "2026-11-27T10:01:00Z"},  // strictly after
      {"* * * * *", "2026-11-27T10:00:30Z", "2026-11-27T10:01:00Z"},
      {"* * * * *", "1969-12-31T23:59:59Z", "1970-01-01T00:00:00Z"},
      {"0 6 * * *", "2026-11-27T10:00:00Z", "2026-11-28T06:00:00Z"},
      {"*/15 * * * *", "2026-11-27T10:07:00Z", "2026-11-27T10:15:00Z"},
      {"5-10/2 8 * * *", "2026-11-27T08:06:00Z", "2026-11-27T08:07:00Z"},
      {"0 0 * * *", "2026-11-30T12:00:00Z", "2026-12-01T00:00:00Z"},    // month end
      {"30 23 * * *", "2026-12-31T23:45:00Z", "2027-01-01T23:30:00Z"},  // year end
      {"0 22 * * *", "2026-12-31T23:00:00Z", "2027-01-01T22:00:00Z"},
      {"0 0 * * *", "2028-02-28T00:00:00Z", "2028-02-29T00:00:00Z"},  // leap day
      {"0 0 * * *", "2027-02-28T00:00:00Z", "2027-03-01T00:00:00Z"},  // none in 2027
      {"0 9 * * TUE", "2028-02-27T10:00:00Z", "2028-02-29T09:00:00Z"},
      {"30 9 * * MON-FRI", "2026-11-27T10:00:00Z", "2026-11-30T09:30:00Z"},  // Friday -> Monday
      {"0 12 * * 0", "2026-11-27T10:00:00Z", "2026-11-29T12:00:00Z"},        // Sunday as 0
      {"0 12 * * SUN", "2026-11-27T10:00:00Z", "2026-11-29T12:00:00Z"},
      {"59 23 * * SAT", "2026-11-28T23:59:00Z", "2026-12-05T23:59:00Z"},  // a week on
      {"0 0 * * 5", "2026-12-31T12:00:00Z", "2027-01-01T00:00:00Z"},      // Friday across the year
      // Day-of-month and month are ignored as Azure documents: these fire the next midnight.
      {"0 0 1 * *", "2026-11-27T10:00:00Z", "2026-11-28T00:00:00Z"},
      {"0 0 31 2 *", "2026-11-27T10:00:00Z", "2026-11-28T00:00:00Z"},
      {"0 0 * JAN,jul *", "2026-11-27T10:00:00Z", "2026-11-28T00:00:00Z"},
  };
  for (auto& r : rows)
    BOOST_TEST(iso(cron::next_fire(cron::parse(r.expr), at(r.after))) == r.next, r.expr << " after " << r.after);
}

BOOST_AUTO_TEST_SUITE_END()
