/* Unit tests for daemon/store/clocks.c, the reads of the clocks table,
 * against a real SQLite file: the listing (filters, order, NULLs, each
 * filter served by its index), the status counts and the counts by rule,
 * the report's rows. Clock rows are written by hand, as the evaluation
 * would. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "careclock/buf.h"
#include "careclock/clocks.h"
#include "careclock/error.h"
#include "careclock/store.h"
#include "fixture.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef fixture_db_t fixture_t;

/* Two teams, three children, a clock in every status. */
static const char COUNCIL[] =
    "INSERT INTO staff (id, name, role) VALUES ('W1', 'Wendy', 'worker'), ('W2', 'Will', 'worker');"
    "INSERT INTO teams (id, name) VALUES ('T1', 'East'), ('T2', 'West');"
    "INSERT INTO children (id, dob, team_id, worker_id) VALUES ('C1', '2015-01-01', 'T1', 'W1'), "
    "('C2', '2014-01-01', 'T2', 'W2'), ('C3', '2013-01-01', 'T2', 'W1');"
    "INSERT INTO clocks (child_id, rule_id, seq, title, start_date, due_date, status, met_on, reason, source, "
    "updated_at, instance) VALUES "
    "('C1', 'care_plan', 1, 'Care plan', '2026-11-02', '2026-11-16', 'overdue', NULL, NULL, 'reg 4(2)', 'x', '1.1'), "
    "('C1', 'review', 1, 'LAC review', '2026-09-01', '2026-09-29', 'met', '2026-09-20', NULL, 'reg 33', 'x', '1.1'), "
    "('C2', 'review', 1, 'LAC review', '2026-11-02', '2026-11-30', 'due_soon', NULL, NULL, 'reg 33', 'x', '1.1'), "
    "('C2', 'pep', 1, 'PEP', '2026-10-01', '2026-10-01', 'cancelled', NULL, 'left care', 'local', 'x', '1.1'), "
    "('C3', 'data', 1, 'Child''s data cannot be evaluated', NULL, NULL, 'data_error', NULL, 'bad date', NULL, 'x', "
    "'error'), "
    "('C3', 'visit', 1, 'Statutory visit', '2026-11-20', '2026-11-27', 'met_late', '2026-11-28', NULL, 'reg 28', "
    "'x', '1.1'), "
    "('C3', 'care_plan', 1, 'Care plan', '2026-11-20', '2026-12-04', 'open', NULL, NULL, 'reg 4(2)', 'x', '1.1');";

static int setup(void **state)
{
    fixture_t *f = fixture_db_new("clocks");
    if (f == NULL)
        return -1;
    f->store = fixture_open(f->path);
    exec_sql(f->store, COUNCIL);
    *state = f;
    return 0;
}

/* The rows listed, one "child/rule/status" a line; a NULL met_on as "-". */
static int collect(void *arg, const cc_clock_row_t *r)
{
    cc_buf_printf(arg, "%s/%s/%s/%s/%s\n", r->child_id, r->rule_id, r->status, r->met_on ? r->met_on : "-",
                  r->team_id);
    return 0;
}

static const char *list(fixture_t *f, const cc_clocks_filter_t *filter, cc_buf_t *out)
{
    cc_buf_reset(out);
    assert_int_equal(cc_clocks_list(f->store, filter, collect, out), 0);
    return cc_buf_str(out);
}

/* Most urgent first (README, "careclock clocks"): overdue, data errors,
 * due soon, open, met late, met, then the rest; each filter narrows. */
