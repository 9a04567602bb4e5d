/* Unit tests for daemon/core/calendar.c and daemon/core/offset.c: the working-day
 * calendar built from the shipped GOV.UK holiday ICS files, councils' own ICS
 * files, coverage, and offset parsing and application.
 *
 * Every expected date below was worked out by hand from the official list
 * (the config/holidays ICS files, generated from ../shared/data/bank-holidays.json)
 * and the counting convention in docs/domain.md ("Counting"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "careclock/calendar.h"
#include "careclock/holidays.h"
#include "careclock/date.h"
#include "careclock/error.h"
#include "careclock/offset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HOLIDAY_DIR CC_SOURCE_DIR "/config/holidays"

/* ---- helpers ---------------------------------------------------------- */

static cc_date_t iso(const char *s)
{
    cc_date_t d;
    assert_int_equal(cc_date_parse_iso(s, &d), 0);
    return d;
}

static void assert_date(cc_date_t d, const char *expected)
{
    char buf[CC_DATE_STRLEN];
    assert_string_equal(cc_date_format(d, buf), expected);
}

static cc_calendar_t *open_division(const char *division)
{
    cc_calendar_t *cal = NULL;
    char err[512] = "";
    int rc = cc_holidays_open(HOLIDAY_DIR, division, NULL, 0, &cal, err, sizeof err);
    if (rc != 0)
        print_error("cc_holidays_open(%s): %d %s\n", division, rc, err);
    assert_int_equal(rc, 0);
    assert_non_null(cal);
    return cal;
}

/* start + n working days must be exactly expected, with return code want_rc. */
static void assert_add_wd_rc(const cc_calendar_t *cal, const char *start, int n, const char *expected, int want_rc)
{
    cc_date_t out = 0;
    int rc = cc_calendar_add_working_days(cal, iso(start), n, &out);
    char got[CC_DATE_STRLEN];
    if (rc != want_rc || strcmp(cc_date_format(out, got), expected) != 0)
        print_error("%s %+d wd: expected %s (rc %d), got %s (rc %d)\n", start, n, expected, want_rc, got, rc);
    assert_int_equal(rc, want_rc);
    assert_date(out, expected);
}

static void assert_add_wd(const cc_calendar_t *cal, const char *start, int n, const char *expected)
{
    assert_add_wd_rc(cal, start, n, expected, 0);
}

/* start OFFSET (parsed with the sign required) must be exactly expected. */
static void assert_offset(const cc_calendar_t *cal, const char *start, const char *offset, const char *expected)
{
    cc_offset_t off;
    cc_date_t out = 0;
    assert_int_equal(cc_offset_parse(offset, 1, &off), 0);
    int rc = cc_offset_apply(cal, iso(start), off, &out);
    char got[CC_DATE_STRLEN];
    if (rc != 0 || strcmp(cc_date_format(out, got), expected) != 0)
        print_error("%s %s: expected %s, got %s (rc %d)\n", start, offset, expected, got, rc);
    assert_int_equal(rc, 0);
    assert_date(out, expected);
}

/* Calendar days from start to start + n working days (rc must be 0). */
static int span_days(const cc_calendar_t *cal, const char *start, int n)
{
    cc_date_t out;
    assert_int_equal(cc_calendar_add_working_days(cal, iso(start), n, &out), 0);
    return (int)(out - iso(start));
}

