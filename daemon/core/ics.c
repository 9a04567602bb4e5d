/* The calendar feed renderer. See ics.h.
 *
 * Design note. Calendar clients are strict and remember what they saw, so
 * every choice here serves one of three invariants:
 *  - Valid: every property is built by libical and serialised by it (its
 *    escaping and its folding, which never splits a UTF-8 sequence); text
 *    from the database is cleaned first, so no stored value can contain a
 *    raw control character or invalid UTF-8.
 *  - Stable: the UID of a clock instance is a function of (child, rule,
 *    instance) only, so a recompute never duplicates an event, and
 *    history recorded later before a clock (which renumbers its seq)
 *    neither.
 *  - Deterministic: DTSTAMP and LAST-MODIFIED come from the row's
 *    updated_at (never from now), events are sorted by UID, and nothing
 *    else varies, so an unchanged feed is byte-identical and its ETag holds.
 */
#include "careclock/ics.h"
#include "careclock/calendar.h"
#include "careclock/message.h"
#include "careclock/privacy.h"
#include "careclock/error.h"

#include <assert.h>
#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRODID "-//careclock//statutory clocks//EN"
#define UID_DOMAIN "@careclock"

/* ---- text ---- */

/* Append text cleaned for a calendar: valid UTF-8 kept; any invalid byte
 * becomes U+FFFD; control characters (C0, including line breaks and tabs,
 * and DEL) become a space. NULL appends nothing. */
static void put_clean(cc_buf_t *out, const char *text)
{
    static const char replacement[] = "\xEF\xBF\xBD";
    const unsigned char *p = (const unsigned char *)(text ? text : "");
    while (*p) {
        unsigned c = *p;
        size_t n = 0;
        if (c >= 0x20 && c < 0x7f) {
            /* a run of printable ASCII, appended at once */
            const unsigned char *run = p;
            while (*p >= 0x20 && *p < 0x7f)
                p++;
            cc_buf_append(out, (const char *)run, (size_t)(p - run));
            continue;
        }
        if (c < 0x80) {
            cc_buf_append(out, " ", 1);
            p++;
            continue;
        }
        /* Well-formed sequences per Unicode Table 3-7. */
        if (c >= 0xc2 && c <= 0xdf)
            n = (p[1] >= 0x80 && p[1] <= 0xbf) ? 2 : 0;
        else if (c >= 0xe0 && c <= 0xef) {
            unsigned lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
            n = (p[1] >= lo && p[1] <= hi && p[2] >= 0x80 && p[2] <= 0xbf) ? 3 : 0;
        } else if (c >= 0xf0 && c <= 0xf4) {
            unsigned lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
            n = (p[1] >= lo && p[1] <= hi && p[2] >= 0x80 && p[2] <= 0xbf && p[3] >= 0x80 && p[3] <= 0xbf) ? 4
                                                                                                             : 0;
        }
        if (n == 0) {
            cc_buf_append(out, replacement, 3);
            p++;
        } else {
            cc_buf_append(out, (const char *)p, n);
            p += n;
        }
    }
}

static int empty(const char *s)
{
    return s == NULL || s[0] == '\0';
}

/* Percent-encode everything outside RFC 3986's unreserved characters,
 * with lower-case hex digits: python-icalendar 4 (Debian 12) reads the
 * upper-case sequences %2C %3A %3B %5C inside any value as its own escapes
 * for , : ; and \, and would show another UID than the one sent. */
static size_t put_encoded(char *buf, size_t len, size_t at, const char *text)
{
    static const char hex[] = "0123456789abcdef";
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        int plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' ||
                    *p == '_' || *p == '~' || *p == '-';
        char enc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
        for (int i = 0; i < (plain ? 1 : 3); i++, at++)
            if (at + 1 < len)
                buf[at] = plain ? (char)*p : enc[i];
    }
    return at;
}

