/* Unit tests for daemon/core/planner.c, the delivery planner: the sending window,
 * stage dates on the England and Wales calendar, catching up, completion,
 * recipients and their undeliverable reasons, the team channel's copies and
 * the "now met" notice.
 *
 * The clock used most is the special guardianship report of
 * config/rules/england.rules due Mon 28 Dec 2026 (a bank holiday), whose
 * stages fall on (worked out by hand, checked with `careclock calc`):
 * -10wd Fri 11 Dec, -5wd Fri 18 Dec, -1wd Thu 24 Dec (workers),
 * +1wd Tue 29 Dec (team manager), +5wd Tue 5 Jan 2027 (service manager). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "careclock/calendar.h"
#include "careclock/holidays.h"
#include "careclock/config.h"
#include "careclock/date.h"
#include "careclock/email.h"
#include "careclock/error.h"
#include "careclock/planner.h"
#include "careclock/rulefiles.h"
#include "careclock/rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOLIDAY_DIR CC_SOURCE_DIR "/config/holidays"
#define ENGLAND_RULES CC_SOURCE_DIR "/config/rules/england.rules"

static cc_calendar_t *g_cal;
static cc_ruleset_t *g_rs;
static cc_config_t g_config;

/* The planner's view of g_config as it is now (tests change g_config). */
static const cc_planner_settings_t *settings(void)
{
    static cc_planner_settings_t s;
    cc_config_planner_settings(&g_config, &s);
    return &s;
}
static cc_plan_t g_plan;

static cc_date_t iso(const char *s)
{
    cc_date_t d;
    assert_int_equal(cc_date_parse_iso(s, &d), 0);
    return d;
}

static cc_local_time_t at(const char *day, int hour, int minute)
{
    cc_local_time_t t = {.date = iso(day), .minute = hour * 60 + minute};
    return t;
}

static int setup(void **state)
{
    char err[512];
    const char *files[] = {ENGLAND_RULES};
    (void)state;
    if (cc_holidays_open(HOLIDAY_DIR, "england-and-wales", NULL, 0, &g_cal, err, sizeof(err)) != 0 ||
        cc_rulefiles_load(files, 1, &g_rs, err, sizeof(err)) != 0 || cc_config_defaults(&g_config) != 0) {
        fprintf(stderr, "setup: %s\n", err);
        return -1;
    }
    free(g_config.smtp_url);
    free(g_config.smtp_from);
    g_config.smtp_url = strdup("smtp://mail.council.example:587");
    g_config.smtp_from = strdup("careclock@council.example");
    g_config.webhooks[0].name = strdup("east");
    g_config.webhooks[0].url = strdup("https://hooks.example/east");
    g_config.nwebhooks = 1;
    cc_plan_init(&g_plan);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cc_plan_free(&g_plan);
    cc_config_free(&g_config);
    cc_ruleset_free(g_rs);
    cc_calendar_free(g_cal);
    return 0;
}

/* The SGO report of child C1, due Mon 28 Dec 2026, with everyone present. */
static cc_planner_clock_t sgo_clock(cc_status_t status)
{
    cc_planner_clock_t c = {.child_id = "C1", .rule_id = "sgo_report", .seq = 1, .status = status,
                           .due = iso("2026-12-28"), .team_id = "T1"};
    c.parties[CC_ROLE_WORKER] = (cc_planner_party_t){"W1", "w1@council.example"};
    c.parties[CC_ROLE_IRO] = (cc_planner_party_t){"I1", "i1@council.example"};
    c.parties[CC_ROLE_TEAM_MANAGER] = (cc_planner_party_t){"TM1", "tm1@council.example"};
    c.parties[CC_ROLE_SERVICE_MANAGER] = (cc_planner_party_t){"SM1", "sm1@council.example"};
    c.parties[CC_ROLE_TEAM_WEBHOOK] = (cc_planner_party_t){"T1", NULL};
    return c;
}

static const cc_rule_t *rule(const char *id)
{
    const cc_rule_t *r = cc_ruleset_find(g_rs, id);
    assert_non_null(r);
    return r;
}

static size_t plan(const cc_planner_clock_t *clock, cc_local_time_t now)
{
    cc_plan_reset(&g_plan);
    assert_int_equal(cc_planner_plan(rule(clock->rule_id), clock, g_cal, settings(), now, &g_plan), 0);
    return g_plan.len;
}

