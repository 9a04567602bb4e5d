/* Unit tests for daemon/core/rules.c: the default England rule set, the checker's
 * FILE:LINE errors on bad rule files (the committed fixtures in
 * tests/fixtures/rules/), and how a council's later file overrides an
 * earlier one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "careclock/buf.h"
#include "careclock/error.h"
#include "careclock/offset.h"
#include "careclock/rulefiles.h"
#include "careclock/rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ENGLAND_RULES CC_SOURCE_DIR "/config/rules/england.rules"
#define FIXTURES CC_SOURCE_DIR "/tests/fixtures/rules/"

static const char *const rule_ids[] = {
    "care_plan",      "review",      "permanence_plan",    "pep",        "review_minutes", "iro_report",
    "review_report_to_iro", "sgo_report", "report_to_managers", "referral_decision", "assessment", "icpc",
    "core_group",     "core_group_minutes", "cp_review",   "visit",      "health_assessment",
    /* issue 16: the regimes (short_break_visit and short_break_care_plan ship disabled) */
    "placement_plan", "visit_parent_before_assessment", "visit_connected_person", "visit_interim_order_home",
    "visit_care_order_home", "temporary_approval", "short_break_review",
    "adoption_review", "adoption_visit", "adoption_authority_review", "secure_authority", "secure_review",
    "needs_assessment", "pathway_plan", "pathway_plan_review",
    /* issue 16 item 9: local standards from the seeds */
    "progress_update", "cp_report_to_family", "chronology", "cin_review",
};
#define NRULE_IDS (sizeof(rule_ids) / sizeof(rule_ids[0]))

static const char *const builtin_types[] = {
    "looked_after_start", "looked_after_end", "placement_start", "care_plan_completed", "review_scheduled",
    "review_held", "review_report_sent", "review_minutes_sent", "iro_report_issued", "permanence_plan_agreed",
    "pep_completed", "health_assessment", "visit", "sgo_notice", "sgo_report_filed", "court_filing_scheduled",
    "report_to_managers", "referral", "referral_decision", "assessment_completed", "strategy_discussion",
    "icpc_held", "core_group_held", "core_group_minutes_sent", "cp_review_held", "cp_plan_end",
    "legal_status_change", "authority_to_place", "placement_plan_completed", "connected_person_approved",
    "approval_extended", "needs_assessment_completed", "pathway_plan_completed", "pathway_plan_reviewed",
    "secure_order_made", "secure_review_held",
};
#define NBUILTIN (sizeof(builtin_types) / sizeof(builtin_types[0]))

/* The types england.rules adds for its local standards ([events] add). */
static const char *const local_types[] = {"progress_update_completed", "conference_scheduled", "cp_report_shared",
                                          "chronology_updated", "case_closed", "cin_review_held", "cin_plan_end"};
#define NLOCAL_TYPES (sizeof(local_types) / sizeof(local_types[0]))

/* ---- helpers ---------------------------------------------------------- */

static cc_ruleset_t *load_files(const char *const *files, size_t n)
{
    cc_ruleset_t *rs = NULL;
    char err[512] = "";
    int rc = cc_rulefiles_load(files, n, &rs, err, sizeof err);
    if (rc != 0)
        print_error("cc_rulefiles_load: %d %s\n", rc, err);
    assert_int_equal(rc, 0);
    assert_non_null(rs);
    return rs;
}

static cc_ruleset_t *load_england(void)
{
    const char *files[] = {ENGLAND_RULES};
    return load_files(files, 1);
}

static void assert_offset(cc_offset_t off, int n, cc_unit_t unit)
{
    char buf[32];
    if (off.n != n || off.unit != unit)
        print_error("offset %s: expected n %d unit %d\n", cc_offset_format(off, buf, sizeof buf), n, (int)unit);
    assert_int_equal(off.n, n);
    assert_int_equal(off.unit, unit);
}

static const cc_rule_t *must_find(const cc_ruleset_t *rs, const char *id)
{
    const cc_rule_t *rule = cc_ruleset_find(rs, id);
    if (rule == NULL)
        print_error("no rule %s\n", id);
    assert_non_null(rule);
    return rule;
}

