/* Unit tests for daemon/core/ics.c: the calendar feed renderer.
 *
 * Golden files: the .ics files in tests/fixtures/ics hold the exact bytes each scenario
 * must render. To regenerate them after a deliberate change, run this
 * binary with CC_UPDATE_GOLDEN=1 and review the diff before committing.
 * Every rendered feed is also parsed back with libical, and every component
 * is walked for X-LIC-ERROR properties (libical's parse errors); the
 * integration tests parse the same files with python3-icalendar. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "careclock/buf.h"
#include "careclock/date.h"
#include "careclock/engine.h"
#include "careclock/error.h"
#include "careclock/ics.h"

#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GOLDEN_DIR CC_SOURCE_DIR "/tests/fixtures/ics"

static cc_date_t iso(const char *s)
{
    cc_date_t d;
    if (s == NULL)
        return CC_DATE_NONE;
    assert_int_equal(cc_date_parse_iso(s, &d), 0);
    return d;
}

static cc_ics_feed_t feed_of(cc_privacy_t privacy)
{
    cc_ics_feed_t f = {.name = "careclock: East team",
                       .timezone = "Europe/London",
                       .ttl_minutes = 60,
                       .privacy = privacy,
                       .url = NULL,
                       .today = iso("2026-11-30"),
                       .retention_days = 30};
    return f;
}

/* A clock row as a test writes it. */
typedef struct {
    const char *child, *initials, *name, *rule, *title, *source;
    int seq;
    const char *start, *due, *met;
    cc_status_t status;
    const char *start_event, *reason, *worker, *updated;
    int64_t sequence;
} row_t;

/* A row's instance (its identity, which the UID names): the instance
 * of a chain that event 42 began, numbered as the row's seq, so that the
 * rows of this file keep their UIDs' order. */
static const char *instance_of(int seq)
{
    static const char *const keys[] = {"42.0", "42.1", "42.2", "42.3", "42.4", "42.5", "42.6", "42.7", "42.8"};
    assert_true(seq >= 1 && seq < (int)(sizeof(keys) / sizeof(keys[0])));
    return keys[seq];
}

static cc_ics_clock_t clock_of(const row_t *r)
{
    cc_ics_clock_t c = {.child_id = r->child,
                        .agreed = CC_DATE_NONE,
                        .instance = instance_of(r->seq),
                        .initials = r->initials,
                        .full_name = r->name,
                        .rule_id = r->rule,
                        .title = r->title,
                        .source = r->source,
                        .seq = r->seq,
                        .start = iso(r->start),
                        .due = iso(r->due),
                        .met_on = iso(r->met),
                        .status = r->status,
                        .start_event = r->start_event,
                        .reason = r->reason,
                        .worker_name = r->worker,
                        .updated_at = r->updated,
                        .sequence = r->sequence};
    return c;
}

#define CP_SRC "CPPCR 2010 reg 4(2); local guidance"
#define RV_SRC "CPPCR 2010 reg 33(1)"

