/* Unit tests for daemon/core/date.c: parsing, formatting, months, ages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "careclock/calendar.h"
#include "careclock/date.h"
#include "careclock/error.h"
#include "careclock/offset.h"

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

static void test_round_trip_every_day_2000_to_2100(void **state)
{
    (void)state;
    cc_date_t start = cc_date_from_ymd(2000, 1, 1);
    cc_date_t end = cc_date_from_ymd(2100, 12, 31);
    int py = 1999, pm = 12, pd = 31;
    for (cc_date_t d = start; d <= end; d++) {
        int y, m, dd;
        cc_date_to_ymd(d, &y, &m, &dd);
        assert_int_equal(cc_date_from_ymd(y, m, dd), d);
        /* consecutive: either next day in month, or first of next month */
        if (dd != 1)
            assert_true(y == py && m == pm && dd == pd + 1);
        else
            assert_int_equal(pd, cc_date_days_in_month(py, pm));
        py = y; pm = m; pd = dd;
    }
}

static void test_epoch_and_weekdays(void **state)
{
    (void)state;
    assert_int_equal(cc_date_from_ymd(1970, 1, 1), 0);
    assert_int_equal(cc_date_weekday(iso("2026-11-02")), 1); /* Monday */
    assert_int_equal(cc_date_weekday(iso("2026-11-21")), 6); /* Saturday */
    assert_int_equal(cc_date_weekday(iso("2026-11-22")), 7); /* Sunday */
    assert_string_equal(cc_date_weekday_name(iso("2026-12-24")), "Thursday");
    assert_int_equal(cc_date_weekday(cc_date_from_ymd(1900, 1, 1)), 1);
}

static void test_parse_iso_and_uk_forms(void **state)
{
    (void)state;
    cc_date_t a, b;
    assert_int_equal(cc_date_parse_iso("2024-02-29", &a), 0);
    assert_int_equal(cc_date_parse_uk("29/02/2024", &b), 0);
    assert_int_equal(a, b);
    assert_int_equal(cc_date_parse("15/02/2016", &a), 0);
    assert_date(a, "2016-02-15");
    assert_int_equal(cc_date_parse("2016-02-15", &b), 0);
    assert_int_equal(a, b);
}

static void test_parse_rejects_impossible_and_malformed(void **state)
{
    (void)state;
    cc_date_t d = 12345;
    const char *bad_iso[] = {"2023-02-29", "2026-13-01", "2026-04-31", "2026-00-10", "2026-01-00", "",
                             "2026-11-02x", "2026-11-2", "2026/11/02", " 2026-11-02", "2026-11-02 ",
                             "20261102", "abcd-ef-gh", "1799-12-31", "2400-01-01", "+026-11-02"};
    for (size_t i = 0; i < sizeof(bad_iso) / sizeof(bad_iso[0]); i++) {
        assert_int_equal(cc_date_parse_iso(bad_iso[i], &d), CC_EINVAL);
        assert_int_equal(cc_date_parse(bad_iso[i], &d), CC_EINVAL);
    }
    const char *bad_uk[] = {"31/04/2026", "29/02/2023", "01/13/2026", "", "1/1/2026", "01/01/2026x", "01-01-2026"};
    for (size_t i = 0; i < sizeof(bad_uk) / sizeof(bad_uk[0]); i++)
        assert_int_equal(cc_date_parse_uk(bad_uk[i], &d), CC_EINVAL);
    assert_int_equal(cc_date_parse(NULL, &d), CC_EINVAL);
    assert_int_equal(d, 12345); /* untouched on error */
}

static void test_months_corresponding_date_rule(void **state)
{
    (void)state;
    assert_date(cc_date_add_months(iso("2025-08-31"), 3), "2025-11-30");
    assert_date(cc_date_add_months(iso("2025-11-30"), 3), "2026-02-28");
    assert_date(cc_date_add_months(iso("2024-02-29"), 6), "2024-08-29");
    assert_date(cc_date_add_months(iso("2024-02-29"), 12), "2025-02-28");
    assert_date(cc_date_add_months(iso("2023-11-30"), 3), "2024-02-29"); /* leap year */
    assert_date(cc_date_add_months(iso("2026-01-31"), 1), "2026-02-28");
    assert_date(cc_date_add_months(iso("2026-03-31"), -1), "2026-02-28");
    assert_date(cc_date_add_months(iso("2026-01-15"), -13), "2024-12-15");
    assert_date(cc_date_add_months(iso("2026-12-31"), 6), "2027-06-30");
}

