/* Unit tests for daemon/core/engine.c: the statutory clock engine run on the
 * default England rule set (config/rules/england.rules) and the England and
 * Wales working-day calendar, one child at a time, with an injected today.
 *
 * Every expected date below was worked out by hand from the counting rules
 * in ../shared/docs/domain.md ("Counting") and the official holiday list,
 * and cross-checked with `careclock calc`. The notes next to each scenario
 * give the arithmetic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "careclock/calendar.h"
#include "careclock/holidays.h"
#include "careclock/date.h"
#include "careclock/engine.h"
#include "careclock/error.h"
#include "careclock/rulefiles.h"
#include "careclock/rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HOLIDAY_DIR CC_SOURCE_DIR "/config/holidays"
#define ENGLAND_RULES CC_SOURCE_DIR "/config/rules/england.rules"

/* ---- fixture: default rules, calendar, one reusable output ------------ */

static cc_ruleset_t *g_default;  /* england.rules */
static const cc_ruleset_t *g_rs; /* the ruleset the helpers use now */
static cc_ruleset_t *g_override; /* a test's own ruleset (freed by teardown) */
static cc_calendar_t *g_cal;
static cc_clocks_t g_out;

/* One event as a test writes it: type name, ISO date, attributes. */
typedef struct {
    const char *type;
    const char *date;
    const char *attrs;
} ev_t;

#define EVENTS(...) (const ev_t[]){__VA_ARGS__}, sizeof((const ev_t[]){__VA_ARGS__}) / sizeof(ev_t)
#define NO_EVENTS NULL, 0

/* Event ids are 101, 102, ... in the order the test lists them. */
#define EVENT_ID(i) ((int64_t)(101 + (i)))

static cc_event_t g_events[64];
static size_t g_nevents; /* how many build_events last wrote */

static cc_date_t iso(const char *s)
{
    cc_date_t d;
    assert_int_equal(cc_date_parse_iso(s, &d), 0);
    return d;
}

static const char *fmt(cc_date_t d, char *buf)
{
    if (d == CC_DATE_NONE)
        return strcpy(buf, "none");
    return cc_date_format(d, buf);
}

static int rule_index(const char *id)
{
    const cc_rule_t *rule = cc_ruleset_find(g_rs, id);
    if (rule == NULL)
        return -1;
    return (int)cc_ruleset_index(g_rs, rule);
}

static const char *rule_id_of(int index)
{
    const cc_rule_t *rule = index >= 0 ? cc_ruleset_rule(g_rs, (size_t)index) : NULL;
    return rule ? rule->id : "(data_error)";
}

static void dump(const cc_clocks_t *out)
{
    char s[CC_DATE_STRLEN], d[CC_DATE_STRLEN], m[CC_DATE_STRLEN];
    for (size_t i = 0; i < out->len; i++) {
        const cc_clock_t *c = &out->items[i];
        print_message("  %-22s seq %d ep %d start %s due %s met %s %-9s flags %u %s\n", rule_id_of(c->rule), c->seq,
                      c->episode, fmt(c->start, s), fmt(c->due, d), fmt(c->met_on, m), cc_status_name(c->status),
                      c->flags, c->reason);
    }
}

/* Build the events from the compact list into g_events (unparseable dates
 * become CC_DATE_NONE, unknown types -1, as the store hands them over). */
static void build_events(const ev_t *evs, size_t n)
{
    assert_true(n <= sizeof(g_events) / sizeof(g_events[0]));
    g_nevents = n;
    for (size_t i = 0; i < n; i++) {
        cc_event_t *e = &g_events[i];
        memset(e, 0, sizeof(*e));
        e->id = EVENT_ID(i);
        e->type = cc_ruleset_type_index(g_rs, evs[i].type);
        if (cc_date_parse_iso(evs[i].date, &e->date) != 0)
            e->date = CC_DATE_NONE;
        e->attrs = evs[i].attrs;
        e->raw_type = evs[i].type;
        e->raw_date = evs[i].date;
    }
}

/* Run the engine for one child (born dob) on today; the result is g_out. */
static void run(const char *dob, const char *today, const ev_t *evs, size_t n)
{
    cc_child_t child = {.id = "C1", .raw_dob = dob};
    if (cc_date_parse_iso(dob, &child.dob) != 0)
        child.dob = CC_DATE_NONE;
    build_events(evs, n);
    cc_clocks_reset(&g_out);
    int rc = cc_engine_run(g_rs, g_cal, iso(today), &child, g_events, n, &g_out);
    assert_int_equal(rc, 0);
}

static const cc_clock_t *find_in(const cc_clocks_t *out, const char *rule, int seq)
{
    int index = rule_index(rule);
    if (index < 0)
        return NULL;
    for (size_t i = 0; i < out->len; i++)
        if (out->items[i].rule == index && out->items[i].seq == seq)
            return &out->items[i];
    return NULL;
}

/* The clock of rule with this seq; fails the test (with a dump) if none. */
static const cc_clock_t *find(const char *rule, int seq)
{
    const cc_clock_t *c = find_in(&g_out, rule, seq);
    if (c == NULL) {
        print_error("no clock %s seq %d; the clocks are:\n", rule, seq);
        dump(&g_out);
    }
    assert_non_null(c);
    return c;
}

static size_t count_rule(const char *rule)
{
    int index = rule_index(rule);
    size_t n = 0;
    if (index < 0)
        return 0;
    for (size_t i = 0; i < g_out.len; i++)
        n += g_out.items[i].rule == index;
    return n;
}

static void expect_none(const char *rule)
{
    if (count_rule(rule) != 0) {
        print_error("expected no %s clock; the clocks are:\n", rule);
        dump(&g_out);
    }
    assert_int_equal(count_rule(rule), 0);
}

/* rule seq: exactly this start (NULL: not checked), due and status. */
static const cc_clock_t *expect(const char *rule, int seq, const char *start, const char *due, cc_status_t status)
{
    const cc_clock_t *c = find(rule, seq);
    char s[CC_DATE_STRLEN], d[CC_DATE_STRLEN];
    int ok = (start == NULL || c->start == iso(start)) && c->due == iso(due) && c->status == status;
    if (!ok) {
        print_error("%s seq %d: expected start %s due %s %s, got start %s due %s %s; the clocks are:\n", rule, seq,
                    start ? start : "-", due, cc_status_name(status), fmt(c->start, s), fmt(c->due, d),
                    cc_status_name(c->status));
        dump(&g_out);
    }
    if (start != NULL)
        assert_int_equal(c->start, iso(start));
    assert_int_equal(c->due, iso(due));
    assert_string_equal(cc_status_name(c->status), cc_status_name(status));
    return c;
}

static void expect_met_on(const cc_clock_t *c, const char *met_on)
{
    char m[CC_DATE_STRLEN];
    if (met_on == NULL) {
        if (c->met_on != CC_DATE_NONE)
            print_error("%s seq %d: expected not met, met on %s\n", rule_id_of(c->rule), c->seq, fmt(c->met_on, m));
        assert_int_equal(c->met_on, CC_DATE_NONE);
        assert_int_equal(c->met_event, 0);
        return;
    }
    assert_string_equal(fmt(c->met_on, m), met_on);
}

static int setup_group(void **state)
{
    (void)state;
    char err[512] = "";
    const char *files[] = {ENGLAND_RULES};
    if (cc_rulefiles_load(files, 1, &g_default, err, sizeof err) != 0) {
        print_error("cannot load %s: %s\n", ENGLAND_RULES, err);
        return -1;
    }
    if (cc_holidays_open(HOLIDAY_DIR, "england-and-wales", NULL, 0, &g_cal, err, sizeof err) != 0) {
        print_error("cannot open the calendar: %s\n", err);
        return -1;
    }
    g_rs = g_default;
    cc_clocks_init(&g_out);
    return 0;
}

static int teardown_group(void **state)
{
    (void)state;
    cc_clocks_free(&g_out);
    cc_ruleset_free(g_default);
    cc_calendar_free(g_cal);
    return 0;
}

/* Per-test teardown for tests that swap in their own ruleset. */
static int restore_default(void **state)
{
    (void)state;
    g_rs = g_default;
    cc_ruleset_free(g_override);
    g_override = NULL;
    return 0;
}

/* Write text to a fresh temporary file; path gets its name. */
static void write_temp(char *path, size_t len, const char *text)
{
    snprintf(path, len, "/tmp/careclock-test-engine-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    assert_int_equal(close(fd), 0);
}

/* Load england.rules followed by a council file with text; make it current. */
static void use_override(const char *text)
{
    char path[64], err[512] = "";
    write_temp(path, sizeof path, text);
    const char *files[] = {ENGLAND_RULES, path};
    int rc = cc_rulefiles_load(files, 2, &g_override, err, sizeof err);
    unlink(path);
    if (rc != 0)
        print_error("override did not load: %s\n", err);
    assert_int_equal(rc, 0);
    g_rs = g_override;
}

#define DOB_11 "2015-03-02" /* aged 11 in November 2026 */

/* ---- the acceptance scenario ---------------------------------- */

static void test_acceptance_scenario(void **state)
{
    (void)state;
    /* Mon 2 Nov 2026 + 10 wd = Mon 16 Nov (due_soon from 16 Nov - 5 wd =
     * Mon 9 Nov); + 20 wd = Mon 30 Nov (warning from 16 Nov). PEP planned:
     * due at placement. */
    run(DOB_11, "2026-11-10",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", NULL}));
    const cc_clock_t *cp = expect("care_plan", 1, "2026-11-02", "2026-11-16", CC_STATUS_DUE_SOON);
    expect_met_on(cp, NULL);
    assert_int_equal(cp->start_event, EVENT_ID(1));
    assert_int_equal(cp->episode, 0);
    assert_int_equal(cp->basis, CC_BASIS_DUE);
    const cc_clock_t *rv = expect("review", 1, "2026-11-02", "2026-11-30", CC_STATUS_OPEN);
    assert_int_equal(rv->start_event, EVENT_ID(0));
    assert_int_equal(rv->chain_index, 0);
    expect("pep", 1, "2026-11-02", "2026-11-02", CC_STATUS_OVERDUE);
    /* The clocks the same events start under the other rules. */
    expect("visit", 1, "2026-11-02", "2026-11-09", CC_STATUS_OVERDUE);
    expect("health_assessment", 1, "2026-11-02", "2026-11-30", CC_STATUS_OPEN);
    /* First review not held: second review projected at 30 Nov + 3 m. */
    const cc_clock_t *pp = expect("permanence_plan", 1, "2026-11-02", "2027-02-28", CC_STATUS_OPEN);
    assert_true(pp->flags & CC_CLOCK_PROJECTED);
    /* CPPCR reg 9(2) (issue 16): a placement plan within 5 working days of
     * the placement: Mon 2 Nov + 5 wd = Mon 9 Nov, passed on 10 Nov. */
    expect("placement_plan", 1, "2026-11-02", "2026-11-09", CC_STATUS_OVERDUE);
    assert_int_equal(count_rule("review"), 1);
    assert_int_equal(g_out.len, 7);

    /* Then the first review is held on Fri 27 Nov. */
    run(DOB_11, "2026-11-27",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", NULL},
               {"review_held", "2026-11-27", NULL}));
    const cc_clock_t *r1 = expect("review", 1, "2026-11-02", "2026-11-30", CC_STATUS_MET);
    expect_met_on(r1, "2026-11-27");
    assert_int_equal(r1->met_event, EVENT_ID(2));
    const cc_clock_t *r2 = expect("review", 2, "2026-11-27", "2027-02-27", CC_STATUS_OPEN);
    assert_int_equal(r2->start_event, EVENT_ID(2));
    assert_int_equal(r2->chain_index, 1);
    assert_int_equal(r2->basis, CC_BASIS_THEN);
    assert_int_equal(r2->basis_index, 0);
    /* Fri 27 Nov + 5 wd = Fri 4 Dec; + 20 wd = Tue 29 Dec (Christmas Day
     * and the Boxing Day substitute, Mon 28 Dec, skipped). */
    expect("review_minutes", 1, "2026-11-27", "2026-12-04", CC_STATUS_OPEN);
    expect("iro_report", 1, "2026-11-27", "2026-12-29", CC_STATUS_OPEN);
    pp = expect("permanence_plan", 1, "2026-11-02", "2027-02-27", CC_STATUS_OPEN);
    assert_false(pp->flags & CC_CLOCK_PROJECTED);
    /* The initial health assessment is due 20 working days after care
     * began, whenever the review is held (statutory guidance 2015). */
    expect("health_assessment", 1, "2026-11-02", "2026-11-30", CC_STATUS_DUE_SOON);
}

/* ---- care plan -------------------------------------------------------- */

static void test_placement_friday_before_bank_holiday(void **state)
{
    (void)state;
    /* Fri 28 Aug 2026; Mon 31 Aug is the summer bank holiday: day 1 is Tue 1
     * Sep, day 10 Mon 14 Sep (not Fri 11 Sep). First review: + 20 wd = Mon
     * 28 Sep. */
    run(DOB_11, "2026-09-01",
        EVENTS({"looked_after_start", "2026-08-28", NULL}, {"placement_start", "2026-08-28", NULL}));
    expect("care_plan", 1, "2026-08-28", "2026-09-14", CC_STATUS_OPEN);
    expect("review", 1, "2026-08-28", "2026-09-28", CC_STATUS_OPEN);
}

static void test_care_plan_per_episode_first_placement_only(void **state)
{
    (void)state;
    /* The first placement of the episode starts the clock; a placement
     * move does not start another. A placement before the child became
     * looked after starts nothing (in_care). */
    run(DOB_11, "2026-11-10",
        EVENTS({"placement_start", "2026-10-20", NULL}, {"looked_after_start", "2026-11-02", NULL},
               {"placement_start", "2026-11-03", NULL}, {"placement_start", "2026-11-09", NULL}));
    assert_int_equal(count_rule("care_plan"), 1);
    const cc_clock_t *c = expect("care_plan", 1, "2026-11-03", "2026-11-17", CC_STATUS_DUE_SOON);
    assert_int_equal(c->start_event, EVENT_ID(2));
}

static void test_care_plan_completed_before_placement_is_met(void **state)
{
    (void)state;
    /* Looked after Mon 2 Nov, plan completed Tue 3 Nov, placed Thu 5 Nov:
     * due Thu 19 Nov, met early. */
    run(DOB_11, "2026-11-20",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"care_plan_completed", "2026-11-03", NULL},
               {"placement_start", "2026-11-05", NULL}));
    const cc_clock_t *c = expect("care_plan", 1, "2026-11-05", "2026-11-19", CC_STATUS_MET);
    expect_met_on(c, "2026-11-03");
    assert_int_equal(c->met_event, EVENT_ID(1));
    assert_true(c->flags & CC_CLOCK_EARLY);
}

