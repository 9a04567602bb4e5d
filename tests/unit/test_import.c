/* Unit tests for the pure half of the SSDA903 import (daemon/core/import.c), the
 * CSV reader it stands on (daemon/util/csv.c), and the report's arithmetic
 * (daemon/store/report.c): in-memory files in, rows, events and warnings out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "careclock/csv.h"
#include "careclock/error.h"
#include "careclock/import.h"
#include "careclock/report.h"

#include <stdlib.h>
#include <string.h>

static cc_date_t iso(const char *s)
{
    cc_date_t d;
    assert_int_equal(cc_date_parse_iso(s, &d), 0);
    return d;
}

/* A heap copy with the spare byte the reader needs. */
static char *buffer(const char *text, size_t *len)
{
    *len = strlen(text);
    char *b = malloc(*len + 1);
    assert_non_null(b);
    memcpy(b, text, *len + 1);
    return b;
}

/* ---- csv ---- */

static void test_csv_quotes_newlines_and_line_numbers(void **state)
{
    (void)state;
    size_t len;
    char *b = buffer("\xef\xbb\xbf" "a,\"b,c\",\"say \"\"hi\"\"\"\r\n\r\n"
                     "\"two\nlines\",,x\r"
                     "last,row", &len);
    cc_csv_t r = {0};
    cc_csv_init(&r, b, len);
    assert_int_equal(cc_csv_next(&r), 1);
    assert_int_equal(r.row_line, 1);
    assert_int_equal(r.nfields, 3);
    assert_string_equal(r.fields[0], "a");
    assert_string_equal(r.fields[1], "b,c");
    assert_string_equal(r.fields[2], "say \"hi\"");
    assert_int_equal(cc_csv_next(&r), 1);
    assert_int_equal(r.row_line, 3); /* the blank line 2 is skipped */
    assert_int_equal(r.nfields, 3);
    assert_string_equal(r.fields[0], "two\nlines");
    assert_string_equal(r.fields[1], "");
    assert_string_equal(r.fields[2], "x");
    assert_int_equal(cc_csv_next(&r), 1);
    assert_int_equal(r.row_line, 5); /* a lone CR ends a line too */
    assert_int_equal(r.nfields, 2);
    assert_string_equal(r.fields[1], "row");
    assert_int_equal(cc_csv_next(&r), 0);
    assert_int_equal(cc_csv_next(&r), 0);
    cc_csv_free(&r);
    free(b);
}

static void test_csv_trailing_empty_field_and_errors(void **state)
{
    (void)state;
    size_t len;
    char *b = buffer("a,b,", &len);
    cc_csv_t r = {0};
    cc_csv_init(&r, b, len);
    assert_int_equal(cc_csv_next(&r), 1);
    assert_int_equal(r.nfields, 3);
    assert_string_equal(r.fields[2], "");
    free(b);

    b = buffer("ok,row\nx,\"never\nclosed", &len);
    cc_csv_init(&r, b, len);
    assert_int_equal(cc_csv_next(&r), 1);
    assert_int_equal(cc_csv_next(&r), CC_EPARSE);
    assert_int_equal(r.err_line, 2);
    assert_int_equal(r.err_column, 2);
    assert_string_equal(r.err, "a quoted field is never closed");
    assert_int_equal(cc_csv_next(&r), 0);
    free(b);

    b = buffer("\"ab\"c,d\n", &len);
    cc_csv_init(&r, b, len);
    assert_int_equal(cc_csv_next(&r), CC_EPARSE);
    assert_int_equal(r.err_line, 1);
    assert_int_equal(r.err_column, 1);
    cc_csv_free(&r);
    free(b);
}

/* Every council's SSDA903 extract is CRLF (docs/import.md): a row's line
 * number is its line in the file. A bad row on line 59 was reported as
 * line 117: the CR of a row ending in an unquoted field was overwritten by
 * the field's NUL before the LF after it was looked at. */
static void test_csv_crlf_line_numbers(void **state)
{
    (void)state;
    size_t len;
    char *b = buffer("CHILD,DOB\r\nA1,01/01/2015\r\n\"A2\",\"02/02/2015\"\r\n\r\nA3,x\r\nA4,y", &len);
    cc_csv_t r = {0};
    cc_csv_init(&r, b, len);
    static const size_t lines[] = {1, 2, 3, 5, 6};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(cc_csv_next(&r), 1);
        assert_int_equal(r.row_line, lines[i]);
        assert_int_equal(r.nfields, 2);
    }
    assert_string_equal(r.fields[0], "A4");
    assert_int_equal(cc_csv_next(&r), 0);
    cc_csv_free(&r);
    free(b);
}

