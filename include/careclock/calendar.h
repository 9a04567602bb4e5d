/* The working-day calendar of one council: weekends plus the bank holidays of
 * its division, plus any days of its own, given as iCalendar text (the
 * files are read by config/holidays.c, careclock/holidays.h).
 *
 * Building a calendar allocates; once cc_calendar_finish() has run, every
 * query is constant time from precomputed tables and allocates nothing.
 *
 * Counting convention (docs/calendar.md):
 *  - N working days after D (N >= 1): D is day 0 and the answer is the Nth
 *    working day strictly after D. +0 working days is D when D is a working
 *    day, else the last working day before D.
 *  - N working days before D (N >= 1): the Nth working day strictly before D.
 *
 * Coverage: a calendar knows the years its holiday data covers. A working-day
 * computation that starts or lands outside them still returns the
 * weekends-only answer but reports CC_EUNCOVERED, which callers must surface.
 */
#ifndef CARECLOCK_CALENDAR_H
#define CARECLOCK_CALENDAR_H

#include "careclock/date.h"

#include <stddef.h>

typedef struct cc_calendar cc_calendar_t;

/* The span of the lookup tables. Dates outside it give CC_ERANGE. */
#define CC_CALENDAR_FIRST_YEAR 1900
#define CC_CALENDAR_LAST_YEAR 2199

/* Allocate an empty calendar (weekends only, covering no year) into *out.
 * Returns 0 or CC_ENOMEM. Free with cc_calendar_free(). */
int cc_calendar_new(cc_calendar_t **out);

/* Free a calendar; NULL is fine. */
void cc_calendar_free(cc_calendar_t *cal);

/* Add the non-working days of an iCalendar text (each VEVENT's all-day
 * DTSTART up to its exclusive DTEND, named by its SUMMARY); name (the file
 * it came from) starts every message. An X-CARECLOCK-COVERS:Y1-Y2 property
 * on the VCALENDAR (Y1 <= Y2, years a cc_date_t may name) widens the
 * covered years; a text without it (a council's own additions) leaves them
 * alone. May be called for several texts before cc_calendar_finish().
 * Reads no file: config/holidays.c does (careclock/holidays.h). On error
 * returns CC_EPARSE (or CC_ERANGE, CC_ENOMEM for an event) and writes
 * "NAME: what is wrong" into err (errlen bytes); the days added before the
 * error stay added. */
int cc_calendar_add_ics(cc_calendar_t *cal, const char *text, const char *name, char *err, size_t errlen);

/* Add one non-working day by hand (tests, councils' closures). name is
 * copied. Returns 0, CC_ERANGE or CC_ENOMEM. */
int cc_calendar_add_holiday(cc_calendar_t *cal, cc_date_t date, const char *name);

/* Declare the covered years explicitly (widening what is there); the
 * caller guarantees CC_DATE_MIN_YEAR <= first_year <= last_year <=
 * CC_DATE_MAX_YEAR. */
void cc_calendar_set_coverage(cc_calendar_t *cal, int first_year, int last_year);

/* Build the lookup tables. Must be called after the last load and before
 * any query (the queries below assert it: a holiday added since the last
 * finish is a caller's bug); may be called again after further loads.
 * Returns 0 or CC_ENOMEM. */
int cc_calendar_finish(cc_calendar_t *cal);

/* The covered years; both 0 when the calendar covers none. */
void cc_calendar_coverage(const cc_calendar_t *cal, int *first_year, int *last_year);

/* 1 if date lies in the covered years, else 0. */
int cc_calendar_covers(const cc_calendar_t *cal, cc_date_t date);

/* 1 if date is a working day, 0 if not (or outside the tables). */
int cc_calendar_is_working_day(const cc_calendar_t *cal, cc_date_t date);

/* Name of the holiday on date ("Boxing Day (substitute day)"), or NULL when
 * date is no holiday. The string belongs to the calendar. */
const char *cc_calendar_holiday_name(const cc_calendar_t *cal, cc_date_t date);

/* Add n working days (n may be negative) to date by the convention above.
 * Returns 0; CC_EUNCOVERED with *out still set when date or the answer lies
 * outside the covered years; CC_ERANGE when outside the tables. */
int cc_calendar_add_working_days(const cc_calendar_t *cal, cc_date_t date, int n, cc_date_t *out);

/* Count working days after from, up to and including to (negative when to
 * is before from). Same returns as above. */
int cc_calendar_working_days_between(const cc_calendar_t *cal, cc_date_t from, cc_date_t to, int *out);

#endif
