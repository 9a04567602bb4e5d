/* Unit tests for daemon/util/time.c: UTC stamps, local time in the
 * configured zone, the next local midnight, the zone set-up, and the wall
 * times given on command lines. The zones are real tzdata (Debian's
 * tzdata package, which the build needs anyway). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "careclock/date.h"
#include "careclock/error.h"
#include "careclock/time.h"

#include <stdlib.h>
#include <string.h>

static void zone(const char *name)
{
    char err[256];
    assert_int_equal(cc_time_set_zone(name, err, sizeof(err)), 0);
}

static time_t utc(const char *text)
{
    time_t t = cc_time_parse_utc(text);
    assert_int_not_equal(t, (time_t)-1);
    return t;
}

static void test_stamps(void **state)
{
    char buf[32];
    (void)state;
    zone("Europe/London");
    time_t t = cc_time_parse_utc("2026-07-01T07:00:00Z");
    assert_string_equal(cc_time_format_utc(t, buf, sizeof(buf)), "2026-07-01T07:00:00Z");
    assert_int_equal(cc_time_parse_utc("2026-07-01 07:00"), (time_t)-1);
    /* Local time in summer is BST: 08:00 local is 07:00 UTC. */
    cc_local_time_t l = {.date = cc_date_from_ymd(2026, 7, 1), .minute = 8 * 60};
    assert_int_equal(cc_time_from_local(l), t);
    cc_local_time_t back = cc_time_local(t);
    assert_int_equal(back.date, l.date);
    assert_int_equal(back.minute, l.minute);
}

static void test_parse_utc_refuses_what_it_does_not_write(void **state)
{
    (void)state;
    assert_int_equal(cc_time_parse_utc(NULL), (time_t)-1);
    assert_int_equal(cc_time_parse_utc(""), (time_t)-1);
    assert_int_equal(cc_time_parse_utc("2026-07-01T07:00:00"), (time_t)-1);
    assert_int_equal(cc_time_parse_utc("2026-07-01T07:00:00Zx"), (time_t)-1);
    assert_int_equal(cc_time_parse_utc("1970-01-01T00:00:00Z"), 0);
    char buf[CC_TIME_STAMP_LEN];
    assert_string_equal(cc_time_format_utc(0, buf, sizeof(buf)), "1970-01-01T00:00:00Z");
}

/* The day count and minute agree with localtime_r() read through
 * core/date.c (the way the copies this module replaced computed them), and
 * the way back agrees with mktime() on the split fields, every 7 hours and
 * 13 minutes for three years in four zones (either side of UTC, with and
 * without DST, one of them half-hour). */
static void test_local_time_agrees_with_the_c_library(void **state)
{
    static const char *const zones[] = {"Europe/London", "Pacific/Auckland", "America/Los_Angeles",
                                        "Asia/Kolkata"};
    (void)state;
    for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
        zone(zones[z]);
        for (time_t t = utc("2025-01-01T00:00:00Z"); t < utc("2028-01-01T00:00:00Z"); t += 7 * 3600 + 13 * 60) {
            struct tm tm;
            localtime_r(&t, &tm);
            cc_local_time_t l = cc_time_local(t);
            assert_int_equal(l.date, cc_date_from_ymd(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday));
            assert_int_equal(l.minute, tm.tm_hour * 60 + tm.tm_min);
            struct tm fields = {.tm_year = tm.tm_year, .tm_mon = tm.tm_mon, .tm_mday = tm.tm_mday,
                                .tm_hour = tm.tm_hour, .tm_min = tm.tm_min, .tm_isdst = -1};
            assert_int_equal(cc_time_from_local(l), mktime(&fields));
        }
    }
    zone("Europe/London");
}

static void test_dates_before_1970_count_down(void **state)
{
    (void)state;
    zone("America/Los_Angeles");
    /* 1970-01-01T00:00Z is 16:00 on 31 December 1969 in Los Angeles. */
    cc_local_time_t l = cc_time_local(0);
    assert_int_equal(l.date, -1);
    assert_int_equal(l.date, cc_date_from_ymd(1969, 12, 31));
    assert_int_equal(l.minute, 16 * 60);
    zone("Europe/London");
}

static void test_the_same_instant_has_different_dates_in_different_zones(void **state)
{
    (void)state;
    time_t t = utc("2026-06-15T13:30:00Z");
    zone("Europe/London"); /* BST: 14:30 on the 15th */
    cc_local_time_t london = cc_time_local(t);
    zone("Pacific/Auckland"); /* NZST, UTC+12: 01:30 on the 16th */
    cc_local_time_t auckland = cc_time_local(t);
    assert_int_equal(london.date, cc_date_from_ymd(2026, 6, 15));
    assert_int_equal(london.minute, 14 * 60 + 30);
    assert_int_equal(auckland.date, cc_date_from_ymd(2026, 6, 16));
    assert_int_equal(auckland.minute, 1 * 60 + 30);
    zone("Europe/London");
}