static const cc_planned_t *find(const char *stage, const char *recipient)
{
    for (size_t i = 0; i < g_plan.len; i++)
        if (strcmp(g_plan.items[i].stage, stage) == 0 && strcmp(g_plan.items[i].recipient, recipient) == 0)
            return &g_plan.items[i];
    fail_msg("no planned delivery %s to %s", stage, recipient);
    return NULL;
}

static void assert_time(cc_local_time_t t, const char *day, int hour, int minute)
{
    char buf[CC_DATE_STRLEN];
    if (t.date != iso(day) || t.minute != hour * 60 + minute)
        fail_msg("expected %s %02d:%02d, got %s %02d:%02d", day, hour, minute, cc_date_format(t.date, buf),
                 t.minute / 60, t.minute % 60);
}

/* ---- the window ----------------------------------------------------------- */

static void test_window(void **state)
{
    (void)state;
    assert_true(cc_planner_in_window(g_cal, settings(), at("2026-12-11", 8, 0)));
    assert_true(cc_planner_in_window(g_cal, settings(), at("2026-12-11", 17, 59)));
    assert_false(cc_planner_in_window(g_cal, settings(), at("2026-12-11", 18, 0)));
    assert_false(cc_planner_in_window(g_cal, settings(), at("2026-12-11", 7, 59)));
    assert_false(cc_planner_in_window(g_cal, settings(), at("2026-12-12", 10, 0)));   /* Saturday */
    assert_false(cc_planner_in_window(g_cal, settings(), at("2026-12-25", 10, 0)));   /* Christmas Day */
    /* Inside: now. Before the opening: today's. After closing: the next working day's. */
    assert_time(cc_planner_next_opening(g_cal, settings(), at("2026-12-11", 9, 30)), "2026-12-11", 9, 30);
    assert_time(cc_planner_next_opening(g_cal, settings(), at("2026-12-11", 7, 0)), "2026-12-11", 8, 0);
    assert_time(cc_planner_next_opening(g_cal, settings(), at("2026-12-11", 18, 0)), "2026-12-14", 8, 0);
    assert_time(cc_planner_next_opening(g_cal, settings(), at("2026-12-13", 23, 59)), "2026-12-14", 8, 0);
    /* Christmas: Fri 25 and Mon 28 (Boxing Day, substitute) are holidays. */
    assert_time(cc_planner_next_opening(g_cal, settings(), at("2026-12-24", 19, 0)), "2026-12-29", 8, 0);
    /* A council's own window. */
    g_config.window_start_minute = 9 * 60 + 30;
    g_config.window_end_minute = 16 * 60;
    assert_time(cc_planner_next_opening(g_cal, settings(), at("2026-12-11", 16, 0)), "2026-12-14", 9, 30);
    g_config.window_start_minute = 8 * 60;
    g_config.window_end_minute = 18 * 60;
}

/* ---- stages ---------------------------------------------------------------- */

static void test_stages_come_on_their_working_days(void **state)
{
    (void)state;
    cc_planner_clock_t c = sgo_clock(CC_STATUS_OPEN);
    assert_int_equal(plan(&c, at("2026-12-10", 9, 0)), 0);
    assert_int_equal(plan(&c, at("2026-12-11", 7, 0)), 1);
    const cc_planned_t *p = find("-10wd", "W1");
    assert_int_equal(p->stage_date, iso("2026-12-11"));
    assert_time(p->due_at, "2026-12-11", 8, 0);          /* planned before the opening: goes at it */
    assert_int_equal(p->kind, CC_NOTICE_REMINDER);
    assert_int_equal(p->channel, CC_CHANNEL_EMAIL);
    assert_string_equal(p->address, "w1@council.example");
    assert_string_equal(p->undeliverable, "");
    assert_false(p->immediate);
    assert_int_equal(plan(&c, at("2026-12-11", 11, 15)), 1);
    assert_time(g_plan.items[0].due_at, "2026-12-11", 11, 15); /* planned inside the window: now */
    assert_int_equal(plan(&c, at("2026-12-11", 19, 0)), 1);
    assert_time(g_plan.items[0].due_at, "2026-12-14", 8, 0);   /* after closing: Monday's opening */
    c.status = CC_STATUS_DUE_SOON;
    assert_int_equal(plan(&c, at("2026-12-18", 9, 0)), 1);
    assert_int_equal(find("-5wd", "W1")->stage_date, iso("2026-12-18"));
    assert_int_equal(plan(&c, at("2026-12-24", 9, 0)), 1);
    assert_int_equal(find("-1wd", "W1")->stage_date, iso("2026-12-24"));
    c.status = CC_STATUS_OVERDUE;
    assert_int_equal(plan(&c, at("2026-12-28", 9, 0)), 1);     /* the bank holiday: still -1wd */
    assert_time(g_plan.items[0].due_at, "2026-12-29", 8, 0);
    assert_int_equal(plan(&c, at("2026-12-29", 9, 0)), 2);
    p = find("+1wd", "TM1");
    assert_int_equal(p->stage_date, iso("2026-12-29"));
    assert_int_equal(p->kind, CC_NOTICE_ESCALATION);
    assert_int_equal(p->role, CC_ROLE_TEAM_MANAGER);
    assert_int_equal(plan(&c, at("2027-01-05", 9, 0)), 3);
    p = find("+5wd", "SM1");
    assert_int_equal(p->stage_date, iso("2027-01-05"));
    assert_int_equal(p->kind, CC_NOTICE_ESCALATION);
}