static void test_care_plan_completed_long_before_episode_does_not_count(void **state)
{
    (void)state;
    /* A plan dated more than 3 months before the placement (the window
     * england.rules gives CPPCR reg 4(2)'s "before C is first placed") is
     * not this admission's care plan. One the working day before is: see
     * test_plans_prepared_before_the_child_became_looked_after. */
    run(DOB_11, "2026-11-10",
        EVENTS({"care_plan_completed", "2026-06-30", NULL}, {"looked_after_start", "2026-11-02", NULL},
               {"placement_start", "2026-11-02", NULL}));
    const cc_clock_t *c = expect("care_plan", 1, "2026-11-02", "2026-11-16", CC_STATUS_DUE_SOON);
    expect_met_on(c, NULL);
}

static void test_leaving_care_before_care_plan_due_cancels(void **state)
{
    (void)state;
    /* Left care Tue 10 Nov, before the care plan (16 Nov), first review (30
     * Nov) and health assessment were due: cancelled. The PEP (due 2 Nov)
     * and first visit (due 9 Nov) were already missed: they stay overdue. */
    run(DOB_11, "2026-11-20",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", NULL},
               {"looked_after_end", "2026-11-10", NULL}));
    const cc_clock_t *c = expect("care_plan", 1, "2026-11-02", "2026-11-16", CC_STATUS_CANCELLED);
    assert_true(c->reason[0] != '\0');
    expect("review", 1, "2026-11-02", "2026-11-30", CC_STATUS_CANCELLED);
    expect("permanence_plan", 1, "2026-11-02", "2027-02-28", CC_STATUS_CANCELLED);
    expect("health_assessment", 1, "2026-11-02", "2026-11-30", CC_STATUS_CANCELLED);
    expect("pep", 1, "2026-11-02", "2026-11-02", CC_STATUS_OVERDUE);
    expect("visit", 1, "2026-11-02", "2026-11-09", CC_STATUS_OVERDUE);
}

static void test_leaving_care_on_the_due_date_cancels(void **state)
{
    (void)state;
    run(DOB_11, "2026-11-20",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", NULL},
               {"looked_after_end", "2026-11-16", NULL}));
    expect("care_plan", 1, "2026-11-02", "2026-11-16", CC_STATUS_CANCELLED);
}

static void test_leaving_care_after_care_plan_overdue_stays_overdue(void **state)
{
    (void)state;
    run(DOB_11, "2026-11-25",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", NULL},
               {"looked_after_end", "2026-11-20", NULL}));
    const cc_clock_t *c = expect("care_plan", 1, "2026-11-02", "2026-11-16", CC_STATUS_OVERDUE);
    expect_met_on(c, NULL);
    /* The review, still not due on 20 Nov, is cancelled. */
    expect("review", 1, "2026-11-02", "2026-11-30", CC_STATUS_CANCELLED);
}

static void test_second_episode_of_care(void **state)
{
    (void)state;
    /* Episode 1: 2 Nov 2026 to 15 Jan 2027, first review held 27 Nov, the
     * second (due 27 Feb) cancelled by the end. Episode 2 from Mon 1 Mar
     * 2027: a new care plan due Mon 15 Mar, reviews restart at + 20 wd =
     * Wed 31 Mar 2027 (Good Friday 26 Mar and Easter Monday 29 Mar
     * skipped). The permanence plan of episode 2 is projected from the
     * episode's own first review: 31 Mar + 3 m = 30 Jun. */
    run(DOB_11, "2027-03-03",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", NULL},
               {"care_plan_completed", "2026-11-10", NULL}, {"review_held", "2026-11-27", NULL},
               {"looked_after_end", "2027-01-15", NULL}, {"looked_after_start", "2027-03-01", NULL},
               {"placement_start", "2027-03-01", NULL}));
    const cc_clock_t *c = expect("care_plan", 1, "2026-11-02", "2026-11-16", CC_STATUS_MET);
    assert_int_equal(c->episode, 0);
    c = expect("care_plan", 2, "2027-03-01", "2027-03-15", CC_STATUS_OPEN);
    assert_int_equal(c->episode, 1);
    assert_int_equal(c->start_event, EVENT_ID(6));
    expect_met_on(c, NULL);
    expect("review", 1, "2026-11-02", "2026-11-30", CC_STATUS_MET);
    expect("review", 2, "2026-11-27", "2027-02-27", CC_STATUS_CANCELLED);
    c = expect("review", 3, "2027-03-01", "2027-03-31", CC_STATUS_OPEN);
    assert_int_equal(c->episode, 1);
    assert_int_equal(c->chain_index, 0);
    assert_int_equal(c->basis, CC_BASIS_DUE);
    assert_int_equal(count_rule("review"), 3);
    expect("permanence_plan", 1, "2026-11-02", "2027-02-27", CC_STATUS_CANCELLED);
    c = expect("permanence_plan", 2, "2027-03-01", "2027-06-30", CC_STATUS_OPEN);
    assert_true(c->flags & CC_CLOCK_PROJECTED);
    expect("pep", 1, "2026-11-02", "2026-11-02", CC_STATUS_OVERDUE);
    expect("pep", 2, "2027-03-01", "2027-03-01", CC_STATUS_OVERDUE);
}

/* ---- reviews ---------------------------------------------------------- */

static void test_late_first_review_moves_the_second(void **state)
{
    (void)state;
    /* On time (27 Nov): second due 27 Feb 2027. Late (Thu 10 Dec): met_late,
     * and the second is due 10 Mar 2027. */
    run(DOB_11, "2026-12-11",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"review_held", "2026-12-10", NULL}));
    const cc_clock_t *c = expect("review", 1, "2026-11-02", "2026-11-30", CC_STATUS_MET_LATE);
    expect_met_on(c, "2026-12-10");
    expect("review", 2, "2026-12-10", "2027-03-10", CC_STATUS_OPEN);
    /* The permanence plan follows the second review's new date. */
    c = expect("permanence_plan", 1, "2026-11-02", "2027-03-10", CC_STATUS_OPEN);
    assert_false(c->flags & CC_CLOCK_PROJECTED);
}

static void test_later_reviews_every_six_months_with_month_end_clamping(void **state)
{
    (void)state;
    /* Held Mon 30 Nov 2026 (on the due date): 30 Nov + 3 m = 28 Feb 2027.
     * Held 26 Feb 2027: + 6 m = 26 Aug 2027. Held 31 Aug 2027 (late):
     * + 6 m = 29 Feb 2028 (leap year). Held 29 Feb 2028: + 6 m = 29 Aug 2028. */
    run(DOB_11, "2028-03-01",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"review_held", "2026-11-30", NULL},
               {"review_held", "2027-02-26", NULL}, {"review_held", "2027-08-31", NULL},
               {"review_held", "2028-02-29", NULL}));
    expect("review", 1, "2026-11-02", "2026-11-30", CC_STATUS_MET);
    const cc_clock_t *c = expect("review", 2, "2026-11-30", "2027-02-28", CC_STATUS_MET);
    assert_int_equal(c->basis, CC_BASIS_THEN);
    assert_int_equal(c->basis_index, 0);
    c = expect("review", 3, "2027-02-26", "2027-08-26", CC_STATUS_MET_LATE);
    assert_int_equal(c->basis_index, 1);
    expect_met_on(c, "2027-08-31");
    c = expect("review", 4, "2027-08-31", "2028-02-29", CC_STATUS_MET);
    assert_int_equal(c->basis_index, 1);
    c = expect("review", 5, "2028-02-29", "2028-08-29", CC_STATUS_OPEN);
    assert_int_equal(c->basis_index, 1);
    assert_int_equal(c->chain_index, 4);
    assert_int_equal(count_rule("review"), 5);
    /* The second review was held on 26 Feb 2027. */
    expect("permanence_plan", 1, "2026-11-02", "2027-02-26", CC_STATUS_OVERDUE);
}

/* ---- permanence plan -------------------------------------------------- */

static void test_permanence_plan_agreed_after_second_review_is_met_late(void **state)
{
    (void)state;
    /* Second review (due 27 Feb) held early, Sat 20 Feb 2027: the plan is
     * due that day; agreed 1 Mar: late. */
    run(DOB_11, "2027-03-05",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"review_held", "2026-11-27", NULL},
               {"review_held", "2027-02-20", NULL}, {"permanence_plan_agreed", "2027-03-01", NULL}));
    const cc_clock_t *c = expect("permanence_plan", 1, "2026-11-02", "2027-02-20", CC_STATUS_MET_LATE);
    expect_met_on(c, "2027-03-01");
    assert_int_equal(c->basis, CC_BASIS_ANCHOR);
    assert_false(c->flags & CC_CLOCK_PROJECTED);
}

static void test_permanence_plan_agreed_before_second_review_is_met(void **state)
{
    (void)state;
    run(DOB_11, "2027-03-05",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"review_held", "2026-11-27", NULL},
               {"permanence_plan_agreed", "2027-01-12", NULL}, {"review_held", "2027-02-20", NULL}));
    const cc_clock_t *c = expect("permanence_plan", 1, "2026-11-02", "2027-02-20", CC_STATUS_MET);
    expect_met_on(c, "2027-01-12");
    /* Agreed at the second review itself: on time. */
    run(DOB_11, "2027-03-05",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"review_held", "2026-11-27", NULL},
               {"review_held", "2027-02-20", NULL}, {"permanence_plan_agreed", "2027-02-20", NULL}));
    expect("permanence_plan", 1, "2026-11-02", "2027-02-20", CC_STATUS_MET);
}

static void test_permanence_plan_projected_while_first_review_not_held(void **state)
{
    (void)state;
    /* First review due 30 Nov and overdue on 5 Dec: the second is projected
     * at 30 Nov + 3 m = 28 Feb 2027. */
    run(DOB_11, "2026-12-05", EVENTS({"looked_after_start", "2026-11-02", NULL}));
    expect("review", 1, "2026-11-02", "2026-11-30", CC_STATUS_OVERDUE);
    const cc_clock_t *c = expect("permanence_plan", 1, "2026-11-02", "2027-02-28", CC_STATUS_OPEN);
    assert_true(c->flags & CC_CLOCK_PROJECTED);
    assert_int_equal(c->basis, CC_BASIS_ANCHOR);
    /* First review held on 30 Nov: the second exists (due 28 Feb 2027) and
     * the plan takes its due date, no longer a projection. */
    run(DOB_11, "2027-01-05",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"review_held", "2026-11-30", NULL}));
    c = expect("permanence_plan", 1, "2026-11-02", "2027-02-28", CC_STATUS_OPEN);
    assert_false(c->flags & CC_CLOCK_PROJECTED);
}

/* ---- PEP -------------------------------------------------------------- */

/* The PEP band is 3 to 17 at the first placement (statutory guidance on the
 * education of looked-after children, 2018: early years to 18). */
