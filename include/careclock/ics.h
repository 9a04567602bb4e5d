/* The calendar feed renderer: pure code. A feed description and clock rows
 * in; iCalendar (RFC 5545) text out, built and serialised with libical. No
 * I/O, no clock reads: today is a parameter.
 *
 * What it writes (docs/feeds.md):
 *  - VCALENDAR: PRODID, VERSION, CALSCALE, X-WR-CALNAME and NAME,
 *    X-WR-TIMEZONE, REFRESH-INTERVAL;VALUE=DURATION and X-PUBLISHED-TTL, an
 *    optional URL; no METHOD (a published feed, not an invitation).
 *  - One all-day VEVENT per clock instance on its due date (DTSTART;VALUE=
 *    DATE, DTEND the next day, exclusive), with UID "<child>-<rule>-
 *    <instance>@careclock" (each percent-encoded, lower-case hex, outside
 *    [A-Za-z0-9._~-]; the instance is the clock's identity, engine.h
 *    cc_clock_key, which history recorded before it does not move),
 *    DTSTAMP and LAST-MODIFIED the row's updated_at, SEQUENCE the row's
 *    sequence, SUMMARY, DESCRIPTION, CATEGORIES (the clock id), CLASS:PRIVATE,
 *    TRANSP:TRANSPARENT, and STATUS:CANCELLED for a cancelled clock.
 *  - Met and met late clocks stay retention_days after the day they were
 *    met, then leave; cancelled clocks, data_error rows and rows without a
 *    due date are never shown.
 *  - With overdue_today, one more all-day event on today's date for each
 *    child with overdue clocks ("Overdue: C1 (A.B.), 3 items, the oldest
 *    Care plan by 12 working days"), listing them, so that a manager's
 *    week view shows what is late now and not only on the old due dates;
 *    UID "<child>-overdue-today-0@careclock", the same every day.
 *  - Events sorted by UID. The same input gives the same bytes.
 *
 * Text from the database is cleaned before libical escapes it: invalid
 * UTF-8 becomes U+FFFD, line breaks and other control characters become
 * spaces (so no stored name can add a line or a property), then libical
 * escapes commas, semicolons, backslashes and the description's own line
 * breaks and folds lines at 75 octets without splitting a character.
 */
#ifndef CARECLOCK_ICS_H
#define CARECLOCK_ICS_H

#include "careclock/buf.h"
#include "careclock/calendar.h"
#include "careclock/privacy.h"
#include "careclock/date.h"
#include "careclock/engine.h"

#include <stddef.h>
#include <stdint.h>

/* The calendar as a whole. Strings are borrowed for the call. */
typedef struct {
    const char *name;       /* X-WR-CALNAME and NAME: "careclock: East team"; required */
    const char *timezone;   /* X-WR-TIMEZONE: "Europe/London"; NULL to omit */
    int ttl_minutes;        /* REFRESH-INTERVAL and X-PUBLISHED-TTL; <= 0: 60 */
    cc_privacy_t privacy;   /* what SUMMARY and DESCRIPTION say about a child */
    const char *url;        /* URL of the calendar; NULL to omit */
    cc_date_t today;        /* for retention, and the day overdue clocks are shown on */
    int retention_days;     /* met clocks stay this long; < 0: 0 */
    int overdue_today;      /* 1: also one event on today per child with overdue clocks */
                            /* (a child whose data is in error always has one on today, "DATA ERROR: ...") */
    const cc_calendar_t *cal; /* working days late; NULL: calendar days */
    const char *public_url; /* the overdue events' link to the child's page; NULL: none */
} cc_ics_feed_t;

/* One clock instance with what the feed shows of its child and worker.
 * Strings are borrowed; NULL and "" both mean none. */
typedef struct {
    const char *child_id;    /* required */
    const char *initials;    /* shown with privacy initials or full */
    const char *full_name;   /* shown only with privacy full; initials otherwise */
    const char *rule_id;     /* required: "care_plan" */
    const char *title;       /* "Care plan"; the rule id when empty */
    const char *source;      /* the rule's statutory source */
    const char *instance;    /* required: the identity ("812.2"), which the UID names */
    int seq;                 /* shown in the description (careclock explain CHILD CLOCK SEQ) */
    cc_date_t start, due, met_on; /* CC_DATE_NONE when none; no due: not shown */
    cc_status_t status;
    cc_date_t agreed;        /* an extension in force: the agreed date (only one after due counts); CC_DATE_NONE */
    const char *start_event; /* type of the event that started it: "placement_start" */
    const char *reason;      /* cancelled, data_error: why, in words */
    const char *worker_name; /* the allocated worker's name */
    const char *updated_at;  /* "YYYY-MM-DDTHH:MM:SSZ": DTSTAMP and LAST-MODIFIED */
    int64_t sequence;        /* SEQUENCE (clocks.sequence) */
} cc_ics_clock_t;

/* What a render produced. */
typedef struct {
    size_t events;               /* VEVENTs written */
    char last_modified[21];      /* latest updated_at among them, "" when none */
    size_t names_not_shown;      /* set by cc_feeds_render: names over CC_NAME_MAX left out */
} cc_ics_info_t;

/* Render the feed into out (appended). info may be NULL. Returns 0,
 * CC_EINVAL (no name, or a clock without child id, rule id or instance;
 * err says which)
 * or CC_ENOMEM. On error out may hold a partial text; discard it. */
int cc_ics_render(const cc_ics_feed_t *feed, const cc_ics_clock_t *clocks, size_t n, cc_buf_t *out,
                  cc_ics_info_t *info, char *err, size_t errlen);

/* 1 if the clock is in the feed on feed->today: it has a due date, is not
 * data_error, and is not done longer than retention_days ago. */
int cc_ics_shown(const cc_ics_feed_t *feed, const cc_ics_clock_t *clock);

/* The UID of a clock instance into buf (NUL-terminated; truncated to len).
 * Returns the length it needed, without the NUL. */
size_t cc_ics_uid(const char *child_id, const char *rule_id, const char *instance, char *buf, size_t len);

/* The SUMMARY line of a clock under privacy into out (appended), before
 * escaping: "OVERDUE: Care plan due: C1234 (A.B.)". */
int cc_ics_summary(cc_privacy_t privacy, const cc_ics_clock_t *clock, cc_buf_t *out);

#endif
