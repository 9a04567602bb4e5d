/* Unit tests for daemon/core/decision.c: who may take which decision about
 * a clock, on the default rules (config/rules/england.rules), and which
 * decision is in force. The sources the rules cite:
 *  - permanence plan: seeds/001 standard 8, "the IRO must inform the
 *    Service Manager and agree a timescale for the completion of this Plan";
 *  - assessment: Working Together 2023, 45 working days from the referral,
 *    the reasons recorded when it runs longer (the team manager agrees);
 *  - health assessment: a young person may decline it (Promoting the health
 *    and wellbeing of looked-after children, 2015);
 *  - review: CPPCR 2010 reg 33 sets its dates; nobody may extend them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "careclock/decision.h"
#include "careclock/engine.h"
#include "careclock/error.h"
#include "careclock/rulefiles.h"
#include "careclock/rules.h"

#include <stdio.h>
#include <string.h>

#define ENGLAND_RULES CC_SOURCE_DIR "/config/rules/england.rules"

static cc_ruleset_t *g_rules;

static int setup(void **state)
{
    (void)state;
    const char *files[] = {ENGLAND_RULES};
    char err[512];
    return cc_rulefiles_load(files, 1, &g_rules, err, sizeof(err));
}

static int teardown(void **state)
{
    (void)state;
    cc_ruleset_free(g_rules);
    return 0;
}

static cc_date_t iso(const char *text)
{
    cc_date_t d;
    assert_int_equal(cc_date_parse(text, &d), 0);
    return d;
}

static const cc_rule_t *rule(const char *id)
{
    const cc_rule_t *r = cc_ruleset_find(g_rules, id);
    assert_non_null(r);
    return r;
}

#define B(role) CC_ROLE_BIT(CC_ROLE_##role)

/* Check kind on rule id by someone holding held; returns the check's code
 * and leaves why and role. */
static int check(const char *id, cc_decision_kind_t kind, unsigned held, const char *date, const char *code,
                 int status, char *why, cc_role_t *role)
{
    cc_decision_t d = {.kind = kind, .by = "X1", .on = iso("2026-11-10"), .date = date ? iso(date) : CC_DATE_NONE,
                       .code = code, .reason = "agreed at supervision", .party = "SM1"};
    why[0] = '\0';
    return cc_decision_check(rule(id), &d, held, status, iso("2026-11-16"), iso("2026-11-10"), role, why, 300);
}

static void test_permanence_plan_extended_by_the_iro_or_the_service_manager_only(void **state)
{
    (void)state;
    char why[300];
    cc_role_t role = CC_ROLE_WORKER;
    assert_int_equal(cc_decision_roles(rule("permanence_plan"), CC_DECISION_EXTEND), B(IRO) | B(SERVICE_MANAGER));
    assert_int_equal(check("permanence_plan", CC_DECISION_EXTEND, B(IRO), "2027-01-15", NULL, CC_STATUS_OPEN, why,
                           &role), 0);
    assert_int_equal(role, CC_ROLE_IRO);
    assert_int_equal(check("permanence_plan", CC_DECISION_EXTEND, B(SERVICE_MANAGER), "2027-01-15", NULL,
                           CC_STATUS_OVERDUE, why, &role), 0);
    assert_int_equal(role, CC_ROLE_SERVICE_MANAGER);
    assert_int_equal(check("permanence_plan", CC_DECISION_EXTEND, B(WORKER) | B(TEAM_MANAGER), "2027-01-15", NULL,
                           CC_STATUS_OPEN, why, &role), CC_EINVAL);
    assert_non_null(strstr(why, "X1 is not the IRO or the child's service manager"));
}

static void test_assessment_extended_by_the_team_manager(void **state)
{
    (void)state;
    char why[300];
    cc_role_t role;
    assert_int_equal(check("assessment", CC_DECISION_EXTEND, B(TEAM_MANAGER), "2026-12-01", NULL, CC_STATUS_DUE_SOON,
                           why, &role), 0);
    assert_int_equal(role, CC_ROLE_TEAM_MANAGER);
    assert_int_equal(check("assessment", CC_DECISION_EXTEND, B(WORKER), "2026-12-01", NULL, CC_STATUS_DUE_SOON, why,
                           &role), CC_EINVAL);
}

static void test_nobody_extends_a_review(void **state)
{
    (void)state;
    char why[300];
    cc_role_t role;
    assert_int_equal(cc_decision_roles(rule("review"), CC_DECISION_EXTEND), 0);
    assert_int_equal(check("review", CC_DECISION_EXTEND, ~0u, "2027-01-15", NULL, CC_STATUS_OPEN, why, &role),
                     CC_EINVAL);
    assert_non_null(strstr(why, "nobody may agree an extension of the LAC review clock"));
}

static void test_agreed_date_after_the_due_date_and_not_passed(void **state)
{
    (void)state;
    char why[300];
    cc_role_t role;
    /* due 2026-11-16, today 2026-11-10 */
    assert_int_equal(check("assessment", CC_DECISION_EXTEND, B(TEAM_MANAGER), "2026-11-16", NULL, CC_STATUS_OPEN, why,
                           &role), CC_EINVAL);
    assert_non_null(strstr(why, "after the due date, 2026-11-16"));
    assert_int_equal(check("assessment", CC_DECISION_EXTEND, B(TEAM_MANAGER), "2026-11-17", NULL, CC_STATUS_OPEN, why,
                           &role), 0);
}

static void test_a_met_clock_takes_no_decision(void **state)
{
    (void)state;
    char why[300];
    cc_role_t role;
    assert_int_equal(check("assessment", CC_DECISION_EXTEND, B(TEAM_MANAGER), "2026-12-01", NULL, CC_STATUS_MET, why,
                           &role), CC_EINVAL);
    assert_non_null(strstr(why, "the clock is met"));
    assert_int_equal(check("health_assessment", CC_DECISION_EXCEPT, B(TEAM_MANAGER), NULL, "declined",
                           CC_STATUS_EXCEPTED, why, &role), CC_EINVAL);
}