size_t cc_ics_uid(const char *child_id, const char *rule_id, const char *instance, char *buf, size_t len)
{
    static const char tail[] = UID_DOMAIN;
    assert(instance != NULL); /* never "": a UID that names no instance would name them all */
    size_t at = put_encoded(buf, len, 0, child_id ? child_id : "");
    at = put_encoded(buf, len, at, "-");
    at = put_encoded(buf, len, at, rule_id ? rule_id : "");
    at = put_encoded(buf, len, at, "-");
    at = put_encoded(buf, len, at, instance);
    for (size_t i = 0; i < sizeof(tail) - 1; i++, at++)
        if (at + 1 < len)
            buf[at] = tail[i];
    if (len > 0)
        buf[at < len ? at : len - 1] = '\0';
    return at;
}

/* "C1234 (A.B.)", "C1234", or "C1234 (Alice Brown)" under privacy. */
static void put_child(cc_buf_t *out, cc_privacy_t privacy, const cc_ics_clock_t *c)
{
    const char *extra = cc_privacy_shown(privacy, c->initials, c->full_name, 1);
    put_clean(out, c->child_id);
    if (extra != NULL) {
        cc_buf_puts(out, " (");
        put_clean(out, extra);
        cc_buf_puts(out, ")");
    }
}

static const char *title_of(const cc_ics_clock_t *c)
{
    return empty(c->title) ? c->rule_id : c->title;
}

int cc_ics_summary(cc_privacy_t privacy, const cc_ics_clock_t *c, cc_buf_t *out)
{
    switch (c->status) {
    case CC_STATUS_OVERDUE:
        cc_buf_puts(out, "OVERDUE: ");
        break;
    case CC_STATUS_MET:
    case CC_STATUS_MET_LATE:
        cc_buf_puts(out, "Done: ");
        break;
    case CC_STATUS_CANCELLED:
        cc_buf_puts(out, "Cancelled: ");
        break;
    default:
        break;
    }
    put_clean(out, title_of(c));
    cc_buf_puts(out, " due: ");
    put_child(out, privacy, c);
    return out->failed ? CC_ENOMEM : 0;
}

static const char *human(cc_date_t d, char *buf, size_t len)
{
    return cc_date_format_human(d, buf, len);
}

/* The DESCRIPTION: what it is, its status, what started it, the worker and
 * the statutory source, one item a line. */
static void put_description(cc_buf_t *out, cc_privacy_t privacy, const cc_ics_clock_t *c)
{
    char due[32], day[32];
    put_clean(out, title_of(c));
    cc_buf_puts(out, " for ");
    put_child(out, privacy, c);
    human(c->due, due, sizeof(due));
    cc_buf_puts(out, "\nStatus: ");
    switch (c->status) {
    case CC_STATUS_OPEN:
        cc_buf_printf(out, "open, due %s", due);
        break;
    case CC_STATUS_DUE_SOON:
        cc_buf_printf(out, "due soon, due %s", due);
        break;
    case CC_STATUS_OVERDUE:
        cc_buf_printf(out, "overdue, was due %s", due);
        break;
    case CC_STATUS_MET:
    case CC_STATUS_MET_LATE:
        cc_buf_printf(out, "%s", c->status == CC_STATUS_MET ? "met" : "met late");
        if (c->met_on != CC_DATE_NONE)
            cc_buf_printf(out, " on %s", human(c->met_on, day, sizeof(day)));
        cc_buf_printf(out, ", due %s", due);
        break;
    case CC_STATUS_CANCELLED:
        cc_buf_puts(out, "cancelled");
        if (!empty(c->reason)) {
            cc_buf_puts(out, ": ");
            put_clean(out, c->reason);
        }
        break;
    default:
        cc_buf_puts(out, cc_status_name(c->status));
        break;
    }
    /* An extension in force (issue 17): the statutory date above stays. */
    if (c->agreed != CC_DATE_NONE && c->due != CC_DATE_NONE && c->agreed > c->due &&
        c->status != CC_STATUS_MET && c->status != CC_STATUS_CANCELLED)
        cc_buf_printf(out, "\nExtended by agreement to %s", human(c->agreed, day, sizeof(day)));
    if (c->start != CC_DATE_NONE) {
        cc_buf_puts(out, "\nStarted by: ");
        if (!empty(c->start_event)) {
            size_t at = out->len;
            put_clean(out, c->start_event);
            for (size_t i = at; i < out->len && out->data; i++)
                if (out->data[i] == '_')
                    out->data[i] = ' ';
            cc_buf_puts(out, " on ");
        }
        cc_buf_puts(out, human(c->start, day, sizeof(day)));
    }
    if (!empty(c->worker_name)) {
        cc_buf_puts(out, "\nWorker: ");
        put_clean(out, c->worker_name);
    }
    if (!empty(c->source)) {
        cc_buf_puts(out, "\nSource: ");
        put_clean(out, c->source);
    }
    cc_buf_puts(out, "\nClock: ");
    put_clean(out, c->rule_id);
    cc_buf_printf(out, " %d", c->seq);
}