static void test_no_pep_for_a_two_year_old(void **state)
{
    (void)state;
    run("2024-06-01", "2026-11-10",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", NULL}));
    expect_none("pep");
    expect("care_plan", 1, "2026-11-02", "2026-11-16", CC_STATUS_DUE_SOON);
}

/* Statutory guidance on the education of looked-after children (2018): the
 * PEP is for every looked-after child to 18, not only to the end of
 * compulsory school age (the old band stopped at 15). */
static void test_pep_for_a_sixteen_year_old(void **state)
{
    (void)state;
    run("2010-06-01", "2026-11-10",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", NULL}));
    expect("pep", 1, "2026-11-02", "2026-11-02", CC_STATUS_OVERDUE);
    /* Sixteenth birthday on the day of placement: a PEP. */
    run("2010-11-02", "2026-11-10",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", NULL}));
    expect("pep", 1, "2026-11-02", "2026-11-02", CC_STATUS_OVERDUE);
}

static void test_pep_age_boundaries(void **state)
{
    (void)state;
    /* Third birthday on the day of placement: PEP. */
    run("2023-11-02", "2026-11-02",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", NULL}));
    expect("pep", 1, "2026-11-02", "2026-11-02", CC_STATUS_DUE_SOON);
    /* Third birthday the day after: none. */
    run("2023-11-03", "2026-11-02",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", NULL}));
    expect_none("pep");
    /* Seventeen, eighteen the day after: PEP. */
    run("2008-11-03", "2026-11-02",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", NULL}));
    expect("pep", 1, "2026-11-02", "2026-11-02", CC_STATUS_DUE_SOON);
}

static void test_pep_age_is_taken_at_the_first_placement(void **state)
{
    (void)state;
    /* Two at the first placement (Mon 2 Nov 2026), three at a placement
     * move on 15 Dec 2026: the PEP applies to a child aged 3 to 17 on the
     * date of the first placement, so there is none. */
    run("2023-12-01", "2026-12-20",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", NULL},
               {"placement_start", "2026-12-15", NULL}));
    expect_none("pep");
}

static void test_pep_emergency_versus_planned_placement(void **state)
{
    (void)state;
    /* Emergency: Mon 2 Nov + 10 wd = Mon 16 Nov. */
    run(DOB_11, "2026-11-10",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", "{\"emergency\":\"yes\"}"}));
    const cc_clock_t *c = expect("pep", 1, "2026-11-02", "2026-11-16", CC_STATUS_DUE_SOON);
    assert_int_equal(c->basis, CC_BASIS_DUE_IF);
    assert_int_equal(c->basis_index, 0);
    /* Planned, said explicitly: due at placement. */
    run(DOB_11, "2026-11-10",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", "{\"emergency\":\"no\"}"}));
    c = expect("pep", 1, "2026-11-02", "2026-11-02", CC_STATUS_OVERDUE);
    assert_int_equal(c->basis, CC_BASIS_DUE);
    /* Other attributes and spacing do not matter. */
    run(DOB_11, "2026-11-10",
        EVENTS({"looked_after_start", "2026-11-02", NULL},
               {"placement_start", "2026-11-02", "{ \"long_term\": \"no\", \"emergency\" : \"yes\" }"}));
    expect("pep", 1, "2026-11-02", "2026-11-16", CC_STATUS_DUE_SOON);
    /* The care plan does not depend on it. */
    expect("care_plan", 1, "2026-11-02", "2026-11-16", CC_STATUS_DUE_SOON);
}

static void test_pep_completed_before_placement_and_met_late(void **state)
{
    (void)state;
    run(DOB_11, "2026-11-10",
        EVENTS({"looked_after_start", "2026-10-26", NULL}, {"pep_completed", "2026-10-30", NULL},
               {"placement_start", "2026-11-02", NULL}));
    const cc_clock_t *c = expect("pep", 1, "2026-11-02", "2026-11-02", CC_STATUS_MET);
    expect_met_on(c, "2026-10-30");
    assert_true(c->flags & CC_CLOCK_EARLY);
    run(DOB_11, "2026-11-10",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", NULL},
               {"pep_completed", "2026-11-03", NULL}));
    c = expect("pep", 1, "2026-11-02", "2026-11-02", CC_STATUS_MET_LATE);
    assert_false(c->flags & CC_CLOCK_EARLY);
}

/* ---- health assessment ------------------------------------------------ */

static void test_health_assessment_under_five_every_six_months(void **state)
{
    (void)state;
    /* Born 1 Jun 2022: four until 1 Jun 2027. First due 20 working days
     * after care began, Mon 30 Nov (statutory guidance 2015), whatever the
     * review's date; done 20 Nov; then (CPPCR reg 7(3)) + 6 m = 20 May 2027;
     * done 10 May (still four): + 6 m = 10 Nov 2027; done 1 Nov 2027
     * (five): + 12 m. */
    run("2022-06-01", "2027-11-02",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"health_assessment", "2026-11-20", NULL},
               {"review_held", "2026-11-27", NULL}, {"health_assessment", "2027-05-10", NULL},
               {"health_assessment", "2027-11-01", NULL}));
    const cc_clock_t *c = expect("health_assessment", 1, "2026-11-02", "2026-11-30", CC_STATUS_MET);
    assert_int_equal(c->basis, CC_BASIS_DUE);
    expect_met_on(c, "2026-11-20");
    c = expect("health_assessment", 2, "2026-11-20", "2027-05-20", CC_STATUS_MET);
    assert_int_equal(c->basis, CC_BASIS_THEN);
    c = expect("health_assessment", 3, "2027-05-10", "2027-11-10", CC_STATUS_MET);
    c = expect("health_assessment", 4, "2027-11-01", "2028-11-01", CC_STATUS_OPEN);
    assert_int_equal(c->basis, CC_BASIS_THEN_IF);
}

static void test_health_assessment_from_five_every_twelve_months(void **state)
{
    (void)state;
    run(DOB_11, "2026-12-01",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"health_assessment", "2026-11-20", NULL}));
    /* 20 working days after care began: 30 Nov. */
    expect("health_assessment", 1, "2026-11-02", "2026-11-30", CC_STATUS_MET);
    expect("health_assessment", 2, "2026-11-20", "2027-11-20", CC_STATUS_OPEN);
    /* Not done within 20 working days: overdue. */
    run(DOB_11, "2026-12-01", EVENTS({"looked_after_start", "2026-11-02", NULL}));
    expect("health_assessment", 1, "2026-11-02", "2026-11-30", CC_STATUS_OVERDUE);
}

/* ---- visits ----------------------------------------------------------- */

static void test_visit_one_week_then_six_weeks(void **state)
{
    (void)state;
    /* Placed Mon 2 Nov: visit due Mon 9 Nov; visited 6 Nov: next due 6 Nov
     * + 42 days = 18 Dec; visited 18 Dec: next 29 Jan 2027. */
    run(DOB_11, "2026-12-20",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", NULL},
               {"visit", "2026-11-06", NULL}, {"visit", "2026-12-18", NULL}));
    const cc_clock_t *c = expect("visit", 1, "2026-11-02", "2026-11-09", CC_STATUS_MET);
    expect_met_on(c, "2026-11-06");
    c = expect("visit", 2, "2026-11-06", "2026-12-18", CC_STATUS_MET);
    assert_int_equal(c->basis, CC_BASIS_THEN);
    expect("visit", 3, "2026-12-18", "2027-01-29", CC_STATUS_OPEN);
    assert_int_equal(count_rule("visit"), 3);
}

static void test_visit_long_term_placement_three_months(void **state)
{
    (void)state;
    /* CPPCR reg 28(2): six weeks in the placement's first year, long-term
     * or not (6 Nov + 6 weeks = 18 Dec); after it, 3 months for a
     * placement intended to last until 18 (2 Nov 2027 + 3 m = 2 Feb 2028). */
    run(DOB_11, "2027-11-03",
        EVENTS({"looked_after_start", "2026-11-02", NULL},
               {"placement_start", "2026-11-02", "{\"long_term\":\"yes\"}"}, {"visit", "2026-11-06", NULL},
               {"visit", "2027-11-02", NULL}));
    expect("visit", 1, "2026-11-02", "2026-11-09", CC_STATUS_MET);
    const cc_clock_t *c = expect("visit", 2, "2026-11-06", "2026-12-18", CC_STATUS_MET_LATE);
    assert_int_equal(c->basis, CC_BASIS_THEN);
    c = expect("visit", 3, "2027-11-02", "2028-02-02", CC_STATUS_OPEN);
    assert_int_equal(c->basis, CC_BASIS_THEN_IF);
}

static void test_visit_superseded_by_a_new_placement(void **state)
{
    (void)state;
    /* Visit due 18 Dec not yet due when the child moves on Tue 1 Dec:
     * cancelled; the new placement's visit is due Tue 8 Dec (due_soon from
     * 8 Dec - 5 wd = 1 Dec). */
    run(DOB_11, "2026-12-03",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", NULL},
               {"visit", "2026-11-06", NULL}, {"placement_start", "2026-12-01", NULL}));
    expect("visit", 1, "2026-11-02", "2026-11-09", CC_STATUS_MET);
    const cc_clock_t *c = expect("visit", 2, "2026-11-06", "2026-12-18", CC_STATUS_CANCELLED);
    assert_true(c->reason[0] != '\0');
    c = expect("visit", 3, "2026-12-01", "2026-12-08", CC_STATUS_DUE_SOON);
    assert_int_equal(c->start_event, EVENT_ID(3));
    /* A visit already missed when the child moves stays overdue. */
    run(DOB_11, "2026-11-23",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", NULL},
               {"placement_start", "2026-11-20", NULL}, {"visit", "2026-11-21", NULL}));
    c = expect("visit", 1, "2026-11-02", "2026-11-09", CC_STATUS_OVERDUE);
    expect_met_on(c, NULL);
    c = expect("visit", 2, "2026-11-20", "2026-11-27", CC_STATUS_MET);
    expect_met_on(c, "2026-11-21");
}

static void test_visit_needs_a_child_in_care(void **state)
{
    (void)state;
    run(DOB_11, "2026-11-10", EVENTS({"placement_start", "2026-11-02", NULL}));
    expect_none("visit");
    expect_none("care_plan");
    expect_none("pep");
    assert_int_equal(g_out.len, 0);
}

/* ---- review minutes, IRO report, report to IRO ------------------------ */

static void test_review_minutes_and_iro_report(void **state)
{
    (void)state;
    /* Held Fri 27 Nov: minutes due Fri 4 Dec, sent that day (met); IRO
     * report due Tue 29 Dec, issued Wed 30 Dec (met_late). A second review
     * held Fri 19 Feb 2027: minutes due Fri 26 Feb, not sent. */
    run(DOB_11, "2027-03-01",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"review_held", "2026-11-27", NULL},
               {"review_minutes_sent", "2026-12-04", NULL}, {"iro_report_issued", "2026-12-30", NULL},
               {"review_held", "2027-02-19", NULL}));
    const cc_clock_t *c = expect("review_minutes", 1, "2026-11-27", "2026-12-04", CC_STATUS_MET);
    assert_int_equal(c->start_event, EVENT_ID(1));
    assert_int_equal(c->met_event, EVENT_ID(2));
    c = expect("iro_report", 1, "2026-11-27", "2026-12-29", CC_STATUS_MET_LATE);
    expect_met_on(c, "2026-12-30");
    expect("review_minutes", 2, "2027-02-19", "2027-02-26", CC_STATUS_OVERDUE);
    assert_int_equal(count_rule("review_minutes"), 2);
    assert_int_equal(count_rule("iro_report"), 2);
}

static void test_review_report_to_iro(void **state)
{
    (void)state;
    /* Review scheduled for Mon 7 Dec: report due 3 wd before, Wed 2 Dec. */
    static const ev_t base[] = {{"looked_after_start", "2026-11-02", NULL},
                                {"review_scheduled", "2026-12-07", NULL}};
    run(DOB_11, "2026-11-25", base, 2);
    /* due_soon from 2 Dec - 5 wd = Wed 25 Nov. */
    expect("review_report_to_iro", 1, "2026-12-07", "2026-12-02", CC_STATUS_DUE_SOON);
    run(DOB_11, "2026-11-24", base, 2);
    expect("review_report_to_iro", 1, "2026-12-07", "2026-12-02", CC_STATUS_OPEN);
    run(DOB_11, "2026-12-03", base, 2);
    expect("review_report_to_iro", 1, "2026-12-07", "2026-12-02", CC_STATUS_OVERDUE);
    /* Sent Tue 1 Dec, before the review: met (early, before the start). */
    run(DOB_11, "2026-12-03",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"review_report_sent", "2026-12-01", NULL},
               {"review_scheduled", "2026-12-07", NULL}));
    const cc_clock_t *c = expect("review_report_to_iro", 1, "2026-12-07", "2026-12-02", CC_STATUS_MET);
    expect_met_on(c, "2026-12-01");
    assert_true(c->flags & CC_CLOCK_EARLY);
    /* Sent Thu 3 Dec: late. */
    run(DOB_11, "2026-12-08",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"review_report_sent", "2026-12-03", NULL},
               {"review_scheduled", "2026-12-07", NULL}));
    expect("review_report_to_iro", 1, "2026-12-07", "2026-12-02", CC_STATUS_MET_LATE);
}

static void test_meeting_event_meets_the_earliest_unmet_instance(void **state)
{
    (void)state;
    /* Two reviews held; one set of minutes sent after both: it meets the
     * first review's minutes (late); the second's stay unmet. A minutes
     * event before any review meets nothing. */
    run(DOB_11, "2027-02-23",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"review_minutes_sent", "2026-11-20", NULL},
               {"review_held", "2026-11-27", NULL}, {"review_held", "2027-02-19", NULL},
               {"review_minutes_sent", "2027-02-22", NULL}));
    const cc_clock_t *c = expect("review_minutes", 1, "2026-11-27", "2026-12-04", CC_STATUS_MET_LATE);
    expect_met_on(c, "2027-02-22");
    assert_int_equal(c->met_event, EVENT_ID(4));
    c = expect("review_minutes", 2, "2027-02-19", "2027-02-26", CC_STATUS_DUE_SOON);
    expect_met_on(c, NULL);
}