/* A team's clocks in every status, listed out of UID order. */
static const row_t team_rows[] = {
    {"C1002", "D.E.", "Dan Evans", "review", "LAC review", RV_SRC, 1, "2026-11-02", "2026-11-30", NULL,
     CC_STATUS_DUE_SOON, "looked_after_start", NULL, "Wendy Worker", "2026-11-23T07:00:00Z", 1},
    {"C1001", "A.B.", "Alice Brown", "care_plan", "Care plan", CP_SRC, 1, "2026-11-02", "2026-11-16", NULL,
     CC_STATUS_OVERDUE, "placement_start", NULL, "Wendy Worker", "2026-11-17T06:00:00Z", 2},
    {"C1001", "A.B.", "Alice Brown", "review", "LAC review", RV_SRC, 1, "2026-11-02", "2026-11-30", "2026-11-27",
     CC_STATUS_MET, "looked_after_start", NULL, "Wendy Worker", "2026-11-27T16:05:09Z", 3},
    {"C1001", "A.B.", "Alice Brown", "review", "LAC review", "CPPCR 2010 reg 33(2)", 2, "2026-11-27",
     "2027-02-27", NULL, CC_STATUS_OPEN, "review_held", NULL, "Wendy Worker", "2026-11-27T16:05:09Z", 0},
    {"C1003", "F.G.", NULL, "care_plan", "Care plan", CP_SRC, 1, "2026-10-15", "2026-10-29", "2026-11-05",
     CC_STATUS_MET_LATE, "placement_start", NULL, "Wendy Worker", "2026-11-05T09:00:00Z", 4},
    {"C1003", "F.G.", NULL, "pep", "Personal education plan", "local guidance (education chapter)", 1,
     "2026-11-20", "2026-12-04", NULL, CC_STATUS_CANCELLED, "placement_start",
     "the child left care on Fri 27 Nov 2026, before the due date", "Wendy Worker", "2026-11-27T10:00:00Z", 1},
    /* met more than 30 days ago: gone from the feed */
    {"C1004", "H.J.", NULL, "care_plan", "Care plan", CP_SRC, 1, "2026-09-01", "2026-09-15", "2026-09-14",
     CC_STATUS_MET, "placement_start", NULL, "Wendy Worker", "2026-09-14T09:00:00Z", 1},
    /* cancelled, due more than 30 days ago: gone */
    {"C1004", "H.J.", NULL, "pep", "Personal education plan", "local guidance", 1, "2026-09-01", "2026-09-01",
     NULL, CC_STATUS_CANCELLED, "placement_start", "the child left care", NULL, "2026-09-02T09:00:00Z", 1},
    /* a data error has no date: one event on today's date until mended (issue 17 item 8) */
    {"C1005", NULL, NULL, "data", "Child's data cannot be evaluated", NULL, 1, NULL, NULL, NULL,
     CC_STATUS_DATA_ERROR, NULL, "unknown event type \"mystery\"", NULL, "2026-11-01T09:00:00Z", 0},
};
#define NTEAM (sizeof(team_rows) / sizeof(team_rows[0]))

/* Names and sources a hostile or careless system might write. */
static const row_t hostile_rows[] = {
    {"C,1;x\\y", "Z.Ó.", "Zoë Ó'Brien-Łukasiewicz, Jr.; \\\"the\\\" third\r\nBEGIN:VEVENT", "care_plan",
     "Care plan, revised; v2 \\ final", "reg 4(2);\nline two, with\ttab", 1, "2026-11-02", "2026-12-01", NULL,
     CC_STATUS_OPEN, "placement_start", NULL, "Siân Ní Bhriain; \"W\", 日本語テキスト",
     "2026-11-20T12:00:00Z", 0},
    {"C2", "A.B.", "Ελένη Παπαδοπούλου Ελένη Παπαδοπούλου Ελένη Παπαδοπούλου Ελένη Παπαδοπούλου 🎉🎉🎉🎉🎉",
     "review", "LAC review", RV_SRC, 1, "2026-11-02", "2026-12-02", NULL, CC_STATUS_DUE_SOON,
     "looked_after_start", NULL, "bad \xff\xfe utf-8 \xc3( and \xed\xa0\x80 surrogate", "2026-11-20T12:00:00Z", 5},
    {"C3 with space", "", "", "visit", "", "", 7, "2026-11-02", "2026-12-03", NULL, CC_STATUS_OPEN, "", "", "",
     "not a timestamp", 0},
};
#define NHOSTILE (sizeof(hostile_rows) / sizeof(hostile_rows[0]))

static cc_ics_clock_t g_clocks[32];

static size_t load(const row_t *rows, size_t n)
{
    assert_true(n <= sizeof(g_clocks) / sizeof(g_clocks[0]));
    for (size_t i = 0; i < n; i++)
        g_clocks[i] = clock_of(&rows[i]);
    return n;
}