/* A NUL byte in a field would end its C string early ("77\0" + "99" read
 * as child 77, which might "correct" another child's date of birth): the
 * reader refuses it, with its line and column, quoted or not. */
static void test_csv_nul_byte_is_refused(void **state)
{
    (void)state;
    static const char plain[] = "CHILD,DOB\r\nA1,01/01/2015\r\n77\00099,02/02/2015\r\n";
    static const char quoted[] = "CHILD,DOB\nA1,\"01/01\0002015\"\n";
    const struct {
        const char *text;
        size_t len, line, column;
    } cases[] = {{plain, sizeof(plain) - 1, 3, 1}, {quoted, sizeof(quoted) - 1, 2, 2}};
    for (size_t i = 0; i < 2; i++) {
        char *b = malloc(cases[i].len + 1);
        assert_non_null(b);
        memcpy(b, cases[i].text, cases[i].len + 1);
        cc_csv_t r = {0};
        cc_csv_init(&r, b, cases[i].len);
        int rc;
        while ((rc = cc_csv_next(&r)) == 1)
            ;
        assert_int_equal(rc, CC_EPARSE);
        assert_int_equal(r.err_line, cases[i].line);
        assert_int_equal(r.err_column, cases[i].column);
        assert_non_null(strstr(r.err, "NUL"));
        cc_csv_free(&r);
        free(b);
    }
}

static void test_csv_cell_quotes_and_defuses(void **state)
{
    (void)state;
    cc_buf_t out;
    cc_buf_init(&out);
    const char *cells[] = {"plain", "a,b", "say \"hi\"", "=SUM(A1:A9)", "+1", "-2", "@x", "\tx", "", "x=1"};
    for (size_t i = 0; i < sizeof(cells) / sizeof(cells[0]); i++) {
        assert_int_equal(cc_csv_cell(&out, cells[i]), 0);
        cc_buf_puts(&out, "|");
    }
    assert_string_equal(cc_buf_str(&out),
                        "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"'=SUM(A1:A9)\"|\"'+1\"|\"'-2\"|\"'@x\"|\"'\tx\"||x=1|");
    cc_buf_free(&out);
}

/* ---- recognition ---- */

static void test_recognise_by_columns_not_names(void **state)
{
    (void)state;
    char *header[] = {"CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"};
    char *episodes[] = {"CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC"};
    char *reviews[] = {" child ", "dob", "Review", "REVIEW_CODE"};
    char *uasc[] = {"CHILD", "SEX", "DOB", "DUC"};
    char *missing[] = {"CHILD", "DOB", "MISSING", "MIS_START", "MIS_END"};
    char *other[] = {"id", "name"};
    assert_int_equal(cc_import_recognise(header, 7), CC_IMPORT_HEADER);
    assert_int_equal(cc_import_recognise(episodes, 9), CC_IMPORT_EPISODES);
    assert_int_equal(cc_import_recognise(reviews, 4), CC_IMPORT_REVIEWS);
    assert_int_equal(cc_import_recognise(uasc, 4), CC_IMPORT_UNKNOWN);
    assert_int_equal(cc_import_recognise(missing, 5), CC_IMPORT_UNKNOWN);
    assert_int_equal(cc_import_recognise(other, 2), CC_IMPORT_UNKNOWN);
}

/* ---- mapping ---- */

typedef struct {
    cc_import_t imp;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    cc_import_init(&f->imp, iso("2026-11-30"));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    cc_import_free(&f->imp);
    free(f);
    return 0;
}

static void add(cc_import_t *imp, const char *name, const char *text, cc_import_kind_t want)
{
    size_t len;
    char err[256] = "";
    cc_import_kind_t kind;
    char *b = buffer(text, &len);
    assert_int_equal(cc_import_add_file(imp, name, b, len, &kind, err, sizeof(err)), 0);
    assert_int_equal(kind, want);
}

#define EPCOLS "CHILD,DECOM,RNE,PLACE,DEC,REC\n"

static const cc_import_episode_t *episode(const cc_import_t *imp, const char *child, const char *decom)
{
    for (size_t i = 0; i < imp->nepisodes; i++)
        if (strcmp(imp->children[imp->episodes[i].child].id, child) == 0 && imp->episodes[i].decom == iso(decom))
            return &imp->episodes[i];
    fail_msg("no episode %s %s", child, decom);
    return NULL;
}

static void assert_events(const cc_import_episode_t *e, int start, int placement, const char *end)
{
    assert_int_equal(e->has[CC_IMPORT_START], start);
    assert_int_equal(e->has[CC_IMPORT_PLACEMENT], placement);
    assert_int_equal(e->has[CC_IMPORT_END], end != NULL);
    if (end)
        assert_int_equal(e->date[CC_IMPORT_END], iso(end));
}