/* Write text to a fresh temporary file; path gets its name. */
static void write_temp(char *path, size_t len, const char *text)
{
    snprintf(path, len, "/tmp/careclock-test-rules-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    assert_int_equal(close(fd), 0);
}

/* Check files; the report must contain "PATH:LINE: " with a message that
 * contains word, on one line. Returns the number of errors. */
static int check(const char *const *files, size_t n, cc_buf_t *report)
{
    cc_buf_init(report);
    return cc_rulefiles_check(files, n, report);
}

static int report_has(const char *report, const char *path, int line, const char *word)
{
    char prefix[600];
    snprintf(prefix, sizeof prefix, "%s:%d: ", path, line);
    for (const char *p = report; (p = strstr(p, prefix)) != NULL; p++) {
        if (p != report && p[-1] != '\n')
            continue;
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        char one[1024];
        snprintf(one, sizeof one, "%.*s", (int)len, p);
        if (word == NULL || strstr(one, word) != NULL)
            return 1;
    }
    return 0;
}

static void assert_reports(const char *report, const char *path, int line, const char *word)
{
    if (!report_has(report, path, line, word))
        print_error("expected \"%s:%d: ...%s...\" in the report:\n%s\n", path, line, word ? word : "", report);
    assert_true(report_has(report, path, line, word));
}

/* A fixture must fail the check with the error at line (and word); the
 * loader must refuse it too, with the same first error. */
static void assert_fixture_error(const char *name, int line, const char *word)
{
    char path[512];
    snprintf(path, sizeof path, "%s%s", FIXTURES, name);
    const char *files[] = {ENGLAND_RULES, path};
    cc_buf_t report;
    int n = check(files, 2, &report);
    if (n < 1)
        print_error("%s: no error reported\n", name);
    assert_true(n >= 1);
    assert_reports(cc_buf_str(&report), path, line, word);
    /* Every line of the report is "FILE:LINE: message". */
    for (const char *p = cc_buf_str(&report); *p;) {
        const char *eol = strchr(p, '\n');
        assert_non_null(eol);
        int l = 0;
        char rest[8];
        assert_int_equal(strncmp(p, path, strlen(path)) == 0 || strncmp(p, ENGLAND_RULES, strlen(ENGLAND_RULES)) == 0,
                         1);
        const char *colon = p + (strncmp(p, path, strlen(path)) == 0 ? strlen(path) : strlen(ENGLAND_RULES));
        assert_int_equal(sscanf(colon, ":%d%1[:]", &l, rest), 2);
        assert_true(l > 0);
        p = eol + 1;
    }
    cc_buf_free(&report);

    cc_ruleset_t *rs = NULL;
    char err[512] = "";
    int rc = cc_rulefiles_load(files, 2, &rs, err, sizeof err);
    assert_int_equal(rc, CC_EPARSE);
    assert_null(rs);
    char prefix[600];
    snprintf(prefix, sizeof prefix, "%s:", path);
    if (strncmp(err, prefix, strlen(prefix)) != 0)
        print_error("load error \"%s\" should name %s\n", err, path);
    assert_int_equal(strncmp(err, prefix, strlen(prefix)), 0);
}

/* ---- the default file ------------------------------------------------- */

static void test_default_file_loads_and_checks_clean(void **state)
{
    (void)state;
    cc_ruleset_t *rs = load_england();
    cc_ruleset_free(rs);
    const char *files[] = {ENGLAND_RULES};
    cc_buf_t report;
    int n = check(files, 1, &report);
    if (n != 0)
        print_error("%s", cc_buf_str(&report));
    assert_int_equal(n, 0);
    assert_string_equal(cc_buf_str(&report), "");
    cc_buf_free(&report);
}

static void test_default_has_exactly_the_default_rule_ids(void **state)
{
    (void)state;
    cc_ruleset_t *rs = load_england();
    assert_int_equal(cc_ruleset_count(rs), NRULE_IDS);
    for (size_t i = 0; i < NRULE_IDS; i++) {
        const cc_rule_t *rule = must_find(rs, rule_ids[i]);
        assert_non_null(rule->title);
        assert_non_null(rule->source);
        assert_true(strlen(rule->title) > 0);
        assert_true(strlen(rule->source) > 0);
        assert_true(rule->enabled);
        assert_true(rule->nmet_by >= 1);
        assert_true(rule->nstages >= 1);
        assert_non_null(strstr(rule->file, "england.rules"));
        assert_true(rule->line > 0);
        assert_int_equal(cc_ruleset_index(rs, rule) < NRULE_IDS, 1);
        assert_ptr_equal(cc_ruleset_rule(rs, cc_ruleset_index(rs, rule)), rule);
    }
    /* ... and every rule in the set is one of them. */
    for (size_t i = 0; i < cc_ruleset_count(rs); i++) {
        const char *id = cc_ruleset_rule(rs, i)->id;
        int known = 0;
        for (size_t j = 0; j < NRULE_IDS; j++)
            known |= strcmp(id, rule_ids[j]) == 0;
        if (!known)
            print_error("unexpected rule %s\n", id);
        assert_true(known);
    }
    assert_null(cc_ruleset_rule(rs, NRULE_IDS));
    assert_null(cc_ruleset_find(rs, "nosuch"));
    cc_ruleset_free(rs);
}

static void test_default_event_vocabulary(void **state)
{
    (void)state;
    cc_ruleset_t *rs = load_england();
    assert_int_equal(cc_ruleset_type_count(rs), NBUILTIN + NLOCAL_TYPES);
    for (size_t i = 0; i < NBUILTIN; i++) {
        int t = cc_ruleset_type_index(rs, builtin_types[i]);
        assert_int_equal(t, (int)i);
        assert_string_equal(cc_ruleset_type_name(rs, (size_t)t), builtin_types[i]);
    }
    for (size_t i = 0; i < NLOCAL_TYPES; i++)
        assert_int_equal(cc_ruleset_type_index(rs, local_types[i]), (int)(NBUILTIN + i));
    assert_int_equal(cc_ruleset_type_index(rs, "placement_start"), CC_TYPE_PLACEMENT_START);
    assert_int_equal(cc_ruleset_type_index(rs, "looked_after_start"), CC_TYPE_LOOKED_AFTER_START);
    assert_int_equal(cc_ruleset_type_index(rs, "looked_after_end"), CC_TYPE_LOOKED_AFTER_END);
    assert_int_equal(cc_ruleset_type_index(rs, "tea_party"), -1);
    assert_null(cc_ruleset_type_name(rs, NBUILTIN + NLOCAL_TYPES));
    assert_int_equal(cc_ruleset_type_future_ok(rs, cc_ruleset_type_index(rs, "review_scheduled")), 1);
    assert_int_equal(cc_ruleset_type_future_ok(rs, cc_ruleset_type_index(rs, "court_filing_scheduled")), 1);
    assert_int_equal(cc_ruleset_type_future_ok(rs, cc_ruleset_type_index(rs, "review_held")), 0);
    assert_int_equal(cc_ruleset_type_future_ok(rs, -1), 0);
    cc_ruleset_free(rs);
}

static void test_default_rule_contents(void **state)
{
    (void)state;
    cc_ruleset_t *rs = load_england();
    int t_placement = cc_ruleset_type_index(rs, "placement_start");

    const cc_rule_t *r = must_find(rs, "care_plan");
    assert_int_equal(r->start_type, t_placement);
    assert_int_equal(r->per, CC_PER_EPISODE);
    assert_offset(r->due, 10, CC_UNIT_WORKING_DAYS);
    /* CPPCR reg 4(2): prepared before the placement; up to 3 months before. */
    assert_int_equal(r->accept_early, CC_EARLY_WINDOW);
    assert_offset(r->early_window, 3, CC_UNIT_MONTHS);
    assert_true(r->in_care_only);
    assert_int_equal(r->cancel_type, CC_TYPE_LOOKED_AFTER_END);
    assert_int_equal(r->warn_wd, 5);
    assert_int_equal(r->nmet_by, 1);
    assert_int_equal(r->met_by[0], cc_ruleset_type_index(rs, "care_plan_completed"));
    assert_int_equal(r->anchor_rule, -1);
    assert_int_equal(r->nstages, 5);
    assert_offset(r->stages[0].offset, -5, CC_UNIT_WORKING_DAYS);
    assert_int_equal(r->stages[4].role, CC_ROLE_SERVICE_MANAGER);

    const cc_rule_t *review = must_find(rs, "review");
    assert_int_equal(review->start_type, CC_TYPE_LOOKED_AFTER_START);
    assert_offset(review->due, 20, CC_UNIT_WORKING_DAYS);
    assert_int_equal(review->nthen, 2);
    assert_offset(review->then[0], 3, CC_UNIT_MONTHS);
    assert_offset(review->then[1], 6, CC_UNIT_MONTHS);
    assert_int_equal(review->warn_wd, 10);

    /* Anchors come before the rules anchored on them. */
    const cc_rule_t *pp = must_find(rs, "permanence_plan");
    assert_int_equal(pp->anchor_rule, (int)cc_ruleset_index(rs, review));
    assert_int_equal(pp->anchor_seq, 2);
    assert_true(cc_ruleset_index(rs, review) < cc_ruleset_index(rs, pp));
    /* Statutory guidance 2015: the initial health assessment within 20
     * working days of care starting (no longer the first review's date);
     * CPPCR reg 7(2): one in the 3 months before counts. */
    const cc_rule_t *ha = must_find(rs, "health_assessment");
    assert_int_equal(ha->anchor_rule, -1);
    assert_offset(ha->due, 20, CC_UNIT_WORKING_DAYS);
    assert_int_equal(ha->accept_early, CC_EARLY_WINDOW);
    assert_offset(ha->early_window, 3, CC_UNIT_MONTHS);
    assert_int_equal(ha->nthen, 1);
    assert_offset(ha->then[0], 6, CC_UNIT_MONTHS);
    assert_int_equal(ha->nthen_if, 1);
    assert_int_equal(ha->then_if[0].nwhen, 1);
    assert_int_equal(ha->then_if[0].when[0].kind, CC_COND_AGE_GE);
    assert_int_equal(ha->then_if[0].when[0].age, 5);
    assert_offset(ha->then_if[0].offset, 12, CC_UNIT_MONTHS);

    /* Statutory guidance on the education of looked-after children (2018):
     * early years to 18. */
    const cc_rule_t *pep = must_find(rs, "pep");
    /* ... and not for short breaks (CPPCR reg 48(3)(a)) or a child placed
     * for adoption (reg 3): issue 16. */
    assert_int_equal(pep->napplies, 4);
    assert_int_equal(pep->applies[2].kind, CC_COND_ATTR_NE);
    assert_string_equal(pep->applies[2].value, "V3|V4");
    assert_true(pep->applies[2].state);
    assert_int_equal(pep->applies[0].kind, CC_COND_AGE_GE);
    assert_int_equal(pep->applies[0].age, 3);
    assert_int_equal(pep->applies[1].kind, CC_COND_AGE_LT);
    assert_int_equal(pep->applies[1].age, 18);
    assert_offset(pep->due, 0, CC_UNIT_DAYS);
    assert_int_equal(pep->ndue_if, 1);
    assert_int_equal(pep->due_if[0].nwhen, 1);
    assert_int_equal(pep->due_if[0].when[0].kind, CC_COND_ATTR);
    assert_string_equal(pep->due_if[0].when[0].key, "emergency");
    assert_string_equal(pep->due_if[0].when[0].value, "yes");
    assert_offset(pep->due_if[0].offset, 10, CC_UNIT_WORKING_DAYS);

    /* seeds/003 s1.1: no permanence plan clock from 15. */
    const cc_rule_t *perm = must_find(rs, "permanence_plan");
    assert_int_equal(perm->napplies, 3); /* and neither short breaks nor placed for adoption (issue 16) */
    assert_int_equal(perm->applies[0].kind, CC_COND_AGE_LT);
    assert_int_equal(perm->applies[0].age, 15);

    /* CPPCR reg 28(2): 3 months only after the placement's first year. */
    const cc_rule_t *visit = must_find(rs, "visit");
    /* a new placement ends the old schedule (issue 16: per placement) */
    assert_int_equal(visit->per, CC_PER_PLACEMENT);
    assert_offset(visit->due, 1, CC_UNIT_WEEKS);
    assert_offset(visit->then[0], 6, CC_UNIT_WEEKS);
    assert_int_equal(visit->then_if[0].nwhen, 2);
    assert_int_equal(visit->then_if[0].when[0].kind, CC_COND_ATTR);
    assert_string_equal(visit->then_if[0].when[0].key, "long_term");
    assert_int_equal(visit->then_if[0].when[1].kind, CC_COND_SINCE_GE);
    assert_offset(visit->then_if[0].when[1].since, 12, CC_UNIT_MONTHS);
    assert_offset(visit->then_if[0].offset, 3, CC_UNIT_MONTHS);
    assert_false(visit->restart_cancels); /* per placement does it, for every placement */

    /* Working Together 2023: the ICPC from the s47 strategy discussion,
     * one at a time; core groups and reviews only for a plan, until it
     * ends; an NFA decision ends its referral's assessment clock. */
    int t_end = cc_ruleset_type_index(rs, "cp_plan_end");
    const cc_rule_t *icpc = must_find(rs, "icpc");
    assert_int_equal(icpc->napplies, 1);
    assert_int_equal(icpc->applies[0].kind, CC_COND_ATTR);
    assert_string_equal(icpc->applies[0].key, "s47");
    assert_true(icpc->one_open);
    const char *plan_rules[] = {"core_group", "cp_review"};
    for (int i = 0; i < 2; i++) {
        const cc_rule_t *pr = must_find(rs, plan_rules[i]);
        assert_int_equal(pr->applies[0].kind, CC_COND_ATTR_NE);
        assert_string_equal(pr->applies[0].value, "no_plan");
        assert_int_equal(pr->cancel_type, t_end);
        assert_string_equal(pr->cancel_reason, "ended with the plan");
    }
    assert_int_equal(must_find(rs, "core_group_minutes")->cancel_type, t_end);
    const cc_rule_t *as = must_find(rs, "assessment");
    assert_int_equal(as->cancel_type, cc_ruleset_type_index(rs, "referral_decision"));
    assert_int_equal(as->ncancel_when, 1);
    assert_string_equal(as->cancel_when[0].value, "nfa");
    assert_true(as->cancel_latest);

    assert_offset(must_find(rs, "review_report_to_iro")->due, -3, CC_UNIT_WORKING_DAYS);
    assert_offset(must_find(rs, "report_to_managers")->due, -5, CC_UNIT_WORKING_DAYS);
    assert_offset(must_find(rs, "sgo_report")->due, 12, CC_UNIT_WEEKS);
    assert_offset(must_find(rs, "referral_decision")->due, 1, CC_UNIT_WORKING_DAYS);
    assert_offset(must_find(rs, "assessment")->due, 45, CC_UNIT_WORKING_DAYS);
    assert_offset(must_find(rs, "icpc")->due, 15, CC_UNIT_WORKING_DAYS);
    assert_offset(must_find(rs, "core_group")->due, 10, CC_UNIT_WORKING_DAYS);
    assert_offset(must_find(rs, "core_group_minutes")->due, 7, CC_UNIT_WORKING_DAYS);
    assert_offset(must_find(rs, "review_minutes")->due, 5, CC_UNIT_WORKING_DAYS);
    assert_offset(must_find(rs, "iro_report")->due, 20, CC_UNIT_WORKING_DAYS);
    const cc_rule_t *cp = must_find(rs, "cp_review");
    assert_offset(cp->due, 3, CC_UNIT_MONTHS);
    assert_int_equal(cp->nthen, 1);
    assert_offset(cp->then[0], 6, CC_UNIT_MONTHS);
    assert_true(cp->restart_cancels);
    /* The referral decision escalates at once. */
    const cc_rule_t *rd = must_find(rs, "referral_decision");
    assert_true(rd->stages[0].immediate);
    cc_ruleset_free(rs);
}

/* ---- errors name FILE:LINE -------------------------------------------- */

static void test_error_unknown_key(void **state)
{
    (void)state;
    assert_fixture_error("unknown_key.rules", 8, "colour");
}

static void test_error_bad_offset(void **state)
{
    (void)state;
    assert_fixture_error("bad_offset.rules", 6, "+10x");
    assert_fixture_error("bad_then.rules", 7, "-2w");
}

static void test_error_unknown_event_type_in_met_by(void **state)
{
    (void)state;
    assert_fixture_error("unknown_type_met_by.rules", 7, "decision_recorded");
}

/* Found by tests/fuzz/fuzz_rules.c: "met_by =" with nothing after it was
 * accepted, a clock that could never be met. */
static void test_error_empty_met_by(void **state)
{
    (void)state;
    assert_fixture_error("empty_met_by.rules", 7, "met_by: at least one event type");
}

/* Ages out of range are refused; "age=0-2147483647" overflowed b + 1
 * (found in review while writing the fuzz target). */
static void test_error_ages_out_of_range(void **state)
{
    (void)state;
    assert_fixture_error("bad_age.rules", 7, "age>=1000");
    assert_fixture_error("bad_age.rules", 8, "age<-1");
    assert_fixture_error("bad_age.rules", 9, "age=0-2147483647");
}

static void test_error_unknown_event_type_in_starts_on(void **state)
{
    (void)state;
    assert_fixture_error("unknown_type_starts_on.rules", 5, "referal");
}

static void test_error_missing_required_key(void **state)
{
    (void)state;
    /* The rule's section is lines 2 to 6; the error must point into it and
     * name the missing key. */
    char path[512];
    snprintf(path, sizeof path, "%s%s", FIXTURES, "missing_key.rules");
    const char *files[] = {path};
    cc_buf_t report;
    assert_int_equal(check(files, 1, &report), 1);
    const char *text = cc_buf_str(&report);
    int found = 0;
    for (int line = 2; line <= 6; line++)
        found |= report_has(text, path, line, "met_by");
    if (!found)
        print_error("expected %s:2..6: ... met_by in:\n%s\n", path, text);
    assert_true(found);
    assert_non_null(strstr(text, "sample"));
    cc_buf_free(&report);
    /* A council file that misspells a rule id defines a new, incomplete rule. */
    char council[64];
    write_temp(council, sizeof council, "[carre_plan]\ndue = +5wd\n");
    const char *both[] = {ENGLAND_RULES, council};
    assert_true(check(both, 2, &report) >= 1);
    assert_reports(cc_buf_str(&report), council, 2, "carre_plan");
    cc_buf_free(&report);
    unlink(council);
}

static void test_error_anchor_undefined(void **state)
{
    (void)state;
    assert_fixture_error("anchor_undefined.rules", 6, "nosuch");
}

static void test_error_anchor_cycle(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s%s", FIXTURES, "anchor_cycle.rules");
    const char *files[] = {path};
    cc_buf_t report;
    assert_true(check(files, 1, &report) >= 1);
    const char *text = cc_buf_str(&report);
    int found = 0;
    for (int line = 2; line <= 14; line++)
        found |= report_has(text, path, line, "cycle");
    if (!found)
        print_error("expected %s:LINE: ... cycle in:\n%s\n", path, text);
    assert_true(found);
    cc_buf_free(&report);
}

static void test_error_bad_stage(void **state)
{
    (void)state;
    assert_fixture_error("bad_stage.rules", 8, "boss");
    assert_fixture_error("bad_stage.rules", 16, "-5d");
}

static void test_error_bad_condition(void **state)
{
    (void)state;
    assert_fixture_error("bad_condition.rules", 8, "age>>5");
    assert_fixture_error("bad_condition.rules", 16, "emergency");
}

static void test_error_not_an_ini_line(void **state)
{
    (void)state;
    assert_fixture_error("not_ini.rules", 5, NULL);
}

static void test_error_bad_values(void **state)
{
    (void)state;
    assert_fixture_error("bad_values.rules", 6, "fortnight");
    assert_fixture_error("bad_values.rules", 7, "maybe");
    assert_fixture_error("bad_values.rules", 8, "5d");
    assert_fixture_error("bad_values.rules", 9, "sometimes");
    assert_fixture_error("bad_values.rules", 11, "+1wd, +2wd");
}

static void test_error_bad_events_section(void **state)
{
    (void)state;
    assert_fixture_error("bad_events.rules", 3, "Bad-Type");
    assert_fixture_error("bad_events.rules", 4, "colour");
}

static void test_check_reports_every_error(void **state)
{
    (void)state;
    /* A line that is not INI (line 3) and an unknown [events] key (line 5)
     * in one file: cc_rulefiles_check reports every error. */
    assert_fixture_error("several_errors.rules", 5, "colour");
    assert_fixture_error("several_errors.rules", 3, NULL);
}

static void test_error_unreadable_file(void **state)
{
    (void)state;
    const char *files[] = {FIXTURES "no-such-file.rules"};
    cc_ruleset_t *rs = NULL;
    char err[512] = "";
    assert_int_equal(cc_rulefiles_load(files, 1, &rs, err, sizeof err), CC_EIO);
    assert_null(rs);
    assert_non_null(strstr(err, "no-such-file.rules"));
    cc_buf_t report;
    assert_int_equal(check(files, 1, &report), 1);
    assert_non_null(strstr(cc_buf_str(&report), "no-such-file.rules"));
    cc_buf_free(&report);
}

/* Offsets that no clock can mean are refused (issue 15: "rules check accepts
 * due = +9999m"). The bounds, per unit, are five years: 60m, 260w, 1830d,
 * 1300wd (docs/rules.md, "Offsets"); the bounds themselves load. */
static void test_error_offsets_that_cannot_be_meant(void **state)
{
    (void)state;
    assert_fixture_error("huge_offsets.rules", 3, "+9999m");
    assert_fixture_error("huge_offsets.rules", 5, "+6000w");
    assert_fixture_error("huge_offsets.rules", 7, "+9999d");
    assert_fixture_error("huge_offsets.rules", 9, "-2000wd");
    assert_fixture_error("huge_offsets.rules", 11, "100m");
    char council[64];
    write_temp(council, sizeof council,
               "[care_plan]\ndue = +60m\n[review]\nthen = +260w, +1830d\n[visit]\ndue = +1300wd\n");
    const char *files[] = {ENGLAND_RULES, council};
    cc_ruleset_t *rs = load_files(files, 2);
    assert_offset(must_find(rs, "care_plan")->due, 60, CC_UNIT_MONTHS);
    cc_ruleset_free(rs);
    unlink(council);
    write_temp(council, sizeof council, "[care_plan]\ndue = +61m\n");
    cc_buf_t report;
    assert_int_equal(check(files, 2, &report), 1);
    assert_reports(cc_buf_str(&report), council, 2, "at most 60m");
    cc_buf_free(&report);
    unlink(council);
}

/* The rule language of issue 15 (docs/rules.md): accept_early as a window,
 * key!=value and since>= conditions, several conditions in then_if,
 * one_open, conditions on cancel_on, cancels = latest, cancel_reason; and
 * what each refuses, at its own line. */
static void test_new_keys_and_conditions(void **state)
{
    (void)state;
    char council[64];
    write_temp(council, sizeof council,
               "[care_plan]\naccept_early = 10wd\n"
               "[visit]\nthen_if = long_term=yes since>=52w age<16 +3m\n"
               "[review_minutes]\none_open = yes\ncancel_on = looked_after_end rec!=X1 age>=4\ncancels = latest\n"
               "cancel_reason = not needed\napplies = place!=K1\n");
    const char *files[] = {ENGLAND_RULES, council};
    cc_ruleset_t *rs = load_files(files, 2);
    unlink(council);
    const cc_rule_t *cp = must_find(rs, "care_plan");
    assert_int_equal(cp->accept_early, CC_EARLY_WINDOW);
    assert_offset(cp->early_window, 10, CC_UNIT_WORKING_DAYS);
    const cc_rule_t *v = must_find(rs, "visit");
    assert_int_equal(v->nthen_if, 1);
    assert_int_equal(v->then_if[0].nwhen, 3);
    assert_int_equal(v->then_if[0].when[1].kind, CC_COND_SINCE_GE);
    assert_offset(v->then_if[0].when[1].since, 52, CC_UNIT_WEEKS);
    assert_int_equal(v->then_if[0].when[2].kind, CC_COND_AGE_LT);
    const cc_rule_t *m = must_find(rs, "review_minutes");
    assert_true(m->one_open);
    assert_int_equal(m->cancel_type, CC_TYPE_LOOKED_AFTER_END);
    assert_int_equal(m->ncancel_when, 2);
    assert_int_equal(m->cancel_when[0].kind, CC_COND_ATTR_NE);
    assert_string_equal(m->cancel_when[0].key, "rec");
    assert_string_equal(m->cancel_when[0].value, "X1");
    assert_int_equal(m->cancel_when[1].kind, CC_COND_AGE_GE);
    assert_true(m->cancel_latest);
    assert_string_equal(m->cancel_reason, "not needed");
    assert_int_equal(m->applies[0].kind, CC_COND_ATTR_NE);
    /* "yes" keeps its meaning: within the episode of care. */
    assert_int_equal(must_find(rs, "permanence_plan")->accept_early, CC_EARLY_EPISODE);
    cc_ruleset_free(rs);

    write_temp(council, sizeof council,
               "[care_plan]\naccept_early = -3m\n"                 /* 2 */
               "[review]\ncancels = some\n"                         /* 4 */
               "[visit]\ncancel_on = looked_after_end outcome\n"    /* 6 */
               "[pep]\napplies = since>=12m\n"                      /* 8 */
               "[sgo_report]\ndue_if = since>=1m +1wd\n"            /* 10 */
               "[icpc]\none_open = sometimes\n"                     /* 12 */
               "[iro_report]\nthen_if = long_term=yes since>=99m +3m\n" /* 14 */
               "[core_group]\ncancel_on = cp_plan_ending\n");      /* 16 */
    cc_buf_t report;
    assert_int_equal(check(files, 2, &report), 8);
    const char *text = cc_buf_str(&report);
    assert_reports(text, council, 2, "-3m");
    assert_reports(text, council, 4, "some");
    assert_reports(text, council, 6, "outcome");
    assert_reports(text, council, 8, "since>=12m");
    assert_reports(text, council, 10, "since>=1m");
    assert_reports(text, council, 12, "sometimes");
    assert_reports(text, council, 14, "at most");
    assert_reports(text, council, 16, "cp_plan_ending");
    cc_buf_free(&report);
    unlink(council);
}

/* ---- overrides -------------------------------------------------------- */

static void test_override_one_key_keeps_the_rest(void **state)
{
    (void)state;
    char council[64];
    write_temp(council, sizeof council, "; council\n[care_plan]\ndue = +5wd\n");
    const char *files[] = {ENGLAND_RULES, council};
    cc_ruleset_t *rs = load_files(files, 2);
    cc_ruleset_t *def = load_england();
    unlink(council);
    assert_int_equal(cc_ruleset_count(rs), NRULE_IDS);
    const cc_rule_t *r = must_find(rs, "care_plan"), *d = must_find(def, "care_plan");
    assert_offset(r->due, 5, CC_UNIT_WORKING_DAYS);
    assert_string_equal(r->title, d->title);
    assert_string_equal(r->source, d->source);
    assert_int_equal(r->start_type, d->start_type);
    assert_int_equal(r->per, d->per);
    assert_int_equal(r->accept_early, d->accept_early);
    assert_int_equal(r->in_care_only, d->in_care_only);
    assert_int_equal(r->cancel_type, d->cancel_type);
    assert_int_equal(r->nmet_by, d->nmet_by);
    assert_int_equal(r->met_by[0], d->met_by[0]);
    assert_int_equal(r->nstages, d->nstages);
    assert_int_equal(r->warn_wd, d->warn_wd);
    /* The rule was last defined in the council's file. */
    assert_string_equal(r->file, council);
    /* Every other rule is as the default. */
    for (size_t i = 0; i < NRULE_IDS; i++) {
        if (strcmp(rule_ids[i], "care_plan") == 0)
            continue;
        const cc_rule_t *x = must_find(rs, rule_ids[i]), *y = must_find(def, rule_ids[i]);
        assert_int_equal(x->due.n, y->due.n);
        assert_int_equal(x->due.unit, y->due.unit);
        assert_int_equal(x->nthen, y->nthen);
        assert_string_equal(x->source, y->source);
        assert_int_equal(cc_ruleset_index(rs, x), cc_ruleset_index(def, y));
    }
    cc_ruleset_free(rs);
    cc_ruleset_free(def);
}

static void test_override_list_keys_are_replaced_not_merged(void **state)
{
    (void)state;
    const char *base_only[] = {FIXTURES "council_base.rules"};
    cc_ruleset_t *rs = load_files(base_only, 1);
    /* Within one file, due_if lines accumulate. */
    const cc_rule_t *s = must_find(rs, "sample");
    assert_int_equal(s->ndue_if, 2);
    assert_string_equal(s->due_if[1].when[0].key, "long_term");
    assert_int_equal(s->nstages, 2);
    assert_int_equal(must_find(rs, "chain")->nthen, 2);
    assert_int_equal(cc_ruleset_count(rs), 2);
    cc_ruleset_free(rs);

    const char *both[] = {FIXTURES "council_base.rules", FIXTURES "council.rules"};
    rs = load_files(both, 2);
    s = must_find(rs, "sample");
    /* A later file naming due_if replaces both earlier lines. */
    assert_int_equal(s->ndue_if, 1);
    assert_string_equal(s->due_if[0].when[0].key, "emergency");
    assert_offset(s->due_if[0].offset, 5, CC_UNIT_WORKING_DAYS);
    assert_int_equal(s->warn_wd, 2);
    /* Keys it does not name stay. */
    assert_int_equal(s->nstages, 2);
    assert_offset(s->due, 0, CC_UNIT_DAYS);
    assert_int_equal(s->per, CC_PER_EPISODE);
    assert_string_equal(s->source, "base file");
    const cc_rule_t *c = must_find(rs, "chain");
    assert_int_equal(c->nthen, 1);
    assert_offset(c->then[0], 2, CC_UNIT_MONTHS);
    /* The new rule, on a type the base file added. */
    const cc_rule_t *f = must_find(rs, "fgc");
    assert_int_equal(f->start_type, cc_ruleset_type_index(rs, "family_group_conference"));
    assert_string_equal(f->file, FIXTURES "council.rules");
    assert_int_equal(cc_ruleset_count(rs), 3);
    cc_ruleset_free(rs);
}

static void test_override_replaces_stages_and_due_if_of_default(void **state)
{
    (void)state;
    char council[64];
    write_temp(council, sizeof council,
               "[pep]\ndue_if = emergency=yes +15wd\nstages = +1wd team_manager now\n"
               "[review]\nthen = +2m, +4m, +6m\n");
    const char *files[] = {ENGLAND_RULES, council};
    cc_ruleset_t *rs = load_files(files, 2);
    unlink(council);
    const cc_rule_t *pep = must_find(rs, "pep");
    assert_int_equal(pep->ndue_if, 1);
    assert_offset(pep->due_if[0].offset, 15, CC_UNIT_WORKING_DAYS);
    assert_int_equal(pep->nstages, 1);
    assert_int_equal(pep->stages[0].role, CC_ROLE_TEAM_MANAGER);
    assert_true(pep->stages[0].immediate);
    assert_int_equal(pep->napplies, 4);
    const cc_rule_t *review = must_find(rs, "review");
    assert_int_equal(review->nthen, 3);
    assert_offset(review->then[2], 6, CC_UNIT_MONTHS);
    assert_offset(review->due, 20, CC_UNIT_WORKING_DAYS);
    cc_ruleset_free(rs);
}

static void test_override_disables_and_reenables_a_rule(void **state)
{
    (void)state;
    char off[64], on[64];
    write_temp(off, sizeof off, "[pep]\nenabled = no\n");
    write_temp(on, sizeof on, "[pep]\nenabled = yes\n");
    const char *two[] = {ENGLAND_RULES, off};
    cc_ruleset_t *rs = load_files(two, 2);
    assert_null(cc_ruleset_find(rs, "pep"));
    assert_int_equal(cc_ruleset_count(rs), NRULE_IDS - 1);
    for (size_t i = 0; i < cc_ruleset_count(rs); i++)
        assert_string_not_equal(cc_ruleset_rule(rs, i)->id, "pep");
    /* Anchors still resolve to the right rule after the gap. */
    const cc_rule_t *pp = must_find(rs, "permanence_plan");
    assert_string_equal(cc_ruleset_rule(rs, (size_t)pp->anchor_rule)->id, "review");
    cc_ruleset_free(rs);
    const char *three[] = {ENGLAND_RULES, off, on};
    rs = load_files(three, 3);
    assert_non_null(cc_ruleset_find(rs, "pep"));
    assert_int_equal(cc_ruleset_count(rs), NRULE_IDS);
    cc_ruleset_free(rs);
    unlink(off);
    unlink(on);
}

/* The line of path that is exactly text, or 0. */
static int line_of(const char *path, const char *text)
{
    FILE *f = fopen(path, "r");
    char buf[512];
    int line = 0, found = 0;
    assert_non_null(f);
    while (!found && fgets(buf, sizeof buf, f) != NULL) {
        line++;
        buf[strcspn(buf, "\r\n")] = '\0';
        found = strcmp(buf, text) == 0;
    }
    fclose(f);
    return found ? line : 0;
}

static void test_override_disabling_an_anchor_is_an_error(void **state)
{
    (void)state;
    /* permanence_plan ("due = review#2") is due on a review instance:
     * disabling review leaves it anchored on nothing. (The health
     * assessment no longer is: 20 working days from care starting, issue
     * 15.) */
    char council[64];
    write_temp(council, sizeof council, "[review]\nenabled = no\n");
    const char *files[] = {ENGLAND_RULES, council};
    cc_buf_t report;
    assert_int_equal(check(files, 2, &report), 1);
    int line = line_of(ENGLAND_RULES, "due = review#2");
    assert_true(line > 0);
    assert_reports(cc_buf_str(&report), ENGLAND_RULES, line, "review");
    cc_buf_free(&report);
    unlink(council);
}

static void test_override_adds_rule_and_event_types(void **state)
{
    (void)state;
    char council[64];
    write_temp(council, sizeof council,
               "[events]\n"
               "add = family_group_conference, fgc_plan_agreed\n"
               "future = family_group_conference_booked\n"
               "\n"
               "[fgc_plan]\n"
               "title = Family group conference plan\n"
               "source = council procedure 4.2\n"
               "starts_on = family_group_conference\n"
               "due = +10wd\n"
               "met_by = fgc_plan_agreed, care_plan_completed\n");
    const char *files[] = {ENGLAND_RULES, council};
    cc_ruleset_t *rs = load_files(files, 2);
    unlink(council);
    assert_int_equal(cc_ruleset_type_count(rs), NBUILTIN + NLOCAL_TYPES + 3);
    /* Built-in types keep their indexes. */
    for (size_t i = 0; i < NBUILTIN; i++)
        assert_string_equal(cc_ruleset_type_name(rs, i), builtin_types[i]);
    int fgc = cc_ruleset_type_index(rs, "family_group_conference");
    assert_true(fgc >= (int)NBUILTIN);
    assert_int_equal(cc_ruleset_type_future_ok(rs, fgc), 0);
    assert_int_equal(cc_ruleset_type_future_ok(rs, cc_ruleset_type_index(rs, "family_group_conference_booked")), 1);
    assert_int_equal(cc_ruleset_count(rs), NRULE_IDS + 1);
    const cc_rule_t *r = must_find(rs, "fgc_plan");
    assert_int_equal(r->start_type, fgc);
    assert_int_equal(r->nmet_by, 2);
    assert_int_equal(r->met_by[0], cc_ruleset_type_index(rs, "fgc_plan_agreed"));
    assert_int_equal(r->met_by[1], cc_ruleset_type_index(rs, "care_plan_completed"));
    assert_int_equal(r->warn_wd, 5); /* the default */
    assert_int_equal(r->per, CC_PER_EVENT);
    assert_int_equal(r->anchor_rule, -1);
    cc_ruleset_free(rs);
}

static void test_override_error_names_the_council_file(void **state)
{
    (void)state;
    char council[64];
    write_temp(council, sizeof council, "; council\n\n[care_plan]\ndue = soon\n");
    const char *files[] = {ENGLAND_RULES, council};
    cc_buf_t report;
    assert_int_equal(check(files, 2, &report), 1);
    assert_reports(cc_buf_str(&report), council, 4, "soon");
    cc_buf_free(&report);
    unlink(council);
}

static void test_long_lines(void **state)
{
    (void)state;
    /* Lines of up to 198 characters load whole. */
    char text[1024], value[400], council[64];
    memset(value, 'x', 189);
    value[189] = '\0';
    snprintf(text, sizeof text, "[care_plan]\nsource = %s\n", value); /* line 2: 9 + 189 = 198 */
    write_temp(council, sizeof council, text);
    const char *files[] = {ENGLAND_RULES, council};
    cc_ruleset_t *rs = load_files(files, 2);
    assert_string_equal(must_find(rs, "care_plan")->source, value);
    cc_ruleset_free(rs);
    unlink(council);
    /* A longer line is refused at its own line, never split into two. */
    memset(value, 'x', 300);
    value[300] = '\0';
    snprintf(text, sizeof text, "[care_plan]\nsource = %s = y\n", value);
    write_temp(council, sizeof council, text);
    char err[512] = "", prefix[128];
    rs = NULL;
    assert_int_equal(cc_rulefiles_load(files, 2, &rs, err, sizeof err), CC_EPARSE);
    assert_null(rs);
    snprintf(prefix, sizeof prefix, "%s:2: ", council);
    if (strncmp(err, prefix, strlen(prefix)) != 0)
        print_error("expected \"%s...\", got \"%s\"\n", prefix, err);
    assert_int_equal(strncmp(err, prefix, strlen(prefix)), 0);
    unlink(council);
    /* Lines after a long one keep their numbers. */
    snprintf(text, sizeof text, "[care_plan]\nsource = %s\n[Bad-Id]\ntitle = x\n", value);
    write_temp(council, sizeof council, text);
    cc_buf_t report;
    assert_true(check(files, 2, &report) >= 1);
    assert_reports(cc_buf_str(&report), council, 4, "Bad-Id");
    cc_buf_free(&report);
    unlink(council);
}

/* The parser takes text and reads no file (config/rulefiles.c reads them):
 * the names given are what its messages name, line numbers count in the
 * text, a text that could not be read is reported by name, and the same
 * text gives the same ruleset from memory as from a file. */
static void test_rules_from_text(void **state)
{
    (void)state;
    static const char council[] = "; a council's own file\n[care_plan]\ndue = +15wd\n";
    static const char broken[] = "[care_plan]\n\ndue = soon\n";
    char err[512] = "";
    cc_ruleset_t *rs = NULL, *from_file = NULL;
    const char *files[] = {ENGLAND_RULES};
    from_file = load_files(files, 1);
    char *england = NULL;
    size_t len = 0;
    {
        FILE *f = fopen(ENGLAND_RULES, "rb");
        assert_non_null(f);
        assert_int_equal(fseek(f, 0, SEEK_END), 0);
        len = (size_t)ftell(f);
        rewind(f);
        england = malloc(len + 1);
        assert_non_null(england);
        assert_int_equal(fread(england, 1, len, f), len);
        england[len] = '\0';
        fclose(f);
    }
    cc_rule_text_t texts[] = {{"england.rules", england, len}, {"council.rules", council, sizeof council - 1}};
    assert_int_equal(cc_ruleset_parse(texts, 2, &rs, err, sizeof err), 0);
    assert_int_equal(cc_ruleset_count(rs), cc_ruleset_count(from_file));
    const cc_rule_t *care_plan = must_find(rs, "care_plan");
    assert_int_equal(care_plan->due.n, 15);
    assert_string_equal(care_plan->file, "council.rules");
    cc_ruleset_free(rs);
    cc_ruleset_free(from_file);

    rs = NULL;
    texts[1] = (cc_rule_text_t){"council.rules", broken, sizeof broken - 1};
    assert_int_equal(cc_ruleset_parse(texts, 2, &rs, err, sizeof err), CC_EPARSE);
    assert_null(rs);
    assert_int_equal(strncmp(err, "council.rules:3: ", 17), 0);

    texts[1] = (cc_rule_text_t){"gone.rules", NULL, 0};
    assert_int_equal(cc_ruleset_parse(texts, 2, &rs, err, sizeof err), CC_EIO);
    assert_string_equal(err, "gone.rules:0: cannot read rule file");
    cc_buf_t report;
    cc_buf_init(&report);
    assert_int_equal(cc_ruleset_check_texts(texts, 2, &report), 1);
    assert_string_equal(cc_buf_str(&report), "gone.rules:0: cannot read rule file\n");
    cc_buf_free(&report);
    free(england);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_file_loads_and_checks_clean),
        cmocka_unit_test(test_default_has_exactly_the_default_rule_ids),
        cmocka_unit_test(test_default_event_vocabulary),
        cmocka_unit_test(test_default_rule_contents),
        cmocka_unit_test(test_error_unknown_key),
        cmocka_unit_test(test_error_bad_offset),
        cmocka_unit_test(test_error_unknown_event_type_in_met_by),
        cmocka_unit_test(test_error_empty_met_by),
        cmocka_unit_test(test_error_ages_out_of_range),
        cmocka_unit_test(test_error_unknown_event_type_in_starts_on),
        cmocka_unit_test(test_error_missing_required_key),
        cmocka_unit_test(test_error_anchor_undefined),
        cmocka_unit_test(test_error_anchor_cycle),
        cmocka_unit_test(test_error_bad_stage),
        cmocka_unit_test(test_error_bad_condition),
        cmocka_unit_test(test_error_not_an_ini_line),
        cmocka_unit_test(test_error_bad_values),
        cmocka_unit_test(test_error_bad_events_section),
        cmocka_unit_test(test_check_reports_every_error),
        cmocka_unit_test(test_error_unreadable_file),
        cmocka_unit_test(test_error_offsets_that_cannot_be_meant),
        cmocka_unit_test(test_new_keys_and_conditions),
        cmocka_unit_test(test_override_one_key_keeps_the_rest),
        cmocka_unit_test(test_override_list_keys_are_replaced_not_merged),
        cmocka_unit_test(test_override_replaces_stages_and_due_if_of_default),
        cmocka_unit_test(test_override_disables_and_reenables_a_rule),
        cmocka_unit_test(test_override_disabling_an_anchor_is_an_error),
        cmocka_unit_test(test_override_adds_rule_and_event_types),
        cmocka_unit_test(test_override_error_names_the_council_file),
        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_rules_from_text),
    };
    return cmocka_run_group_tests_name("rules", tests, NULL, NULL);
}
