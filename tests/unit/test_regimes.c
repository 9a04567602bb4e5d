/* Unit tests for the regimes of issue 16: the default England rule set
 * (config/rules/england.rules) run through daemon/core/engine.c for children
 * looked after under different legal statuses and placement types, and the
 * rule-language features they need (daemon/core/rules.c).
 *
 * Each test names the source of the numbers it asserts. Dates were worked
 * out by hand from ../shared/docs/domain.md ("Counting"): weeks are 7 days,
 * months by the corresponding date; working days skip weekends and the
 * England and Wales bank holidays (none falls inside these examples unless
 * the note says so). Codes are the DfE SSDA903 guide's: LS (legal status) V3
 * and V4 short breaks, C1 interim and C2 full care order, E1 placement order,
 * J1 remand; PLACE P1 placed with parent, U1 connected-person foster care,
 * U6 other foster care, A3-A6 placed for adoption, K1 secure children's home,
 * T2 holiday. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "careclock/buf.h"
#include "careclock/calendar.h"
#include "careclock/date.h"
#include "careclock/engine.h"
#include "careclock/error.h"
#include "careclock/holidays.h"
#include "careclock/rulefiles.h"
#include "careclock/rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HOLIDAY_DIR CC_SOURCE_DIR "/config/holidays"
#define ENGLAND_RULES CC_SOURCE_DIR "/config/rules/england.rules"

static cc_ruleset_t *g_default;
static const cc_ruleset_t *g_rs;
static cc_ruleset_t *g_override;
static cc_calendar_t *g_cal;
static cc_clocks_t g_out;
static const char *g_dob;
static const char *g_today;

typedef struct {
    const char *type;
    const char *date;
    const char *attrs;
} ev_t;

#define EVENTS(...) (const ev_t[]){__VA_ARGS__}, sizeof((const ev_t[]){__VA_ARGS__}) / sizeof(ev_t)
#define EVENT_ID(i) ((int64_t)(101 + (i)))

static cc_event_t g_events[64];
static size_t g_nevents;

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

static const char *rule_id_of(int index)
{
    const cc_rule_t *rule = index >= 0 ? cc_ruleset_rule(g_rs, (size_t)index) : NULL;
    return rule ? rule->id : "(data_error)";
}

static void dump(void)
{
    char s[CC_DATE_STRLEN], d[CC_DATE_STRLEN], m[CC_DATE_STRLEN];
    for (size_t i = 0; i < g_out.len; i++) {
        const cc_clock_t *c = &g_out.items[i];
        print_message("  %-30s seq %d start %s due %s met %s %-9s %s\n", rule_id_of(c->rule), c->seq,
                      fmt(c->start, s), fmt(c->due, d), fmt(c->met_on, m), cc_status_name(c->status), c->reason);
    }
}

static void run(const char *dob, const char *today, const ev_t *evs, size_t n)
{
    cc_child_t child = {.id = "C1", .raw_dob = dob};
    assert_true(n <= sizeof(g_events) / sizeof(g_events[0]));
    assert_int_equal(cc_date_parse_iso(dob, &child.dob), 0);
    g_dob = dob;
    g_today = today;
    g_nevents = n;
    for (size_t i = 0; i < n; i++) {
        cc_event_t *e = &g_events[i];
        memset(e, 0, sizeof(*e));
        e->id = EVENT_ID(i);
        e->type = cc_ruleset_type_index(g_rs, evs[i].type);
        assert_int_equal(cc_date_parse_iso(evs[i].date, &e->date), 0);
        e->attrs = evs[i].attrs;
        e->raw_type = evs[i].type;
        e->raw_date = evs[i].date;
    }
    cc_clocks_reset(&g_out);
    assert_int_equal(cc_engine_run(g_rs, g_cal, iso(today), &child, g_events, n, &g_out), 0);
}

static const cc_clock_t *find(const char *rule, int seq)
{
    const cc_rule_t *r = cc_ruleset_find(g_rs, rule);
    assert_non_null(r);
    int index = (int)cc_ruleset_index(g_rs, r);
    for (size_t i = 0; i < g_out.len; i++)
        if (g_out.items[i].rule == index && g_out.items[i].seq == seq)
            return &g_out.items[i];
    print_error("no clock %s seq %d; the clocks are:\n", rule, seq);
    dump();
    fail();
    return NULL;
}

static size_t count_rule(const char *rule)
{
    const cc_rule_t *r = cc_ruleset_find(g_rs, rule);
    size_t n = 0;
    for (size_t i = 0; r != NULL && i < g_out.len; i++)
        n += g_out.items[i].rule == (int)cc_ruleset_index(g_rs, r);
    return n;
}

static const cc_clock_t *expect(const char *rule, int seq, const char *start, const char *due, cc_status_t status)
{
    const cc_clock_t *c = find(rule, seq);
    char s[CC_DATE_STRLEN], d[CC_DATE_STRLEN];
    if ((start != NULL && c->start != iso(start)) || c->due != iso(due) || c->status != status) {
        print_error("%s seq %d: expected start %s due %s %s, got start %s due %s %s; the clocks are:\n", rule, seq,
                    start ? start : "-", due, cc_status_name(status), fmt(c->start, s), fmt(c->due, d),
                    cc_status_name(c->status));
        dump();
    }
    if (start != NULL)
        assert_int_equal(c->start, iso(start));
    assert_int_equal(c->due, iso(due));
    assert_string_equal(cc_status_name(c->status), cc_status_name(status));
    return c;
}

/* Exactly these rules have clocks (ids in any order, each at least once). */
static void expect_only(const char *const *ids, size_t n)
{
    for (size_t i = 0; i < g_out.len; i++) {
        const char *id = rule_id_of(g_out.items[i].rule);
        int known = 0;
        for (size_t k = 0; k < n; k++)
            known |= strcmp(id, ids[k]) == 0;
        if (!known) {
            print_error("unexpected clock %s; the clocks are:\n", id);
            dump();
        }
        assert_true(known);
    }
    for (size_t k = 0; k < n; k++) {
        if (count_rule(ids[k]) == 0) {
            print_error("no %s clock; the clocks are:\n", ids[k]);
            dump();
        }
        assert_true(count_rule(ids[k]) > 0);
    }
}