/* ---- retention ---- */

int cc_ics_shown(const cc_ics_feed_t *feed, const cc_ics_clock_t *c)
{
    /* A cancelled clock leaves at once: nothing is owed, and a "Cancelled"
     * event in this week's view is only clutter. */
    if (c->due == CC_DATE_NONE || c->status == CC_STATUS_DATA_ERROR || c->status == CC_STATUS_CANCELLED)
        return 0;
    if (c->status != CC_STATUS_MET && c->status != CC_STATUS_MET_LATE && c->status != CC_STATUS_CANCELLED)
        return 1;
    cc_date_t done = c->due;
    if (c->status != CC_STATUS_CANCELLED && c->met_on != CC_DATE_NONE)
        done = c->met_on;
    int keep = feed->retention_days > 0 ? feed->retention_days : 0;
    return (int64_t)done + keep >= (int64_t)feed->today;
}

/* ---- libical ---- */

static struct icaltimetype ical_date(cc_date_t d)
{
    struct icaltimetype t = icaltime_null_date();
    cc_date_to_ymd(d, &t.year, &t.month, &t.day);
    return t;
}

/* Parse "YYYY-MM-DDTHH:MM:SSZ"; 0 on success. */
static int parse_stamp(const char *s, int f[6])
{
    char tail;
    if (s == NULL || strlen(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || s[19] != 'Z')
        return -1;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &tail) != 7)
        return -1;
    if (!cc_date_valid(f[0], f[1], f[2]) || f[3] > 23 || f[4] > 59 || f[5] > 60 || f[3] < 0 || f[4] < 0 || f[5] < 0)
        return -1;
    return 0;
}

/* The row's updated_at as a UTC date-time; a malformed stamp (written by
 * another system) falls back to midnight UTC of the due date, which is
 * still deterministic. */
static struct icaltimetype ical_stamp(const cc_ics_clock_t *c)
{
    struct icaltimetype t = icaltime_null_time();
    int f[6];
    if (parse_stamp(c->updated_at, f) == 0) {
        t.year = f[0];
        t.month = f[1];
        t.day = f[2];
        t.hour = f[3];
        t.minute = f[4];
        t.second = f[5] > 59 ? 59 : f[5];
    } else {
        cc_date_to_ymd(c->due, &t.year, &t.month, &t.day);
    }
    t.zone = icaltimezone_get_utc_timezone();
    return t;
}

/* Append libical's serialisation, mending its folding. libical 3.0.16
 * (Debian 12) folds a value with no space in it wrongly when it is 73 + 74k
 * octets long: the fold lands inside the line's own CRLF, giving CR, then
 * CRLF SP, then LF (found by tests/fuzz/fuzz_ics.c: the UID of a long child
 * id and rule id; a title can do it too). A bare CR or LF is not allowed in
 * iCalendar and clients differ on what they make of it, so that sequence is
 * written as the CRLF it should have been; everything else is copied as it
 * is. */
static int put_folded(cc_buf_t *out, const char *text)
{
    static const char broken[] = "\r\r\n \n";
    const char *p = text, *run = text;
    while ((p = strstr(p, broken)) != NULL) {
        cc_buf_append(out, run, (size_t)(p - run));
        cc_buf_puts(out, "\r\n");
        p += sizeof(broken) - 1;
        run = p;
    }
    cc_buf_puts(out, run);
    return out->failed ? CC_ENOMEM : 0;
}