static void test_catching_up_plans_the_latest_stage_per_role(void **state)
{
    (void)state;
    cc_planner_clock_t c = sgo_clock(CC_STATUS_OVERDUE);
    /* Everything has come by 5 Jan: the worker gets -1wd only. */
    assert_int_equal(plan(&c, at("2027-01-05", 9, 0)), 3);
    find("-1wd", "W1");
    find("+1wd", "TM1");
    find("+5wd", "SM1");
    /* Planning is a function: the same keys again. */
    cc_planned_t first[3];
    memcpy(first, g_plan.items, sizeof(first));
    assert_int_equal(plan(&c, at("2027-01-05", 9, 0)), 3);
    for (int i = 0; i < 3; i++) {
        assert_string_equal(first[i].stage, g_plan.items[i].stage);
        assert_string_equal(first[i].recipient, g_plan.items[i].recipient);
    }
}

/* Issue 18: a due date on a weekend puts -1wd and +0wd on the Friday
 * (`careclock calc 2027-01-09 -1wd` and `+0wd` both say Fri 8 Jan 2027):
 * the item was planned twice and appeared twice in the worker's digest.
 * Stages of one role that fall on one day are planned once, the later. */
static void test_stages_on_one_day_are_planned_once(void **state)
{
    (void)state;
    cc_rule_t r = *rule("sgo_report");
    r.nstages = 2;
    r.stages[0].role = r.stages[1].role = CC_ROLE_WORKER;
    r.stages[0].immediate = r.stages[1].immediate = 0;
    assert_int_equal(cc_offset_parse("-1wd", 1, &r.stages[0].offset), 0);
    assert_int_equal(cc_offset_parse("+0wd", 1, &r.stages[1].offset), 0);
    cc_planner_clock_t c = sgo_clock(CC_STATUS_DUE_SOON);
    c.due = iso("2027-01-09"); /* a Saturday */
    cc_plan_reset(&g_plan);
    assert_int_equal(cc_planner_plan(&r, &c, g_cal, settings(), at("2027-01-08", 9, 0), &g_plan), 0);
    assert_int_equal(g_plan.len, 1);
    assert_string_equal(g_plan.items[0].stage, "+0wd");
    assert_int_equal(g_plan.items[0].stage_date, iso("2027-01-08"));
    /* listed the other way round, the same */
    cc_stage_t first = r.stages[0];
    r.stages[0] = r.stages[1];
    r.stages[1] = first;
    cc_plan_reset(&g_plan);
    assert_int_equal(cc_planner_plan(&r, &c, g_cal, settings(), at("2027-01-08", 9, 0), &g_plan), 0);
    assert_int_equal(g_plan.len, 1);
    assert_string_equal(g_plan.items[0].stage, "+0wd");
}

static void test_completion_stops_every_later_stage(void **state)
{
    (void)state;
    /* (a data error is not closed: its worker and team manager hear of it
     * daily until it is mended, test_data_error_is_never_silent) */
    static const cc_status_t closed[] = {CC_STATUS_MET, CC_STATUS_MET_LATE, CC_STATUS_CANCELLED,
                                         CC_STATUS_EXCEPTED};
    for (size_t i = 0; i < sizeof(closed) / sizeof(closed[0]); i++) {
        cc_planner_clock_t c = sgo_clock(closed[i]);
        assert_int_equal(plan(&c, at("2027-01-05", 9, 0)), 0);
    }
    cc_planner_clock_t c = sgo_clock(CC_STATUS_OPEN);
    c.due = CC_DATE_NONE;
    assert_int_equal(plan(&c, at("2027-01-05", 9, 0)), 0);
}