static void test_list_order_and_filters(void **state)
{
    fixture_t *f = *state;
    cc_buf_t out;
    cc_buf_init(&out);
    cc_clocks_filter_t all = {0};
    assert_string_equal(list(f, &all, &out), "C1/care_plan/overdue/-/T1\n"
                                             "C3/data/data_error/-/T2\n"
                                             "C2/review/due_soon/-/T2\n"
                                             "C3/care_plan/open/-/T2\n"
                                             "C3/visit/met_late/2026-11-28/T2\n"
                                             "C1/review/met/2026-09-20/T1\n"
                                             "C2/pep/cancelled/-/T2\n");
    cc_clocks_filter_t child = {.child_id = "C1"};
    assert_string_equal(list(f, &child, &out), "C1/care_plan/overdue/-/T1\nC1/review/met/2026-09-20/T1\n");
    cc_clocks_filter_t team = {.team_id = "T2", .statuses = {CC_STATUS_OPEN, CC_STATUS_CANCELLED}, .nstatuses = 2};
    assert_string_equal(list(f, &team, &out), "C3/care_plan/open/-/T2\nC2/pep/cancelled/-/T2\n");
    cc_clocks_filter_t worker = {.worker_id = "W1", .statuses = {CC_STATUS_MET_LATE}, .nstatuses = 1};
    assert_string_equal(list(f, &worker, &out), "C3/visit/met_late/2026-11-28/T2\n");
    cc_clocks_filter_t nobody = {.worker_id = "W9"};
    assert_string_equal(list(f, &nobody, &out), "");
    cc_buf_free(&out);
}

static int stop_after_one(void *arg, const cc_clock_row_t *r)
{
    (void)r;
    ++*(int *)arg;
    return 42;
}

/* A nonzero return from the row function stops the listing and is what
 * cc_clocks_list returns (clocks.h). */
static void test_list_stops_when_told(void **state)
{
    fixture_t *f = *state;
    cc_clocks_filter_t all = {0};
    int rows = 0;
    assert_int_equal(cc_clocks_list(f->store, &all, stop_after_one, &rows), 42);
    assert_int_equal(rows, 1);
}

/* Each filter of the listing is served by its index, never a scan of the
 * council's clocks (the design note in clocks.c: one statement with every
 * filter optional read all the clocks, 18 s a pass at 100,000 children);
 * a status filter reads clocks_by_status alone, which covers every listed
 * column (migration 9). */
static void test_list_filters_use_their_indexes(void **state)
{
    fixture_t *f = *state;
    static const struct {
        cc_clocks_filter_t filter;
        const char *expect;
    } cases[] = {
        {{.child_id = "C1"}, "SEARCH c USING PRIMARY KEY (child_id=?)"},
        {{.team_id = "T1"}, "USING INDEX children_by_team (team_id=?)"},
        {{.worker_id = "W1"}, "USING INDEX children_by_worker (worker_id=?)"},
        {{.statuses = {CC_STATUS_OVERDUE}, .nstatuses = 1}, "USING COVERING INDEX clocks_by_status (status=?)"},
        {{.team_id = "T1", .statuses = {CC_STATUS_OVERDUE}, .nstatuses = 1}, "children_by_team (team_id=?)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cc_buf_t sql;
        char plan[4096];
        cc_buf_init(&sql);
        assert_int_equal(cc_clocks_list_sql(&cases[i].filter, &sql), 0);
        query_plan(f->store, cc_buf_str(&sql), plan, sizeof(plan));
        if (strstr(plan, cases[i].expect) == NULL || strstr(plan, "SCAN c") != NULL)
            fail_msg("case %zu: expected %s:\n%s\n%s", i, cases[i].expect, cc_buf_str(&sql), plan);
        cc_buf_free(&sql);
    }
}

static int collect_counts(void *arg, const char *key, const char *subkey, int64_t n)
{
    cc_buf_printf(arg, "%s %s %lld\n", key, subkey ? subkey : "-", (long long)n);
    return 0;
}

/* The STATUS= counts take overdue and due soon only; the metrics count
 * every clock by rule, then status. */
static void test_counts(void **state)
{
    fixture_t *f = *state;
    size_t overdue = 9, due_soon = 9;
    cc_buf_t out;
    cc_buf_init(&out);
    assert_int_equal(cc_clocks_status_counts(f->store, &overdue, &due_soon), 0);
    assert_int_equal(overdue, 1);
    assert_int_equal(due_soon, 1);
    assert_int_equal(cc_clocks_count_by_rule(f->store, collect_counts, &out), 0);
    assert_string_equal(cc_buf_str(&out), "care_plan open 1\ncare_plan overdue 1\ndata data_error 1\n"
                                          "pep cancelled 1\nreview due_soon 1\nreview met 1\nvisit met_late 1\n");
    exec_sql(f->store, "DELETE FROM clocks WHERE status IN ('overdue', 'due_soon')");
    assert_int_equal(cc_clocks_status_counts(f->store, &overdue, &due_soon), 0);
    assert_int_equal(overdue, 0);
    assert_int_equal(due_soon, 0);
    cc_buf_free(&out);
}

static int collect_credited(void *arg, const cc_clocks_credit_row_t *r)
{
    cc_buf_printf(arg, "%s %s#%d %s..%s %s met %s held %s/%s now %s/%s\n", r->rule_id, r->child_id, r->seq,
                  r->start_date, r->due_date, r->status, r->met_on ? r->met_on : "-", r->team_id, r->worker_id,
                  r->team_now, r->worker_now);
    return 0;
}

/* Lines of a buffer sorted, so that a test does not depend on the order of
 * children (which the statement leaves to SQLite). */
static const char *sorted_lines(const char *text)
{
    static char out[4096];
    char *lines[64], copy[4096];
    size_t n = 0, used = 0;
    snprintf(copy, sizeof(copy), "%s", text);
    for (char *save = NULL, *l = strtok_r(copy, "\n", &save); l != NULL && n < 64; l = strtok_r(NULL, "\n", &save))
        lines[n++] = l;
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(lines[j - 1], lines[j]) > 0; j--) {
            char *t = lines[j];
            lines[j] = lines[j - 1];
            lines[j - 1] = t;
        }
    out[0] = '\0';
    for (size_t i = 0; i < n && used < sizeof(out); i++)
        used += (size_t)snprintf(out + used, sizeof(out) - used, "%s\n", lines[i]);
    return out;
}