static void test_uncovered_years_are_flagged(void **state)
{
    (void)state;
    /* Wed 20 Dec 2028 + 20 wd reaches into 2029, beyond the holiday list
     * (2018-2028): Christmas 2028 is skipped, 2029 counts weekends only:
     * Fri 19 Jan 2029, flagged. Weeks need no holidays: no flag. */
    run(DOB_11, "2028-12-21",
        EVENTS({"looked_after_start", "2028-12-20", NULL}, {"placement_start", "2028-12-20", NULL}));
    const cc_clock_t *c = expect("review", 1, "2028-12-20", "2029-01-19", CC_STATUS_OPEN);
    assert_true(c->flags & CC_CLOCK_UNCOVERED);
    c = expect("care_plan", 1, "2028-12-20", "2029-01-05", CC_STATUS_OPEN);
    assert_true(c->flags & CC_CLOCK_UNCOVERED);
    c = expect("visit", 1, "2028-12-20", "2028-12-27", CC_STATUS_DUE_SOON);
    assert_false(c->flags & CC_CLOCK_UNCOVERED);
    /* Anchored on an uncovered review: flagged too (and projected). */
    c = expect("permanence_plan", 1, "2028-12-20", "2029-04-19", CC_STATUS_OPEN);
    assert_true(c->flags & CC_CLOCK_UNCOVERED);
    assert_true(c->flags & CC_CLOCK_PROJECTED);
    /* Inside the covered years: no flag. */
    run(DOB_11, "2026-11-10", EVENTS({"looked_after_start", "2026-11-02", NULL}));
    assert_false(find("review", 1)->flags & CC_CLOCK_UNCOVERED);
}

static void test_review_report_to_iro_cancelled_when_child_leaves_care(void **state)
{
    (void)state;
    /* A review booked for Mon 7 Dec (report due Wed 2 Dec); the child
     * ceases to be looked after on Tue 1 Dec, before the report is due and
     * the report was not sent: the clock is cancelled (cancel_on =
     * looked_after_end), not overdue. */
    run(DOB_11, "2026-12-03",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"review_scheduled", "2026-12-07", NULL},
               {"looked_after_end", "2026-12-01", NULL}));
    expect("review_report_to_iro", 1, "2026-12-07", "2026-12-02", CC_STATUS_CANCELLED);
    /* Ended after the report was due (Thu 3 Dec): it was missed, overdue. */
    run(DOB_11, "2026-12-04",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"review_scheduled", "2026-12-07", NULL},
               {"looked_after_end", "2026-12-03", NULL}));
    expect("review_report_to_iro", 1, "2026-12-07", "2026-12-02", CC_STATUS_OVERDUE);
    /* The report was sent (Mon 30 Nov) before the child left (1 Dec): met
     * on time, not cancelled. */
    run(DOB_11, "2026-12-03",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"review_report_sent", "2026-11-30", NULL},
               {"review_scheduled", "2026-12-07", NULL}, {"looked_after_end", "2026-12-01", NULL}));
    const cc_clock_t *c = expect("review_report_to_iro", 1, "2026-12-07", "2026-12-02", CC_STATUS_MET);
    expect_met_on(c, "2026-11-30");
}

/* ---- SGO and court work ----------------------------------------------- */

static void test_sgo_report_twelve_weeks(void **state)
{
    (void)state;
    /* Mon 5 Jan 2026 + 84 days = Mon 30 Mar 2026. Not a looked-after child. */
    run(DOB_11, "2026-04-01",
        EVENTS({"sgo_notice", "2026-01-05", NULL}, {"sgo_report_filed", "2026-03-30", NULL}));
    expect("sgo_report", 1, "2026-01-05", "2026-03-30", CC_STATUS_MET);
    run(DOB_11, "2026-04-01",
        EVENTS({"sgo_notice", "2026-01-05", NULL}, {"sgo_report_filed", "2026-03-31", NULL}));
    expect("sgo_report", 1, "2026-01-05", "2026-03-30", CC_STATUS_MET_LATE);
    run(DOB_11, "2026-03-16", EVENTS({"sgo_notice", "2026-01-05", NULL}));
    /* warn 10 wd: 30 Mar - 10 wd = Mon 16 Mar. */
    expect("sgo_report", 1, "2026-01-05", "2026-03-30", CC_STATUS_DUE_SOON);
    assert_int_equal(g_out.len, 1);
}

static void test_report_to_managers_before_filing(void **state)
{
    (void)state;
    /* Filing Mon 7 Dec 2026: report due 5 wd before, Mon 30 Nov; given Fri
     * 27 Nov (before the clock's start): met. */
    run(DOB_11, "2026-12-01",
        EVENTS({"report_to_managers", "2026-11-27", NULL}, {"court_filing_scheduled", "2026-12-07", NULL}));
    const cc_clock_t *c = expect("report_to_managers", 1, "2026-12-07", "2026-11-30", CC_STATUS_MET);
    expect_met_on(c, "2026-11-27");
    assert_true(c->flags & CC_CLOCK_EARLY);
    run(DOB_11, "2026-12-01", EVENTS({"court_filing_scheduled", "2026-12-07", NULL}));
    expect("report_to_managers", 1, "2026-12-07", "2026-11-30", CC_STATUS_OVERDUE);
}

static void test_report_to_managers_two_filings_reports_given_together(void **state)
{
    (void)state;
    /* Two filings, Mon 7 Dec (report due 30 Nov) and Mon 14 Dec (due Mon 7
     * Dec); both reports given to managers on Tue 1 Dec. The second report
     * is dated before its clock's start and the child has no episode of
     * care, so accept_early lets it meet the second filing's clock: met. */
    run(DOB_11, "2026-12-15",
        EVENTS({"report_to_managers", "2026-12-01", NULL}, {"report_to_managers", "2026-12-01", NULL},
               {"court_filing_scheduled", "2026-12-07", NULL}, {"court_filing_scheduled", "2026-12-14", NULL}));
    const cc_clock_t *c = expect("report_to_managers", 1, "2026-12-07", "2026-11-30", CC_STATUS_MET_LATE);
    expect_met_on(c, "2026-12-01");
    c = expect("report_to_managers", 2, "2026-12-14", "2026-12-07", CC_STATUS_MET);
    expect_met_on(c, "2026-12-01");
}

/* ---- children in need and child protection ---------------------------- */

static void test_referral_decision_and_assessment(void **state)
{
    (void)state;
    /* Referral Fri 28 Aug 2026: decision due Tue 1 Sep (Mon 31 Aug is a bank
     * holiday); assessment due + 45 wd = Mon 2 Nov. */
    run(DOB_11, "2026-11-05",
        EVENTS({"referral", "2026-08-28", NULL}, {"referral_decision", "2026-09-01", NULL},
               {"assessment_completed", "2026-11-03", NULL}));
    expect("referral_decision", 1, "2026-08-28", "2026-09-01", CC_STATUS_MET);
    const cc_clock_t *c = expect("assessment", 1, "2026-08-28", "2026-11-02", CC_STATUS_MET_LATE);
    expect_met_on(c, "2026-11-03");
    /* warn 1 wd: due_soon on the day of the referral itself. */
    run(DOB_11, "2026-08-28", EVENTS({"referral", "2026-08-28", NULL}));
    expect("referral_decision", 1, "2026-08-28", "2026-09-01", CC_STATUS_DUE_SOON);
    run(DOB_11, "2026-08-27", EVENTS({"referral", "2026-08-28", NULL}));
    expect("referral_decision", 1, "2026-08-28", "2026-09-01", CC_STATUS_OPEN);
    run(DOB_11, "2026-09-02", EVENTS({"referral", "2026-08-28", NULL}));
    expect("referral_decision", 1, "2026-08-28", "2026-09-01", CC_STATUS_OVERDUE);
    /* Two referrals, two of each clock; a decision meets the earliest. */
    run(DOB_11, "2026-11-10",
        EVENTS({"referral", "2026-08-28", NULL}, {"referral", "2026-11-02", NULL},
               {"referral_decision", "2026-11-03", NULL}));
    c = expect("referral_decision", 1, "2026-08-28", "2026-09-01", CC_STATUS_MET_LATE);
    expect_met_on(c, "2026-11-03");
    c = expect("referral_decision", 2, "2026-11-02", "2026-11-03", CC_STATUS_OVERDUE);
    expect_met_on(c, NULL);
    expect("assessment", 2, "2026-11-02", "2027-01-07", CC_STATUS_OPEN);
}

static void test_child_protection_clocks(void **state)
{
    (void)state;
    /* Strategy discussion Mon 2 Nov 2026 that initiates s47 enquiries
     * (Working Together 2023): ICPC due + 15 wd = Mon 23 Nov,
     * held then. First core group + 10 wd = Mon 7 Dec, held Fri 4 Dec;
     * its minutes + 7 wd = Tue 15 Dec, sent 16 Dec (late). CP review + 3 m
     * = 23 Feb 2027, held 22 Feb; next + 6 m = 22 Aug 2027. */
    run(DOB_11, "2027-03-01",
        EVENTS({"strategy_discussion", "2026-11-02", "{\"s47\":\"yes\"}"}, {"icpc_held", "2026-11-23", NULL},
               {"core_group_held", "2026-12-04", NULL}, {"core_group_minutes_sent", "2026-12-16", NULL},
               {"cp_review_held", "2027-02-22", NULL}));
    expect("icpc", 1, "2026-11-02", "2026-11-23", CC_STATUS_MET);
    expect("core_group", 1, "2026-11-23", "2026-12-07", CC_STATUS_MET);
    const cc_clock_t *c = expect("core_group_minutes", 1, "2026-12-04", "2026-12-15", CC_STATUS_MET_LATE);
    expect_met_on(c, "2026-12-16");
    c = expect("cp_review", 1, "2026-11-23", "2027-02-23", CC_STATUS_MET);
    assert_int_equal(c->basis, CC_BASIS_DUE);
    c = expect("cp_review", 2, "2027-02-22", "2027-08-22", CC_STATUS_OPEN);
    assert_int_equal(c->basis, CC_BASIS_THEN);
    assert_int_equal(g_out.len, 5);
}

static void test_cp_review_superseded_by_a_new_icpc(void **state)
{
    (void)state;
    /* A new ICPC on Mon 10 May 2027 starts a new plan: the open review (due
     * 22 Aug) is cancelled, a new one is due 10 Aug, and a new first core
     * group is due Mon 24 May. */
    run(DOB_11, "2027-05-11",
        EVENTS({"icpc_held", "2026-11-23", NULL}, {"core_group_held", "2026-12-04", NULL},
               {"cp_review_held", "2027-02-22", NULL}, {"icpc_held", "2027-05-10", NULL}));
    expect("cp_review", 1, "2026-11-23", "2027-02-23", CC_STATUS_MET);
    expect("cp_review", 2, "2027-02-22", "2027-08-22", CC_STATUS_CANCELLED);
    expect("cp_review", 3, "2027-05-10", "2027-08-10", CC_STATUS_OPEN);
    expect("core_group", 1, "2026-11-23", "2026-12-07", CC_STATUS_MET);
    expect("core_group", 2, "2027-05-10", "2027-05-24", CC_STATUS_OPEN);
}

/* ---- status boundaries ------------------------------------------------ */

static void test_status_boundaries(void **state)
{
    (void)state;
    /* Care plan due Mon 16 Nov, warn 5 wd: due_soon from Mon 9 Nov. */
    static const ev_t evs[] = {{"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", NULL}};
    static const struct {
        const char *today;
        cc_status_t status;
    } cases[] = {
        {"2026-11-05", CC_STATUS_OPEN},     {"2026-11-06", CC_STATUS_OPEN}, /* Fri: 6 wd before */
        {"2026-11-08", CC_STATUS_OPEN},                                     /* Sun */
        {"2026-11-09", CC_STATUS_DUE_SOON},                                 /* exactly 5 wd before */
        {"2026-11-13", CC_STATUS_DUE_SOON}, {"2026-11-16", CC_STATUS_DUE_SOON}, /* the due date */
        {"2026-11-17", CC_STATUS_OVERDUE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        run(DOB_11, cases[i].today, evs, 2);
        const cc_clock_t *c = find("care_plan", 1);
        if (c->status != cases[i].status)
            print_error("today %s: expected %s, got %s\n", cases[i].today, cc_status_name(cases[i].status),
                        cc_status_name(c->status));
        assert_string_equal(cc_status_name(c->status), cc_status_name(cases[i].status));
    }
    /* A due date on a Saturday (second review, Sat 27 Feb 2027, warn 10
     * wd): due_soon from Mon 15 Feb; open on Fri 12 Feb; overdue Sun 28. */
    static const ev_t rv[] = {{"looked_after_start", "2026-11-02", NULL}, {"review_held", "2026-11-27", NULL}};
    run(DOB_11, "2027-02-12", rv, 2);
    expect("review", 2, "2026-11-27", "2027-02-27", CC_STATUS_OPEN);
    run(DOB_11, "2027-02-15", rv, 2);
    expect("review", 2, "2026-11-27", "2027-02-27", CC_STATUS_DUE_SOON);
    run(DOB_11, "2027-02-27", rv, 2);
    expect("review", 2, "2026-11-27", "2027-02-27", CC_STATUS_DUE_SOON);
    run(DOB_11, "2027-02-28", rv, 2);
    expect("review", 2, "2026-11-27", "2027-02-27", CC_STATUS_OVERDUE);
}

static void test_met_on_due_date_is_met_one_day_late_met_late(void **state)
{
    (void)state;
    run(DOB_11, "2026-12-01",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", NULL},
               {"care_plan_completed", "2026-11-16", NULL}));
    const cc_clock_t *c = expect("care_plan", 1, "2026-11-02", "2026-11-16", CC_STATUS_MET);
    assert_false(c->flags & CC_CLOCK_EARLY);
    run(DOB_11, "2026-12-01",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", NULL},
               {"care_plan_completed", "2026-11-17", NULL}));
    c = expect("care_plan", 1, "2026-11-02", "2026-11-16", CC_STATUS_MET_LATE);
    expect_met_on(c, "2026-11-17");
    /* The status of a met clock does not depend on today. */
    run(DOB_11, "2026-11-10",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", NULL},
               {"care_plan_completed", "2026-11-17", NULL}));
    expect("care_plan", 1, "2026-11-02", "2026-11-16", CC_STATUS_MET_LATE);
}