/* Issue 15 item 6: a clock of an episode of care that has ended (the
 * child left care, and the end closed the clock unmet) takes no reminder or
 * escalation from that day: the looked-after duties end with the episode
 * (Children Act 1989 s22; CPPCR 2010 reg 2). Before that day (an end
 * recorded ahead of time) its stages go as usual. The "now met" notice of a
 * closed clock is not a reminder and is unchanged. The planner is used on a
 * care plan due Mon 16 Nov 2026 (+5wd service manager Mon 23 Nov). */
static void test_nothing_after_the_child_left_care(void **state)
{
    (void)state;
    cc_planner_clock_t c = sgo_clock(CC_STATUS_OVERDUE);
    c.rule_id = "care_plan";
    c.due = iso("2026-11-16");
    assert_int_equal(plan(&c, at("2026-11-23", 9, 0)), 3);
    find("+5wd", "SM1");
    c.left_care = 1;
    c.left_on = iso("2026-11-18");
    assert_int_equal(plan(&c, at("2026-11-23", 9, 0)), 0);
    assert_int_equal(plan(&c, at("2026-11-18", 9, 0)), 0); /* from the day itself */
    assert_int_equal(plan(&c, at("2026-11-17", 9, 0)), 2); /* the day before: TM +1wd, worker +0wd */
    find("+1wd", "TM1");
    /* Closed: those escalated still hear it is over. */
    cc_planner_sent_t sent[] = {{"TM1", CC_CHANNEL_EMAIL, CC_ROLE_TEAM_MANAGER, "tm1@council.example"}};
    c.status = CC_STATUS_CANCELLED;
    c.escalated = sent;
    c.nescalated = 1;
    assert_int_equal(plan(&c, at("2026-11-23", 9, 0)), 1);
    assert_int_equal(find(CC_NOTIFY_MET_STAGE, "TM1")->kind, CC_NOTICE_MET);
}

static void test_now_met_goes_to_those_escalated(void **state)
{
    (void)state;
    cc_planner_sent_t sent[] = {{"TM1", CC_CHANNEL_EMAIL, CC_ROLE_TEAM_MANAGER, "tm1@council.example"},
                               {"team:T1", CC_CHANNEL_WEBHOOK, CC_ROLE_TEAM_MANAGER, "east"},
                               {"SM1", CC_CHANNEL_EMAIL, CC_ROLE_SERVICE_MANAGER, NULL}};
    cc_planner_clock_t c = sgo_clock(CC_STATUS_MET_LATE);
    c.escalated = sent;
    c.nescalated = 3;
    assert_int_equal(plan(&c, at("2026-12-30", 19, 0)), 3);
    const cc_planned_t *p = find(CC_NOTIFY_MET_STAGE, "TM1");
    assert_int_equal(p->kind, CC_NOTICE_MET);
    assert_time(p->due_at, "2026-12-31", 8, 0);
    assert_string_equal(p->undeliverable, "");
    p = find(CC_NOTIFY_MET_STAGE, "team:T1");
    assert_int_equal(p->channel, CC_CHANNEL_WEBHOOK);
    p = find(CC_NOTIFY_MET_STAGE, "SM1");
    assert_non_null(strstr(p->undeliverable, "no email address"));
    /* An open clock ignores the list. */
    c.status = CC_STATUS_OPEN;
    assert_int_equal(plan(&c, at("2026-12-10", 9, 0)), 0);
}

static void test_team_channel_gets_the_managers_copy(void **state)
{
    (void)state;
    cc_planner_clock_t c = sgo_clock(CC_STATUS_OVERDUE);
    c.parties[CC_ROLE_TEAM_WEBHOOK].address = "east";
    assert_int_equal(plan(&c, at("2026-12-29", 9, 0)), 3);
    const cc_planned_t *p = find("+1wd", "team:T1");
    assert_int_equal(p->channel, CC_CHANNEL_WEBHOOK);
    assert_int_equal(p->role, CC_ROLE_TEAM_MANAGER);
    assert_string_equal(p->address, "east");
    assert_string_equal(p->undeliverable, "");
    /* A webhook the configuration does not define. */
    c.parties[CC_ROLE_TEAM_WEBHOOK].address = "west";
    plan(&c, at("2026-12-29", 9, 0));
    assert_non_null(strstr(find("+1wd", "team:T1")->undeliverable, "does not define"));
}