static void test_health_assessment_excepted_for_a_listed_reason_only(void **state)
{
    (void)state;
    char why[300];
    cc_role_t role;
    assert_int_equal(check("health_assessment", CC_DECISION_EXCEPT, B(TEAM_MANAGER), NULL, "declined",
                           CC_STATUS_OPEN, why, &role), 0);
    assert_int_equal(check("health_assessment", CC_DECISION_EXCEPT, B(TEAM_MANAGER), NULL, "refused",
                           CC_STATUS_OPEN, why, &role), CC_EINVAL);
    assert_non_null(strstr(why, "\"refused\" is not a reason"));
    assert_non_null(strstr(why, "declined, not_required, recorded_elsewhere"));
    assert_int_equal(check("health_assessment", CC_DECISION_EXCEPT, B(WORKER) | B(IRO), NULL, "declined",
                           CC_STATUS_OPEN, why, &role), CC_EINVAL);
    /* a clock without except_reasons takes no exception */
    assert_int_equal(check("care_plan", CC_DECISION_EXCEPT, ~0u, NULL, "declined", CC_STATUS_OPEN, why, &role),
                     CC_EINVAL);
}

static void test_an_acknowledgement_by_a_recipient_for_at_most_92_days(void **state)
{
    (void)state;
    char why[300];
    cc_role_t role;
    assert_int_equal(check("assessment", CC_DECISION_ACK, B(TEAM_MANAGER), "2026-11-20", NULL, CC_STATUS_OVERDUE, why,
                           &role), 0);
    assert_int_equal(check("assessment", CC_DECISION_ACK, B(TEAM_MANAGER), "2027-02-11", NULL, CC_STATUS_OVERDUE, why,
                           &role), CC_EINVAL); /* 2026-11-10 + 93 */
    assert_non_null(strstr(why, "at most 92 days"));
    /* the IRO is sent nothing of an assessment */
    assert_int_equal(check("assessment", CC_DECISION_ACK, B(IRO), "2026-11-20", NULL, CC_STATUS_OVERDUE, why, &role),
                     CC_EINVAL);
}

static void test_a_decision_is_not_dated_after_today(void **state)
{
    (void)state;
    char why[300];
    cc_role_t role;
    cc_decision_t d = {.kind = CC_DECISION_INFORM, .by = "IRO1", .party = "SM1", .on = iso("2026-11-11")};
    assert_int_equal(cc_decision_check(rule("permanence_plan"), &d, B(IRO), CC_STATUS_OVERDUE, iso("2026-11-02"),
                                       iso("2026-11-10"), &role, why, sizeof(why)),
                     CC_EINVAL);
    d.on = iso("2026-11-10");
    assert_int_equal(cc_decision_check(rule("permanence_plan"), &d, B(IRO), CC_STATUS_OVERDUE, iso("2026-11-02"),
                                       iso("2026-11-10"), &role, why, sizeof(why)),
                     0);
    d.party = "IRO1";
    assert_int_equal(cc_decision_check(rule("permanence_plan"), &d, B(IRO), CC_STATUS_OVERDUE, iso("2026-11-02"),
                                       iso("2026-11-10"), &role, why, sizeof(why)),
                     CC_EINVAL);
}

static void test_the_latest_not_withdrawn_is_in_force(void **state)
{
    (void)state;
    cc_decision_t list[] = {
        {.id = 1, .kind = CC_DECISION_EXTEND, .rule_id = "assessment", .instance = "5.1", .date = iso("2026-12-01")},
        {.id = 2, .kind = CC_DECISION_EXTEND, .rule_id = "assessment", .instance = "5.1", .date = iso("2026-12-08")},
        {.id = 3, .kind = CC_DECISION_EXTEND, .rule_id = "assessment", .instance = "9.1", .date = iso("2026-12-15")},
        {.id = 4, .kind = CC_DECISION_WITHDRAW, .rule_id = "assessment", .instance = "5.1", .withdraws = 2},
    };
    const cc_decision_t *d = cc_decision_in_force(list, 4, "assessment", "5.1", CC_DECISION_EXTEND);
    assert_non_null(d);
    assert_int_equal(d->id, 1); /* 2 is withdrawn */
    assert_true(cc_decision_withdrawn(list, 4, 1));
    assert_false(cc_decision_withdrawn(list, 4, 0));
    assert_null(cc_decision_in_force(list, 4, "assessment", "5.1", CC_DECISION_EXCEPT));
    assert_int_equal(cc_decision_in_force(list, 4, "assessment", "9.1", CC_DECISION_EXTEND)->id, 3);
    assert_int_equal(cc_decision_kind_parse("withdraw"), CC_DECISION_WITHDRAW);
    assert_int_equal(cc_decision_kind_parse("postpone"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_permanence_plan_extended_by_the_iro_or_the_service_manager_only),
        cmocka_unit_test(test_assessment_extended_by_the_team_manager),
        cmocka_unit_test(test_nobody_extends_a_review),
        cmocka_unit_test(test_agreed_date_after_the_due_date_and_not_passed),
        cmocka_unit_test(test_a_met_clock_takes_no_decision),
        cmocka_unit_test(test_health_assessment_excepted_for_a_listed_reason_only),
        cmocka_unit_test(test_an_acknowledgement_by_a_recipient_for_at_most_92_days),
        cmocka_unit_test(test_a_decision_is_not_dated_after_today),
        cmocka_unit_test(test_the_latest_not_withdrawn_is_in_force),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