/* The report's instances: due in the period, of the clock asked for, never
 * data errors; data errors counted by child apart. With no history beyond
 * the first allocation, each is credited to who holds the child now. */
static void test_credited_rows(void **state)
{
    fixture_t *f = *state;
    cc_buf_t out;
    cc_buf_init(&out);
    cc_date_t to = iso("2026-11-30");
    cc_clocks_due_t q = {.from = CC_DATE_NONE, .to = to};
    assert_int_equal(cc_clocks_credited(f->store, &q, collect_credited, &out), 0);
    assert_string_equal(sorted_lines(cc_buf_str(&out)),
                        "care_plan C1#1 2026-11-02..2026-11-16 overdue met - held T1/W1 now T1/W1\n"
                        "pep C2#1 2026-10-01..2026-10-01 cancelled met - held T2/W2 now T2/W2\n"
                        "review C1#1 2026-09-01..2026-09-29 met met 2026-09-20 held T1/W1 now T1/W1\n"
                        "review C2#1 2026-11-02..2026-11-30 due_soon met - held T2/W2 now T2/W2\n"
                        "visit C3#1 2026-11-20..2026-11-27 met_late met 2026-11-28 held T2/W1 now T2/W1\n");
    cc_buf_reset(&out);
    q = (cc_clocks_due_t){.from = iso("2026-11-01"), .to = to, .team = "T2", .clock = "visit"};
    assert_int_equal(cc_clocks_credited(f->store, &q, collect_credited, &out), 0);
    assert_string_equal(cc_buf_str(&out), "visit C3#1 2026-11-20..2026-11-27 met_late met 2026-11-28 held T2/W1 "
                                          "now T2/W1\n");
    size_t errors = 9;
    assert_int_equal(cc_clocks_data_error_children(f->store, NULL, &errors), 0);
    assert_int_equal(errors, 1);
    assert_int_equal(cc_clocks_data_error_children(f->store, "T1", &errors), 0);
    assert_int_equal(errors, 0);
    cc_buf_free(&out);
}

/* Issue 20: a clock counts for the team and worker who held the child on
 * its due date. C1 was with T2/W2 from January and moved to T1/W1 on
 * 1 October: its review due 29 September is T2's and W2's, its care plan
 * due 16 November T1's; asking for T2 finds the review though C1 is T1's
 * now. A due date before the first recorded allocation counts for that
 * first allocation. */