static char *render(const cc_ics_feed_t *feed, const cc_ics_clock_t *clocks, size_t n, cc_ics_info_t *info)
{
    cc_buf_t out;
    char err[128] = "";
    cc_buf_init(&out);
    int rc = cc_ics_render(feed, clocks, n, &out, info, err, sizeof(err));
    if (rc != 0)
        fail_msg("render failed: %s (%s)", cc_strerror(rc), err);
    char *text = strdup(cc_buf_str(&out));
    cc_buf_free(&out);
    assert_non_null(text);
    return text;
}

/* ---- checks every rendered feed must pass ---- */

static int count_errors(icalcomponent *comp)
{
    int errors = 0;
    for (icalproperty *p = icalcomponent_get_first_property(comp, ICAL_XLICERROR_PROPERTY); p != NULL;
         p = icalcomponent_get_next_property(comp, ICAL_XLICERROR_PROPERTY)) {
        print_message("X-LIC-ERROR in %s: %s\n", icalcomponent_kind_to_string(icalcomponent_isa(comp)),
                      icalproperty_get_xlicerror(p));
        errors++;
    }
    for (icalcomponent *c = icalcomponent_get_first_component(comp, ICAL_ANY_COMPONENT); c != NULL;
         c = icalcomponent_get_next_component(comp, ICAL_ANY_COMPONENT))
        errors += count_errors(c);
    return errors;
}

/* 1 if s[0..n) is well-formed UTF-8. */
static int utf8_ok(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (len == 0 || i + len > n)
            return 0;
        for (size_t k = 1; k < len; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
        i += len;
    }
    return 1;
}

/* Lines end in CRLF, are at most 75 octets, hold whole UTF-8 characters
 * and no control characters; the text parses with libical without errors
 * and has nevents VEVENTs. Returns the parsed calendar (caller frees). */
static icalcomponent *check_valid(const char *text, int nevents)
{
    const char *line = text;
    while (*line) {
        const char *end = strstr(line, "\r\n");
        assert_non_null(end);
        size_t len = (size_t)(end - line);
        if (len > 75)
            fail_msg("line longer than 75 octets (%zu): %.*s", len, (int)len, line);
        assert_true(utf8_ok((const unsigned char *)line, len));
        for (size_t i = 0; i < len; i++)
            if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
                fail_msg("control character 0x%02x in line %.*s", (unsigned char)line[i], (int)len, line);
        line = end + 2;
    }
    icalcomponent *cal = icalparser_parse_string(text);
    assert_non_null(cal);
    assert_int_equal(icalcomponent_isa(cal), ICAL_VCALENDAR_COMPONENT);
    assert_int_equal(count_errors(cal), 0);
    assert_int_equal(icalcomponent_count_components(cal, ICAL_VEVENT_COMPONENT), nevents);
    assert_null(icalcomponent_get_first_property(cal, ICAL_METHOD_PROPERTY));
    return cal;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    cc_buf_t b;
    char chunk[4096];
    size_t got;
    cc_buf_init(&b);
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
        cc_buf_append(&b, chunk, got);
    fclose(f);
    char *s = strdup(cc_buf_str(&b));
    cc_buf_free(&b);
    return s;
}

static void golden(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", GOLDEN_DIR, name);
    const char *update = getenv("CC_UPDATE_GOLDEN");
    if (update != NULL && strcmp(update, "1") == 0) {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
        print_message("wrote %s\n", path);
        return;
    }
    char *want = read_file(path);
    if (want == NULL)
        fail_msg("no golden file %s (run with CC_UPDATE_GOLDEN=1 to create it)", path);
    if (strcmp(want, text) != 0) {
        print_message("--- rendered ---\n%s--- golden %s ---\n%s", text, path, want);
        free(want);
        fail_msg("rendering differs from %s", path);
    }
    free(want);
}

/* ---- tests ---- */