/* Write text to a fresh temporary file; returns its path in path (len bytes). */
static void write_temp(char *path, size_t len, const char *text)
{
    snprintf(path, len, "/tmp/careclock-test-calendar-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    assert_int_equal(close(fd), 0);
}

/* The England and Wales calendar, shared by most tests (queries are const). */
static int setup_ew(void **state)
{
    cc_calendar_t *cal = NULL;
    char err[512] = "";
    if (cc_holidays_open(HOLIDAY_DIR, "england-and-wales", NULL, 0, &cal, err, sizeof err) != 0) {
        print_error("cannot open england-and-wales: %s\n", err);
        return -1;
    }
    *state = cal;
    return 0;
}

static int teardown_ew(void **state)
{
    cc_calendar_free(*state);
    return 0;
}

/* ---- the documented examples ------------------------------------------ */

static void test_example_mon_2_nov_2026_plus_10wd(void **state)
{
    assert_offset(*state, "2026-11-02", "+10wd", "2026-11-16");
}

static void test_example_sat_21_nov_2026_plus_10wd(void **state)
{
    /* Not a working day: the first working day after it (Mon 23) is day 1. */
    assert_offset(*state, "2026-11-21", "+10wd", "2026-12-04");
}

static void test_example_thu_24_dec_2026_plus_10wd(void **state)
{
    /* Skips Christmas Day, Boxing Day (substitute day) and New Year's Day. */
    assert_offset(*state, "2026-12-24", "+10wd", "2027-01-12");
}

static void test_example_31_aug_2025_plus_3m(void **state)
{
    assert_offset(*state, "2025-08-31", "+3m", "2025-11-30");
}

static void test_example_30_nov_2025_plus_3m(void **state)
{
    assert_offset(*state, "2025-11-30", "+3m", "2026-02-28");
}

static void test_example_mon_7_dec_2026_minus_3wd(void **state)
{
    assert_offset(*state, "2026-12-07", "-3wd", "2026-12-02");
}

static void test_example_mon_5_jan_2026_plus_12w(void **state)
{
    assert_offset(*state, "2026-01-05", "+12w", "2026-03-30");
    assert_offset(*state, "2026-01-05", "+84d", "2026-03-30");
}

static void test_example_fri_16_sep_2022_plus_1wd(void **state)
{
    /* Mon 19 Sep 2022 was the state funeral. */
    assert_offset(*state, "2022-09-16", "+1wd", "2022-09-20");
}

/* ---- one-off bank holidays: the list is data, not a formula ---------- */

static void test_one_off_2020_05_08_ve_day(void **state)
{
    const cc_calendar_t *cal = *state;
    /* In 2020 the early May bank holiday moved from Mon 4 May to Fri 8 May. */
    assert_int_equal(cc_calendar_is_working_day(cal, iso("2020-05-04")), 1);
    assert_int_equal(cc_calendar_is_working_day(cal, iso("2020-05-08")), 0);
    assert_string_equal(cc_calendar_holiday_name(cal, iso("2020-05-08")), "Early May bank holiday (VE day)");
    assert_null(cc_calendar_holiday_name(cal, iso("2020-05-04")));
    /* Wed + 5 wd over Fri 8 May 2020 lands on Thu 14; the same Wednesday
     * span in 2019 (no holiday) lands on Wed 15 May 2019: one day later. */
    assert_add_wd(cal, "2020-05-06", 5, "2020-05-14");
    assert_add_wd(cal, "2019-05-08", 5, "2019-05-15");
    assert_int_equal(span_days(cal, "2020-05-06", 5), 8);
    assert_int_equal(span_days(cal, "2019-05-08", 5), 7);
    /* Mon 4 May 2020 counts: Fri 1 May + 1 wd is that Monday. */
    assert_add_wd(cal, "2020-05-01", 1, "2020-05-04");
}

static void test_one_off_2022_06_02_and_03_platinum_jubilee(void **state)
{
    const cc_calendar_t *cal = *state;
    /* In 2022 the spring bank holiday moved from Mon 30 May to Thu 2 June,
     * and Fri 3 June was an extra day (Platinum Jubilee). */
    assert_int_equal(cc_calendar_is_working_day(cal, iso("2022-05-30")), 1);
    assert_int_equal(cc_calendar_is_working_day(cal, iso("2022-06-02")), 0);
    assert_int_equal(cc_calendar_is_working_day(cal, iso("2022-06-03")), 0);
    assert_string_equal(cc_calendar_holiday_name(cal, iso("2022-06-02")), "Spring bank holiday");
    assert_string_equal(cc_calendar_holiday_name(cal, iso("2022-06-03")), "Platinum Jubilee bank holiday");
    /* Fri + 10 wd over the whole spring holiday: 2022 loses two days (2 and
     * 3 June), 2021 loses one (Mon 31 May 2021): one working day later. */
    assert_add_wd(cal, "2022-05-27", 10, "2022-06-14");
    assert_add_wd(cal, "2021-05-28", 10, "2021-06-14");
    assert_int_equal(span_days(cal, "2022-05-27", 10), 18);
    assert_int_equal(span_days(cal, "2021-05-28", 10), 17);
    /* A Wednesday span over just 2-3 June: two days later than June 2021. */
    assert_add_wd(cal, "2022-06-01", 5, "2022-06-10");
    assert_add_wd(cal, "2021-06-02", 5, "2021-06-09");
    assert_int_equal(span_days(cal, "2022-06-01", 5), 9);
    assert_int_equal(span_days(cal, "2021-06-02", 5), 7);
    assert_add_wd(cal, "2022-06-01", 1, "2022-06-06");
}

static void test_one_off_2022_09_19_state_funeral(void **state)
{
    const cc_calendar_t *cal = *state;
    assert_int_equal(cc_calendar_is_working_day(cal, iso("2022-09-19")), 0);
    assert_string_equal(cc_calendar_holiday_name(cal, iso("2022-09-19")),
                        "Bank Holiday for the State Funeral of Queen Elizabeth II");
    /* Fri + 1 wd: Tue in 2022, Mon the year before. */
    assert_add_wd(cal, "2022-09-16", 1, "2022-09-20");
    assert_add_wd(cal, "2021-09-17", 1, "2021-09-20");
    assert_int_equal(span_days(cal, "2022-09-16", 1), 4);
    assert_int_equal(span_days(cal, "2021-09-17", 1), 3);
    /* And a longer span: Fri + 10 wd. */
    assert_add_wd(cal, "2022-09-16", 10, "2022-10-03");
    assert_add_wd(cal, "2021-09-17", 10, "2021-10-01");
    assert_int_equal(span_days(cal, "2022-09-16", 10), 17);
    assert_int_equal(span_days(cal, "2021-09-17", 10), 14);
}

static void test_one_off_2023_05_08_coronation(void **state)
{
    const cc_calendar_t *cal = *state;
    assert_int_equal(cc_calendar_is_working_day(cal, iso("2023-05-08")), 0);
    assert_string_equal(cc_calendar_holiday_name(cal, iso("2023-05-08")),
                        "Bank holiday for the coronation of King Charles III");
    /* 2023 also had the usual early May bank holiday on Mon 1 May. */
    assert_int_equal(cc_calendar_is_working_day(cal, iso("2023-05-01")), 0);
    /* Fri 5 May 2023 + 1 wd = Tue 9 May; Fri 6 May 2022 + 1 wd = Mon 9 May. */
    assert_add_wd(cal, "2023-05-05", 1, "2023-05-09");
    assert_add_wd(cal, "2022-05-06", 1, "2022-05-09");
    assert_int_equal(span_days(cal, "2023-05-05", 1), 4);
    assert_int_equal(span_days(cal, "2022-05-06", 1), 3);
    /* Wed + 5 wd: Thu 11 May 2023 against Wed 10 May 2022. */
    assert_add_wd(cal, "2023-05-03", 5, "2023-05-11");
    assert_add_wd(cal, "2022-05-04", 5, "2022-05-11");
    assert_int_equal(span_days(cal, "2023-05-03", 5), 8);
    assert_int_equal(span_days(cal, "2022-05-04", 5), 7);
}

/* ---- substitute days ---------------------------------------------------- */

static void test_substitute_boxing_day_2026(void **state)
{
    const cc_calendar_t *cal = *state;
    assert_int_equal(cc_calendar_is_working_day(cal, iso("2026-12-28")), 0);
    assert_string_equal(cc_calendar_holiday_name(cal, iso("2026-12-28")), "Boxing Day (substitute day)");
    assert_string_equal(cc_calendar_holiday_name(cal, iso("2026-12-25")), "Christmas Day");
    /* Saturday 26 December itself is not in the list, only the substitute. */
    assert_null(cc_calendar_holiday_name(cal, iso("2026-12-26")));
    assert_int_equal(cc_calendar_is_working_day(cal, iso("2026-12-29")), 1);
    assert_add_wd(cal, "2026-12-24", 1, "2026-12-29");
}

static void test_substitute_christmas_and_boxing_2027(void **state)
{
    const cc_calendar_t *cal = *state;
    /* 25 and 26 December 2027 fall on a weekend. */
    assert_int_equal(cc_date_weekday(iso("2027-12-25")), 6);
    assert_int_equal(cc_calendar_is_working_day(cal, iso("2027-12-27")), 0);
    assert_int_equal(cc_calendar_is_working_day(cal, iso("2027-12-28")), 0);
    assert_string_equal(cc_calendar_holiday_name(cal, iso("2027-12-27")), "Christmas Day (substitute day)");
    assert_string_equal(cc_calendar_holiday_name(cal, iso("2027-12-28")), "Boxing Day (substitute day)");
    assert_int_equal(cc_calendar_is_working_day(cal, iso("2027-12-29")), 1);
    assert_add_wd(cal, "2027-12-24", 1, "2027-12-29");
    assert_add_wd(cal, "2027-12-29", -1, "2027-12-24");
    /* Fri 31 Dec 2027 + 1 wd: New Year's Day 2028 is a Saturday, the
     * substitute is Mon 3 Jan 2028. */
    assert_add_wd(cal, "2027-12-31", 1, "2028-01-04");
}

/* ---- leap years --------------------------------------------------------- */

static void test_leap_day_is_a_working_day(void **state)
{
    const cc_calendar_t *cal = *state;
    assert_int_equal(cc_calendar_is_working_day(cal, iso("2024-02-29")), 1);
    assert_int_equal(cc_calendar_is_working_day(cal, iso("2028-02-29")), 1);
    assert_add_wd(cal, "2024-02-28", 1, "2024-02-29");
    assert_add_wd(cal, "2024-02-28", 2, "2024-03-01");
    assert_add_wd(cal, "2024-03-01", -1, "2024-02-29");
    assert_add_wd(cal, "2024-02-29", 0, "2024-02-29");
    /* Non-leap year: Tue 28 Feb 2023 + 1 wd is Wed 1 March. */
    assert_add_wd(cal, "2023-02-28", 1, "2023-03-01");
    int n = 0;
    assert_int_equal(cc_calendar_working_days_between(cal, iso("2024-02-01"), iso("2024-03-01"), &n), 0);
    assert_int_equal(n, 21); /* 2..29 Feb (20 working days) + 1 Mar */
}

/* ---- negative and zero offsets ---------------------------------------- */

static void test_negative_offsets_from_a_weekend(void **state)
{
    const cc_calendar_t *cal = *state;
    assert_add_wd(cal, "2026-11-21", -1, "2026-11-20"); /* Sat -> Fri */
    assert_add_wd(cal, "2026-11-22", -1, "2026-11-20"); /* Sun -> Fri */
    assert_add_wd(cal, "2026-11-22", -3, "2026-11-18"); /* Sun -> Wed */
    assert_add_wd(cal, "2026-11-21", -5, "2026-11-16");
    /* From a Monday the day itself is not counted. */
    assert_add_wd(cal, "2026-11-23", -1, "2026-11-20");
    /* Back over the Christmas holidays from Sun 3 Jan 2027: Fri 1 Jan is
     * New Year's Day, so Thu 31, Wed 30, Tue 29 Dec; then Mon 28 (Boxing Day
     * substitute), the weekend and Fri 25 are skipped to Thu 24 Dec. */
    assert_add_wd(cal, "2027-01-03", -3, "2026-12-29");
    assert_add_wd(cal, "2027-01-03", -4, "2026-12-24");
}

static void test_zero_offset_working_day_is_itself(void **state)
{
    assert_add_wd(*state, "2026-11-02", 0, "2026-11-02");
    assert_offset(*state, "2026-11-20", "+0wd", "2026-11-20");
}

static void test_zero_offset_saturday_is_friday_before(void **state)
{
    const cc_calendar_t *cal = *state;
    assert_add_wd(cal, "2026-11-21", 0, "2026-11-20");
    assert_add_wd(cal, "2026-11-22", 0, "2026-11-20");
    /* A bank holiday too: Mon 28 Dec 2026 -> Thu 24 Dec 2026. */
    assert_add_wd(cal, "2026-12-28", 0, "2026-12-24");
}

/* ---- coverage ----------------------------------------------------------- */

static void test_coverage_is_2018_to_2028(void **state)
{
    const cc_calendar_t *cal = *state;
    int first = -1, last = -1;
    cc_calendar_coverage(cal, &first, &last);
    assert_int_equal(first, 2018);
    assert_int_equal(last, 2028);
    assert_int_equal(cc_calendar_covers(cal, iso("2017-12-31")), 0);
    assert_int_equal(cc_calendar_covers(cal, iso("2018-01-01")), 1);
    assert_int_equal(cc_calendar_covers(cal, iso("2028-12-31")), 1);
    assert_int_equal(cc_calendar_covers(cal, iso("2029-01-01")), 0);
}

static void test_coverage_inside_returns_zero(void **state)
{
    const cc_calendar_t *cal = *state;
    /* Tue 2 Jan 2018 - 1 wd: Mon 1 Jan 2018 is New Year's Day, so Fri 29
     * Dec 2017, outside. From Wed 3 Jan, though, it is Tue 2 Jan: inside. */
    assert_add_wd_rc(cal, "2018-01-03", -1, "2018-01-02", 0);
    assert_add_wd_rc(cal, "2018-01-01", 1, "2018-01-02", 0);
    /* Wed 27 Dec 2028 + 2 wd = Fri 29 Dec 2028, the last working day covered. */
    assert_add_wd_rc(cal, "2028-12-27", 2, "2028-12-29", 0);
    int n = 0;
    assert_int_equal(cc_calendar_working_days_between(cal, iso("2018-01-01"), iso("2028-12-31"), &n), 0);
}

static void test_coverage_start_before_2018_is_uncovered(void **state)
{
    const cc_calendar_t *cal = *state;
    /* Starting Fri 29 Dec 2017: answer still written. Mon 1 Jan 2018 is a
     * covered bank holiday, so the first working day after is Tue 2 Jan. */
    assert_add_wd_rc(cal, "2017-12-29", 1, "2018-01-02", CC_EUNCOVERED);
    /* Fri 22 Dec 2017 + 1 wd: 2017 has no holiday data, so only weekends are
     * skipped and Christmas Day 2017 (Mon) is counted as a working day. */
    assert_add_wd_rc(cal, "2017-12-22", 1, "2017-12-25", CC_EUNCOVERED);
    /* Landing before 2018 from inside: Tue 2 Jan 2018 - 1 wd = Fri 29 Dec 2017. */
    assert_add_wd_rc(cal, "2018-01-02", -1, "2017-12-29", CC_EUNCOVERED);
    /* Through cc_offset_apply as well. */
    cc_offset_t off;
    cc_date_t out = 0;
    assert_int_equal(cc_offset_parse("+1wd", 1, &off), 0);
    assert_int_equal(cc_offset_apply(cal, iso("2017-12-29"), off, &out), CC_EUNCOVERED);
    assert_date(out, "2018-01-02");
    /* Months, weeks and days need no holiday data. */
    assert_int_equal(cc_offset_parse("+3m", 1, &off), 0);
    assert_int_equal(cc_offset_apply(cal, iso("2017-12-29"), off, &out), 0);
    assert_date(out, "2018-03-29");
}

static void test_coverage_landing_in_2029_is_uncovered(void **state)
{
    const cc_calendar_t *cal = *state;
    /* Wed 20 Dec 2028 + 10 wd: 25 and 26 Dec 2028 are covered holidays;
     * Mon 1 Jan 2029 has no data and is counted: Fri 5 Jan 2029. */
    assert_add_wd_rc(cal, "2028-12-20", 10, "2029-01-05", CC_EUNCOVERED);
    /* Fri 29 Dec 2028 + 1 wd: weekends only, Mon 1 Jan 2029. */
    assert_add_wd_rc(cal, "2028-12-29", 1, "2029-01-01", CC_EUNCOVERED);
    int n = 0;
    assert_int_equal(cc_calendar_working_days_between(cal, iso("2028-12-29"), iso("2029-01-05"), &n),
                     CC_EUNCOVERED);
    assert_int_equal(n, 5);
}

static void test_empty_calendar_covers_nothing(void **state)
{
    (void)state;
    cc_calendar_t *cal = NULL;
    assert_int_equal(cc_calendar_new(&cal), 0);
    int first = -1, last = -1;
    cc_calendar_coverage(cal, &first, &last);
    assert_int_equal(first, 0);
    assert_int_equal(last, 0);
    assert_int_equal(cc_calendar_covers(cal, iso("2026-11-02")), 0);
    assert_int_equal(cc_calendar_covers(cal, iso("2018-01-01")), 0);
    /* Weekends only: Christmas Day 2026 is a working day here. */
    assert_int_equal(cc_calendar_is_working_day(cal, iso("2026-12-25")), 1);
    assert_null(cc_calendar_holiday_name(cal, iso("2026-12-25")));
    assert_add_wd_rc(cal, "2026-11-02", 10, "2026-11-16", CC_EUNCOVERED);
    assert_add_wd_rc(cal, "2026-12-24", 10, "2027-01-07", CC_EUNCOVERED);
    assert_add_wd_rc(cal, "2026-11-21", 0, "2026-11-20", CC_EUNCOVERED);
    assert_add_wd_rc(cal, "2026-12-07", -3, "2026-12-02", CC_EUNCOVERED);
    int n = 0;
    assert_int_equal(cc_calendar_working_days_between(cal, iso("2026-11-02"), iso("2026-11-16"), &n),
                     CC_EUNCOVERED);
    assert_int_equal(n, 10);
    cc_calendar_free(cal);
}

/* ---- several ICS files -------------------------------------------------- */

static const char council_ics[] =
    "BEGIN:VCALENDAR\r\n"
    "VERSION:2.0\r\n"
    "PRODID:-//Example Council//closures//EN\r\n"
    "BEGIN:VEVENT\r\n"
    "UID:closure-20261229@example.gov.uk\r\n"
    "DTSTAMP:20260101T000000Z\r\n"
    "DTSTART;VALUE=DATE:20261229\r\n"
    "SUMMARY:Council closure day\r\n"
    "END:VEVENT\r\n"
    "BEGIN:VEVENT\r\n"
    "UID:training-20261104@example.gov.uk\r\n"
    "DTSTAMP:20260101T000000Z\r\n"
    "DTSTART;VALUE=DATE:20261104\r\n"
    "DTEND;VALUE=DATE:20261106\r\n"
    "SUMMARY:Council staff training\r\n"
    "END:VEVENT\r\n"
    "BEGIN:VEVENT\r\n"
    "UID:closure-20261228@example.gov.uk\r\n"
    "DTSTAMP:20260101T000000Z\r\n"
    "DTSTART;VALUE=DATE:20261228\r\n"
    "SUMMARY:Council closure (already a bank holiday)\r\n"
    "END:VEVENT\r\n"
    "END:VCALENDAR\r\n";

static void test_several_ics_files_combine(void **state)
{
    (void)state;
    char path[64], err[512] = "";
    write_temp(path, sizeof path, council_ics);
    const char *extra[] = {path};
    cc_calendar_t *cal = NULL;
    int rc = cc_holidays_open(HOLIDAY_DIR, "england-and-wales", extra, 1, &cal, err, sizeof err);
    unlink(path);
    if (rc != 0)
        print_error("%s\n", err);
    assert_int_equal(rc, 0);

    int first = -1, last = -1;
    cc_calendar_coverage(cal, &first, &last);
    assert_int_equal(first, 2018);
    assert_int_equal(last, 2028);

    /* The single day. */
    assert_int_equal(cc_calendar_is_working_day(cal, iso("2026-12-29")), 0);
    assert_string_equal(cc_calendar_holiday_name(cal, iso("2026-12-29")), "Council closure day");
    /* The multi-day event: DTEND is exclusive, so 4 and 5 Nov only. */
    assert_int_equal(cc_calendar_is_working_day(cal, iso("2026-11-04")), 0);
    assert_int_equal(cc_calendar_is_working_day(cal, iso("2026-11-05")), 0);
    assert_int_equal(cc_calendar_is_working_day(cal, iso("2026-11-06")), 1);
    assert_string_equal(cc_calendar_holiday_name(cal, iso("2026-11-05")), "Council staff training");
    assert_null(cc_calendar_holiday_name(cal, iso("2026-11-06")));
    /* The division's holidays are still there; the official name wins for a
     * date both files name. */
    assert_int_equal(cc_calendar_is_working_day(cal, iso("2026-12-25")), 0);
    assert_string_equal(cc_calendar_holiday_name(cal, iso("2026-12-28")), "Boxing Day (substitute day)");
    assert_int_equal(cc_calendar_is_working_day(cal, iso("2022-09-19")), 0);

    /* Mon 2 Nov 2026 + 10 wd: 16 Nov without, 18 Nov with the training days. */
    assert_add_wd(cal, "2026-11-02", 10, "2026-11-18");
    /* Thu 24 Dec 2026 + 10 wd: 12 Jan without, 13 Jan with the closure day. */
    assert_add_wd(cal, "2026-12-24", 10, "2027-01-13");
    int n = 0;
    assert_int_equal(cc_calendar_working_days_between(cal, iso("2026-11-02"), iso("2026-11-16"), &n), 0);
    assert_int_equal(n, 8);
    cc_calendar_free(cal);
}

static void test_several_ics_files_by_hand_and_finish_again(void **state)
{
    (void)state;
    char path[64], err[512] = "";
    write_temp(path, sizeof path, council_ics);
    cc_calendar_t *cal = NULL;
    assert_int_equal(cc_calendar_new(&cal), 0);
    /* Council file alone: holidays but no coverage. */
    int rc = cc_holidays_load_ics(cal, path, err, sizeof err);
    unlink(path);
    assert_int_equal(rc, 0);
    assert_int_equal(cc_calendar_finish(cal), 0);
    int first = -1, last = -1;
    cc_calendar_coverage(cal, &first, &last);
    assert_int_equal(first, 0);
    assert_int_equal(last, 0);
    assert_int_equal(cc_calendar_is_working_day(cal, iso("2026-12-29")), 0);
    assert_int_equal(cc_calendar_is_working_day(cal, iso("2026-12-25")), 1);
    assert_add_wd_rc(cal, "2026-12-24", 1, "2026-12-25", CC_EUNCOVERED);
    /* Then the division's file, and finish again. */
    assert_int_equal(cc_holidays_load_ics(cal, HOLIDAY_DIR "/england-and-wales.ics", err, sizeof err), 0);
    assert_int_equal(cc_calendar_finish(cal), 0);
    cc_calendar_coverage(cal, &first, &last);
    assert_int_equal(first, 2018);
    assert_int_equal(last, 2028);
    assert_add_wd(cal, "2026-12-24", 1, "2026-12-30");
    assert_add_wd(cal, "2026-12-24", 10, "2027-01-13");
    /* Council file was loaded first, so its name for 28 Dec wins here. */
    assert_string_equal(cc_calendar_holiday_name(cal, iso("2026-12-28")),
                        "Council closure (already a bank holiday)");
    /* A hand-added day. */
    assert_int_equal(cc_calendar_add_holiday(cal, iso("2027-01-04"), "Snow day"), 0);
    assert_int_equal(cc_calendar_finish(cal), 0);
    assert_string_equal(cc_calendar_holiday_name(cal, iso("2027-01-04")), "Snow day");
    assert_add_wd(cal, "2026-12-24", 10, "2027-01-14");
    cc_calendar_free(cal);
}

/* ---- working days between --------------------------------------------- */

static void test_working_days_between(void **state)
{
    const cc_calendar_t *cal = *state;
    int n = 12345;
    assert_int_equal(cc_calendar_working_days_between(cal, iso("2026-11-02"), iso("2026-11-16"), &n), 0);
    assert_int_equal(n, 10);
    assert_int_equal(cc_calendar_working_days_between(cal, iso("2026-11-16"), iso("2026-11-02"), &n), 0);
    assert_int_equal(n, -10);
    assert_int_equal(cc_calendar_working_days_between(cal, iso("2026-11-02"), iso("2026-11-02"), &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(cc_calendar_working_days_between(cal, iso("2026-11-21"), iso("2026-12-04"), &n), 0);
    assert_int_equal(n, 10);
    assert_int_equal(cc_calendar_working_days_between(cal, iso("2026-12-24"), iso("2027-01-12"), &n), 0);
    assert_int_equal(n, 10);
    /* Saturday to Sunday: no working day in between. */
    assert_int_equal(cc_calendar_working_days_between(cal, iso("2026-11-21"), iso("2026-11-22"), &n), 0);
    assert_int_equal(n, 0);
    /* Friday to Monday: one. */
    assert_int_equal(cc_calendar_working_days_between(cal, iso("2026-11-20"), iso("2026-11-23"), &n), 0);
    assert_int_equal(n, 1);
}

/* ---- other divisions --------------------------------------------------- */

static void test_scotland_st_andrews_day(void **state)
{
    const cc_calendar_t *ew = *state;
    cc_calendar_t *sc = open_division("scotland");
    int first, last;
    cc_calendar_coverage(sc, &first, &last);
    assert_int_equal(first, 2018);
    assert_int_equal(last, 2028);
    assert_int_equal(cc_calendar_is_working_day(sc, iso("2026-11-30")), 0);
    assert_string_equal(cc_calendar_holiday_name(sc, iso("2026-11-30")), "St Andrew\xe2\x80\x99s Day");
    assert_int_equal(cc_calendar_is_working_day(ew, iso("2026-11-30")), 1);
    assert_add_wd(sc, "2026-11-27", 1, "2026-12-01");
    assert_add_wd(ew, "2026-11-27", 1, "2026-11-30");
    assert_add_wd(sc, "2026-11-23", 10, "2026-12-08");
    assert_add_wd(ew, "2026-11-23", 10, "2026-12-07");
    /* Scotland's 2nd January. */
    assert_int_equal(cc_calendar_is_working_day(sc, iso("2026-01-02")), 0);
    assert_int_equal(cc_calendar_is_working_day(ew, iso("2026-01-02")), 1);
    cc_calendar_free(sc);
}

static void test_northern_ireland_st_patricks_day(void **state)
{
    const cc_calendar_t *ew = *state;
    cc_calendar_t *ni = open_division("northern-ireland");
    assert_int_equal(cc_calendar_is_working_day(ni, iso("2026-03-17")), 0);
    assert_string_equal(cc_calendar_holiday_name(ni, iso("2026-03-17")), "St Patrick\xe2\x80\x99s Day");
    assert_int_equal(cc_calendar_is_working_day(ew, iso("2026-03-17")), 1);
    assert_add_wd(ni, "2026-03-16", 1, "2026-03-18");
    assert_add_wd(ew, "2026-03-16", 1, "2026-03-17");
    /* Battle of the Boyne: 12 July 2026 is a Sunday, substitute Mon 13. */
    assert_int_equal(cc_calendar_is_working_day(ni, iso("2026-07-13")), 0);
    cc_calendar_free(ni);
}

/* The calendar itself takes text and reads no file (config/holidays.c
 * reads them): the name given is what its messages name. */
static void test_ics_text_without_a_file(void **state)
{
    (void)state;
    char err[512] = "";
    cc_calendar_t *cal = NULL;
    assert_int_equal(cc_calendar_new(&cal), 0);
    assert_int_equal(cc_calendar_add_ics(cal, council_ics, "closures.ics", err, sizeof err), 0);
    assert_int_equal(cc_calendar_finish(cal), 0);
    assert_string_equal(cc_calendar_holiday_name(cal, iso("2026-12-29")), "Council closure day");
    assert_int_equal(cc_calendar_add_ics(cal, "not iCalendar\n", "closures.ics", err, sizeof err), CC_EPARSE);
    assert_string_equal(err, "closures.ics: not an iCalendar file (no VCALENDAR)");
    cc_calendar_free(cal);
}

/* ---- errors ------------------------------------------------------------ */

static void test_malformed_ics_is_eparse_naming_file(void **state)
{
    (void)state;
    const char *bad[] = {
        /* not iCalendar at all */
        "this is not an iCalendar file\n",
        /* an event without DTSTART */
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\nSUMMARY:No date\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n",
        /* a coverage property that is not YEAR-YEAR */
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nX-CARECLOCK-COVERS:2018\r\nEND:VCALENDAR\r\n",
        /* a coverage range backwards */
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nX-CARECLOCK-COVERS:2028-2018\r\nEND:VCALENDAR\r\n",
        /* coverage past the years a date may name (the tables' arithmetic would overflow) */
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nX-CARECLOCK-COVERS:2018-2147483647\r\nEND:VCALENDAR\r\n",
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nX-CARECLOCK-COVERS:-5-2018\r\nEND:VCALENDAR\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char path[64], err[512] = "";
        write_temp(path, sizeof path, bad[i]);
        cc_calendar_t *cal = NULL;
        assert_int_equal(cc_calendar_new(&cal), 0);
        int rc = cc_holidays_load_ics(cal, path, err, sizeof err);
        if (rc != CC_EPARSE || strstr(err, path) == NULL)
            print_error("case %zu: rc %d, err \"%s\"\n", i, rc, err);
        assert_int_equal(rc, CC_EPARSE);
        assert_non_null(strstr(err, path));
        cc_calendar_free(cal);

        /* Through cc_holidays_open as an extra file. */
        const char *extra[] = {path};
        cal = NULL;
        err[0] = '\0';
        rc = cc_holidays_open(HOLIDAY_DIR, "england-and-wales", extra, 1, &cal, err, sizeof err);
        unlink(path);
        assert_int_equal(rc, CC_EPARSE);
        assert_non_null(strstr(err, path));
    }
}

static void test_missing_file_is_eio_naming_path(void **state)
{
    (void)state;
    char err[512] = "";
    cc_calendar_t *cal = NULL;
    const char *missing = CC_SOURCE_DIR "/tests/fixtures/no-such-file.ics";
    const char *extra[] = {missing};
    assert_int_equal(cc_holidays_open(HOLIDAY_DIR, "england-and-wales", extra, 1, &cal, err, sizeof err), CC_EIO);
    assert_non_null(strstr(err, missing));

    err[0] = '\0';
    assert_int_equal(cc_holidays_open("/nonexistent-careclock-dir", "scotland", NULL, 0, &cal, err, sizeof err),
                     CC_EIO);
    assert_non_null(strstr(err, "/nonexistent-careclock-dir/scotland.ics"));
}

static void test_unknown_division_is_einval(void **state)
{
    (void)state;
    char err[512] = "";
    cc_calendar_t *cal = NULL;
    assert_int_equal(cc_holidays_open(HOLIDAY_DIR, "wales", NULL, 0, &cal, err, sizeof err), CC_EINVAL);
    assert_non_null(strstr(err, "wales"));
    assert_int_equal(cc_holidays_open(HOLIDAY_DIR, "", NULL, 0, &cal, err, sizeof err), CC_EINVAL);
    assert_int_equal(cc_holidays_open(HOLIDAY_DIR, "England-and-Wales", NULL, 0, &cal, err, sizeof err),
                     CC_EINVAL);
}

/* ---- offsets ------------------------------------------------------------ */

static void test_offset_parse_valid(void **state)
{
    (void)state;
    cc_offset_t off;
    assert_int_equal(cc_offset_parse("+10wd", 1, &off), 0);
    assert_int_equal(off.n, 10);
    assert_int_equal(off.unit, CC_UNIT_WORKING_DAYS);
    assert_int_equal(cc_offset_parse("-3wd", 1, &off), 0);
    assert_int_equal(off.n, -3);
    assert_int_equal(off.unit, CC_UNIT_WORKING_DAYS);
    assert_int_equal(cc_offset_parse("+12w", 1, &off), 0);
    assert_int_equal(off.n, 12);
    assert_int_equal(off.unit, CC_UNIT_WEEKS);
    assert_int_equal(cc_offset_parse("+3m", 1, &off), 0);
    assert_int_equal(off.n, 3);
    assert_int_equal(off.unit, CC_UNIT_MONTHS);
    assert_int_equal(cc_offset_parse("-84d", 1, &off), 0);
    assert_int_equal(off.n, -84);
    assert_int_equal(off.unit, CC_UNIT_DAYS);
    assert_int_equal(cc_offset_parse("10wd", 0, &off), 0); /* sign optional here */
    assert_int_equal(off.n, 10);
    assert_int_equal(off.unit, CC_UNIT_WORKING_DAYS);
    assert_int_equal(cc_offset_parse("+36500d", 1, &off), 0);
    assert_int_equal(off.n, CC_OFFSET_MAX);
}

static void test_offset_parse_errors(void **state)
{
    (void)state;
    cc_offset_t off;
    assert_int_equal(cc_offset_parse("10wd", 1, &off), CC_EINVAL);
    const char *bad[] = {"+10x", "+", "", "+999999wd", "+10wd ", "+36501d", "-", "wd", "+wd", " +10wd", "+1 0wd",
                         "+10WD", "++10wd", "+-10wd", "+10dw", "+10"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (cc_offset_parse(bad[i], 1, &off) != CC_EINVAL || cc_offset_parse(bad[i], 0, &off) != CC_EINVAL)
            print_error("offset \"%s\" was accepted\n", bad[i]);
        assert_int_equal(cc_offset_parse(bad[i], 1, &off), CC_EINVAL);
        assert_int_equal(cc_offset_parse(bad[i], 0, &off), CC_EINVAL);
    }
    assert_int_equal(cc_offset_parse(NULL, 0, &off), CC_EINVAL);
}

static void test_offset_format_round_trip(void **state)
{
    (void)state;
    const char *good[] = {"+10wd", "-3wd", "+0wd", "+12w", "-1w", "+3m", "-13m", "+84d", "-1d", "+36500d"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        cc_offset_t off, again;
        char buf[24];
        assert_int_equal(cc_offset_parse(good[i], 1, &off), 0);
        assert_string_equal(cc_offset_format(off, buf, sizeof buf), good[i]);
        assert_int_equal(cc_offset_parse(buf, 1, &again), 0);
        assert_int_equal(again.n, off.n);
        assert_int_equal(again.unit, off.unit);
    }
    char words[48];
    cc_offset_t off = {.n = -1, .unit = CC_UNIT_WORKING_DAYS};
    assert_string_equal(cc_offset_words(off, words, sizeof words), "1 working day");
    off = (cc_offset_t){.n = 3, .unit = CC_UNIT_MONTHS};
    assert_string_equal(cc_offset_words(off, words, sizeof words), "3 months");
}

/* ---- the loaded list and the property check ---------------------------- */

/* Independent of the rank tables: Monday-Friday and not a named holiday. */
static int oracle_working(const cc_calendar_t *cal, cc_date_t d)
{
    return cc_date_weekday(d) <= 5 && cc_calendar_holiday_name(cal, d) == NULL;
}

static void test_every_listed_holiday_loaded(void **state)
{
    const cc_calendar_t *cal = *state;
    /* england-and-wales.ics has 91 single-day events on distinct dates. */
    int named = 0;
    for (cc_date_t d = iso("2017-01-01"); d <= iso("2029-12-31"); d++) {
        if (cc_calendar_holiday_name(cal, d) != NULL) {
            int y, m, dd;
            cc_date_to_ymd(d, &y, &m, &dd);
            assert_in_range(y, 2018, 2028);
            named++;
        }
        assert_int_equal(cc_calendar_is_working_day(cal, d), oracle_working(cal, d));
    }
    assert_int_equal(named, 91);
}

static void test_property_add_working_days(void **state)
{
    const cc_calendar_t *cal = *state;
    const cc_date_t first = iso("2018-01-01"), last = iso("2028-10-31");
    const cc_date_t end_covered = iso("2028-12-31");
    enum { MAXN = 60 };
    for (cc_date_t d = first; d <= last; d++) {
        /* The last working day on or before d, and the first on or after. */
        cc_date_t prev = d, next = d;
        while (!oracle_working(cal, prev))
            prev--;
        while (!oracle_working(cal, next))
            next++;
        cc_date_t got = 0;
        assert_int_equal(cc_calendar_add_working_days(cal, d, 0, &got), prev < first ? CC_EUNCOVERED : 0);
        assert_int_equal(got, prev);

        /* Walk forward counting working days: the Nth one found is d + N wd. */
        int k = 0;
        for (cc_date_t e = d + 1; k < MAXN; e++) {
            if (!oracle_working(cal, e))
                continue;
            k++;
            cc_date_t r = 0;
            int rc = cc_calendar_add_working_days(cal, d, k, &r);
            if (r != e)
                print_error("d=%d n=%d\n", d, k);
            assert_int_equal(rc, r > end_covered ? CC_EUNCOVERED : 0);
            assert_int_equal(r, e); /* a working day, after d, with exactly k in (d, r] */
            int between = 0;
            assert_int_equal(cc_calendar_working_days_between(cal, d, r, &between), rc);
            assert_int_equal(between, k);
            assert_int_equal(cc_calendar_working_days_between(cal, r, d, &between), rc);
            assert_int_equal(between, -k);
            /* Back again: the kth working day before r is the last working
             * day on or before d (d itself when d is a working day). */
            cc_date_t back = 0;
            int brc = cc_calendar_add_working_days(cal, r, -k, &back);
            assert_int_equal(back, prev);
            assert_int_equal(brc, r > end_covered || prev < first ? CC_EUNCOVERED : 0);
        }

        /* Backwards: d - N wd is a working day before d with exactly N
         * working days in [result, d); and result + N wd is the first working
         * day on or after d. */
        k = 0;
        for (cc_date_t e = d - 1; k < MAXN; e--) {
            if (!oracle_working(cal, e))
                continue;
            k++;
            cc_date_t r = 0;
            int rc = cc_calendar_add_working_days(cal, d, -k, &r);
            assert_int_equal(rc, r < first ? CC_EUNCOVERED : 0);
            assert_int_equal(r, e);
            cc_date_t fwd = 0;
            (void)cc_calendar_add_working_days(cal, r, k, &fwd);
            assert_int_equal(fwd, next);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_mon_2_nov_2026_plus_10wd),
        cmocka_unit_test(test_example_sat_21_nov_2026_plus_10wd),
        cmocka_unit_test(test_example_thu_24_dec_2026_plus_10wd),
        cmocka_unit_test(test_example_31_aug_2025_plus_3m),
        cmocka_unit_test(test_example_30_nov_2025_plus_3m),
        cmocka_unit_test(test_example_mon_7_dec_2026_minus_3wd),
        cmocka_unit_test(test_example_mon_5_jan_2026_plus_12w),
        cmocka_unit_test(test_example_fri_16_sep_2022_plus_1wd),
        cmocka_unit_test(test_one_off_2020_05_08_ve_day),
        cmocka_unit_test(test_one_off_2022_06_02_and_03_platinum_jubilee),
        cmocka_unit_test(test_one_off_2022_09_19_state_funeral),
        cmocka_unit_test(test_one_off_2023_05_08_coronation),
        cmocka_unit_test(test_substitute_boxing_day_2026),
        cmocka_unit_test(test_substitute_christmas_and_boxing_2027),
        cmocka_unit_test(test_leap_day_is_a_working_day),
        cmocka_unit_test(test_negative_offsets_from_a_weekend),
        cmocka_unit_test(test_zero_offset_working_day_is_itself),
        cmocka_unit_test(test_zero_offset_saturday_is_friday_before),
        cmocka_unit_test(test_coverage_is_2018_to_2028),
        cmocka_unit_test(test_coverage_inside_returns_zero),
        cmocka_unit_test(test_coverage_start_before_2018_is_uncovered),
        cmocka_unit_test(test_coverage_landing_in_2029_is_uncovered),
        cmocka_unit_test(test_empty_calendar_covers_nothing),
        cmocka_unit_test(test_several_ics_files_combine),
        cmocka_unit_test(test_several_ics_files_by_hand_and_finish_again),
        cmocka_unit_test(test_working_days_between),
        cmocka_unit_test(test_scotland_st_andrews_day),
        cmocka_unit_test(test_northern_ireland_st_patricks_day),
        cmocka_unit_test(test_ics_text_without_a_file),
        cmocka_unit_test(test_malformed_ics_is_eparse_naming_file),
        cmocka_unit_test(test_missing_file_is_eio_naming_path),
        cmocka_unit_test(test_unknown_division_is_einval),
        cmocka_unit_test(test_offset_parse_valid),
        cmocka_unit_test(test_offset_parse_errors),
        cmocka_unit_test(test_offset_format_round_trip),
        cmocka_unit_test(test_every_listed_holiday_loaded),
        cmocka_unit_test(test_property_add_working_days),
    };
    return cmocka_run_group_tests_name("calendar", tests, setup_ew, teardown_ew);
}