static void test_age_whole_years(void **state)
{
    (void)state;
    assert_int_equal(cc_date_age(iso("2015-03-02"), iso("2026-11-02")), 11);
    assert_int_equal(cc_date_age(iso("2021-11-02"), iso("2026-11-01")), 4);
    assert_int_equal(cc_date_age(iso("2021-11-02"), iso("2026-11-02")), 5);
    assert_int_equal(cc_date_age(iso("2020-02-29"), iso("2025-02-28")), 4);
    assert_int_equal(cc_date_age(iso("2020-02-29"), iso("2025-03-01")), 5);
}

static void test_format_human(void **state)
{
    (void)state;
    char buf[32];
    assert_string_equal(cc_date_format_human(iso("2026-11-02"), buf, sizeof(buf)), "Mon 2 Nov 2026");
}

/* Month and week arithmetic is bounded (issue 15): an answer outside
 * 1900-2199, the years careclock can count (CC_CALENDAR_FIRST_YEAR to
 * CC_CALENDAR_LAST_YEAR), is CC_ERANGE, never a wrapped year ("careclock calc
 * 2026-12-07 +9999m" printed year 0359 at some repetitions). */
static void test_offsets_outside_the_countable_years_are_errors(void **state)
{
    (void)state;
    cc_calendar_t *cal = NULL;
    assert_int_equal(cc_calendar_new(&cal), 0);
    assert_int_equal(cc_calendar_finish(cal), 0);
    cc_date_t out = 0;
    const cc_offset_t m9999 = {9999, CC_UNIT_MONTHS}, mminus = {-9999, CC_UNIT_MONTHS}, w9999 = {9999, CC_UNIT_WEEKS},
                      d1 = {1, CC_UNIT_DAYS}, dminus1 = {-1, CC_UNIT_DAYS}, m1 = {1, CC_UNIT_MONTHS};
    assert_int_equal(cc_offset_apply(cal, iso("2026-12-07"), m9999, &out), CC_ERANGE);
    assert_int_equal(cc_offset_apply(cal, iso("2026-12-07"), mminus, &out), CC_ERANGE);
    assert_int_equal(cc_offset_apply(cal, iso("2026-12-07"), w9999, &out), CC_ERANGE);
    /* The edges of the span. */
    assert_int_equal(cc_offset_apply(cal, iso("2199-12-30"), d1, &out), 0);
    assert_date(out, "2199-12-31");
    assert_int_equal(cc_offset_apply(cal, iso("2199-12-31"), d1, &out), CC_ERANGE);
    assert_int_equal(cc_offset_apply(cal, iso("1900-01-02"), dminus1, &out), 0);
    assert_date(out, "1900-01-01");
    assert_int_equal(cc_offset_apply(cal, iso("1900-01-01"), dminus1, &out), CC_ERANGE);
    assert_int_equal(cc_offset_apply(cal, iso("2199-11-30"), m1, &out), 0);
    assert_date(out, "2199-12-30");
    assert_int_equal(cc_offset_apply(cal, iso("2199-12-01"), m1, &out), CC_ERANGE);
    /* A start outside the span is refused too. */
    assert_int_equal(cc_offset_apply(cal, iso("1850-01-01"), m1, &out), CC_ERANGE);
    cc_calendar_free(cal);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_every_day_2000_to_2100),
        cmocka_unit_test(test_epoch_and_weekdays),
        cmocka_unit_test(test_parse_iso_and_uk_forms),
        cmocka_unit_test(test_parse_rejects_impossible_and_malformed),
        cmocka_unit_test(test_months_corresponding_date_rule),
        cmocka_unit_test(test_age_whole_years),
        cmocka_unit_test(test_format_human),
        cmocka_unit_test(test_offsets_outside_the_countable_years_are_errors),
    };
    return cmocka_run_group_tests_name("date", tests, NULL, NULL);
}