#define EXPECT_ONLY(...) expect_only((const char *const[]){__VA_ARGS__}, \
                                     sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

static char *explain(const char *rule, int seq, const char *today)
{
    cc_child_t child = {.id = "C1", .dob = iso(g_dob), .raw_dob = g_dob};
    const cc_clock_t *c = find(rule, seq);
    cc_buf_t text;
    cc_buf_init(&text);
    assert_int_equal(cc_engine_explain(g_rs, g_cal, iso(today), &child, g_events, g_nevents, &g_out,
                                       (size_t)(c - g_out.items), &text),
                     0);
    char *s = strdup(cc_buf_str(&text));
    cc_buf_free(&text);
    return s;
}

static char *explain_none(const char *rule)
{
    cc_child_t child = {.id = "C1", .dob = iso(g_dob), .raw_dob = g_dob};
    cc_buf_t text;
    cc_buf_init(&text);
    int rc = cc_engine_explain_none_on(g_rs, g_cal, iso(g_today), &child, g_events, g_nevents,
                                       cc_ruleset_find(g_rs, rule), &text);
    assert_true(rc == 0 || rc == CC_ENOTFOUND);
    char *s = strdup(cc_buf_str(&text));
    cc_buf_free(&text);
    return s;
}

static void contains(char *text, const char *want)
{
    if (strstr(text, want) == NULL)
        print_error("lacks \"%s\":\n%s", want, text);
    assert_non_null(strstr(text, want));
    free(text);
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

static int restore_default(void **state)
{
    (void)state;
    g_rs = g_default;
    cc_ruleset_free(g_override);
    g_override = NULL;
    return 0;
}

/* england.rules followed by a council's text. */
static void use_override(const char *text)
{
    char err[512] = "";
    FILE *f = fopen(ENGLAND_RULES, "r");
    assert_non_null(f);
    static char england[200000];
    size_t n = fread(england, 1, sizeof(england) - 1, f);
    fclose(f);
    england[n] = '\0';
    cc_rule_text_t texts[] = {{"england.rules", england, n}, {"council.rules", text, strlen(text)}};
    int rc = cc_ruleset_parse(texts, 2, &g_override, err, sizeof err);
    if (rc != 0)
        print_error("override did not load: %s\n", err);
    assert_int_equal(rc, 0);
    g_rs = g_override;
}

/* A rule text alone: its first error, or "" when it loads. */
static const char *parse_error(const char *text)
{
    static char err[512];
    cc_ruleset_t *rs = NULL;
    cc_rule_text_t t = {"t.rules", text, strlen(text)};
    err[0] = '\0';
    if (cc_ruleset_parse(&t, 1, &rs, err, sizeof err) == 0) {
        cc_ruleset_free(rs);
        return "";
    }
    return err;
}

#define V3 "{\"legal_status\":\"V3\"}"
#define C2 "{\"legal_status\":\"C2\"}"

/* ---- short breaks: CPPCR 2010 reg 48 ------------------------------------ */

/* CPPCR reg 48(3): a series of short breaks is one arrangement, reviewed
 * within 3 months of the first placement, then at most every 6 months; regs
 * 5, 7, 9 and 28(2) do not apply (no permanence plan, PEP, health
 * assessment, placement plan, reg 28(2) visits). The care plan of reg 4
 * still applies, with reg 48(3)(a)'s content: once for the series. Three
 * stays of the example give one review chain, not three. */
static void test_short_breaks_are_one_series(void **state)
{
    (void)state;
    run("2012-05-10", "2025-03-20",
        EVENTS({"looked_after_start", "2025-01-06", V3}, {"placement_start", "2025-01-06", "{\"place\":\"U6\"}"},
               {"looked_after_end", "2025-01-08", "{\"rec\":\"E8\"}"}, {"looked_after_start", "2025-02-03", V3},
               {"placement_start", "2025-02-03", "{\"place\":\"U6\"}"},
               {"looked_after_end", "2025-02-05", "{\"rec\":\"E8\"}"}, {"looked_after_start", "2025-03-03", V3},
               {"placement_start", "2025-03-03", "{\"place\":\"U6\"}"},
               {"looked_after_end", "2025-03-05", "{\"rec\":\"E8\"}"}));
    /* Mon 6 Jan 2025 + 3 months = Sun 6 Apr. */
    expect("short_break_review", 1, "2025-01-06", "2025-04-06", CC_STATUS_OPEN);
    assert_int_equal(count_rule("short_break_review"), 1);
    EXPECT_ONLY("short_break_review");
}

/* The care plan of reg 4 (with reg 48(3)(a)'s content), once for the
 * series, ships switched off (the specification gives short breaks no care
 * plan clock); a council that turns it on gets one per series: Mon 6 Jan
 * 2025 + 10 wd = Mon 20 Jan. */
static void test_short_break_care_plan_when_switched_on(void **state)
{
    (void)state;
    use_override("[short_break_care_plan]\nenabled = yes\n");
    run("2012-05-10", "2025-03-20",
        EVENTS({"looked_after_start", "2025-01-06", V3}, {"placement_start", "2025-01-06", "{\"place\":\"U6\"}"},
               {"looked_after_end", "2025-01-08", "{\"rec\":\"E8\"}"}, {"looked_after_start", "2025-02-03", V3},
               {"placement_start", "2025-02-03", "{\"place\":\"U6\"}"},
               {"looked_after_end", "2025-02-05", "{\"rec\":\"E8\"}"}));
    expect("short_break_care_plan", 1, "2025-01-06", "2025-01-20", CC_STATUS_OVERDUE);
    assert_int_equal(count_rule("short_break_care_plan"), 1);
    EXPECT_ONLY("short_break_review", "short_break_care_plan");
}

/* CPPCR reg 48(3): after the first review, at intervals of not more than
 * 6 months; a review held between stays (out of care) still meets it. */
static void test_short_breaks_review_then_six_monthly(void **state)
{
    (void)state;
    run("2012-05-10", "2025-04-20",
        EVENTS({"looked_after_start", "2025-01-06", V3}, {"looked_after_end", "2025-01-08", NULL},
               {"looked_after_start", "2025-03-03", V3}, {"looked_after_end", "2025-03-05", NULL},
               {"review_held", "2025-04-01", NULL}, {"looked_after_start", "2025-04-07", V3}));
    const cc_clock_t *r1 = expect("short_break_review", 1, "2025-01-06", "2025-04-06", CC_STATUS_MET);
    assert_int_equal(r1->met_on, iso("2025-04-01"));
    /* Tue 1 Apr 2025 + 6 months = Wed 1 Oct. */
    expect("short_break_review", 2, "2025-04-01", "2025-10-01", CC_STATUS_OPEN);
    assert_int_equal(count_rule("short_break_review"), 2);
    assert_int_equal(count_rule("review"), 0);
}

/* The series ends 6 months (series_gap) after its last stay when no other
 * followed: a review due after that is cancelled, not overdue (the
 * arrangement lapsed); one due before stays overdue (it was missed). */
static void test_short_breaks_series_lapses(void **state)
{
    (void)state;
    run("2012-05-10", "2025-12-01",
        EVENTS({"looked_after_start", "2025-01-06", V3}, {"looked_after_end", "2025-03-05", NULL},
               {"review_held", "2025-04-01", NULL}));
    /* The last stay ended Wed 5 Mar: the series lapsed Fri 5 Sep 2025,
     * before the second review (1 Oct) fell due. */
    const cc_clock_t *r2 = expect("short_break_review", 2, "2025-04-01", "2025-10-01", CC_STATUS_CANCELLED);
    assert_non_null(strstr(r2->reason, "the series ended"));
    assert_non_null(strstr(r2->reason, "2025-09-05"));
}

/* A start of care under another legal status ends the series; that
 * episode has the looked-after clocks (CPPCR Part 6: first review within 20
 * working days, reg 33(1)). */
static void test_short_breaks_end_when_care_begins_under_a_care_order(void **state)
{
    (void)state;
    run("2012-05-10", "2025-06-10",
        EVENTS({"looked_after_start", "2025-01-06", V3}, {"looked_after_end", "2025-01-08", NULL},
               {"review_held", "2025-04-01", NULL}, {"looked_after_start", "2025-06-02", C2},
               {"placement_start", "2025-06-02", "{\"place\":\"U6\"}"}));
    const cc_clock_t *r2 = expect("short_break_review", 2, "2025-04-01", "2025-10-01", CC_STATUS_CANCELLED);
    assert_non_null(strstr(r2->reason, "another regime on 2025-06-02"));
    /* Mon 2 Jun 2025 + 20 wd = Mon 30 Jun (no bank holiday in June). */
    expect("review", 1, "2025-06-02", "2025-06-30", CC_STATUS_OPEN);
    expect("care_plan", 1, "2025-06-02", "2025-06-16", CC_STATUS_DUE_SOON);
}

/* V4 records the agreement as one episode (903 guide): the same series
 * clocks. And explain says which regime and why. */
static void test_short_breaks_v4_agreement_and_explain(void **state)
{
    (void)state;
    run("2012-05-10", "2025-03-20",
        EVENTS({"looked_after_start", "2025-01-06", "{\"legal_status\":\"V4\"}"},
               {"placement_start", "2025-01-06", "{\"place\":\"U6\"}"}));
    expect("short_break_review", 1, "2025-01-06", "2025-04-06", CC_STATUS_OPEN);
    EXPECT_ONLY("short_break_review");
    contains(explain("short_break_review", 1, "2025-03-20"),
             "Regime: Short breaks (CPPCR 2010 reg 48; 903 guide LS V3, V4). It applies because on Mon 6 Jan 2025 "
             "legal status is V3 or V4 (V4)");
    contains(explain("short_break_review", 1, "2025-03-20"), "the first of a series");
    /* ... and why there is no LAC review: CPPCR reg 48(3). */
    contains(explain_none("review"),
             "its legal status was \"V4\" on that day, and this clock starts only when legal status is not V3 or V4");
}

/* ---- placement plan: CPPCR 2010 reg 9 ----------------------------------- */

/* Reg 9(1)-(2): before the placement, or within 5 working days of its
 * start; one per placement. A plan made before counts; a placement that
 * ends first needs none; a temporary absence (T2, holiday) is no placement. */
static void test_placement_plan_per_placement(void **state)
{
    (void)state;
    run("2012-05-10", "2025-03-20",
        EVENTS({"placement_plan_completed", "2025-02-28", NULL}, {"looked_after_start", "2025-03-03", C2},
               {"placement_start", "2025-03-03", "{\"place\":\"U6\"}"},
               {"placement_start", "2025-03-05", "{\"place\":\"U4\"}"},
               {"placement_start", "2025-03-14", "{\"place\":\"T2\"}"}));
    /* Mon 3 Mar + 5 wd = Mon 10 Mar; met by the plan of Fri 28 Feb. */
    const cc_clock_t *p1 = expect("placement_plan", 1, "2025-03-03", "2025-03-10", CC_STATUS_MET);
    assert_int_equal(p1->met_on, iso("2025-02-28"));
    /* Wed 5 Mar + 5 wd = Wed 12 Mar; not met, passed. */
    expect("placement_plan", 2, "2025-03-05", "2025-03-12", CC_STATUS_OVERDUE);
    assert_int_equal(count_rule("placement_plan"), 2);
    /* The first placement's visit schedule ended with it (reg 28(2)(a): a
     * new one within a week of each placement). */
    expect("visit", 1, "2025-03-03", "2025-03-10", CC_STATUS_CANCELLED);
}

/* ---- visits by placement type: CPPCR 2010 reg 28(3)-(5) ----------------- */

/* Reg 28(3) (reg 19 applies): at least once a week until the first review,
 * thereafter at intervals of not more than 6 weeks. No reg 28(2) clock. */
static void test_visits_placed_with_parent_before_assessment(void **state)
{
    (void)state;
    run("2012-05-10", "2025-04-01",
        EVENTS({"looked_after_start", "2025-03-03", "{\"legal_status\":\"C1\"}"},
               {"placement_start", "2025-03-03", "{\"place\":\"P1\",\"reg19\":\"yes\"}"},
               {"visit", "2025-03-10", NULL}, {"visit", "2025-03-17", NULL}, {"review_held", "2025-03-20", NULL},
               {"visit", "2025-03-24", NULL}));
    expect("visit_parent_before_assessment", 1, "2025-03-03", "2025-03-10", CC_STATUS_MET);
    expect("visit_parent_before_assessment", 2, "2025-03-10", "2025-03-17", CC_STATUS_MET);
    expect("visit_parent_before_assessment", 3, "2025-03-17", "2025-03-24", CC_STATUS_MET);
    /* The first review (Thu 20 Mar) came before the interval that began
     * Mon 24 Mar: 6 weeks, Mon 5 May. */
    expect("visit_parent_before_assessment", 4, "2025-03-24", "2025-05-05", CC_STATUS_OPEN);
    assert_int_equal(count_rule("visit"), 0);
    assert_int_equal(count_rule("visit_interim_order_home"), 0);
    contains(explain("visit_parent_before_assessment", 4, "2025-04-01"),
             "because a review held has been recorded since the series began");
}

/* Reg 28(4) (reg 24 applies): weekly until the first review, then at most
 * 4 weeks. Reg 24(2): temporary approval up to 16 weeks; reg 25(2): one
 * extension of up to 8 weeks. */
static void test_connected_person_temporary_approval(void **state)
{
    (void)state;
    run("2012-05-10", "2025-06-10",
        EVENTS({"looked_after_start", "2025-03-03", C2},
               {"placement_start", "2025-03-03", "{\"place\":\"U1\",\"reg24\":\"yes\"}"},
               {"visit", "2025-03-10", NULL}, {"review_held", "2025-03-14", NULL}, {"visit", "2025-03-17", NULL},
               {"approval_extended", "2025-06-02", NULL}));
    expect("visit_connected_person", 1, "2025-03-03", "2025-03-10", CC_STATUS_MET);
    expect("visit_connected_person", 2, "2025-03-10", "2025-03-17", CC_STATUS_MET);
    /* After the first review (Fri 14 Mar): Mon 17 Mar + 4 weeks = Mon 14 Apr. */
    expect("visit_connected_person", 3, "2025-03-17", "2025-04-14", CC_STATUS_OVERDUE);
    /* Mon 3 Mar + 16 weeks = Mon 23 Jun; extended on 2 Jun by 8 weeks: Mon
     * 18 Aug. */
    const cc_clock_t *ta = expect("temporary_approval", 1, "2025-03-03", "2025-08-18", CC_STATUS_OPEN);
    assert_true(ta->flags & CC_CLOCK_EXTENDED);
    assert_int_equal(ta->extended_from, iso("2025-06-23"));
    contains(explain("temporary_approval", 1, "2025-06-10"),
             "Extended: on Mon 2 Jun 2025 (event 106) by 8 weeks, from Mon 23 Jun 2025 to Mon 18 Aug 2025");
    assert_int_equal(count_rule("visit"), 0);
}

/* Reg 25(2): "once": a second extension moves nothing; full approval meets
 * the clock. */
static void test_temporary_approval_extends_once_and_is_met_by_approval(void **state)
{
    (void)state;
    run("2012-05-10", "2025-09-01",
        EVENTS({"looked_after_start", "2025-03-03", C2},
               {"placement_start", "2025-03-03", "{\"place\":\"U1\",\"reg24\":\"yes\"}"},
               {"approval_extended", "2025-06-02", NULL}, {"approval_extended", "2025-08-01", NULL},
               {"connected_person_approved", "2025-08-15", NULL}));
    expect("temporary_approval", 1, "2025-03-03", "2025-08-18", CC_STATUS_MET);
}

/* Reg 28(4): interim care order and living with a parent, weekly until the
 * first review; reg 28(5): once the care order is made, within 1 week of
 * the order, then at most 6 weeks. */
static void test_visits_interim_then_full_care_order_at_home(void **state)
{
    (void)state;
    run("2012-05-10", "2025-04-10",
        EVENTS({"looked_after_start", "2025-03-03", "{\"legal_status\":\"C1\"}"},
               {"placement_start", "2025-03-03", "{\"place\":\"P1\"}"}, {"visit", "2025-03-10", NULL},
               {"visit", "2025-03-17", NULL}, {"visit", "2025-03-24", NULL}, {"visit", "2025-03-31", NULL},
               {"legal_status_change", "2025-04-01", C2}, {"visit", "2025-04-08", NULL}));
    expect("visit_interim_order_home", 4, "2025-03-24", "2025-03-31", CC_STATUS_MET);
    const cc_clock_t *c5 = expect("visit_interim_order_home", 5, "2025-03-31", "2025-04-07", CC_STATUS_CANCELLED);
    assert_non_null(strstr(c5->reason, "interim care order gave way"));
    /* The order on Tue 1 Apr: within a week, Tue 8 Apr (met that day); then
     * 6 weeks, Tue 20 May. */
    expect("visit_care_order_home", 1, "2025-04-01", "2025-04-08", CC_STATUS_MET);
    expect("visit_care_order_home", 2, "2025-04-08", "2025-05-20", CC_STATUS_OPEN);
    assert_int_equal(count_rule("visit"), 0);
}

/* ---- adoption: AAR 2005 reg 36; CPPCR 2010 reg 3 ------------------------ */

/* Reg 36(1): authorised to place, not placed: reviewed within 3 months of
 * the authority. Reg 36(3): placed: within 4 weeks, 3 months after that,
 * then 6 months; reg 36(4): visits within a week, weekly to the first
 * review. CPPCR reg 3: the CPPCR clocks (the LAC review chain) give way. */
static void test_placed_for_adoption(void **state)
{
    (void)state;
    run("2022-03-01", "2025-08-10",
        EVENTS({"looked_after_start", "2025-01-06", C2}, {"placement_start", "2025-01-06", "{\"place\":\"U6\"}"},
               {"review_held", "2025-01-31", NULL}, {"legal_status_change", "2025-03-03", "{\"legal_status\":\"E1\"}"},
               {"authority_to_place", "2025-03-03", "{\"legal_status\":\"E1\"}"},
               {"placement_start", "2025-04-07", "{\"place\":\"A5\"}"}, {"visit", "2025-04-14", NULL},
               {"visit", "2025-04-21", NULL}, {"visit", "2025-04-28", NULL}, {"review_held", "2025-05-02", NULL},
               {"review_held", "2025-08-01", NULL}));
    /* LAC review: Mon 6 Jan + 20 wd = Mon 3 Feb, held Fri 31 Jan; the
     * second (due Wed 30 Apr) gave way on Mon 7 Apr. */
    expect("review", 1, "2025-01-06", "2025-02-03", CC_STATUS_MET);
    const cc_clock_t *r2 = expect("review", 2, "2025-01-31", "2025-04-30", CC_STATUS_CANCELLED);
    assert_non_null(strstr(r2->reason, "placed for adoption"));
    /* Reg 36(1): Mon 3 Mar + 3 months = Tue 3 Jun; placed before it. */
    const cc_clock_t *aa = expect("adoption_authority_review", 1, "2025-03-03", "2025-06-03", CC_STATUS_CANCELLED);
    assert_non_null(strstr(aa->reason, "placed for adoption"));
    /* Reg 36(3): Mon 7 Apr + 4 weeks = Mon 5 May (held Fri 2 May); + 3
     * months = Sat 2 Aug (held Fri 1 Aug); + 6 months = Sun 1 Feb 2026. */
    expect("adoption_review", 1, "2025-04-07", "2025-05-05", CC_STATUS_MET);
    expect("adoption_review", 2, "2025-05-02", "2025-08-02", CC_STATUS_MET);
    expect("adoption_review", 3, "2025-08-01", "2026-02-01", CC_STATUS_OPEN);
    /* Reg 36(4)(a): weekly from Mon 14 Apr; the first review (2 May) ends
     * the weekly visits (the agency decides the frequency there). */
    expect("adoption_visit", 1, "2025-04-07", "2025-04-14", CC_STATUS_MET);
    expect("adoption_visit", 4, "2025-04-28", "2025-05-05", CC_STATUS_CANCELLED);
    assert_int_equal(count_rule("adoption_visit"), 4);
    /* No reg 28(2) visits, placement plan or care-plan clocks for the
     * placement for adoption (CPPCR reg 3). */
    assert_int_equal(count_rule("visit"), 1);
    assert_int_equal(count_rule("placement_plan"), 1);
    contains(explain("adoption_review", 1, "2025-08-10"),
             "Regime: Placed for adoption (AAR 2005 reg 36(2)-(3); 903 guide PLACE A3-A6). It applies because on "
             "Mon 7 Apr 2025 place is A3, A4, A5 or A6 (A5)");
}

/* A baby placed for adoption at the start of care (A3): no CPPCR clock
 * starts at all (reg 3). */
static void test_placed_for_adoption_from_the_start(void **state)
{
    (void)state;
    run("2025-01-02", "2025-03-01",
        EVENTS({"looked_after_start", "2025-02-03", "{\"legal_status\":\"E1\"}"},
               {"placement_start", "2025-02-03", "{\"place\":\"A3\"}"}));
    EXPECT_ONLY("adoption_review", "adoption_visit");
    /* Mon 3 Feb + 4 weeks = Mon 3 Mar. */
    expect("adoption_review", 1, "2025-02-03", "2025-03-03", CC_STATUS_DUE_SOON);
}

/* ---- secure accommodation: SAR 1991 regs 10 and 15 ---------------------- */

/* Reg 10(1): at most 72 hours without a court's authority, counted in hours
 * from the placement's time; reg 15: reviewed within a month, then at
 * most every 3 months. */
static void test_secure_placement_72_hours_from_its_time(void **state)
{
    (void)state;
    run("2010-05-05", "2025-03-04",
        EVENTS({"looked_after_start", "2025-03-03", C2},
               {"placement_start", "2025-03-03", "{\"place\":\"K1\",\"time\":\"18:30\"}"}));
    /* 18:30 Mon 3 Mar + 72 hours = 18:30 Thu 6 Mar. */
    const cc_clock_t *a = expect("secure_authority", 1, "2025-03-03", "2025-03-06", CC_STATUS_DUE_SOON);
    assert_true(a->flags & CC_CLOCK_HOURS);
    assert_false(a->flags & CC_CLOCK_NO_TIME);
    assert_int_equal(a->due_minute, 18 * 60 + 30);
    contains(explain("secure_authority", 1, "2025-03-04"),
             "Due: 72 hours after the start, at 18:30 on Mon 3 Mar 2025: the period ends at 18:30 on Thu 6 Mar 2025");
    /* Mon 3 Mar + 1 month = Thu 3 Apr. */
    expect("secure_review", 1, "2025-03-03", "2025-04-03", CC_STATUS_OPEN);
}

/* Without a time, the count starts at the start of the day: 72 hours end
 * at 00:00 on Thursday, so Wednesday is the last day (never later than the
 * law). A court order that day meets it; the review goes 3-monthly. */
static void test_secure_placement_without_time_and_court_order(void **state)
{
    (void)state;
    run("2010-05-05", "2025-07-10",
        EVENTS({"looked_after_start", "2025-03-03", C2}, {"placement_start", "2025-03-03", "{\"place\":\"K1\"}"},
               {"secure_order_made", "2025-03-05", NULL}, {"secure_review_held", "2025-04-01", NULL}));
    const cc_clock_t *a = expect("secure_authority", 1, "2025-03-03", "2025-03-05", CC_STATUS_MET);
    assert_true(a->flags & CC_CLOCK_NO_TIME);
    expect("secure_review", 1, "2025-03-03", "2025-04-03", CC_STATUS_MET);
    /* Tue 1 Apr + 3 months = Tue 1 Jul. */
    expect("secure_review", 2, "2025-04-01", "2025-07-01", CC_STATUS_OVERDUE);
}

/* The placement ending first cancels the clock; a remanded child (LS J1)
 * is held on the court's remand, not s25's 72 hours; a time that is no
 * time is a data error, not midnight. */
static void test_secure_placement_ends_remand_and_bad_time(void **state)
{
    (void)state;
    run("2010-05-05", "2025-03-10",
        EVENTS({"looked_after_start", "2025-03-03", C2}, {"placement_start", "2025-03-03", "{\"place\":\"K1\"}"},
               {"placement_start", "2025-03-04", "{\"place\":\"U6\"}"}));
    const cc_clock_t *a = expect("secure_authority", 1, "2025-03-03", "2025-03-05", CC_STATUS_CANCELLED);
    assert_non_null(strstr(a->reason, "the placement ended on 2025-03-04"));
    run("2010-05-05", "2025-03-10",
        EVENTS({"looked_after_start", "2025-03-03", "{\"legal_status\":\"J1\"}"},
               {"placement_start", "2025-03-03", "{\"place\":\"K1\"}"}));
    assert_int_equal(count_rule("secure_authority"), 0);
    assert_int_equal(count_rule("secure_review"), 1);
    run("2010-05-05", "2025-03-10",
        EVENTS({"looked_after_start", "2025-03-03", C2},
               {"placement_start", "2025-03-03", "{\"place\":\"K1\",\"time\":\"25:00\"}"}));
    assert_int_equal(g_out.len, 1);
    assert_int_equal(g_out.items[0].status, CC_STATUS_DATA_ERROR);
    assert_non_null(strstr(g_out.items[0].reason, "time \"25:00\" is not a time of day"));
}

/* ---- care leavers: CPPCR 2010 Part 7; CLR 2010 --------------------------- */

/* Reg 40(1): eligible after 13 weeks looked after since 14, still looked
 * after at 16 or over; reg 42(1): needs assessment within 3 months of
 * becoming eligible after 16; reg 43: the pathway plan from it. A
 * 16-year-old entrant: Mon 3 Feb 2025 + 13 weeks = Mon 5 May; + 3 months =
 * Tue 5 Aug. No permanence plan from 15 (seeds/003 s1.1). */
static void test_sixteen_year_old_entrant(void **state)
{
    (void)state;
    run("2008-11-20", "2025-06-01",
        EVENTS({"looked_after_start", "2025-02-03", "{\"legal_status\":\"V2\"}"},
               {"placement_start", "2025-02-03", "{\"place\":\"U6\"}"}));
    const cc_clock_t *na = expect("needs_assessment", 1, "2025-05-05", "2025-08-05", CC_STATUS_OPEN);
    assert_true(na->flags & CC_CLOCK_DERIVED);
    assert_int_equal(na->start_event, EVENT_ID(0));
    expect("pathway_plan", 1, "2025-05-05", "2025-08-05", CC_STATUS_OPEN);
    assert_int_equal(count_rule("permanence_plan"), 0);
    contains(explain("needs_assessment", 1, "2025-06-01"),
             "It applies because on Mon 5 May 2025 the child had been looked after for 13 weeks in all since turning "
             "14 (counting episodes of care where legal status is not V3 or V4) and was 16");
}

/* In care since 13: 13 weeks since 14 were reached long before 16, so the
 * child becomes eligible on the 16th birthday, Sat 20 Jun 2026; the
 * assessment is due 3 months later, Sun 20 Sep. One done early in the
 * episode meets it. */
static void test_eligible_on_the_sixteenth_birthday(void **state)
{
    (void)state;
    run("2010-06-20", "2026-07-01",
        EVENTS({"looked_after_start", "2023-09-01", C2}, {"needs_assessment_completed", "2026-06-01", NULL}));
    const cc_clock_t *na = expect("needs_assessment", 1, "2026-06-20", "2026-09-20", CC_STATUS_MET);
    assert_int_equal(na->met_on, iso("2026-06-01"));
    expect("pathway_plan", 1, "2026-06-20", "2026-09-20", CC_STATUS_OPEN);
}

/* Not yet eligible: 10 weeks in care at 16 (explain counts them); a child
 * on short breaks is never eligible (reg 40(2)). */
static void test_not_yet_eligible_and_short_breaks_never(void **state)
{
    (void)state;
    run("2008-11-20", "2025-04-14",
        EVENTS({"looked_after_start", "2025-02-03", "{\"legal_status\":\"V2\"}"}));
    assert_int_equal(count_rule("needs_assessment"), 0);
    contains(explain_none("needs_assessment"), "In all: 70 of the 91 days needed");
    run("2008-11-20", "2025-12-01",
        EVENTS({"looked_after_start", "2025-02-03", "{\"legal_status\":\"V4\"}"}));
    assert_int_equal(count_rule("needs_assessment"), 0);
    contains(explain_none("needs_assessment"),
             "not counted, its legal status was \"V4\" on that day, and this clock starts only when legal status is "
             "not V3 or V4");
}

/* CLR 2010 reg 7: pathway plan reviews at most every 6 months, going on
 * after care ends (a relevant child); a LAC review of an eligible child in
 * care reviews it too; an adoption order (REC E11) ends them. */
static void test_pathway_plan_reviews_go_on_after_care(void **state)
{
    (void)state;
    run("2008-11-20", "2026-08-01",
        EVENTS({"looked_after_start", "2025-02-03", "{\"legal_status\":\"V2\"}"},
               {"pathway_plan_completed", "2025-07-01", NULL}, {"review_held", "2025-12-01", NULL},
               {"looked_after_end", "2026-01-10", "{\"rec\":\"E6\"}"}, {"pathway_plan_reviewed", "2026-05-20", NULL}));
    /* Tue 1 Jul 2025 + 6 months = Thu 1 Jan 2026 (met by the LAC review of
     * 1 Dec); + 6 months = Mon 1 Jun 2026 (met 20 May, after care ended);
     * then Fri 20 Nov 2026. */
    expect("pathway_plan_review", 1, "2025-07-01", "2026-01-01", CC_STATUS_MET);
    expect("pathway_plan_review", 2, "2025-12-01", "2026-06-01", CC_STATUS_MET);
    expect("pathway_plan_review", 3, "2026-05-20", "2026-11-20", CC_STATUS_OPEN);
    run("2008-11-20", "2026-08-01",
        EVENTS({"looked_after_start", "2025-02-03", "{\"legal_status\":\"V2\"}"},
               {"pathway_plan_completed", "2025-07-01", NULL},
               {"looked_after_end", "2025-09-10", "{\"rec\":\"E11\"}"}));
    expect("pathway_plan_review", 1, "2025-07-01", "2026-01-01", CC_STATUS_CANCELLED);
}

/* ---- local standards (the seeds) ---------------------------------------- */

/* seeds/001 (review process step 4): the progress update one week before
 * the review; the rule says it is local, and [options] local_standards =
 * no switches every local standard off. */
static void test_local_standards_are_marked_and_switchable(void **state)
{
    (void)state;
    run("2012-05-10", "2025-05-01",
        EVENTS({"looked_after_start", "2025-03-03", C2}, {"review_scheduled", "2025-05-20", NULL}));
    /* Tue 20 May 2025 - 1 week = Tue 13 May. */
    expect("progress_update", 1, "2025-05-20", "2025-05-13", CC_STATUS_OPEN);
    contains(explain("progress_update", 1, "2025-05-01"), "Local standard: a council's own procedure");
    use_override("[options]\nlocal_standards = no\n");
    const char *local[] = {"progress_update", "cp_report_to_family", "chronology", "cin_review", "review_minutes",
                           "iro_report", "review_report_to_iro", "report_to_managers", "core_group_minutes"};
    for (size_t i = 0; i < sizeof local / sizeof local[0]; i++)
        assert_null(cc_ruleset_find(g_rs, local[i]));
    assert_non_null(cc_ruleset_find(g_rs, "review"));
    assert_non_null(cc_ruleset_find(g_rs, "short_break_review"));
    /* One switched back on by name is kept. */
    restore_default(NULL);
    use_override("[options]\nlocal_standards = no\n[chronology]\nlocal = no\n");
    assert_non_null(cc_ruleset_find(g_rs, "chronology"));
}

/* seeds/002: CIN meeting 6 weeks after the assessment, then 3 months;
 * the chronology within 3 months of the referral, then every 3 months;
 * the social work report to the family 3 (working) days before the
 * conference. */
static void test_local_cin_chronology_and_report_to_family(void **state)
{
    (void)state;
    run("2012-05-10", "2025-04-01",
        EVENTS({"referral", "2025-01-06", NULL}, {"assessment_completed", "2025-02-03", "{\"outcome\":\"cin\"}"},
               {"cin_review_held", "2025-03-14", NULL}, {"conference_scheduled", "2025-04-10", NULL}));
    /* Mon 3 Feb + 6 weeks = Mon 17 Mar, held Fri 14 Mar; + 3 months = Sat
     * 14 Jun. */
    expect("cin_review", 1, "2025-02-03", "2025-03-17", CC_STATUS_MET);
    expect("cin_review", 2, "2025-03-14", "2025-06-14", CC_STATUS_OPEN);
    /* Mon 6 Jan + 3 months = Sun 6 Apr. */
    expect("chronology", 1, "2025-01-06", "2025-04-06", CC_STATUS_DUE_SOON);
    /* Thu 10 Apr - 3 wd = Mon 7 Apr. */
    expect("cp_report_to_family", 1, "2025-04-10", "2025-04-07", CC_STATUS_OPEN);
}

/* ---- the language ------------------------------------------------------- */

/* Value lists, state attributes, prev., after=, several cancel_on with
 * reasons, starts_when, hours, extend_on, per placement and series: each
 * refused with its file, line and what is wrong when malformed. */
static void test_language_errors_name_what_is_wrong(void **state)
{
    (void)state;
    const char *base = "[x]\ntitle = X\nsource = S\nmet_by = visit\n";
    char text[1024];
#define TRY(extra, want)                                                                                         \
    do {                                                                                                         \
        snprintf(text, sizeof text, "%s%s", base, extra);                                                        \
        const char *err = parse_error(text);                                                                     \
        if (strstr(err, want) == NULL)                                                                           \
            print_error("%s: got \"%s\", wanted \"%s\"\n", extra, err, want);                                     \
        assert_non_null(strstr(err, want));                                                                      \
    } while (0)
    TRY("starts_on = visit\ndue = +1w\napplies = place=A3||A4\n", "t.rules:7: x: applies: \"place=A3||A4\"");
    TRY("starts_on = visit\ndue = +1w\napplies = prev.place=A3\n", "prev.place: \"place\" is not a state attribute");
    TRY("starts_on = visit\ndue = +1w\nthen = +1w\nthen_if = after=nosuch +2w\n", "after=nosuch: unknown event type");
    TRY("starts_on = visit\ndue = +1w\napplies = after=visit\n", "applies: \"after=visit\" is not a condition");
    TRY("starts_on = visit\ndue = +9000h\n", "at most 8760h");
    TRY("starts_when = looked_after 13m\ndue = +1w\n", "starts_when: \"looked_after 13m\" must be looked_after");
    TRY("starts_when = looked_after 13w\nstarts_on = visit\ndue = +1w\n", "starts_on and starts_when both given");
    TRY("starts_on = visit\ndue = +1w\nextend_on = visit\n", "extend_on: \"visit\" must be EVENT_TYPE OFFSET");
    TRY("starts_on = visit\ndue = +1w\nper = fortnight\n", "not event, episode, placement or series");
    TRY("starts_on = visit\ndue = +1w\ncancel_on = visit :\n", "nothing after the colon");
    TRY("starts_on = visit\ndue = +1w\ncancel_on = visit\ncancel_on = visit\ncancel_on = visit\ncancel_on = visit\n"
        "cancel_on = visit\n", "cancel_on: at most 4");
    TRY("starts_on = visit, nosuch\ndue = +1w\n", "starts_on: unknown event type \"nosuch\"");
    TRY("[events]\nstate = le gal\n", "\"le gal\" is not an attribute name");
    TRY("[options]\nlocal_standards = maybe\n", "local_standards: \"maybe\" is not yes or no");
#undef TRY
    /* And the good forms load. */
    assert_string_equal(parse_error("[events]\nstate = place\n[x]\ntitle = X\nsource = S\nmet_by = visit\n"
                                    "starts_on = placement_start, visit\nper = placement\ndue = +72h\n"
                                    "applies = place=A3|A4, prev.place!=K1\nextend_on = visit +2w\n"
                                    "cancel_on = looked_after_end : gone\ncancel_on = visit place=K1\n"
                                    "[y]\ntitle = Y\nsource = S\nmet_by = visit\nper = series\nseries_gap = 26w\n"
                                    "starts_on = looked_after_start\ndue = +3m\nthen = +1w\n"
                                    "then_if = after=review_held +6w\n"
                                    "[z]\ntitle = Z\nsource = S\nmet_by = visit\ndue = +3m\n"
                                    "starts_when = looked_after 91d since_age=14 age>=16 age<18 place!=K1\n"),
                        "");
}

/* prev.: the state just before the event. A rule of a council's own, on
 * the placement after a placement for adoption ended without an order. */
static void test_prev_state_condition(void **state)
{
    (void)state;
    use_override("[after_adoption]\ntitle = Disruption meeting\nsource = council procedure\n"
                 "starts_on = placement_start\napplies = prev.place=A3|A4|A5|A6, place!=A3|A4|A5|A6\n"
                 "due = +20wd\nmet_by = review_held\n");
    run("2022-03-01", "2025-06-10",
        EVENTS({"looked_after_start", "2025-01-06", "{\"legal_status\":\"E1\"}"},
               {"placement_start", "2025-01-06", "{\"place\":\"U6\"}"},
               {"placement_start", "2025-04-07", "{\"place\":\"A5\"}"},
               {"placement_start", "2025-06-02", "{\"place\":\"U6\"}"}));
    assert_int_equal(count_rule("after_adoption"), 1);
    /* Mon 2 Jun + 20 wd = Mon 30 Jun. */
    expect("after_adoption", 1, "2025-06-02", "2025-06-30", CC_STATUS_OPEN);
}

/* A standard child (no legal status recorded, a foster placement) keeps
 * every clock of before: the regimes change nothing for them. */
static void test_standard_child_unchanged(void **state)
{
    (void)state;
    run("2015-03-02", "2026-11-10",
        EVENTS({"looked_after_start", "2026-11-02", NULL}, {"placement_start", "2026-11-02", NULL}));
    EXPECT_ONLY("care_plan", "review", "permanence_plan", "pep", "visit", "health_assessment", "placement_plan");
    expect("review", 1, "2026-11-02", "2026-11-30", CC_STATUS_OPEN);
    expect("care_plan", 1, "2026-11-02", "2026-11-16", CC_STATUS_DUE_SOON);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_short_breaks_are_one_series),
        cmocka_unit_test_teardown(test_short_break_care_plan_when_switched_on, restore_default),
        cmocka_unit_test(test_short_breaks_review_then_six_monthly),
        cmocka_unit_test(test_short_breaks_series_lapses),
        cmocka_unit_test(test_short_breaks_end_when_care_begins_under_a_care_order),
        cmocka_unit_test(test_short_breaks_v4_agreement_and_explain),
        cmocka_unit_test(test_placement_plan_per_placement),
        cmocka_unit_test(test_visits_placed_with_parent_before_assessment),
        cmocka_unit_test(test_connected_person_temporary_approval),
        cmocka_unit_test(test_temporary_approval_extends_once_and_is_met_by_approval),
        cmocka_unit_test(test_visits_interim_then_full_care_order_at_home),
        cmocka_unit_test(test_placed_for_adoption),
        cmocka_unit_test(test_placed_for_adoption_from_the_start),
        cmocka_unit_test(test_secure_placement_72_hours_from_its_time),
        cmocka_unit_test(test_secure_placement_without_time_and_court_order),
        cmocka_unit_test(test_secure_placement_ends_remand_and_bad_time),
        cmocka_unit_test(test_sixteen_year_old_entrant),
        cmocka_unit_test(test_eligible_on_the_sixteenth_birthday),
        cmocka_unit_test(test_not_yet_eligible_and_short_breaks_never),
        cmocka_unit_test(test_pathway_plan_reviews_go_on_after_care),
        cmocka_unit_test_teardown(test_local_standards_are_marked_and_switchable, restore_default),
        cmocka_unit_test(test_local_cin_chronology_and_report_to_family),
        cmocka_unit_test(test_language_errors_name_what_is_wrong),
        cmocka_unit_test_teardown(test_prev_state_condition, restore_default),
        cmocka_unit_test(test_standard_child_unchanged),
    };
    return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