static void test_status_names_round_trip(void **state)
{
    (void)state;
    static const char *const names[] = {"open", "due_soon", "overdue", "met", "met_late", "cancelled", "data_error",
                                          "at_risk", "excepted"};
    for (int i = 0; i < CC_STATUS_COUNT; i++) {
        assert_string_equal(cc_status_name((cc_status_t)i), names[i]);
        assert_int_equal(cc_status_parse(names[i]), i);
    }
    assert_int_equal(cc_status_parse("late"), -1);
}

/* ---- data errors ------------------------------------------------------ */

static void expect_single_data_error(const char *must_contain1, const char *must_contain2)
{
    if (g_out.len != 1 || g_out.items[0].status != CC_STATUS_DATA_ERROR) {
        print_error("expected one data_error clock; the clocks are:\n");
        dump(&g_out);
    }
    assert_int_equal(g_out.len, 1);
    const cc_clock_t *c = &g_out.items[0];
    assert_int_equal(c->rule, -1);
    assert_string_equal(cc_status_name(c->status), "data_error");
    if (strstr(c->reason, must_contain1) == NULL || (must_contain2 && strstr(c->reason, must_contain2) == NULL))
        print_error("reason \"%s\" should mention \"%s\" and \"%s\"\n", c->reason, must_contain1,
                    must_contain2 ? must_contain2 : "");
    assert_non_null(strstr(c->reason, must_contain1));
    if (must_contain2)
        assert_non_null(strstr(c->reason, must_contain2));
}

static void test_data_error_unknown_type(void **state)
{
    (void)state;
    run(DOB_11, "2026-11-10",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", NULL},
               {"tea_party", "2026-11-03", NULL}));
    expect_single_data_error("event 103", "tea_party");
}

static void test_data_error_bad_date(void **state)
{
    (void)state;
    run(DOB_11, "2026-11-10",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-02-30", NULL}));
    expect_single_data_error("event 102", "2026-02-30");
    run(DOB_11, "2026-11-10", EVENTS({"looked_after_start", "02/11/2026 ", NULL}));
    expect_single_data_error("event 101", "02/11/2026 ");
}

/* Attributes beyond CC_ATTRS_MAX bytes (another system wrote them): a data
 * error, before any is parsed (issue 19, item 8); at the bound they are
 * read as usual. */
static void test_data_error_attributes_too_large(void **state)
{
    (void)state;
    static char attrs[CC_ATTRS_MAX + 2];
    size_t n = CC_ATTRS_MAX + 1;
    memset(attrs, ' ', n);
    memcpy(attrs, "{\"emergency\":\"yes\"}", 19); /* valid JSON padded with spaces */
    attrs[n] = '\0';
    run(DOB_11, "2026-11-10",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", attrs}));
    expect_single_data_error("event 102", "attributes longer than 8192 bytes");
    attrs[n - 1] = '\0'; /* exactly CC_ATTRS_MAX */
    run(DOB_11, "2026-11-10",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", attrs}));
    assert_true(g_out.len > 1);
    for (size_t i = 0; i < g_out.len; i++)
        assert_int_not_equal(g_out.items[i].status, CC_STATUS_DATA_ERROR);
}

static void test_data_error_end_with_no_episode(void **state)
{
    (void)state;
    /* Ends before it starts. */
    run(DOB_11, "2026-11-10",
        EVENTS({"looked_after_start", "2026-11-05", NULL}, {"looked_after_end", "2026-11-02", NULL}));
    expect_single_data_error("event 102", "looked_after_end");
    /* Two ends for one episode. */
    run(DOB_11, "2026-11-10",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"looked_after_end", "2026-11-03", NULL},
               {"looked_after_end", "2026-11-04", NULL}));
    expect_single_data_error("event 103", NULL);
}

static void test_data_error_bad_dob(void **state)
{
    (void)state;
    run("2015-02-29", "2026-11-10",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", NULL}));
    expect_single_data_error("2015-02-29", NULL);
    /* Even with no events. */
    run("", "2026-11-10", NO_EVENTS);
    assert_int_equal(g_out.len, 1);
    assert_string_equal(cc_status_name(g_out.items[0].status), "data_error");
}

static void test_data_error_keeps_other_childrens_clocks(void **state)
{
    (void)state;
    /* cc_engine_run appends: a second child's data error replaces only its
     * own clocks. */
    cc_clocks_t out;
    cc_clocks_init(&out);
    cc_child_t a = {.id = "A", .dob = iso(DOB_11), .raw_dob = DOB_11};
    cc_child_t b = {.id = "B", .dob = iso(DOB_11), .raw_dob = DOB_11};
    build_events(EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", NULL}));
    assert_int_equal(cc_engine_run(g_rs, g_cal, iso("2026-11-10"), &a, g_events, 2, &out), 0);
    size_t first = out.len;
    assert_int_equal(first, 7); /* the acceptance scenario's seven clocks */
    build_events(EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", NULL},
                        {"nonsense", "2026-11-03", NULL}));
    assert_int_equal(cc_engine_run(g_rs, g_cal, iso("2026-11-10"), &b, g_events, 3, &out), 0);
    assert_int_equal(out.len, first + 1);
    assert_string_equal(cc_status_name(out.items[first].status), "data_error");
    for (size_t i = 0; i < first; i++)
        assert_true(out.items[i].status != CC_STATUS_DATA_ERROR);
    cc_clocks_free(&out);
}

/* ---- shape of the output ---------------------------------------------- */

static void test_no_events_no_clocks(void **state)
{
    (void)state;
    run(DOB_11, "2026-11-10", NO_EVENTS);
    assert_int_equal(g_out.len, 0);
}

static const ev_t busy_sorted[] = {
    {"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", "{\"emergency\":\"yes\"}"},
    {"visit", "2026-11-06", NULL},              {"care_plan_completed", "2026-11-10", NULL},
    {"review_held", "2026-11-27", NULL},        {"review_minutes_sent", "2026-12-02", NULL},
    {"placement_start", "2026-12-01", NULL},    {"visit", "2026-12-04", NULL},
    {"review_scheduled", "2027-02-22", NULL},   {"review_report_sent", "2027-02-15", NULL},
    {"review_held", "2027-02-22", NULL},        {"looked_after_end", "2027-04-01", NULL},
    {"looked_after_start", "2027-06-01", NULL}, {"placement_start", "2027-06-01", NULL},
    {"referral", "2027-06-10", NULL},
};

static void test_unsorted_input_gives_the_same_result(void **state)
{
    (void)state;
    size_t n = sizeof(busy_sorted) / sizeof(busy_sorted[0]);
    /* The events in date order, then permuted (the same events, the same
     * ids). */
    cc_event_t sorted_events[sizeof(busy_sorted) / sizeof(busy_sorted[0])];
    run(DOB_11, "2027-06-15", busy_sorted, n);
    memcpy(sorted_events, g_events, sizeof(sorted_events));
    cc_clocks_t first;
    cc_clocks_init(&first);
    cc_child_t child = {.id = "C1", .dob = iso(DOB_11), .raw_dob = DOB_11};
    assert_int_equal(cc_engine_run(g_rs, g_cal, iso("2027-06-15"), &child, sorted_events, n, &first), 0);
    assert_true(first.len > 15);
    /* Reverse, then a fixed permutation (the same events, the same ids). */
    for (int round = 0; round < 2; round++) {
        cc_event_t perm[sizeof(busy_sorted) / sizeof(busy_sorted[0])];
        for (size_t i = 0; i < n; i++)
            perm[i] = sorted_events[round == 0 ? n - 1 - i : (i * 7) % n];
        cc_clocks_t again;
        cc_clocks_init(&again);
        assert_int_equal(cc_engine_run(g_rs, g_cal, iso("2027-06-15"), &child, perm, n, &again), 0);
        assert_int_equal(again.len, first.len);
        for (size_t i = 0; i < first.len; i++) {
            const cc_clock_t *x = &first.items[i], *y = &again.items[i];
            assert_int_equal(x->rule, y->rule);
            assert_int_equal(x->seq, y->seq);
            assert_int_equal(x->episode, y->episode);
            assert_int_equal(x->start, y->start);
            assert_int_equal(x->due, y->due);
            assert_int_equal(x->met_on, y->met_on);
            assert_int_equal(x->status, y->status);
            assert_int_equal(x->start_event, y->start_event);
            assert_int_equal(x->met_event, y->met_event);
            assert_int_equal(x->flags, y->flags);
        }
        cc_clocks_free(&again);
    }
    cc_clocks_free(&first);
}

static void test_output_sorted_by_rule_then_seq(void **state)
{
    (void)state;
    run(DOB_11, "2027-06-15", busy_sorted, sizeof(busy_sorted) / sizeof(busy_sorted[0]));
    for (size_t i = 1; i < g_out.len; i++) {
        const cc_clock_t *a = &g_out.items[i - 1], *b = &g_out.items[i];
        assert_true(a->rule <= b->rule);
        if (a->rule == b->rule) {
            assert_int_equal(b->seq, a->seq + 1);
            assert_true(a->start <= b->start);
        } else {
            assert_int_equal(b->seq, 1);
        }
    }
    /* Spot checks of this busy history. The emergency PEP: due 16 Nov. The
     * review of 22 Feb 2027 had its report sent 15 Feb (due 17 Feb). */
    expect("pep", 1, "2026-11-02", "2026-11-16", CC_STATUS_OVERDUE);
    expect("review_report_to_iro", 1, "2027-02-22", "2027-02-17", CC_STATUS_MET);
    expect("review", 3, "2027-02-22", "2027-08-22", CC_STATUS_CANCELLED);
    expect("care_plan", 2, "2027-06-01", "2027-06-15", CC_STATUS_DUE_SOON);
    expect("referral_decision", 1, "2027-06-10", "2027-06-11", CC_STATUS_OVERDUE);
}

/* ---- council overrides ------------------------------------------------ */

/* Run the acceptance events under the current ruleset into out. */
static void run_reference(cc_clocks_t *out)
{
    cc_child_t child = {.id = "C1", .dob = iso(DOB_11), .raw_dob = DOB_11};
    build_events(EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", NULL},
                        {"review_held", "2026-11-27", NULL}, {"referral", "2026-11-03", NULL}));
    assert_int_equal(cc_engine_run(g_rs, g_cal, iso("2026-11-10"), &child, g_events, 4, out), 0);
}

/* Every clock of ref (under ref_rs) except skip_rule's must be in now
 * (under g_rs) with the same dates and status, and the counts agree. */
static void assert_same_except(const cc_ruleset_t *ref_rs, const cc_clocks_t *ref, const cc_clocks_t *now,
                               const char *skip_rule)
{
    size_t compared = 0;
    for (size_t i = 0; i < ref->len; i++) {
        const cc_clock_t *x = &ref->items[i];
        const char *id = cc_ruleset_rule(ref_rs, (size_t)x->rule)->id;
        if (strcmp(id, skip_rule) == 0)
            continue;
        const cc_clock_t *y = find_in(now, id, x->seq);
        if (y == NULL)
            print_error("%s seq %d missing after the override\n", id, x->seq);
        assert_non_null(y);
        assert_int_equal(x->start, y->start);
        assert_int_equal(x->due, y->due);
        assert_int_equal(x->status, y->status);
        assert_int_equal(x->met_on, y->met_on);
        compared++;
    }
    size_t now_other = 0;
    int skip_index = rule_index(skip_rule);
    for (size_t i = 0; i < now->len; i++)
        now_other += now->items[i].rule != skip_index;
    assert_int_equal(now_other, compared);
}

static void test_override_changes_only_care_plan(void **state)
{
    (void)state;
    cc_clocks_t ref, now;
    cc_clocks_init(&ref);
    cc_clocks_init(&now);
    run_reference(&ref);
    use_override("; council rules\n[care_plan]\ndue = +5wd\n");
    run_reference(&now);
    /* Mon 2 Nov + 5 wd = Mon 9 Nov: overdue on the 10th. */
    const cc_clock_t *c = find_in(&now, "care_plan", 1);
    assert_non_null(c);
    assert_int_equal(c->due, iso("2026-11-09"));
    assert_string_equal(cc_status_name(c->status), "overdue");
    assert_same_except(g_default, &ref, &now, "care_plan");
    /* The rest of the care plan rule is unchanged: still met early. */
    run(DOB_11, "2026-11-10",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"care_plan_completed", "2026-11-03", NULL},
               {"placement_start", "2026-11-05", NULL}));
    expect("care_plan", 1, "2026-11-05", "2026-11-12", CC_STATUS_MET);
    cc_clocks_free(&ref);
    cc_clocks_free(&now);
}