static void test_periods_of_care(void **state)
{
    fixture_t *f = *state;
    char err[256];
    add(&f->imp, "h", "CHILD,SEX,DOB\nC1,1,01/01/2010\nC2,2,01/01/2011\nC3,1,01/01/2012\n", CC_IMPORT_HEADER);
    /* C1: S, then a placement change (X1), a legal change, the end; a
     * second period. C2: starts with L (before the extract). C3: same-day
     * end and restart. Rows deliberately out of order. */
    add(&f->imp, "e",
        EPCOLS "C1,01/06/2025,L,U2,01/07/2025,E11\n"
               "C1,01/01/2025,S,U1,01/03/2025,X1\n"
               "C1,01/03/2025,P,U2,01/06/2025,X1\n"
               "C1,01/09/2025,B,R1,,\n"
               "C2,05/05/2024,L,K2,,\n"
               "C3,01/01/2025,S,U1,01/02/2025,E3\n"
               "C3,01/02/2025,S,U1,,\n",
        CC_IMPORT_EPISODES);
    assert_int_equal(cc_import_map(&f->imp, err, sizeof(err)), 0);
    assert_int_equal(f->imp.nproblems, 0);
    assert_events(episode(&f->imp, "C1", "2025-01-01"), 1, 1, NULL);
    assert_events(episode(&f->imp, "C1", "2025-03-01"), 0, 1, NULL);
    assert_events(episode(&f->imp, "C1", "2025-06-01"), 0, 0, "2025-07-01");
    assert_events(episode(&f->imp, "C1", "2025-09-01"), 1, 1, NULL); /* new period, B not S */
    assert_events(episode(&f->imp, "C2", "2024-05-05"), 1, 0, NULL);
    assert_events(episode(&f->imp, "C3", "2025-01-01"), 1, 1, NULL); /* its end withdrawn */
    assert_events(episode(&f->imp, "C3", "2025-02-01"), 0, 1, NULL);
    assert_int_equal(f->imp.warnings[CC_IMPORT_W_NEW_PERIOD_NOT_S].count, 1);
    assert_int_equal(f->imp.warnings[CC_IMPORT_W_FIRST_NOT_S].count, 1);
    assert_string_equal(f->imp.warnings[CC_IMPORT_W_FIRST_NOT_S].file, "e");
    assert_int_equal(f->imp.warnings[CC_IMPORT_W_FIRST_NOT_S].line, 6);
    assert_int_equal(f->imp.warnings[CC_IMPORT_W_SAME_DAY_RESTART].count, 1);
    const cc_import_child_t *c1 = &f->imp.children[0];
    assert_int_equal(c1->nepisodes, 4);
    assert_int_equal(c1->window, iso("2025-01-01"));
}

static void test_bad_rows_become_problems(void **state)
{
    fixture_t *f = *state;
    char err[256];
    add(&f->imp, "h", "CHILD,SEX,DOB\nC1,1,01/01/2010\nC2,1,1/1/2010\n", CC_IMPORT_HEADER);
    add(&f->imp, "e", EPCOLS "C1,01/01/2025,S,U1,,\nC2,01/01/2025,S,U1,,\nC1,02/01/2025,S\nC9,01/01/2025,S,U1,,\n",
        CC_IMPORT_EPISODES);
    add(&f->imp, "r", "CHILD,DOB,REVIEW\nC1,01/01/2010,20/01/2025\nC1,01/01/2010,20-01-2025\n", CC_IMPORT_REVIEWS);
    assert_int_equal(cc_import_map(&f->imp, err, sizeof(err)), 0);
    assert_int_equal(f->imp.nproblems, 5);
    const cc_import_problem_t *p = f->imp.problems;
    assert_string_equal(p[0].file, "e");
    assert_int_equal(p[0].line, 3);
    assert_int_equal(p[0].column, 1);
    assert_string_equal(p[0].message, "child \"C2\" is not imported: its header row (h:3) is bad");
    assert_int_equal(p[1].line, 4);
    assert_int_equal(p[1].column, 4);
    assert_string_equal(p[1].message, "expected 6 columns, as in the first row, but the row has 3");
    assert_string_equal(p[2].message, "child \"C9\" is not in the header file");
    assert_string_equal(p[3].file, "h");
    assert_int_equal(p[3].column, 3);
    assert_string_equal(p[4].file, "r");
    assert_int_equal(p[4].line, 3);
    assert_int_equal(f->imp.nchildren, 1);
    assert_int_equal(f->imp.nepisodes, 1);
    assert_int_equal(f->imp.nreviews, 1);
    assert_true(f->imp.children[0].skipped_rows);
}