static void test_undeliverable_reasons(void **state)
{
    (void)state;
    cc_planner_clock_t c = sgo_clock(CC_STATUS_OVERDUE);
    c.parties[CC_ROLE_WORKER] = (cc_planner_party_t){NULL, NULL};
    c.parties[CC_ROLE_TEAM_MANAGER].address = NULL;
    c.parties[CC_ROLE_SERVICE_MANAGER].address = "sm1@council.example\r\nBcc: x@example.org";
    assert_int_equal(plan(&c, at("2027-01-05", 9, 0)), 3);
    const cc_planned_t *p = find("-1wd", CC_NOTIFY_NOBODY);
    assert_string_equal(p->undeliverable, "child C1 has no allocated worker");
    assert_string_equal(find("+1wd", "TM1")->undeliverable, "staff TM1 has no email address");
    assert_non_null(strstr(find("+5wd", "SM1")->undeliverable, "not valid"));
    /* No team: no managers. */
    c = sgo_clock(CC_STATUS_OVERDUE);
    c.team_id = NULL;
    c.parties[CC_ROLE_TEAM_MANAGER] = (cc_planner_party_t){NULL, NULL};
    plan(&c, at("2026-12-29", 9, 0));
    assert_string_equal(find("+1wd", CC_NOTIFY_NOBODY)->undeliverable, "child C1 has no team, so no team manager");
    /* No email transport at all. */
    char *url = g_config.smtp_url;
    g_config.smtp_url = NULL;
    c = sgo_clock(CC_STATUS_OPEN);
    plan(&c, at("2026-12-11", 9, 0));
    assert_non_null(strstr(find("-10wd", "W1")->undeliverable, "[smtp] url"));
    g_config.file_channel = strdup("/tmp/outbox");
    plan(&c, at("2026-12-11", 9, 0));
    assert_string_equal(find("-10wd", "W1")->undeliverable, "");
    free(g_config.file_channel);
    g_config.file_channel = NULL;
    g_config.smtp_url = url;
}

static void test_immediate_stages_and_kinds(void **state)
{
    (void)state;
    /* referral_decision: +0wd worker now, +0wd team_manager now, +1wd service_manager now. A referral on
     * Mon 14 Dec is due Tue 15 Dec. */
    cc_planner_clock_t c = sgo_clock(CC_STATUS_DUE_SOON);
    c.rule_id = "referral_decision";
    c.due = iso("2026-12-15");
    assert_int_equal(plan(&c, at("2026-12-15", 10, 0)), 2);
    assert_true(find("+0wd", "W1")->immediate);
    assert_int_equal(find("+0wd", "W1")->kind, CC_NOTICE_REMINDER);
    assert_true(find("+0wd", "TM1")->immediate);
    assert_int_equal(find("+0wd", "TM1")->kind, CC_NOTICE_ESCALATION); /* to a manager */
    cc_stage_t s = {.offset = {.n = -3, .unit = CC_UNIT_WORKING_DAYS}, .role = CC_ROLE_IRO};
    assert_int_equal(cc_planner_stage_kind(&s), CC_NOTICE_REMINDER);
    s.offset.n = 1;
    assert_int_equal(cc_planner_stage_kind(&s), CC_NOTICE_ESCALATION);
}

static void test_names_and_addresses(void **state)
{
    (void)state;
    assert_int_equal(cc_role_parse("service_manager"), CC_ROLE_SERVICE_MANAGER);
    assert_int_equal(cc_role_parse("nobody"), -1);
    assert_int_equal(cc_channel_parse("webhook"), CC_CHANNEL_WEBHOOK);
    assert_int_equal(cc_notice_kind_parse("met"), CC_NOTICE_MET);
    assert_true(cc_email_valid("a.b@council.example"));
    assert_false(cc_email_valid("a b@council.example"));
    assert_false(cc_email_valid("a@b@c"));
    assert_false(cc_email_valid("<a@b>"));
    assert_false(cc_email_valid("a@b\n"));
    assert_false(cc_email_valid("@b"));
    assert_false(cc_email_valid("zo\xc3\xab@council.example")); /* no SMTPUTF8: messages stay 7-bit */
    assert_false(cc_email_valid(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_stages_come_on_their_working_days),
        cmocka_unit_test(test_catching_up_plans_the_latest_stage_per_role),
        cmocka_unit_test(test_stages_on_one_day_are_planned_once),
        cmocka_unit_test(test_completion_stops_every_later_stage),
        cmocka_unit_test(test_nothing_after_the_child_left_care),
        cmocka_unit_test(test_now_met_goes_to_those_escalated),
        cmocka_unit_test(test_team_channel_gets_the_managers_copy),
        cmocka_unit_test(test_undeliverable_reasons),
        cmocka_unit_test(test_immediate_stages_and_kinds),
        cmocka_unit_test(test_names_and_addresses),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