static void test_team_feed_golden(void **state)
{
    (void)state;
    cc_ics_feed_t feed = feed_of(CC_PRIVACY_INITIALS);
    cc_ics_info_t info;
    size_t n = load(team_rows, NTEAM);
    char *text = render(&feed, g_clocks, n, &info);
    golden("team.ics", text);
    /* the cancelled clock left (issue 18); C1005's data error on today (issue 17) */
    icalcomponent *cal = check_valid(text, 6);
    assert_int_equal(info.events, 6);
    assert_non_null(strstr(text, "\r\nUID:C1005-error-today-0@careclock\r\n"));
    assert_non_null(strstr(text, "\r\nSUMMARY:DATA ERROR: C1005: deadlines cannot be computed\r\n"));
    assert_string_equal(info.last_modified, "2026-11-27T16:05:09Z");
    icalcomponent_free(cal);
    free(text);
}

static void test_privacy_levels_golden(void **state)
{
    (void)state;
    size_t n = load(team_rows, NTEAM);
    cc_ics_feed_t feed = feed_of(CC_PRIVACY_REFERENCE);
    char *text = render(&feed, g_clocks, n, NULL);
    golden("team-reference.ics", text);
    icalcomponent_free(check_valid(text, 6));
    assert_null(strstr(text, "A.B."));
    assert_null(strstr(text, "Alice"));
    free(text);

    feed = feed_of(CC_PRIVACY_FULL);
    text = render(&feed, g_clocks, n, NULL);
    golden("team-full.ics", text);
    icalcomponent_free(check_valid(text, 6));
    assert_non_null(strstr(text, "Care plan due: C1001 (Alice Brown)"));
    /* no full name recorded: initials instead */
    assert_non_null(strstr(text, "C1003 (F.G.)"));
    free(text);

    feed = feed_of(CC_PRIVACY_INITIALS);
    text = render(&feed, g_clocks, n, NULL);
    assert_null(strstr(text, "Alice"));
    assert_null(strstr(text, "Dan Evans"));
    free(text);
}

static void test_hostile_text_golden(void **state)
{
    (void)state;
    cc_ics_feed_t feed = feed_of(CC_PRIVACY_FULL);
    feed.name = "careclock: Children in care, East; \"North\" \\ Gwasanaethau Plant\nX-INJECTED:1";
    feed.url = "https://careclock.council.example/feeds/x.ics";
    size_t n = load(hostile_rows, NHOSTILE);
    char *text = render(&feed, g_clocks, n, NULL);
    golden("hostile.ics", text);
    icalcomponent *cal = check_valid(text, 3);
    assert_null(strstr(text, "\r\nX-INJECTED"));
    assert_null(strstr(text, "\r\nBEGIN:VEVENT\r\nBEGIN"));

    /* Round trip through libical: what a client shows. */
    icalcomponent *ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
    assert_string_equal(icalcomponent_get_uid(ev), "C%2c1%3bx%5cy-care_plan-42.1@careclock");
    assert_string_equal(icalcomponent_get_summary(ev),
                        "Care plan, revised; v2 \\ final due: C,1;x\\y (Zoë Ó'Brien-Łukasiewicz, Jr.; "
                        "\\\"the\\\" third  BEGIN:VEVENT)");
    const char *desc = icalcomponent_get_description(ev);
    assert_non_null(strstr(desc, "\nWorker: Siân Ní Bhriain; \"W\", 日本語テキスト\n"));
    assert_non_null(strstr(desc, "\nSource: reg 4(2); line two, with tab\n"));
    ev = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT);
    assert_string_equal(icalcomponent_get_uid(ev), "C2-review-42.1@careclock");
    assert_non_null(strstr(icalcomponent_get_summary(ev), "🎉🎉🎉🎉🎉)"));
    desc = icalcomponent_get_description(ev);
    assert_non_null(strstr(desc, "Worker: bad \xEF\xBF\xBD\xEF\xBF\xBD utf-8 \xEF\xBF\xBD( and "
                                 "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD surrogate"));
    ev = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT);
    assert_string_equal(icalcomponent_get_uid(ev), "C3%20with%20space-visit-42.7@careclock");
    /* no title: the rule id; no timestamp: midnight UTC of the due date */
    assert_string_equal(icalcomponent_get_summary(ev), "visit due: C3 with space");
    struct icaltimetype stamp = icalcomponent_get_dtstamp(ev);
    assert_int_equal(stamp.year, 2026);
    assert_int_equal(stamp.month, 12);
    assert_int_equal(stamp.day, 3);
    assert_int_equal(stamp.hour, 0);
    icalcomponent_free(cal);
    free(text);
}

