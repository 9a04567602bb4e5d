/* Wall-clock time. See include/careclock/time.h.
 *
 * Design notes:
 *  - The local date is computed from the zone's UTC offset at t
 *    (tm_gmtoff): (t + offset) / 86400, rounded down, is the day count of
 *    the local date, the same count as cc_date_t, without the calendar
 *    arithmetic of core/date.c (which sits above this layer).
 *  - The way back (cc_time_from_local) gives mktime() the day count as a
 *    day of January 1970 and lets it normalise: mktime() takes any field
 *    value and carries it over (C17 7.27.2.3), so no month arithmetic here.
 */
#include "careclock/time.h"
#include "careclock/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ZONEINFO "/usr/share/zoneinfo/"
#define WALL_MIN_YEAR 1970
#define WALL_MAX_YEAR 2399

char *cc_time_format_utc(time_t t, char *buf, size_t len)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

time_t cc_time_parse_utc(const char *text)
{
    struct tm tm = {0};
    int end = 0;
    if (text == NULL || strlen(text) != CC_TIME_STAMP_LEN - 1 ||
        sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
               &tm.tm_sec, &end) != 6 ||
        end != CC_TIME_STAMP_LEN - 1)
        return (time_t)-1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return timegm(&tm);
}

/* 1 if year-month-day is a real date: timegm() carries an impossible day
 * (30 February) into the next month, which the round trip shows. */
static int real_date(int year, int month, int day)
{
    if (year < WALL_MIN_YEAR || year > WALL_MAX_YEAR || month < 1 || month > 12 || day < 1 || day > 31)
        return 0;
    struct tm tm = {.tm_year = year - 1900, .tm_mon = month - 1, .tm_mday = day, .tm_hour = 12};
    time_t t = timegm(&tm);
    struct tm back;
    gmtime_r(&t, &back);
    return back.tm_mday == day && back.tm_mon == month - 1;
}

int cc_time_parse_wall(const char *text, int utc, time_t *out)
{
    int y, mo, d, h, mi, sec = 0, fields;
    char bare[20], tail;
    if (text == NULL)
        return CC_EINVAL;
    size_t len = strlen(text);
    if (utc && len > 0 && text[len - 1] == 'Z')
        len--;
    if (len != 16 && len != 19)
        return CC_EINVAL;
    memcpy(bare, text, len);
    bare[len] = '\0';
    if (len == 16)
        fields = sscanf(bare, "%4d-%2d-%2dT%2d:%2d%c", &y, &mo, &d, &h, &mi, &tail) == 5;
    else
        fields = sscanf(bare, "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &sec, &tail) == 6;
    if (!fields || !real_date(y, mo, d) || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59)
        return CC_EINVAL;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = sec,
                    .tm_isdst = -1};
    time_t t = utc ? timegm(&tm) : mktime(&tm);
    if (t == (time_t)-1)
        return CC_EINVAL;
    *out = t;
    return 0;
}

int cc_time_zone_known(const char *zone)
{
    char path[4096];
    if (zone == NULL || zone[0] == '\0' || strstr(zone, "..") != NULL)
        return 0;
    int n = snprintf(path, sizeof(path), ZONEINFO "%s", zone);
    return n > 0 && (size_t)n < sizeof(path) && access(path, R_OK) == 0;
}

int cc_time_set_zone(const char *zone, char *err, size_t errlen)
{
    if (!cc_time_zone_known(zone)) {
        cc_set_err(err, errlen, "\"%s\" is not a time zone this machine knows (see /usr/share/zoneinfo)",
                   zone ? zone : "");
        return CC_EINVAL;
    }
    if (setenv("TZ", zone, 1) != 0) {
        cc_set_err(err, errlen, "cannot set the time zone \"%s\": %s", zone, cc_strerror(CC_ENOMEM));
        return CC_ENOMEM;
    }
    tzset();
    return 0;
}

cc_local_time_t cc_time_local(time_t t)
{
    struct tm tm;
    localtime_r(&t, &tm);
    int64_t wall = (int64_t)t + tm.tm_gmtoff; /* the local wall time, counted as if it were UTC */
    int64_t day = wall >= 0 ? wall / 86400 : -((-wall + 86399) / 86400);
    cc_local_time_t local = {.date = (int32_t)day, .minute = tm.tm_hour * 60 + tm.tm_min};
    return local;
}

time_t cc_time_from_local(cc_local_time_t local)
{
    struct tm tm = {.tm_year = 70, .tm_mon = 0, .tm_mday = 1 + local.date, .tm_hour = local.minute / 60,
                    .tm_min = local.minute % 60, .tm_isdst = -1};
    return mktime(&tm);
}

uint64_t cc_time_ms_to_midnight(time_t now)
{
    struct tm tm;
    localtime_r(&now, &tm);
    tm.tm_mday += 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_isdst = -1;
    time_t next = mktime(&tm);
    if (next <= now)
        next = now + 60;
    return (uint64_t)(next - now) * 1000 + 200;
}
