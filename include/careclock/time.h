/* Wall-clock time, in one place: UTC stamps, the local time in the
 * configured zone, the next local midnight, and the zone set-up.
 *
 * The process has one time zone. cc_time_set_zone() validates the
 * configured [careclock] timezone and makes it the process's (TZ, tzset):
 * careclockd and the CLI call it once at start (careclockd again when a
 * reload changes it); every local-time function here reads that zone. The
 * UTC functions need no zone. Nothing here reads the clock: the caller
 * passes the instant (careclockd's --now, the CLI's --now, or time(NULL)).
 */
#ifndef CARECLOCK_TIME_H
#define CARECLOCK_TIME_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Room for "YYYY-MM-DDTHH:MM:SSZ" and its NUL. */
#define CC_TIME_STAMP_LEN 21

/* A local wall-clock time in the configured zone. date is a day count since
 * 1970-01-01, the cc_date_t of careclock/date.h (util sits below the core,
 * so the type is spelled out here; core/planner.c asserts they agree). */
typedef struct {
    int32_t date;
    int minute; /* 0..1439 */
} cc_local_time_t;

/* "YYYY-MM-DDTHH:MM:SSZ" for t into buf (len >= CC_TIME_STAMP_LEN).
 * Returns buf. */
char *cc_time_format_utc(time_t t, char *buf, size_t len);

/* Parse exactly "YYYY-MM-DDTHH:MM:SSZ" (as cc_time_format_utc writes it).
 * Returns the instant, or -1 for NULL or anything else. */
time_t cc_time_parse_utc(const char *text);

/* Parse a wall time given on a command line, "YYYY-MM-DDTHH:MM" or
 * "YYYY-MM-DDTHH:MM:SS", a real date of the years 1970 to 2399: as UTC
 * (utc non-zero; a trailing "Z" is also accepted then) or as local time in
 * the process's zone (a time that the zone skips, in the hour the clocks
 * go forward, is taken as mktime() does). Returns 0 with *out set, or
 * CC_EINVAL. */
int cc_time_parse_wall(const char *text, int utc, time_t *out);

/* 1 if zone names a time zone this machine knows (a file under
 * /usr/share/zoneinfo, no ".."), else 0. */
int cc_time_zone_known(const char *zone);

/* Make zone the process's time zone (TZ, then tzset); again is harmless.
 * Returns 0; CC_EINVAL for a zone this machine does not know, with a
 * message naming it in err; CC_ENOMEM when the environment cannot grow.
 * Not thread-safe: call before starting threads that read local time. */
int cc_time_set_zone(const char *zone, char *err, size_t errlen);

/* The local date and minute of the day of t in the process's zone. */
cc_local_time_t cc_time_local(time_t t);

/* The instant of a local wall time (DST resolved as mktime() does), or -1. */
time_t cc_time_from_local(cc_local_time_t local);

/* Milliseconds from now to the next local midnight, plus 200 ms so that a
 * timer set for it fires once the date has changed (DST-safe: the next
 * day's 00:00 is resolved by mktime()); 60 s when that cannot be found. */
uint64_t cc_time_ms_to_midnight(time_t now);

#endif