static void test_empty_feed_golden(void **state)
{
    (void)state;
    cc_ics_feed_t feed = feed_of(CC_PRIVACY_INITIALS);
    feed.name = "careclock: Wendy Worker";
    feed.ttl_minutes = 90;
    char *text = render(&feed, NULL, 0, NULL);
    golden("empty.ics", text);
    icalcomponent_free(check_valid(text, 0));
    assert_non_null(strstr(text, "\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H30M\r\n"));
    assert_non_null(strstr(text, "\r\nX-PUBLISHED-TTL:PT1H30M\r\n"));
    free(text);
}

/* The same state renders the same bytes, whatever order the rows came in. */
static void test_deterministic_and_sorted(void **state)
{
    (void)state;
    cc_ics_feed_t feed = feed_of(CC_PRIVACY_INITIALS);
    size_t n = load(team_rows, NTEAM);
    char *a = render(&feed, g_clocks, n, NULL);
    cc_ics_clock_t reversed[NTEAM];
    for (size_t i = 0; i < n; i++)
        reversed[i] = g_clocks[n - 1 - i];
    char *b = render(&feed, reversed, n, NULL);
    assert_string_equal(a, b);
    /* UIDs ascending */
    const char *prev = NULL;
    for (const char *p = strstr(a, "\r\nUID:"); p != NULL; p = strstr(p + 1, "\r\nUID:")) {
        if (prev != NULL)
            assert_true(strncmp(prev, p, (size_t)(strchr(p + 2, '\r') - p)) < 0);
        prev = p;
    }
    free(a);
    free(b);
}

/* A UID depends on child, rule and instance only: a changed due date,
 * status, name or seq (history recorded before the clock) keeps it;
 * SEQUENCE, DTSTAMP and LAST-MODIFIED follow the row (issue 15 item 7). */
static void test_uid_stable_sequence_follows(void **state)
{
    (void)state;
    cc_ics_feed_t feed = feed_of(CC_PRIVACY_INITIALS);
    row_t r = team_rows[1];
    cc_ics_clock_t c = clock_of(&r);
    char *before = render(&feed, &c, 1, NULL);
    c.due = iso("2026-12-18");
    c.status = CC_STATUS_OPEN;
    c.sequence = 3;
    c.updated_at = "2026-11-30T08:15:00Z";
    c.initials = "X.Y.";
    c.seq = 2; /* an earlier care plan was recorded since */
    char *after = render(&feed, &c, 1, NULL);
    assert_non_null(strstr(before, "\r\nUID:C1001-care_plan-42.1@careclock\r\n"));
    assert_non_null(strstr(after, "\r\nUID:C1001-care_plan-42.1@careclock\r\n"));
    /* the description shows the number careclock explain takes now */
    assert_non_null(strstr(before, "care_plan 1"));
    assert_non_null(strstr(after, "care_plan 2"));
    assert_non_null(strstr(before, "\r\nSEQUENCE:2\r\n"));
    assert_non_null(strstr(after, "\r\nSEQUENCE:3\r\n"));
    assert_non_null(strstr(after, "\r\nDTSTAMP:20261130T081500Z\r\n"));
    assert_non_null(strstr(after, "\r\nLAST-MODIFIED:20261130T081500Z\r\n"));
    assert_non_null(strstr(after, "\r\nDTSTART;VALUE=DATE:20261218\r\n"));
    assert_non_null(strstr(after, "\r\nDTEND;VALUE=DATE:20261219\r\n"));
    free(before);
    free(after);

    char uid[64];
    assert_int_equal(cc_ics_uid("C1001", "care_plan", "812.12", uid, sizeof(uid)),
                     strlen("C1001-care_plan-812.12@careclock"));
    assert_string_equal(uid, "C1001-care_plan-812.12@careclock");
    /* an instance is encoded like the rest (migration 8's provisional "#3") */
    cc_ics_uid("C1001", "care_plan", "#3", uid, sizeof(uid));
    assert_string_equal(uid, "C1001-care_plan-%233@careclock");
    /* truncation is safe and reports the length needed */
    assert_int_equal(cc_ics_uid("C/é", "pep", "9.1", uid, 8), strlen("C%2f%c3%a9-pep-9.1@careclock"));
    assert_string_equal(uid, "C%2f%c3");
    /* no instance: the renderer refuses the clock rather than invent a UID */
    c.instance = NULL;
    cc_buf_t out;
    char err[80] = "";
    cc_buf_init(&out);
    assert_int_equal(cc_ics_render(&feed, &c, 1, &out, NULL, err, sizeof(err)), CC_EINVAL);
    assert_string_equal(err, "clock 0 has no instance");
    cc_buf_free(&out);
}