typedef struct {
    int failed;
} adder_t;

static void add(adder_t *a, icalcomponent *comp, icalproperty *prop)
{
    if (prop == NULL) {
        a->failed = 1;
        return;
    }
    icalcomponent_add_property(comp, prop);
}

/* An X- property. libical writes an x-value escaping only backslashes and
 * line breaks (even with VALUE=TEXT), and readers differ on what an
 * X- property's commas mean: python-vobject (Radicale) cut
 * "careclock: Smith, Jones" at the comma. So the value, already cleaned of
 * control characters, loses every ',', ';' and '\\' (a name reads the
 * same without them) and no reader can split it. */
static void add_x(adder_t *a, icalcomponent *comp, const char *name, const char *value)
{
    cc_buf_t plain;
    cc_buf_init(&plain);
    for (const char *p = value; *p; p++)
        if (*p != ',' && *p != ';' && *p != '\\')
            cc_buf_append(&plain, p, 1);
    icalproperty *prop = plain.failed ? NULL : icalproperty_new_x(cc_buf_str(&plain));
    if (prop != NULL)
        icalproperty_set_x_name(prop, name);
    add(a, comp, prop);
    cc_buf_free(&plain);
}

typedef struct {
    char *uid;
    size_t index;
} order_t;

static int by_uid(const void *x, const void *y)
{
    const order_t *a = x, *b = y;
    int c = strcmp(a->uid, b->uid);
    return c != 0 ? c : (a->index > b->index) - (a->index < b->index);
}

static icalcomponent *make_event(adder_t *a, const cc_ics_feed_t *feed, const cc_ics_clock_t *c, const char *uid,
                                 cc_buf_t *text)
{
    icalcomponent *ev = icalcomponent_new_vevent();
    if (ev == NULL) {
        a->failed = 1;
        return NULL;
    }
    struct icaltimetype stamp = ical_stamp(c);
    add(a, ev, icalproperty_new_uid(uid));
    add(a, ev, icalproperty_new_dtstamp(stamp));
    add(a, ev, icalproperty_new_dtstart(ical_date(c->due)));
    add(a, ev, icalproperty_new_dtend(ical_date(c->due + 1)));
    add(a, ev, icalproperty_new_sequence(c->sequence < 0 ? 0 : c->sequence > INT32_MAX ? INT32_MAX : (int)c->sequence));
    cc_buf_reset(text);
    cc_ics_summary(feed->privacy, c, text);
    add(a, ev, icalproperty_new_summary(cc_buf_str(text)));
    cc_buf_reset(text);
    put_description(text, feed->privacy, c);
    add(a, ev, icalproperty_new_description(cc_buf_str(text)));
    /* CATEGORIES is a list: a comma inside the id would split it. */
    cc_buf_reset(text);
    put_clean(text, c->rule_id);
    for (size_t i = 0; i < text->len && text->data; i++)
        if (text->data[i] == ',' || text->data[i] == ';' || text->data[i] == '\\')
            text->data[i] = '_';
    add(a, ev, icalproperty_new_categories(cc_buf_str(text)));
    add(a, ev, icalproperty_new_class(ICAL_CLASS_PRIVATE));
    add(a, ev, icalproperty_new_transp(ICAL_TRANSP_TRANSPARENT));
    if (c->status == CC_STATUS_CANCELLED)
        add(a, ev, icalproperty_new_status(ICAL_STATUS_CANCELLED));
    add(a, ev, icalproperty_new_lastmodified(stamp));
    if (text->failed)
        a->failed = 1;
    return ev;
}

/* ---- overdue, on today's date ---- */

/* 1 if c is overdue on feed->today: the clocks table says so, or it is
 * still open with its due date passed (the feed is rendered for today). */