static void test_override_disables_pep(void **state)
{
    (void)state;
    cc_clocks_t ref, now;
    cc_clocks_init(&ref);
    cc_clocks_init(&now);
    run_reference(&ref);
    assert_non_null(find_in(&ref, "pep", 1));
    use_override("[pep]\nenabled = no\n");
    assert_null(cc_ruleset_find(g_rs, "pep"));
    run_reference(&now);
    assert_int_equal(now.len, ref.len - 1);
    assert_same_except(g_default, &ref, &now, "pep");
    cc_clocks_free(&ref);
    cc_clocks_free(&now);
}

static void test_override_adds_a_rule_and_event_type(void **state)
{
    (void)state;
    use_override("[events]\n"
                 "add = family_group_conference, fgc_plan_agreed\n"
                 "\n"
                 "[fgc_plan]\n"
                 "title = Family group conference plan\n"
                 "source = council procedure 4.2\n"
                 "starts_on = family_group_conference\n"
                 "per = event\n"
                 "due = +10wd\n"
                 "met_by = fgc_plan_agreed\n"
                 "warn = 2wd\n");
    assert_true(cc_ruleset_type_index(g_rs, "family_group_conference") >= 0);
    /* Fri 28 Aug 2026 + 10 wd = Mon 14 Sep; the second conference is met
     * late (+ 10 wd = Tue 13 Oct, agreed 14 Oct). */
    run(DOB_11, "2026-10-20",
        EVENTS({"family_group_conference", "2026-08-28", NULL}, {"fgc_plan_agreed", "2026-09-14", NULL},
               {"family_group_conference", "2026-09-29", NULL}, {"fgc_plan_agreed", "2026-10-14", NULL}));
    expect("fgc_plan", 1, "2026-08-28", "2026-09-14", CC_STATUS_MET);
    expect("fgc_plan", 2, "2026-09-29", "2026-10-13", CC_STATUS_MET_LATE);
    assert_int_equal(g_out.len, 2);
    /* The default rules do not know the new type: a data error there. */
    g_rs = g_default;
    run(DOB_11, "2026-10-20", EVENTS({"family_group_conference", "2026-08-28", NULL}));
    expect_single_data_error("family_group_conference", NULL);
}

static void test_episode_ends_and_new_one_starts_the_same_day(void **state)
{
    (void)state;
    /* Care ends and a new period begins on Mon 7 Dec 2026: two episodes.
     * The first episode's care plan (due Mon 16 Nov) was met; the second
     * episode gets its own care plan from the placement that day (+10 wd =
     * Mon 21 Dec) and its own first review (+20 wd = Thu 7 Jan 2027:
     * 25, 28 Dec and 1 Jan are bank holidays). */
    run(DOB_11, "2026-12-08",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", NULL},
               {"care_plan_completed", "2026-11-10", NULL}, {"looked_after_end", "2026-12-07", NULL},
               {"looked_after_start", "2026-12-07", NULL}, {"placement_start", "2026-12-07", NULL}));
    expect("care_plan", 1, "2026-11-02", "2026-11-16", CC_STATUS_MET);
    expect("care_plan", 2, "2026-12-07", "2026-12-21", CC_STATUS_OPEN);
    expect("review", 1, "2026-11-02", "2026-11-30", CC_STATUS_OVERDUE);
    expect("review", 2, "2026-12-07", "2027-01-07", CC_STATUS_OPEN);
}

/* ---- issue 15: every clock right -------------------------------------- */

/* CPPCR 2010 reg 4(2): "the care plan must be prepared before C is first
 * placed by the responsible authority or, if it is not practicable to do so,
 * within ten working days of the start of the first placement". A planned
 * (s20) admission whose plan was completed the working day before the child
 * became looked after has met the clock on time. The local guidance says the
 * same of the PEP (../shared/seeds/004, section 3.1: "drawn up ... before the
 * child is placed"). The window the rule accepts (england.rules,
 * accept_early = 3m): up to 3 months before the clock's start, and after the
 * end of the child's previous episode of care. */
static void test_plans_prepared_before_the_child_became_looked_after(void **state)
{
    (void)state;
    /* Looked after and placed Mon 2 Nov 2026; care plan and PEP completed
     * Fri 30 Oct, the working day before. */
    run(DOB_11, "2026-11-10",
        EVENTS({"care_plan_completed", "2026-10-30", NULL}, {"pep_completed", "2026-10-30", NULL},
               {"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", NULL}));
    const cc_clock_t *c = expect("care_plan", 1, "2026-11-02", "2026-11-16", CC_STATUS_MET);
    expect_met_on(c, "2026-10-30");
    assert_int_equal(c->met_event, EVENT_ID(0));
    assert_true(c->flags & CC_CLOCK_EARLY);
    c = expect("pep", 1, "2026-11-02", "2026-11-02", CC_STATUS_MET);
    expect_met_on(c, "2026-10-30");
    /* The window's edge: 2 Nov - 3 months = Sun 2 Aug 2026 counts, Sat 1
     * Aug does not (a plan that old is not this admission's plan). */
    run(DOB_11, "2026-11-10",
        EVENTS({"care_plan_completed", "2026-08-02", NULL}, {"looked_after_start", "2026-11-02", NULL},
               {"placement_start", "2026-11-02", NULL}));
    expect_met_on(expect("care_plan", 1, "2026-11-02", "2026-11-16", CC_STATUS_MET), "2026-08-02");
    run(DOB_11, "2026-11-10",
        EVENTS({"care_plan_completed", "2026-08-01", NULL}, {"looked_after_start", "2026-11-02", NULL},
               {"placement_start", "2026-11-02", NULL}));
    expect_met_on(expect("care_plan", 1, "2026-11-02", "2026-11-16", CC_STATUS_DUE_SOON), NULL);
}

/* The same window never reaches back into the child's previous episode of
 * care: a plan made during it (or on the day it ended) was that episode's
 * plan; one made after the child went home, for the return, counts. */
static void test_plan_before_the_episode_not_from_the_previous_one(void **state)
{
    (void)state;
    run(DOB_11, "2026-11-10",
        EVENTS({"looked_after_start", "2026-08-03", NULL}, {"looked_after_end", "2026-09-15", NULL},
               {"care_plan_completed", "2026-09-15", NULL}, {"looked_after_start", "2026-11-02", NULL},
               {"placement_start", "2026-11-02", NULL}));
    expect_met_on(expect("care_plan", 1, "2026-11-02", "2026-11-16", CC_STATUS_DUE_SOON), NULL);
    run(DOB_11, "2026-11-10",
        EVENTS({"looked_after_start", "2026-08-03", NULL}, {"looked_after_end", "2026-09-15", NULL},
               {"care_plan_completed", "2026-09-16", NULL}, {"looked_after_start", "2026-11-02", NULL},
               {"placement_start", "2026-11-02", NULL}));
    expect_met_on(expect("care_plan", 1, "2026-11-02", "2026-11-16", CC_STATUS_MET), "2026-09-16");
}

/* CPPCR 2010 reg 28(2): R visits C "(a) within one week of the start of any
 * placement, (b) at intervals of not more than six weeks for the first year
 * of any placement, and (c) thereafter (i) where the placement is intended to
 * last until C is aged 18, at intervals of not more than three months, (ii)
 * and in any other case, at intervals of not more than six weeks". The
 * interval is chosen on the date it starts (the previous visit): one that
 * starts inside the first year is a first-year interval. */
static void test_visit_long_term_placement_six_weeks_for_the_first_year(void **state)
{
    (void)state;
    /* The case: placed Mon 6 Jan 2025, long-term; visited Fri 10
     * Jan: the next is due 10 Jan + 6 weeks = Fri 21 Feb 2025. */
    run(DOB_11, "2025-01-11",
        EVENTS({"looked_after_start", "2025-01-06", NULL},
               {"placement_start", "2025-01-06", "{\"long_term\":\"yes\"}"}, {"visit", "2025-01-10", NULL}));
    const cc_clock_t *c = expect("visit", 2, "2025-01-10", "2025-02-21", CC_STATUS_OPEN);
    assert_int_equal(c->basis, CC_BASIS_THEN);
    /* A visit on Mon 5 Jan 2026, still inside the first year: + 6 weeks =
     * Mon 16 Feb. One on Tue 6 Jan 2026, a year after the placement: + 3
     * months = Mon 6 Apr 2026. */
    static const ev_t lt[] = {{"looked_after_start", "2025-01-06", NULL},
                              {"placement_start", "2025-01-06", "{\"long_term\":\"yes\"}"},
                              {"visit", "2025-01-10", NULL},
                              {"visit", "2026-01-05", NULL},
                              {"visit", "2026-01-06", NULL}};
    run(DOB_11, "2026-01-07", lt, 5);
    expect("visit", 3, "2026-01-05", "2026-02-16", CC_STATUS_MET);
    c = expect("visit", 4, "2026-01-06", "2026-04-06", CC_STATUS_OPEN);
    assert_int_equal(c->basis, CC_BASIS_THEN_IF);
    /* Not intended to last until 18: six weeks after the first year too. */
    static const ev_t st[] = {{"looked_after_start", "2025-01-06", NULL},
                              {"placement_start", "2025-01-06", NULL},
                              {"visit", "2025-01-10", NULL},
                              {"visit", "2026-01-05", NULL},
                              {"visit", "2026-01-06", NULL}};
    run(DOB_11, "2026-01-07", st, 5);
    c = expect("visit", 4, "2026-01-06", "2026-02-17", CC_STATUS_OPEN);
    assert_int_equal(c->basis, CC_BASIS_THEN);
}

/* Working Together to Safeguard Children 2023, chapter 3 (section 47
 * enquiries and initial child protection conferences): the ICPC is held
 * within 15 working days of the strategy discussion at which section 47
 * enquiries were initiated. A strategy discussion that initiates none
 * starts no ICPC clock; a further one while the enquiry's ICPC is still to
 * be held starts no second clock. */
static void test_icpc_only_from_the_strategy_discussion_that_starts_s47(void **state)
{
    (void)state;
    run(DOB_11, "2026-11-10", EVENTS({"strategy_discussion", "2026-11-02", NULL}));
    expect_none("icpc");
    run(DOB_11, "2026-11-10", EVENTS({"strategy_discussion", "2026-11-02", "{\"s47\":\"no\"}"}));
    expect_none("icpc");
    /* Mon 2 Nov 2026 + 15 wd = Mon 23 Nov; a second discussion on 10 Nov
     * (s47 still open) starts nothing; after the ICPC, a new enquiry on Mon
     * 1 Mar 2027 starts a new clock: + 15 wd = Mon 22 Mar 2027. */
    run(DOB_11, "2027-03-02",
        EVENTS({"strategy_discussion", "2026-11-02", "{\"s47\":\"yes\"}"},
               {"strategy_discussion", "2026-11-10", "{\"s47\":\"yes\"}"}, {"icpc_held", "2026-11-23", NULL},
               {"strategy_discussion", "2027-03-01", "{\"s47\":\"yes\"}"}));
    assert_int_equal(count_rule("icpc"), 2);
    const cc_clock_t *c = expect("icpc", 1, "2026-11-02", "2026-11-23", CC_STATUS_MET);
    assert_int_equal(c->start_event, EVENT_ID(0));
    c = expect("icpc", 2, "2027-03-01", "2027-03-22", CC_STATUS_OPEN);
    assert_int_equal(c->start_event, EVENT_ID(3));
}

/* Working Together 2023: core groups and review conferences exist only for a
 * child protection plan; an ICPC that decides on no plan starts neither. */
static void test_icpc_with_no_plan_starts_no_core_group_or_review(void **state)
{
    (void)state;
    run(DOB_11, "2026-11-25",
        EVENTS({"strategy_discussion", "2026-11-02", "{\"s47\":\"yes\"}"},
               {"icpc_held", "2026-11-23", "{\"outcome\":\"no_plan\"}"}));
    expect("icpc", 1, "2026-11-02", "2026-11-23", CC_STATUS_MET);
    expect_none("core_group");
    expect_none("cp_review");
    /* With a plan (said, or not said): both. */
    run(DOB_11, "2026-11-25",
        EVENTS({"strategy_discussion", "2026-11-02", "{\"s47\":\"yes\"}"},
               {"icpc_held", "2026-11-23", "{\"outcome\":\"plan\"}"}));
    expect("core_group", 1, "2026-11-23", "2026-12-07", CC_STATUS_OPEN);
    expect("cp_review", 1, "2026-11-23", "2027-02-23", CC_STATUS_OPEN);
}

/* Working Together 2023: review conferences and core groups are held for as
 * long as the child is the subject of a plan. cp_plan_end ends it: the open
 * clocks of the plan are cancelled and the review chain stops. */