static void test_credited_to_who_held_the_child_on_the_due_date(void **state)
{
    fixture_t *f = *state;
    cc_buf_t out;
    cc_buf_init(&out);
    exec_sql(f->store, "DELETE FROM assignments WHERE child_id = 'C1';"
                       "INSERT INTO assignments (child_id, since, team_id, worker_id) VALUES "
                       "('C1', '2026-01-01', 'T2', 'W2'), ('C1', '2026-10-01', 'T1', 'W1');");
    cc_clocks_due_t q = {.from = CC_DATE_NONE, .to = iso("2026-11-30"), .team = "T2"};
    assert_int_equal(cc_clocks_credited(f->store, &q, collect_credited, &out), 0);
    assert_string_equal(sorted_lines(cc_buf_str(&out)),
                        "pep C2#1 2026-10-01..2026-10-01 cancelled met - held T2/W2 now T2/W2\n"
                        "review C1#1 2026-09-01..2026-09-29 met met 2026-09-20 held T2/W2 now T1/W1\n"
                        "review C2#1 2026-11-02..2026-11-30 due_soon met - held T2/W2 now T2/W2\n"
                        "visit C3#1 2026-11-20..2026-11-27 met_late met 2026-11-28 held T2/W1 now T2/W1\n");
    cc_buf_reset(&out);
    q = (cc_clocks_due_t){.from = CC_DATE_NONE, .to = iso("2026-11-30"), .worker = "W1"};
    assert_int_equal(cc_clocks_credited(f->store, &q, collect_credited, &out), 0);
    assert_string_equal(sorted_lines(cc_buf_str(&out)),
                        "care_plan C1#1 2026-11-02..2026-11-16 overdue met - held T1/W1 now T1/W1\n"
                        "visit C3#1 2026-11-20..2026-11-27 met_late met 2026-11-28 held T2/W1 now T2/W1\n");
    /* History that starts after the due date: the first allocation. */
    exec_sql(f->store, "DELETE FROM assignments WHERE child_id = 'C1';"
                       "INSERT INTO assignments (child_id, since, team_id, worker_id) VALUES "
                       "('C1', '2026-10-01', 'T2', 'W2');");
    cc_buf_reset(&out);
    q = (cc_clocks_due_t){.from = CC_DATE_NONE, .to = iso("2026-11-30"), .clock = "review", .team = "T2"};
    assert_int_equal(cc_clocks_credited(f->store, &q, collect_credited, &out), 0);
    assert_string_equal(sorted_lines(cc_buf_str(&out)),
                        "review C1#1 2026-09-01..2026-09-29 met met 2026-09-20 held T2/W2 now T1/W1\n"
                        "review C2#1 2026-11-02..2026-11-30 due_soon met - held T2/W2 now T2/W2\n");
    cc_buf_free(&out);
}

/* A team's (or worker's) report reads only the children it ever held,
 * through the history's indexes, and their clocks by primary key. */
static void test_credited_reads_through_indexes(void **state)
{
    fixture_t *f = *state;
    char plan[2048];
    cc_clocks_due_t q = {.from = CC_DATE_NONE, .to = iso("2026-11-30"), .team = "T1"};
    query_plan(f->store, cc_clocks_credited_sql(&q), plan, sizeof(plan));
    assert_non_null(strstr(plan, "assignments_by_team"));
    assert_non_null(strstr(plan, "children_by_team"));
    assert_null(strstr(plan, "SCAN c"));
    q = (cc_clocks_due_t){.from = CC_DATE_NONE, .to = iso("2026-11-30"), .worker = "W1"};
    query_plan(f->store, cc_clocks_credited_sql(&q), plan, sizeof(plan));
    assert_non_null(strstr(plan, "assignments_by_worker"));
    assert_null(strstr(plan, "SCAN c"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_list_order_and_filters, setup, fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_list_stops_when_told, setup, fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_list_filters_use_their_indexes, setup, fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_counts, setup, fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_credited_rows, setup, fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_credited_to_who_held_the_child_on_the_due_date, setup,
                                        fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_credited_reads_through_indexes, setup, fixture_db_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