static void test_midnight_across_a_clock_change(void **state)
{
    (void)state;
    zone("Europe/London");
    /* An ordinary day: noon to midnight is 12 hours (+200 ms of margin). */
    assert_int_equal(cc_time_ms_to_midnight(utc("2026-03-27T12:00:00Z")), 12ull * 3600 * 1000 + 200);
    /* 29 March 2026 has 23 hours: from 00:30 GMT to the next midnight (BST,
     * 23:00 UTC) is 22 h 30 min. */
    assert_int_equal(cc_time_ms_to_midnight(utc("2026-03-29T00:30:00Z")), (22ull * 3600 + 1800) * 1000 + 200);
    /* 25 October 2026 has 25 hours: from 00:30 BST (23:30 UTC the day
     * before) to midnight GMT is 24 h 30 min. */
    assert_int_equal(cc_time_ms_to_midnight(utc("2026-10-24T23:30:00Z")), (24ull * 3600 + 1800) * 1000 + 200);
}

static void test_set_zone_refuses_an_unknown_zone_by_name(void **state)
{
    char err[256] = "";
    (void)state;
    zone("Europe/London");
    assert_int_equal(cc_time_set_zone("Europe/Atlantis", err, sizeof(err)), CC_EINVAL);
    assert_non_null(strstr(err, "\"Europe/Atlantis\" is not a time zone this machine knows"));
    assert_string_equal(getenv("TZ"), "Europe/London"); /* unchanged */
    assert_int_equal(cc_time_set_zone("../../etc/passwd", err, sizeof(err)), CC_EINVAL);
    assert_int_equal(cc_time_set_zone("", err, sizeof(err)), CC_EINVAL);
    assert_int_equal(cc_time_set_zone(NULL, err, sizeof(err)), CC_EINVAL);
    assert_int_equal(cc_time_zone_known("Pacific/Auckland"), 1);
    assert_int_equal(cc_time_zone_known("Pacific/Nowhere"), 0);
    zone("Pacific/Auckland");
    assert_string_equal(getenv("TZ"), "Pacific/Auckland");
    zone("Pacific/Auckland"); /* again: nothing changes */
    assert_string_equal(getenv("TZ"), "Pacific/Auckland");
    zone("Europe/London");
}

static void test_wall_times_from_a_command_line(void **state)
{
    time_t t = 0;
    (void)state;
    zone("Pacific/Auckland");
    assert_int_equal(cc_time_parse_wall("2026-06-15T13:30", 1, &t), 0);
    assert_int_equal(t, utc("2026-06-15T13:30:00Z"));
    assert_int_equal(cc_time_parse_wall("2026-06-15T13:30:07Z", 1, &t), 0);
    assert_int_equal(t, utc("2026-06-15T13:30:07Z"));
    assert_int_equal(cc_time_parse_wall("2026-06-15T13:30Z", 1, &t), 0);
    assert_int_equal(t, utc("2026-06-15T13:30:00Z"));
    /* Local: 01:30 on the 16th in Auckland is 13:30 UTC on the 15th. */
    assert_int_equal(cc_time_parse_wall("2026-06-16T01:30", 0, &t), 0);
    assert_int_equal(t, utc("2026-06-15T13:30:00Z"));
    assert_int_equal(cc_time_parse_wall("2026-06-16T01:30:00", 0, &t), 0);
    assert_int_equal(t, utc("2026-06-15T13:30:00Z"));
    time_t before = 42;
    static const char *const bad[] = {"2026-02-30T09:00", "2026-13-01T09:00", "2026-06-15T24:00", "2026-06-15T23:60",
                                      "2026-06-15T23:59:60", "2026-06-15", "2026-06-15T9:00", "2026-06-15T09:00:00x",
                                      "1969-12-31T23:59", "2400-01-01T00:00", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        t = before;
        assert_int_equal(cc_time_parse_wall(bad[i], 1, &t), CC_EINVAL);
        assert_int_equal(cc_time_parse_wall(bad[i], 0, &t), CC_EINVAL);
        assert_int_equal(t, before);
    }
    /* The Z is UTC's only. */
    assert_int_equal(cc_time_parse_wall("2026-06-16T01:30Z", 0, &t), CC_EINVAL);
    assert_int_equal(cc_time_parse_wall(NULL, 1, &t), CC_EINVAL);
    zone("Europe/London");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stamps),
        cmocka_unit_test(test_parse_utc_refuses_what_it_does_not_write),
        cmocka_unit_test(test_local_time_agrees_with_the_c_library),
        cmocka_unit_test(test_dates_before_1970_count_down),
        cmocka_unit_test(test_the_same_instant_has_different_dates_in_different_zones),
        cmocka_unit_test(test_midnight_across_a_clock_change),
        cmocka_unit_test(test_set_zone_refuses_an_unknown_zone_by_name),
        cmocka_unit_test(test_wall_times_from_a_command_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