static void test_cp_plan_end_cancels_the_plan_clocks(void **state)
{
    (void)state;
    /* Plan from the ICPC on Mon 23 Nov 2026; reviewed 22 Feb 2027 (next due
     * 22 Aug); a core group on Wed 5 May 2027 (minutes due + 7 wd = Fri 14
     * May); the plan ends on Mon 10 May. */
    run(DOB_11, "2027-09-01",
        EVENTS({"icpc_held", "2026-11-23", NULL}, {"core_group_held", "2026-12-04", NULL},
               {"cp_review_held", "2027-02-22", NULL}, {"core_group_held", "2027-05-05", NULL},
               {"cp_plan_end", "2027-05-10", NULL}));
    const cc_clock_t *c = expect("cp_review", 2, "2027-02-22", "2027-08-22", CC_STATUS_CANCELLED);
    if (strstr(c->reason, "ended with the plan on 2027-05-10") == NULL)
        print_error("reason: %s\n", c->reason);
    assert_non_null(strstr(c->reason, "ended with the plan on 2027-05-10"));
    assert_int_equal(count_rule("cp_review"), 2);
    c = expect("core_group_minutes", 2, "2027-05-05", "2027-05-14", CC_STATUS_CANCELLED);
    assert_non_null(strstr(c->reason, "ended with the plan on 2027-05-10"));
    /* The plan ends a week after the ICPC: the first core group (due 7 Dec)
     * and the first review (due 23 Feb) are cancelled. */
    run(DOB_11, "2027-03-01",
        EVENTS({"icpc_held", "2026-11-23", NULL}, {"cp_plan_end", "2026-11-30", NULL}));
    expect("core_group", 1, "2026-11-23", "2026-12-07", CC_STATUS_CANCELLED);
    expect("cp_review", 1, "2026-11-23", "2027-02-23", CC_STATUS_CANCELLED);
    /* A review already missed when the plan ends stays overdue (a missed
     * deadline stays missed), but no further one is due. */
    run(DOB_11, "2027-03-10",
        EVENTS({"icpc_held", "2026-11-23", NULL}, {"core_group_held", "2026-12-04", NULL},
               {"cp_plan_end", "2027-03-01", NULL}));
    expect("cp_review", 1, "2026-11-23", "2027-02-23", CC_STATUS_OVERDUE);
    assert_int_equal(count_rule("cp_review"), 1);
}

/* Working Together 2023: a referral decided as no further action needs no
 * assessment, so its 45-working-day clock is cancelled; an assessment
 * completed after a later referral is that referral's. */
static void test_referral_nfa_cancels_its_assessment(void **state)
{
    (void)state;
    run(DOB_11, "2026-11-25",
        EVENTS({"referral", "2026-08-28", NULL}, {"referral_decision", "2026-09-01", "{\"outcome\":\"nfa\"}"},
               {"referral", "2026-11-02", NULL}, {"referral_decision", "2026-11-03", NULL},
               {"assessment_completed", "2026-11-20", NULL}));
    expect("referral_decision", 1, "2026-08-28", "2026-09-01", CC_STATUS_MET);
    const cc_clock_t *c = expect("assessment", 1, "2026-08-28", "2026-11-02", CC_STATUS_CANCELLED);
    expect_met_on(c, NULL);
    c = expect("assessment", 2, "2026-11-02", "2027-01-07", CC_STATUS_MET);
    expect_met_on(c, "2026-11-20");
    /* The second referral's NFA cancels the second assessment only: the
     * first is still to be completed. */
    run(DOB_11, "2026-11-25",
        EVENTS({"referral", "2026-08-28", NULL}, {"referral_decision", "2026-09-01", NULL},
               {"referral", "2026-11-02", NULL}, {"referral_decision", "2026-11-03", "{\"outcome\":\"nfa\"}"}));
    expect("assessment", 1, "2026-08-28", "2026-11-02", CC_STATUS_OVERDUE);
    expect("assessment", 2, "2026-11-02", "2027-01-07", CC_STATUS_CANCELLED);
}

/* Promoting the health and wellbeing of looked-after children (DfE/DH,
 * statutory guidance, March 2015): the initial health assessment is
 * completed within 20 working days of the child becoming looked after, in
 * time to inform the first review. CPPCR 2010 reg 7(2): an assessment in the
 * three months before the placement stands. Later ones as reg 7(3): every 6
 * months under 5, every 12 months from 5. */
static void test_initial_health_assessment_twenty_working_days(void **state)
{
    (void)state;
    /* Looked after Mon 2 Nov 2026: due + 20 wd = Mon 30 Nov. Assessed 9 Dec,
     * first review held late on 10 Dec: the assessment was late too. */
    run(DOB_11, "2026-12-11",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"health_assessment", "2026-12-09", NULL},
               {"review_held", "2026-12-10", NULL}));
    const cc_clock_t *c = expect("health_assessment", 1, "2026-11-02", "2026-11-30", CC_STATUS_MET_LATE);
    assert_int_equal(c->basis, CC_BASIS_DUE);
    expect("health_assessment", 2, "2026-12-09", "2027-12-09", CC_STATUS_OPEN);
    /* Assessed Thu 10 Sep 2026, within the three months before: met; the
     * next is due 12 months after that assessment. */
    run(DOB_11, "2026-12-11",
        EVENTS({"health_assessment", "2026-09-10", NULL}, {"looked_after_start", "2026-11-02", NULL}));
    c = expect("health_assessment", 1, "2026-11-02", "2026-11-30", CC_STATUS_MET);
    expect_met_on(c, "2026-09-10");
    expect("health_assessment", 2, "2026-11-02", "2027-09-10", CC_STATUS_OPEN);
    /* Under five: 6 months after it. */
    run("2022-06-01", "2026-12-11",
        EVENTS({"health_assessment", "2026-09-10", NULL}, {"looked_after_start", "2026-11-02", NULL}));
    expect("health_assessment", 2, "2026-11-02", "2027-03-10", CC_STATUS_OPEN);
    /* Assessed 1 Aug 2026, more than three months before: it does not
     * count. */
    run(DOB_11, "2026-12-11",
        EVENTS({"health_assessment", "2026-08-01", NULL}, {"looked_after_start", "2026-11-02", NULL}));
    expect_met_on(expect("health_assessment", 1, "2026-11-02", "2026-11-30", CC_STATUS_OVERDUE), NULL);
}

/* ../shared/seeds/003 (care planning guidance) section 1.1: permanence
 * planning for all looked after children "except for those who start to be
 * looked after at age 15+ years where the Needs Assessment and Pathway Plan
 * form the Permanence Plan": no permanence_plan clock for them. */
static void test_no_permanence_plan_clock_for_a_15_plus_entrant(void **state)
{
    (void)state;
    /* Fifteenth birthday on the day care begins: none. */
    run("2011-11-02", "2026-11-10", EVENTS({"looked_after_start", "2026-11-02", NULL}));
    expect_none("permanence_plan");
    expect("review", 1, "2026-11-02", "2026-11-30", CC_STATUS_OPEN);
    /* Fourteen (fifteen the day after): the clock. */
    run("2011-11-03", "2026-11-10", EVENTS({"looked_after_start", "2026-11-02", NULL}));
    expect("permanence_plan", 1, "2026-11-02", "2027-02-28", CC_STATUS_OPEN);
}

/* Promoting the education of looked-after children and previously
 * looked-after children (DfE statutory guidance, February 2018), "The
 * Personal Education Plan (PEP)": every looked-after child's care plan
 * includes a PEP, from early years provision (a nursery place is part of
 * its content) to 18, not only children of compulsory school age. The
 * default band is 3 to 17 at the first placement. */