static void test_no_header_file(void **state)
{
    fixture_t *f = *state;
    char err[256];
    add(&f->imp, "r", "CHILD,DOB,REVIEW\nC1,01/01/2010,20/01/2025\n", CC_IMPORT_REVIEWS);
    assert_int_equal(cc_import_map(&f->imp, err, sizeof(err)), CC_EINVAL);
    assert_non_null(strstr(err, "no SSDA903 header file"));
}

static void test_missing_column_and_unknown_file(void **state)
{
    fixture_t *f = *state;
    size_t len;
    char err[256];
    cc_import_kind_t kind;
    char *b = buffer("CHILD,DECOM,RNE,PLACE,DEC\nC1,01/01/2025,S,U1,\n", &len);
    assert_int_equal(cc_import_add_file(&f->imp, "e", b, len, &kind, err, sizeof(err)), CC_EPARSE);
    assert_string_equal(err, "e:1:6: an SSDA903 episodes file needs a REC column");
    b = buffer("hello\n", &len);
    assert_int_equal(cc_import_add_file(&f->imp, "x", b, len, &kind, err, sizeof(err)), 0);
    assert_int_equal(kind, CC_IMPORT_UNKNOWN);
    assert_int_equal(f->imp.nfiles, 0);
}

static void test_keys_and_attributes(void **state)
{
    (void)state;
    char buf[128];
    assert_string_equal(cc_import_episode_key(buf, sizeof(buf), "C1", iso("2025-03-01"), CC_IMPORT_PLACEMENT),
                        "903:C1:episode:2025-03-01:placement");
    assert_string_equal(cc_import_review_key(buf, sizeof(buf), "C:1", iso("2025-03-01")), "903:C:1:review:2025-03-01");
    assert_null(cc_import_review_key(buf, 10, "C1", iso("2025-03-01")));
    cc_import_episode_t e = {.place = "U\"1", .rec = "E11"};
    assert_string_equal(cc_import_episode_attrs(&e, CC_IMPORT_PLACEMENT, buf, sizeof(buf)), "{\"place\":\"U\\\"1\"}");
    assert_string_equal(cc_import_episode_attrs(&e, CC_IMPORT_END, buf, sizeof(buf)), "{\"rec\":\"E11\"}");
    assert_string_equal(cc_import_episode_attrs(&e, CC_IMPORT_START, buf, sizeof(buf)), "{}");
    assert_string_equal(cc_import_slot_type(CC_IMPORT_END), "looked_after_end");
}

/* ---- report arithmetic ---- */

static void test_report_buckets_and_percent(void **state)
{
    (void)state;
    assert_int_equal(cc_report_bucket_of("met"), CC_REPORT_ON_TIME);
    assert_int_equal(cc_report_bucket_of("met_late"), CC_REPORT_LATE);
    assert_int_equal(cc_report_bucket_of("overdue"), CC_REPORT_OVERDUE);
    assert_int_equal(cc_report_bucket_of("open"), CC_REPORT_NOT_YET_DUE);
    assert_int_equal(cc_report_bucket_of("due_soon"), CC_REPORT_NOT_YET_DUE);
    assert_int_equal(cc_report_bucket_of("cancelled"), CC_REPORT_CANCELLED);
    assert_int_equal(cc_report_bucket_of("data_error"), -1);
    cc_report_counts_t c = {{3, 1, 0, 5, 7}, 0};
    double pct = -1;
    assert_int_equal(cc_report_due(&c), 9); /* cancelled is not due */
    assert_int_equal(cc_report_percent(&c, &pct), 1);
    assert_true(pct > 74.99 && pct < 75.01); /* 3 / (3 + 1 + 0) */
    cc_report_counts_t none = {{0, 0, 0, 4, 2}, 0};
    pct = -1;
    assert_int_equal(cc_report_percent(&none, &pct), 0);
    assert_true(pct == -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_quotes_newlines_and_line_numbers),
        cmocka_unit_test(test_csv_trailing_empty_field_and_errors),
        cmocka_unit_test(test_csv_crlf_line_numbers),
        cmocka_unit_test(test_csv_nul_byte_is_refused),
        cmocka_unit_test(test_csv_cell_quotes_and_defuses),
        cmocka_unit_test(test_recognise_by_columns_not_names),
        cmocka_unit_test_setup_teardown(test_periods_of_care, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_rows_become_problems, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_header_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_column_and_unknown_file, setup, teardown),
        cmocka_unit_test(test_keys_and_attributes),
        cmocka_unit_test(test_report_buckets_and_percent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