static void test_summaries(void **state)
{
    (void)state;
    static const struct {
        cc_status_t status;
        cc_privacy_t privacy;
        const char *want;
    } cases[] = {
        {CC_STATUS_OPEN, CC_PRIVACY_INITIALS, "Care plan due: C1001 (A.B.)"},
        {CC_STATUS_DUE_SOON, CC_PRIVACY_INITIALS, "Care plan due: C1001 (A.B.)"},
        {CC_STATUS_OVERDUE, CC_PRIVACY_INITIALS, "OVERDUE: Care plan due: C1001 (A.B.)"},
        {CC_STATUS_MET, CC_PRIVACY_REFERENCE, "Done: Care plan due: C1001"},
        {CC_STATUS_MET_LATE, CC_PRIVACY_FULL, "Done: Care plan due: C1001 (Alice Brown)"},
        {CC_STATUS_CANCELLED, CC_PRIVACY_INITIALS, "Cancelled: Care plan due: C1001 (A.B.)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cc_ics_clock_t c = clock_of(&team_rows[1]);
        cc_buf_t b;
        cc_buf_init(&b);
        c.status = cases[i].status;
        assert_int_equal(cc_ics_summary(cases[i].privacy, &c, &b), 0);
        assert_string_equal(cc_buf_str(&b), cases[i].want);
        cc_buf_free(&b);
    }
}

/* Met clocks stay retention_days after met_on; cancelled ones after due. */
static void test_retention(void **state)
{
    (void)state;
    cc_ics_feed_t feed = feed_of(CC_PRIVACY_INITIALS);
    cc_ics_clock_t c = clock_of(&team_rows[2]); /* met 2026-11-27, due 2026-11-30 */
    c.met_on = iso("2026-10-31");               /* today 2026-11-30 - 30 days */
    assert_true(cc_ics_shown(&feed, &c));
    c.met_on = iso("2026-10-30");
    assert_false(cc_ics_shown(&feed, &c));
    c.status = CC_STATUS_MET_LATE;
    assert_false(cc_ics_shown(&feed, &c));
    c.status = CC_STATUS_OVERDUE; /* unmet clocks never leave */
    c.due = iso("2020-01-01");
    assert_true(cc_ics_shown(&feed, &c));
    /* issue 18: a cancelled clock leaves the feed at once, whatever its date */
    c.status = CC_STATUS_CANCELLED;
    c.due = iso("2026-10-31");
    assert_false(cc_ics_shown(&feed, &c));
    c.due = feed.today + 10;
    assert_false(cc_ics_shown(&feed, &c));
    feed.retention_days = 0;
    c.status = CC_STATUS_MET;
    c.met_on = feed.today;
    assert_true(cc_ics_shown(&feed, &c));
    c.met_on = feed.today - 1;
    assert_false(cc_ics_shown(&feed, &c));
    c.status = CC_STATUS_OPEN;
    c.due = CC_DATE_NONE;
    assert_false(cc_ics_shown(&feed, &c));
}

static void test_bad_input(void **state)
{
    (void)state;
    cc_buf_t out;
    char err[128];
    cc_buf_init(&out);
    cc_ics_feed_t feed = feed_of(CC_PRIVACY_INITIALS);
    feed.name = "";
    assert_int_equal(cc_ics_render(&feed, NULL, 0, &out, NULL, err, sizeof(err)), CC_EINVAL);
    assert_string_equal(err, "the feed has no name");
    feed = feed_of(CC_PRIVACY_INITIALS);
    cc_ics_clock_t c = clock_of(&team_rows[0]);
    c.rule_id = NULL;
    assert_int_equal(cc_ics_render(&feed, &c, 1, &out, NULL, err, sizeof(err)), CC_EINVAL);
    assert_string_equal(err, "clock 0 has no child or rule id");
    cc_buf_free(&out);
}

/* A large feed is valid too (folding and sorting at scale). */
static void test_large_feed_valid(void **state)
{
    (void)state;
    enum { N = 500 };
    cc_ics_clock_t *many = calloc(N, sizeof(*many));
    char (*ids)[16] = calloc(N, sizeof(*ids));
    assert_non_null(many);
    assert_non_null(ids);
    cc_ics_feed_t feed = feed_of(CC_PRIVACY_INITIALS);
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof(ids[i]), "C%05d", (i * 7919) % 100000);
        many[i] = clock_of(&team_rows[i % 6]);
        many[i].child_id = ids[i];
    }
    cc_ics_info_t info;
    int shown = 0;
    for (int i = 0; i < N; i++)
        shown += cc_ics_shown(&feed, &many[i]);
    char *text = render(&feed, many, N, &info);
    assert_int_equal(info.events, shown);
    icalcomponent_free(check_valid(text, shown));
    free(text);
    free(ids);
    free(many);
}