static void test_pep_from_three_to_seventeen(void **state)
{
    (void)state;
    /* Three (born 1 Jun 2023): a PEP. */
    run("2023-06-01", "2026-11-10",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", NULL}));
    expect("pep", 1, "2026-11-02", "2026-11-02", CC_STATUS_OVERDUE);
    /* Sixteen and seventeen: a PEP. */
    run("2010-06-01", "2026-11-10",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", NULL}));
    expect("pep", 1, "2026-11-02", "2026-11-02", CC_STATUS_OVERDUE);
    run("2009-01-01", "2026-11-10",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", NULL}));
    expect("pep", 1, "2026-11-02", "2026-11-02", CC_STATUS_OVERDUE);
    /* Two (third birthday the day after placement): none. */
    run("2023-11-03", "2026-11-10",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", NULL}));
    expect_none("pep");
}

/* Attributes that are not a JSON object of strings are bad data: the child's
 * clocks are one data_error with the reason, never a silent "no match" (the
 * PEP of {"emergency":true} fell due on the placement day). */
static void test_data_error_attributes_not_an_object_of_strings(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"emergency\":true}",                        /* not a string */
        "{\"emergency\":\"yes\",}",                    /* a trailing comma */
        "{\"emergency\":\"yes\",\"emergency\":\"no\"}", /* a key twice */
        "[\"emergency\"]",                             /* not an object */
        "{\"emergency\":\"yes\"} x",                   /* text after it */
        "{\"when\":{\"emergency\":\"yes\"}}",          /* nested */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const ev_t evs[] = {{"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", bad[i]}};
        run(DOB_11, "2026-11-10", evs, 2);
        expect_single_data_error("event 102", "attributes");
    }
    /* Good ones: empty, absent, an object of strings. */
    run(DOB_11, "2026-11-10",
        EVENTS({"looked_after_start", "2026-11-02", "{}"}, {"placement_start", "2026-11-02", ""},
               {"visit", "2026-11-03", " { \"by\" : \"W1\" } "}));
    expect("care_plan", 1, "2026-11-02", "2026-11-16", CC_STATUS_DUE_SOON);
}

/* A date the engine cannot count to (outside 1900-2199) makes the child's
 * data unusable, with the reason, instead of dropping the clock silently. */
static void test_data_error_due_date_out_of_range(void **state)
{
    (void)state;
    run("1880-01-01", "2026-11-10", EVENTS({"looked_after_start", "1899-12-01", NULL}));
    expect_single_data_error("event 101", "1900");
}

/* The explanation of a child's clocks in words (issue 15, "Done when"): the
 * early plan, the plan's end, and why a clock the child lacks was never
 * started (the conference decided on no plan; a child looked after from 15,
 * seeds/003 s1.1). */
static void explain_contains(const char *rule, int seq, const char *today, const char *want)
{
    cc_child_t child = {.id = "C1", .dob = iso(DOB_11), .raw_dob = DOB_11};
    const cc_clock_t *c = find(rule, seq);
    cc_buf_t text;
    cc_buf_init(&text);
    assert_int_equal(cc_engine_explain(g_rs, g_cal, iso(today), &child, g_events, g_nevents, &g_out,
                                       (size_t)(c - g_out.items), &text),
                     0);
    if (strstr(cc_buf_str(&text), want) == NULL)
        print_error("explanation lacks \"%s\":\n%s", want, cc_buf_str(&text));
    assert_non_null(strstr(cc_buf_str(&text), want));
    cc_buf_free(&text);
}

static void test_explain_tells_the_new_reasons(void **state)
{
    (void)state;
    run(DOB_11, "2026-11-10",
        EVENTS({"care_plan_completed", "2026-10-30", NULL}, {"looked_after_start", "2026-11-02", NULL},
               {"placement_start", "2026-11-02", NULL}));
    explain_contains("care_plan", 1, "2026-11-10", "prepared before the placement (Mon 2 Nov 2026)");
    run(DOB_11, "2027-03-02", EVENTS({"icpc_held", "2026-11-23", NULL}, {"cp_plan_end", "2026-11-30", NULL}));
    explain_contains("cp_review", 1, "2027-03-02", "ended with the plan on 2026-11-30");

    cc_child_t child = {.id = "C1", .dob = iso("2011-11-02"), .raw_dob = "2011-11-02"};
    cc_buf_t text;
    cc_buf_init(&text);
    build_events(EVENTS({"looked_after_start", "2026-11-02", NULL},
                        {"icpc_held", "2026-11-23", "{\"outcome\":\"no_plan\"}"}));
    assert_int_equal(cc_engine_explain_none(g_rs, g_cal, &child, g_events, 2,
                                            cc_ruleset_find(g_rs, "permanence_plan"), &text),
                     0);
    assert_non_null(strstr(cc_buf_str(&text), "the child was 15 on that day, and this clock starts only under 15"));
    cc_buf_reset(&text);
    assert_int_equal(cc_engine_explain_none(g_rs, g_cal, &child, g_events, 2, cc_ruleset_find(g_rs, "core_group"),
                                            &text),
                     0);
    assert_non_null(strstr(cc_buf_str(&text), "no plan: its outcome is \"no_plan\""));
    /* No starting event at all: nothing to explain. */
    cc_buf_reset(&text);
    assert_int_equal(cc_engine_explain_none(g_rs, g_cal, &child, g_events, 2, cc_ruleset_find(g_rs, "sgo_report"),
                                            &text),
                     CC_ENOTFOUND);
    cc_buf_free(&text);
}

/* ---- identity and the end of care (issue 15 items 7 and 6) ---- */

/* The identity of the seq-th clock of rule, as text. */
static const char *key_of(const char *rule, int seq, char buf[CC_CLOCK_KEY_MAX])
{
    cc_clock_key(find(rule, seq), buf, CC_CLOCK_KEY_MAX);
    return buf;
}

/* No two instances of one rule share an identity (the outbox and the feeds
 * key on it). */
static void assert_keys_unique(void)
{
    char a[CC_CLOCK_KEY_MAX], b[CC_CLOCK_KEY_MAX];
    for (size_t i = 0; i < g_out.len; i++)
        for (size_t j = i + 1; j < g_out.len; j++) {
            if (g_out.items[i].rule != g_out.items[j].rule)
                continue;
            cc_clock_key(&g_out.items[i], a, sizeof(a));
            cc_clock_key(&g_out.items[j], b, sizeof(b));
            if (strcmp(a, b) == 0) {
                print_error("%s: two instances are %s\n", rule_id_of(g_out.items[i].rule), a);
                dump(&g_out);
            }
            assert_string_not_equal(a, b);
        }
}

/* Issue 15 item 7: the scenario. The current episode (looked after
 * from Mon 3 Mar 2025, event 101; placed the same day, event 102; first
 * review held Fri 28 Mar, event 103) is recorded first; then the earlier
 * one (looked after Mon 2 Dec 2024, event 104; placed, 105; a review held
 * Sat 1 Feb 2025, 106; left care Fri 14 Feb 2025, 107). Every clock of the
 * current episode is numbered after the earlier episode's now, and keeps
 * its identity: the event its series began with (the episode's start for a
 * per-episode rule) and its place in the series. */
static void test_identity_survives_an_earlier_episode(void **state)
{
    (void)state;
    char k[CC_CLOCK_KEY_MAX];
    run(DOB_11, "2025-04-08",
        EVENTS({"looked_after_start", "2025-03-03", NULL}, {"placement_start", "2025-03-03", NULL},
               {"review_held", "2025-03-28", NULL}));
    expect("review", 1, "2025-03-03", "2025-03-31", CC_STATUS_MET);
    assert_string_equal(key_of("review", 1, k), "101.1");
    expect("review", 2, "2025-03-28", "2025-06-28", CC_STATUS_OPEN);
    assert_string_equal(key_of("review", 2, k), "101.2");
    assert_string_equal(key_of("care_plan", 1, k), "101.1");
    assert_string_equal(key_of("visit", 1, k), "102.1");
    assert_string_equal(key_of("review_minutes", 1, k), "103.1");
    assert_keys_unique();

    run(DOB_11, "2025-04-08",
        EVENTS({"looked_after_start", "2025-03-03", NULL}, {"placement_start", "2025-03-03", NULL},
               {"review_held", "2025-03-28", NULL}, {"looked_after_start", "2024-12-02", NULL},
               {"placement_start", "2024-12-02", NULL}, {"review_held", "2025-02-01", NULL},
               {"looked_after_end", "2025-02-14", NULL}));
    /* The earlier episode's reviews take numbers 1 and 2 ... */
    expect("review", 1, "2024-12-02", "2025-01-02", CC_STATUS_MET_LATE);
    assert_string_equal(key_of("review", 1, k), "104.1");
    expect("review", 2, "2025-02-01", "2025-05-01", CC_STATUS_CANCELLED);
    assert_string_equal(key_of("review", 2, k), "104.2");
    /* ... and the current episode's are the same instances as before. */
    expect("review", 3, "2025-03-03", "2025-03-31", CC_STATUS_MET);
    assert_string_equal(key_of("review", 3, k), "101.1");
    expect("review", 4, "2025-03-28", "2025-06-28", CC_STATUS_OPEN);
    assert_string_equal(key_of("review", 4, k), "101.2");
    expect("care_plan", 2, "2025-03-03", "2025-03-17", CC_STATUS_OVERDUE);
    assert_string_equal(key_of("care_plan", 2, k), "101.1");
    assert_string_equal(key_of("care_plan", 1, k), "104.1");
    assert_string_equal(key_of("visit", 2, k), "102.1");
    assert_string_equal(key_of("review_minutes", 2, k), "103.1");
    assert_string_equal(key_of("review_minutes", 1, k), "106.1");
    assert_keys_unique();
}

/* A per-episode clock is the episode's (its identity is the episode's own
 * looked_after_start): a placement recorded later, dated earlier in the
 * same episode, starts the care plan earlier but leaves it the same clock.
 * Each placement's visits are a series of their own. */
static void test_identity_of_a_per_episode_clock_is_its_episode(void **state)
{
    (void)state;
    char k[CC_CLOCK_KEY_MAX];
    run(DOB_11, "2025-03-12",
        EVENTS({"looked_after_start", "2025-03-03", NULL}, {"placement_start", "2025-03-10", NULL}));
    expect("care_plan", 1, "2025-03-10", "2025-03-24", CC_STATUS_OPEN);
    assert_string_equal(key_of("care_plan", 1, k), "101.1");
    assert_string_equal(key_of("visit", 1, k), "102.1");
    run(DOB_11, "2025-03-12",
        EVENTS({"looked_after_start", "2025-03-03", NULL}, {"placement_start", "2025-03-10", NULL},
               {"placement_start", "2025-03-05", NULL}));
    expect("care_plan", 1, "2025-03-05", "2025-03-19", CC_STATUS_DUE_SOON);
    assert_int_equal(count_rule("care_plan"), 1);
    assert_string_equal(key_of("care_plan", 1, k), "101.1");
    assert_string_equal(key_of("visit", 1, k), "103.1");
    assert_string_equal(key_of("visit", 2, k), "102.1");
    assert_keys_unique();
}

/* A child whose data cannot be evaluated has one instance, always the same
 * one, whatever its reason. */
static void test_identity_of_a_data_error_is_fixed(void **state)
{
    (void)state;
    char k[CC_CLOCK_KEY_MAX];
    run(DOB_11, "2026-11-10", EVENTS({"looked_after_start", "2026-11-02", NULL}, {"tea_party", "2026-11-03", NULL}));
    assert_int_equal(g_out.len, 1);
    assert_int_equal(cc_clock_key(&g_out.items[0], k, sizeof(k)), (int)strlen(CC_CLOCK_KEY_DATA_ERROR));
    assert_string_equal(k, "error");
    run(DOB_11, "2026-11-10", EVENTS({"looked_after_end", "2026-11-02", NULL}));
    cc_clock_key(&g_out.items[0], k, sizeof(k));
    assert_string_equal(k, "error");
}

/* Issue 15 item 6. The looked-after duties end with the episode (Children
 * Act 1989 s22; CPPCR 2010 reg 2): looked after and placed Mon 2 Nov 2026,
 * a strategy discussion initiating s47 enquiries Tue 3 Nov (ICPC due 15
 * working days later, Tue 24 Nov: Working Together 2023), left care Wed 18
 * Nov. The care plan, due Mon 16 Nov and missed, stays overdue and records
 * the day the child left; the review, not yet due, is cancelled and records
 * it too; the ICPC is not a duty of the episode and records nothing. */
static void test_leaving_care_is_recorded_on_the_clocks_it_closes(void **state)
{
    (void)state;
    run(DOB_11, "2026-11-25",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", NULL},
               {"strategy_discussion", "2026-11-03", "{\"s47\":\"yes\"}"},
               {"looked_after_end", "2026-11-18", NULL}));
    const cc_clock_t *c = expect("care_plan", 1, "2026-11-02", "2026-11-16", CC_STATUS_OVERDUE);
    assert_int_equal(c->left_care, iso("2026-11-18"));
    c = expect("review", 1, "2026-11-02", "2026-11-30", CC_STATUS_CANCELLED);
    assert_int_equal(c->left_care, iso("2026-11-18"));
    c = expect("icpc", 1, "2026-11-03", "2026-11-24", CC_STATUS_OVERDUE);
    assert_int_equal(c->left_care, CC_DATE_NONE);
    explain_contains("care_plan", 1, "2026-11-25", "the child left care on 2026-11-18: no reminders");
    explain_contains("care_plan", 1, "2026-11-25", "Status on Wed 25 Nov 2026: OVERDUE");

    /* Met before the end: nothing to record. Still in care: nothing. */
    run(DOB_11, "2026-11-25",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", NULL},
               {"care_plan_completed", "2026-11-12", NULL}, {"looked_after_end", "2026-11-18", NULL}));
    c = expect("care_plan", 1, "2026-11-02", "2026-11-16", CC_STATUS_MET);
    assert_int_equal(c->left_care, CC_DATE_NONE);
    run(DOB_11, "2026-11-25",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", NULL}));
    c = expect("care_plan", 1, "2026-11-02", "2026-11-16", CC_STATUS_OVERDUE);
    assert_int_equal(c->left_care, CC_DATE_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_acceptance_scenario),
        cmocka_unit_test(test_identity_survives_an_earlier_episode),
        cmocka_unit_test(test_identity_of_a_per_episode_clock_is_its_episode),
        cmocka_unit_test(test_identity_of_a_data_error_is_fixed),
        cmocka_unit_test(test_leaving_care_is_recorded_on_the_clocks_it_closes),
        cmocka_unit_test(test_placement_friday_before_bank_holiday),
        cmocka_unit_test(test_care_plan_per_episode_first_placement_only),
        cmocka_unit_test(test_care_plan_completed_before_placement_is_met),
        cmocka_unit_test(test_care_plan_completed_long_before_episode_does_not_count),
        cmocka_unit_test(test_leaving_care_before_care_plan_due_cancels),
        cmocka_unit_test(test_leaving_care_on_the_due_date_cancels),
        cmocka_unit_test(test_leaving_care_after_care_plan_overdue_stays_overdue),
        cmocka_unit_test(test_second_episode_of_care),
        cmocka_unit_test(test_late_first_review_moves_the_second),
        cmocka_unit_test(test_later_reviews_every_six_months_with_month_end_clamping),
        cmocka_unit_test(test_permanence_plan_agreed_after_second_review_is_met_late),
        cmocka_unit_test(test_permanence_plan_agreed_before_second_review_is_met),
        cmocka_unit_test(test_permanence_plan_projected_while_first_review_not_held),
        cmocka_unit_test(test_no_pep_for_a_two_year_old),
        cmocka_unit_test(test_pep_for_a_sixteen_year_old),
        cmocka_unit_test(test_pep_age_boundaries),
        cmocka_unit_test(test_pep_age_is_taken_at_the_first_placement),
        cmocka_unit_test(test_episode_ends_and_new_one_starts_the_same_day),
        cmocka_unit_test(test_pep_emergency_versus_planned_placement),
        cmocka_unit_test(test_pep_completed_before_placement_and_met_late),
        cmocka_unit_test(test_health_assessment_under_five_every_six_months),
        cmocka_unit_test(test_health_assessment_from_five_every_twelve_months),
        cmocka_unit_test(test_visit_one_week_then_six_weeks),
        cmocka_unit_test(test_visit_long_term_placement_three_months),
        cmocka_unit_test(test_visit_superseded_by_a_new_placement),
        cmocka_unit_test(test_visit_needs_a_child_in_care),
        cmocka_unit_test(test_review_minutes_and_iro_report),
        cmocka_unit_test(test_review_report_to_iro),
        cmocka_unit_test(test_meeting_event_meets_the_earliest_unmet_instance),
        cmocka_unit_test(test_uncovered_years_are_flagged),
        cmocka_unit_test(test_review_report_to_iro_cancelled_when_child_leaves_care),
        cmocka_unit_test(test_sgo_report_twelve_weeks),
        cmocka_unit_test(test_report_to_managers_before_filing),
        cmocka_unit_test(test_report_to_managers_two_filings_reports_given_together),
        cmocka_unit_test(test_referral_decision_and_assessment),
        cmocka_unit_test(test_child_protection_clocks),
        cmocka_unit_test(test_cp_review_superseded_by_a_new_icpc),
        cmocka_unit_test(test_status_boundaries),
        cmocka_unit_test(test_met_on_due_date_is_met_one_day_late_met_late),
        cmocka_unit_test(test_status_names_round_trip),
        cmocka_unit_test(test_data_error_unknown_type),
        cmocka_unit_test(test_data_error_bad_date),
        cmocka_unit_test(test_data_error_attributes_too_large),
        cmocka_unit_test(test_data_error_end_with_no_episode),
        cmocka_unit_test(test_data_error_bad_dob),
        cmocka_unit_test(test_data_error_keeps_other_childrens_clocks),
        cmocka_unit_test(test_no_events_no_clocks),
        cmocka_unit_test(test_unsorted_input_gives_the_same_result),
        cmocka_unit_test(test_output_sorted_by_rule_then_seq),
        cmocka_unit_test(test_plans_prepared_before_the_child_became_looked_after),
        cmocka_unit_test(test_plan_before_the_episode_not_from_the_previous_one),
        cmocka_unit_test(test_visit_long_term_placement_six_weeks_for_the_first_year),
        cmocka_unit_test(test_icpc_only_from_the_strategy_discussion_that_starts_s47),
        cmocka_unit_test(test_icpc_with_no_plan_starts_no_core_group_or_review),
        cmocka_unit_test(test_cp_plan_end_cancels_the_plan_clocks),
        cmocka_unit_test(test_referral_nfa_cancels_its_assessment),
        cmocka_unit_test(test_initial_health_assessment_twenty_working_days),
        cmocka_unit_test(test_no_permanence_plan_clock_for_a_15_plus_entrant),
        cmocka_unit_test(test_pep_from_three_to_seventeen),
        cmocka_unit_test(test_data_error_attributes_not_an_object_of_strings),
        cmocka_unit_test(test_data_error_due_date_out_of_range),
        cmocka_unit_test(test_explain_tells_the_new_reasons),
        cmocka_unit_test_teardown(test_override_changes_only_care_plan, restore_default),
        cmocka_unit_test_teardown(test_override_disables_pep, restore_default),
        cmocka_unit_test_teardown(test_override_adds_a_rule_and_event_type, restore_default),
    };
    return cmocka_run_group_tests_name("engine", tests, setup_group, teardown_group);
}