static int overdue_today(const cc_ics_feed_t *feed, const cc_ics_clock_t *c)
{
    if (c->due == CC_DATE_NONE)
        return 0;
    if (c->status == CC_STATUS_OVERDUE)
        return 1;
    return (c->status == CC_STATUS_OPEN || c->status == CC_STATUS_DUE_SOON) && c->due < feed->today;
}

static int working_days_late(const cc_ics_feed_t *feed, cc_date_t due)
{
    int n = feed->today - due;
    if (feed->cal != NULL) {
        int wd = 0, rc = cc_calendar_working_days_between(feed->cal, due, feed->today, &wd);
        if (rc == 0 || rc == CC_EUNCOVERED)
            n = wd;
    }
    return n;
}

typedef struct {
    size_t index;
    const char *child;
    cc_date_t due;
} late_t;

static int by_child_then_due(const void *x, const void *y)
{
    const late_t *a = x, *b = y;
    int c = strcmp(a->child, b->child);
    if (c != 0)
        return c;
    if (a->due != b->due)
        return a->due < b->due ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

/* Today's midnight UTC, as a date-time. */
static struct icaltimetype midnight_utc(const cc_ics_feed_t *feed)
{
    struct icaltimetype stamp = ical_date(feed->today);
    stamp.is_date = 0;
    stamp.hour = stamp.minute = stamp.second = 0;
    stamp.zone = icaltimezone_get_utc_timezone();
    return stamp;
}

/* An all-day event on today's date with uid: SEQUENCE today's day number
 * and DTSTAMP today's midnight UTC, so that it is the same bytes all day
 * and newer each day. NULL (a->failed) when out of memory. */
static icalcomponent *today_event(adder_t *a, const cc_ics_feed_t *feed, const char *uid)
{
    icalcomponent *ev = icalcomponent_new_vevent();
    if (ev == NULL) {
        a->failed = 1;
        return NULL;
    }
    add(a, ev, icalproperty_new_uid(uid));
    add(a, ev, icalproperty_new_dtstamp(midnight_utc(feed)));
    add(a, ev, icalproperty_new_dtstart(ical_date(feed->today)));
    add(a, ev, icalproperty_new_dtend(ical_date(feed->today + 1)));
    add(a, ev, icalproperty_new_sequence(feed->today < 0 ? 0 : (int)feed->today));
    return ev;
}

/* The rest of a today_event: DESCRIPTION text, CATEGORIES category,
 * private, transparent (it blocks no time), LAST-MODIFIED today's
 * midnight UTC. Returns ev (a->failed when text ran out of memory). */
static icalcomponent *today_event_end(adder_t *a, const cc_ics_feed_t *feed, icalcomponent *ev, const cc_buf_t *text,
                                      const char *category)
{
    add(a, ev, icalproperty_new_description(cc_buf_str(text)));
    add(a, ev, icalproperty_new_categories(category));
    add(a, ev, icalproperty_new_class(ICAL_CLASS_PRIVATE));
    add(a, ev, icalproperty_new_transp(ICAL_TRANSP_TRANSPARENT));
    add(a, ev, icalproperty_new_lastmodified(midnight_utc(feed)));
    if (text->failed)
        a->failed = 1;
    return ev;
}

/* One all-day event on today's date for a child with overdue clocks
 * (group: k of them, the oldest first), so that they sit in this week's
 * view and not only on their old due dates. Its UID is the child's own
 * ("<child>-overdue-today-0@careclock"), so it moves from day to day
 * rather than piling up; SEQUENCE is today's day number, so it only
 * grows; DTSTAMP is today's midnight UTC: the same bytes all day. */
static icalcomponent *make_overdue_event(adder_t *a, const cc_ics_feed_t *feed, const cc_ics_clock_t *clocks,
                                         const late_t *group, size_t k, const char *uid, cc_buf_t *text)
{
    const cc_ics_clock_t *first = &clocks[group[0].index];
    char due[32];
    icalcomponent *ev = today_event(a, feed, uid);
    if (ev == NULL)
        return NULL;
    int worst = working_days_late(feed, first->due);
    cc_buf_reset(text);
    cc_buf_puts(text, "Overdue: ");
    put_child(text, feed->privacy, first);
    if (k > 1)
        cc_buf_printf(text, ", %zu items, the oldest ", k);
    else
        cc_buf_puts(text, ", ");
    put_clean(text, title_of(first));
    cc_buf_printf(text, " by %d %sday%s", worst, feed->cal ? "working " : "", worst == 1 ? "" : "s");
    add(a, ev, icalproperty_new_summary(cc_buf_str(text)));
    cc_buf_reset(text);
    cc_buf_puts(text, "Overdue today for ");
    put_child(text, feed->privacy, first);
    cc_buf_puts(text, ":");
    for (size_t i = 0; i < k; i++) {
        const cc_ics_clock_t *c = &clocks[group[i].index];
        int late = working_days_late(feed, c->due);
        cc_buf_puts(text, "\n- ");
        put_clean(text, title_of(c));
        cc_buf_printf(text, ": due %s, overdue by %d %sday%s", human(c->due, due, sizeof(due)), late,
                      feed->cal ? "working " : "", late == 1 ? "" : "s");
    }
    if (!empty(first->worker_name)) {
        cc_buf_puts(text, "\nWorker: ");
        put_clean(text, first->worker_name);
    }
    cc_buf_t url;
    cc_buf_init(&url);
    cc_message_child_url(feed->public_url, first->child_id, &url);
    if (url.len > 0) {
        cc_buf_puts(text, "\n");
        put_clean(text, cc_buf_str(&url));
        add(a, ev, icalproperty_new_url(cc_buf_str(&url)));
    }
    cc_buf_free(&url);
    return today_event_end(a, feed, ev, text, "overdue");
}

typedef struct {
    char *uid; /* owned */
    icalcomponent *ev;
} extra_t;

/* The UID of a child's event on today ("<child>-KIND-0@careclock"; KIND
 * overdue-today or error-today), allocated: a child id of any length
 * keeps its "@careclock". NULL when out of memory. */
static char *today_uid(const char *child_id, const char *kind)
{
    size_t need = cc_ics_uid(child_id, kind, "0", NULL, 0) + 1;
    char *uid = malloc(need);
    if (uid != NULL)
        cc_ics_uid(child_id, kind, "0", uid, need);
    return uid;
}

/* One all-day event on today's date for a child whose data is in error
 * (issue 17 item 8: never silent), until the data is mended: UID
 * "<child>-error-today-0@careclock", SEQUENCE today's day number, DTSTAMP
 * today's midnight UTC, as the overdue-today events. */
static icalcomponent *make_error_event(adder_t *a, const cc_ics_feed_t *feed, const cc_ics_clock_t *c, const char *uid,
                                       cc_buf_t *text)
{
    icalcomponent *ev = today_event(a, feed, uid);
    if (ev == NULL)
        return NULL;
    cc_buf_reset(text);
    cc_buf_puts(text, "DATA ERROR: ");
    put_child(text, feed->privacy, c);
    cc_buf_puts(text, ": deadlines cannot be computed");
    add(a, ev, icalproperty_new_summary(cc_buf_str(text)));
    cc_buf_reset(text);
    put_child(text, feed->privacy, c);
    cc_buf_puts(text, ": this child's deadlines cannot be computed: ");
    put_clean(text, empty(c->reason) ? "the data cannot be evaluated" : c->reason);
    cc_buf_puts(text, "\nIts clocks are not computed, nor reminded, until the data is corrected (careclock explain ");
    put_clean(text, c->child_id);
    cc_buf_puts(text, " data).");
    if (!empty(c->worker_name)) {
        cc_buf_puts(text, "\nWorker: ");
        put_clean(text, c->worker_name);
    }
    return today_event_end(a, feed, ev, text, "data-error");
}

/* The overdue-today events (one per child with overdue clocks among the
 * shown ones, order[0..shown)) into *out, in UID order, *n of them. */
static int overdue_events(adder_t *a, const cc_ics_feed_t *feed, const cc_ics_clock_t *clocks, size_t nclocks,
                          const order_t *order, size_t shown, cc_buf_t *text, extra_t **out, size_t *n)
{
    late_t *late = calloc(shown ? shown : 1, sizeof(*late));
    extra_t *extra = calloc(shown + nclocks + 1, sizeof(*extra));
    size_t nl = 0;
    *out = NULL;
    *n = 0;
    if (late == NULL || extra == NULL) {
        free(late);
        free(extra);
        return CC_ENOMEM;
    }
    *out = extra;
    for (size_t k = 0; feed->overdue_today && k < shown; k++) {
        const cc_ics_clock_t *c = &clocks[order[k].index];
        if (overdue_today(feed, c))
            late[nl++] = (late_t){order[k].index, c->child_id, c->due};
    }
    /* Data errors: one event each (a child has one), whatever overdue_today. */
    for (size_t k = 0; k < nclocks && !a->failed; k++) {
        if (clocks[k].status != CC_STATUS_DATA_ERROR)
            continue;
        char *uid = today_uid(clocks[k].child_id, "error-today");
        if (uid == NULL) {
            a->failed = 1;
            break;
        }
        int twice = 0; /* one event per child, however many rows say so */
        for (size_t j = 0; j < *n && !twice; j++)
            twice = strcmp(extra[j].uid, uid) == 0;
        icalcomponent *ev = twice ? NULL : make_error_event(a, feed, &clocks[k], uid, text);
        if (ev == NULL) {
            free(uid);
            continue;
        }
        extra[*n].uid = uid;
        extra[(*n)++].ev = ev;
    }
    qsort(late, nl, sizeof(*late), by_child_then_due);
    for (size_t i = 0; i < nl && !a->failed;) {
        size_t j = i;
        while (j < nl && strcmp(late[j].child, late[i].child) == 0)
            j++;
        char *uid = today_uid(late[i].child, "overdue-today");
        icalcomponent *ev = uid ? make_overdue_event(a, feed, clocks, &late[i], j - i, uid, text) : NULL;
        if (ev != NULL) {
            extra[*n].uid = uid;
            extra[(*n)++].ev = ev;
        } else {
            a->failed = a->failed || uid == NULL;
            free(uid);
        }
        i = j;
    }
    free(late);
    /* by child id is not quite by UID ("C1-" against "C10-"): sort */
    for (size_t i = 1; i < *n; i++)
        for (size_t k = i; k > 0 && strcmp(extra[k - 1].uid, extra[k].uid) > 0; k--) {
            extra_t t = extra[k - 1];
            extra[k - 1] = extra[k];
            extra[k] = t;
        }
    return 0;
}

int cc_ics_render(const cc_ics_feed_t *feed, const cc_ics_clock_t *clocks, size_t n, cc_buf_t *out,
                  cc_ics_info_t *info, char *err, size_t errlen)
{
    icalcomponent *cal = NULL;
    order_t *order = NULL;
    size_t shown = 0;
    char *ttl = NULL, *serialised = NULL;
    cc_buf_t text;
    adder_t a = {0};
    int rc = CC_ENOMEM;
    cc_buf_init(&text);
    if (info != NULL)
        memset(info, 0, sizeof(*info));
    if (feed == NULL || empty(feed->name)) {
        cc_set_err(err, errlen, "the feed has no name");
        return CC_EINVAL;
    }
    for (size_t i = 0; i < n; i++)
        if (empty(clocks[i].child_id) || empty(clocks[i].rule_id) || empty(clocks[i].instance)) {
            if (err != NULL && errlen > 0)
                snprintf(err, errlen, "clock %zu has no %s", i,
                         empty(clocks[i].instance) && !empty(clocks[i].child_id) && !empty(clocks[i].rule_id)
                             ? "instance"
                             : "child or rule id");
            return CC_EINVAL;
        }
    order = calloc(n ? n : 1, sizeof(*order));
    if (order == NULL)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (!cc_ics_shown(feed, &clocks[i]))
            continue;
        size_t need = cc_ics_uid(clocks[i].child_id, clocks[i].rule_id, clocks[i].instance, NULL, 0) + 1;
        order[shown].uid = malloc(need);
        if (order[shown].uid == NULL)
            goto out;
        cc_ics_uid(clocks[i].child_id, clocks[i].rule_id, clocks[i].instance, order[shown].uid, need);
        order[shown++].index = i;
    }
    if (shown > 1)
        qsort(order, shown, sizeof(*order), by_uid);

    cal = icalcomponent_new_vcalendar();
    if (cal == NULL)
        goto out;
    add(&a, cal, icalproperty_new_prodid(PRODID));
    add(&a, cal, icalproperty_new_version("2.0"));
    add(&a, cal, icalproperty_new_calscale("GREGORIAN"));
    put_clean(&text, feed->name);
    add_x(&a, cal, "X-WR-CALNAME", cc_buf_str(&text));
    add(&a, cal, icalproperty_new_name(cc_buf_str(&text)));
    if (!empty(feed->timezone)) {
        cc_buf_reset(&text);
        put_clean(&text, feed->timezone);
        add_x(&a, cal, "X-WR-TIMEZONE", cc_buf_str(&text));
    }
    struct icaldurationtype every = icaldurationtype_from_int((feed->ttl_minutes > 0 ? feed->ttl_minutes : 60) * 60);
    icalproperty *refresh = icalproperty_new_refreshinterval(every);
    if (refresh != NULL)
        icalproperty_add_parameter(refresh, icalparameter_new_value(ICAL_VALUE_DURATION));
    add(&a, cal, refresh);
    ttl = icaldurationtype_as_ical_string_r(every);
    if (ttl == NULL)
        goto out;
    add_x(&a, cal, "X-PUBLISHED-TTL", ttl);
    if (!empty(feed->url)) {
        cc_buf_reset(&text);
        put_clean(&text, feed->url);
        add(&a, cal, icalproperty_new_url(cc_buf_str(&text)));
    }
    extra_t *extra = NULL;
    size_t nextra = 0, next_extra = 0;
    if (overdue_events(&a, feed, clocks, n, order, shown, &text, &extra, &nextra) != 0)
        goto out;
    for (size_t k = 0; k <= shown && !a.failed; k++) {
        /* every event in UID order: the overdue-today ones among the rest */
        while (next_extra < nextra && (k == shown || strcmp(extra[next_extra].uid, order[k].uid) < 0))
            icalcomponent_add_component(cal, extra[next_extra++].ev);
        if (k == shown)
            break;
        const cc_ics_clock_t *c = &clocks[order[k].index];
        icalcomponent *ev = make_event(&a, feed, c, order[k].uid, &text);
        if (ev != NULL)
            icalcomponent_add_component(cal, ev);
        if (info != NULL && !empty(c->updated_at) && strlen(c->updated_at) < sizeof(info->last_modified) &&
            strcmp(c->updated_at, info->last_modified) > 0)
            snprintf(info->last_modified, sizeof(info->last_modified), "%s", c->updated_at);
    }
    while (next_extra < nextra) /* not added when rendering failed: freed here */
        icalcomponent_free(extra[next_extra++].ev);
    for (size_t i = 0; i < nextra; i++)
        free(extra[i].uid);
    free(extra);
    extra = NULL;
    if (a.failed || text.failed)
        goto out;
    serialised = icalcomponent_as_ical_string_r(cal);
    if (serialised == NULL || put_folded(out, serialised) != 0)
        goto out;
    if (info != NULL)
        info->events = shown + nextra;
    rc = 0;
out:
    if (rc == CC_ENOMEM)
        cc_set_err(err, errlen, "out of memory");
    if (serialised != NULL)
        icalmemory_free_buffer(serialised);
    if (ttl != NULL)
        icalmemory_free_buffer(ttl);
    if (cal != NULL)
        icalcomponent_free(cal);
    for (size_t k = 0; order != NULL && k < shown; k++)
        free(order[k].uid);
    free(order);
    cc_buf_free(&text);
    return rc;
}