/* Found by tests/fuzz/fuzz_ics.c: libical 3.0.16 folds a value without a
 * space wrongly when it is 73 + 74k octets long (a bare CR, then a
 * continuation line ending in a bare LF). A UID reaches that length with a
 * long child id and a council's long rule id; so can a title. Every such
 * length renders clean lines, and the value reads back whole. */
static void test_libical_fold_boundary(void **state)
{
    (void)state;
    for (size_t uid_len = 60; uid_len <= 230; uid_len++) {
        char child[256], title[256];
        /* UID = child + "-" + "care_plan" + "-42.1@careclock" (25 octets besides the child) */
        size_t n = uid_len - 25;
        memset(child, 'C', n);
        child[n] = '\0';
        memset(title, 'T', uid_len);
        title[uid_len] = '\0';
        row_t r = team_rows[1];
        r.child = child;
        r.title = title;
        cc_ics_clock_t c = clock_of(&r);
        cc_ics_feed_t feed = feed_of(CC_PRIVACY_REFERENCE);
        char *text = render(&feed, &c, 1, NULL);
        for (const char *p = text; *p; p++)
            if (*p == '\r' && p[1] != '\n')
                fail_msg("a bare CR in a feed whose UID has %zu octets", uid_len);
        icalcomponent *cal = check_valid(text, 1);
        icalcomponent *ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
        char want[300];
        snprintf(want, sizeof(want), "%s-care_plan-42.1@careclock", child);
        assert_string_equal(icalcomponent_get_uid(ev), want);
        icalcomponent_free(cal);
        free(text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_team_feed_golden),
        cmocka_unit_test(test_privacy_levels_golden),
        cmocka_unit_test(test_hostile_text_golden),
        cmocka_unit_test(test_empty_feed_golden),
        cmocka_unit_test(test_deterministic_and_sorted),
        cmocka_unit_test(test_uid_stable_sequence_follows),
        cmocka_unit_test(test_summaries),
        cmocka_unit_test(test_retention),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_large_feed_valid),
        cmocka_unit_test(test_libical_fold_boundary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
