/* Timeliness report. See include/careclock/report.h; the definitions are
 * repeated in README.md and docs/import.md for the people who read the
 * figures.
 *
 * Design note: the rows of one query over the clocks table (joined to
 * children and teams; clocks.c, cc_clocks_report_rows), ordered by clock,
 * team, due date and child, are folded into groups as they stream: a new
 * group starts whenever the clock or team changes. Rows are kept only for
 * --detail. Groups are then put in rule order, so a report reads in the
 * order the rule files list the clocks. This file holds no SQL: the
 * grouping and the renderers (pure: report in, text out) stay with the
 * build, which takes a store, so the module sits in the store layer.
 */
#include "careclock/report.h"
#include "careclock/clocks.h"
#include "careclock/csv.h"
#include "careclock/engine.h"
#include "careclock/error.h"
#include "store/internal.h"
#include "util/grow.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const BUCKETS[] = {"on_time", "late", "overdue", "not_yet_due", "cancelled"};

_Static_assert(sizeof(BUCKETS) / sizeof(BUCKETS[0]) == CC_REPORT_NBUCKETS, "one name per bucket");

const char *cc_report_bucket_name(cc_report_bucket_t b)
{
    return (unsigned)b < CC_REPORT_NBUCKETS ? BUCKETS[b] : "";
}

int cc_report_bucket_of(const char *status)
{
    switch (cc_status_parse(status ? status : "")) {
    case CC_STATUS_MET: return CC_REPORT_ON_TIME;
    case CC_STATUS_MET_LATE: return CC_REPORT_LATE;
    case CC_STATUS_OVERDUE: return CC_REPORT_OVERDUE;
    case CC_STATUS_OPEN:
    case CC_STATUS_DUE_SOON: return CC_REPORT_NOT_YET_DUE;
    case CC_STATUS_CANCELLED: return CC_REPORT_CANCELLED;
    default: return -1;
    }
}

size_t cc_report_due(const cc_report_counts_t *c)
{
    return c->n[CC_REPORT_ON_TIME] + c->n[CC_REPORT_LATE] + c->n[CC_REPORT_OVERDUE] + c->n[CC_REPORT_NOT_YET_DUE];
}

int cc_report_percent(const cc_report_counts_t *c, double *pct)
{
    size_t judged = c->n[CC_REPORT_ON_TIME] + c->n[CC_REPORT_LATE] + c->n[CC_REPORT_OVERDUE];
    if (judged == 0)
        return 0;
    *pct = 100.0 * (double)c->n[CC_REPORT_ON_TIME] / (double)judged;
    return 1;
}

/* ---- building ---- */

static void row_free(cc_report_row_t *row)
{
    free(row->child);
    free(row->start);
    free(row->due);
    free(row->status);
    free(row->met_on);
}

void cc_report_free(cc_report_t *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->nclocks; i++) {
        cc_report_clock_t *c = &r->clocks[i];
        for (size_t j = 0; j < c->nteams; j++) {
            cc_report_team_t *t = &c->teams[j];
            for (size_t k = 0; k < t->nrows; k++)
                row_free(&t->rows[k]);
            free(t->rows);
            free(t->team);
            free(t->team_name);
        }
        free(c->teams);
        free(c->clock);
        free(c->title);
    }
    free(r->clocks);
    memset(r, 0, sizeof(*r));
}

static char *dup_text(const char *text, int *oom)
{
    char *copy = strdup(text ? text : "");
    if (copy == NULL)
        *oom = 1;
    return copy;
}

static long days_between(const char *from_iso, cc_date_t to)
{
    cc_date_t from;
    if (from_iso == NULL || cc_date_parse(from_iso, &from) != 0)
        return 0;
    return (long)to - (long)from;
}

typedef struct {
    cc_report_t *r;
    const cc_ruleset_t *rs;
} build_t;

/* Add a row (cc_clocks_report_rows) to the report, starting a new clock or
 * team group when it differs from the last one. */
static int add_row(void *arg, const cc_clocks_report_row_t *row)
{
    const build_t *b = arg;
    cc_report_t *r = b->r;
    int oom = 0, bucket = cc_report_bucket_of(row->status);
    size_t count = (size_t)row->count;
    if (bucket < 0)
        return 0;
    cc_report_clock_t *c = r->nclocks ? &r->clocks[r->nclocks - 1] : NULL;
    if (c == NULL || strcmp(c->clock, row->rule_id) != 0) {
        if (cc__grow(&r->clocks, &r->capclocks, r->nclocks + 1, sizeof(*r->clocks), 16) != 0)
            return CC_ENOMEM;
        c = &r->clocks[r->nclocks++];
        memset(c, 0, sizeof(*c));
        c->clock = dup_text(row->rule_id, &oom);
        c->title = dup_text(row->title, &oom);
        const cc_rule_t *rule_def = b->rs ? cc_ruleset_find(b->rs, row->rule_id) : NULL;
        c->order = rule_def ? cc_ruleset_index(b->rs, rule_def) : (size_t)-1;
    }
    cc_report_team_t *t = c->nteams ? &c->teams[c->nteams - 1] : NULL;
    if (t == NULL || strcmp(t->team, row->team_id) != 0) {
        if (cc__grow(&c->teams, &c->capteams, c->nteams + 1, sizeof(*c->teams), 8) != 0)
            return CC_ENOMEM;
        t = &c->teams[c->nteams++];
        memset(t, 0, sizeof(*t));
        t->team = dup_text(row->team_id, &oom);
        t->team_name = dup_text(row->team_name, &oom);
    }
    t->counts.n[bucket] += count;
    c->total.n[bucket] += count;
    if (r->detail) {
        if (cc__grow(&t->rows, &t->caprows, t->nrows + 1, sizeof(*t->rows), 16) != 0)
            return CC_ENOMEM;
        cc_report_row_t *out = &t->rows[t->nrows++];
        memset(out, 0, sizeof(*out));
        out->child = dup_text(row->child_id, &oom);
        out->seq = row->seq;
        out->start = dup_text(row->start_date, &oom);
        out->due = dup_text(row->due_date, &oom);
        out->status = dup_text(row->status, &oom);
        if (row->met_on != NULL)
            out->met_on = dup_text(row->met_on, &oom);
        out->bucket = (cc_report_bucket_t)bucket;
        if (bucket == CC_REPORT_LATE) {
            cc_date_t met;
            if (out->met_on && cc_date_parse(out->met_on, &met) == 0)
                out->days_late = days_between(out->due, met);
        } else if (bucket == CC_REPORT_OVERDUE) {
            out->days_late = days_between(out->due, r->as_of);
        }
    }
    return oom ? CC_ENOMEM : 0;
}

/* Rule order; clocks of rules no longer loaded go last, by id. */
static int clock_cmp(const void *a, const void *b)
{
    const cc_report_clock_t *x = a, *y = b;
    if (x->order != y->order)
        return x->order < y->order ? -1 : 1;
    return strcmp(x->clock, y->clock);
}

int cc_report_build(cc_store_t *store, const cc_ruleset_t *rs, const cc_report_opts_t *opts, cc_date_t as_of,
                    cc_report_t *out)
{
    assert(store != NULL && opts != NULL && out != NULL);
    memset(out, 0, sizeof(*out));
    out->from = opts->from;
    out->to = opts->to;
    out->as_of = as_of;
    out->team = opts->team;
    out->clock = opts->clock;
    out->detail = opts->detail;
    cc_clocks_due_t due = {.from = opts->from, .to = opts->to, .team = opts->team, .clock = opts->clock};
    build_t b = {out, rs};
    int rc = cc_clocks_report_rows(store, &due, opts->detail, add_row, &b);
    if (rc == 0)
        rc = cc_clocks_data_error_children(store, opts->team, &out->data_errors);
    if (rc == 0 && out->nclocks > 1)
        qsort(out->clocks, out->nclocks, sizeof(*out->clocks), clock_cmp);
    return rc;
}

/* ---- rendering ---- */

static const char DEFINITION[] =
    "on time % = met on time / (met on time + met late + overdue); not yet due and cancelled are not in it";

static void percent_text(const cc_report_counts_t *c, char *buf, size_t len)
{
    double pct;
    if (cc_report_percent(c, &pct))
        snprintf(buf, len, "%.1f", pct);
    else
        buf[0] = '\0';
}

static void period_text(const cc_report_t *r, char *buf, size_t len)
{
    char a[CC_DATE_STRLEN], b[CC_DATE_STRLEN];
    if (r->from == CC_DATE_NONE)
        snprintf(buf, len, "up to %s", cc_date_format(r->to, b));
    else
        snprintf(buf, len, "%s to %s", cc_date_format(r->from, a), cc_date_format(r->to, b));
}

enum { T_CLOCK, T_TEAM, T_DUE, T_ONTIME, T_LATE, T_OVERDUE, T_NOTYET, T_PCT, T_CANCELLED, T_NCOLS };
static const char *const TABLE_HEAD[T_NCOLS] = {"clock", "team", "due", "on time", "late", "overdue",
                                                "not yet due", "on time %", "cancelled"};

static void table_cells(const char *clock, const char *team, const cc_report_counts_t *c, char cells[T_NCOLS][72])
{
    snprintf(cells[T_CLOCK], 72, "%s", clock);
    snprintf(cells[T_TEAM], 72, "%s", team);
    snprintf(cells[T_DUE], 72, "%zu", cc_report_due(c));
    snprintf(cells[T_ONTIME], 72, "%zu", c->n[CC_REPORT_ON_TIME]);
    snprintf(cells[T_LATE], 72, "%zu", c->n[CC_REPORT_LATE]);
    snprintf(cells[T_OVERDUE], 72, "%zu", c->n[CC_REPORT_OVERDUE]);
    snprintf(cells[T_NOTYET], 72, "%zu", c->n[CC_REPORT_NOT_YET_DUE]);
    percent_text(c, cells[T_PCT], 72);
    if (cells[T_PCT][0] == '\0')
        snprintf(cells[T_PCT], 72, "-");
    snprintf(cells[T_CANCELLED], 72, "%zu", c->n[CC_REPORT_CANCELLED]);
}

static void table_line(cc_buf_t *out, char cells[T_NCOLS][72], const int *width)
{
    for (int i = 0; i < T_NCOLS; i++) {
        /* Names left, numbers right. */
        if (i <= T_TEAM)
            cc_buf_printf(out, "%-*s", width[i], cells[i]);
        else
            cc_buf_printf(out, "%*s", width[i], cells[i]);
        cc_buf_puts(out, i + 1 < T_NCOLS ? "  " : "\n");
    }
}

static const char *team_label(const cc_report_team_t *t)
{
    return t->team[0] ? t->team : "(no team)";
}

int cc_report_table(const cc_report_t *r, cc_buf_t *out)
{
    char period[64], cells[T_NCOLS][72], asof[CC_DATE_STRLEN];
    int width[T_NCOLS];
    period_text(r, period, sizeof(period));
    cc_buf_printf(out, "Timeliness of statutory clocks due %s (statuses as of %s)%s%s%s%s\n", period,
                  cc_date_format(r->as_of, asof), r->team ? ", team " : "", r->team ? r->team : "",
                  r->clock ? ", clock " : "", r->clock ? r->clock : "");
    cc_buf_printf(out, "%s\n\n", DEFINITION);
    if (r->nclocks == 0) {
        cc_buf_puts(out, "No clock fell due in the period.\n");
        goto footer;
    }
    for (int i = 0; i < T_NCOLS; i++)
        width[i] = (int)strlen(TABLE_HEAD[i]);
    for (size_t i = 0; i < r->nclocks; i++) {
        const cc_report_clock_t *c = &r->clocks[i];
        for (size_t j = 0; j <= c->nteams; j++) {
            table_cells(c->clock, j < c->nteams ? team_label(&c->teams[j]) : "all teams",
                        j < c->nteams ? &c->teams[j].counts : &c->total, cells);
            for (int k = 0; k < T_NCOLS; k++)
                if ((int)strlen(cells[k]) > width[k])
                    width[k] = (int)strlen(cells[k]);
        }
    }
    for (int i = 0; i < T_NCOLS; i++)
        snprintf(cells[i], 72, "%s", TABLE_HEAD[i]);
    table_line(out, cells, width);
    for (size_t i = 0; i < r->nclocks; i++) {
        const cc_report_clock_t *c = &r->clocks[i];
        for (size_t j = 0; j < c->nteams; j++) {
            const cc_report_team_t *t = &c->teams[j];
            table_cells(c->clock, team_label(t), &t->counts, cells);
            table_line(out, cells, width);
            for (size_t k = 0; k < t->nrows; k++) {
                const cc_report_row_t *row = &t->rows[k];
                cc_buf_printf(out, "    %-12s #%-3d started %s  due %s  %-9s  met %-10s  %s", row->child, row->seq,
                              row->start, row->due, row->status, row->met_on ? row->met_on : "-",
                              cc_report_bucket_name(row->bucket));
                if (row->days_late > 0)
                    cc_buf_printf(out, " (%ld day%s late)", row->days_late, row->days_late == 1 ? "" : "s");
                cc_buf_puts(out, "\n");
            }
        }
        table_cells(c->clock, "all teams", &c->total, cells);
        table_line(out, cells, width);
        cc_buf_puts(out, "\n");
    }
footer:
    if (r->data_errors > 0)
        cc_buf_printf(out,
                      "Not counted: %zu child%s whose data cannot be evaluated (careclock clocks --status "
                      "data_error)\n",
                      r->data_errors, r->data_errors == 1 ? "" : "ren");
    return out->failed ? CC_ENOMEM : 0;
}

static void csv_sep(cc_buf_t *out, int last)
{
    cc_buf_puts(out, last ? "\r\n" : ",");
}

static void csv_cells(cc_buf_t *out, const char *const *cells, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cc_csv_cell(out, cells[i]);
        csv_sep(out, i + 1 == n);
    }
}

static void csv_counts(cc_buf_t *out, const cc_report_counts_t *c)
{
    char pct[32];
    percent_text(c, pct, sizeof(pct));
    cc_buf_printf(out, "%zu,%zu,%zu,%zu,%zu,%s,%zu\r\n", cc_report_due(c), c->n[CC_REPORT_ON_TIME],
                  c->n[CC_REPORT_LATE], c->n[CC_REPORT_OVERDUE], c->n[CC_REPORT_NOT_YET_DUE], pct,
                  c->n[CC_REPORT_CANCELLED]);
}

int cc_report_csv(const cc_report_t *r, cc_buf_t *out)
{
    char from[CC_DATE_STRLEN] = "", to[CC_DATE_STRLEN];
    if (r->from != CC_DATE_NONE)
        cc_date_format(r->from, from);
    cc_date_format(r->to, to);
    if (r->detail) {
        static const char *const head[] = {"clock", "title", "team", "team_name", "child", "seq", "start", "due",
                                           "status", "met_on", "counted_as", "days_late"};
        csv_cells(out, head, sizeof(head) / sizeof(head[0]));
        for (size_t i = 0; i < r->nclocks; i++) {
            const cc_report_clock_t *c = &r->clocks[i];
            for (size_t j = 0; j < c->nteams; j++) {
                const cc_report_team_t *t = &c->teams[j];
                for (size_t k = 0; k < t->nrows; k++) {
                    const cc_report_row_t *row = &t->rows[k];
                    char seq[16], late[24];
                    snprintf(seq, sizeof(seq), "%d", row->seq);
                    snprintf(late, sizeof(late), "%ld", row->days_late);
                    const char *cells[] = {c->clock, c->title, t->team, t->team_name, row->child, seq, row->start,
                                           row->due, row->status, row->met_on ? row->met_on : "",
                                           cc_report_bucket_name(row->bucket), late};
                    csv_cells(out, cells, sizeof(cells) / sizeof(cells[0]));
                }
            }
        }
        return out->failed ? CC_ENOMEM : 0;
    }
    static const char *const head[] = {"scope", "clock", "title", "team", "team_name", "from", "to", "due",
                                       "on_time", "late", "overdue", "not_yet_due", "on_time_percent", "cancelled"};
    csv_cells(out, head, sizeof(head) / sizeof(head[0]));
    for (size_t i = 0; i < r->nclocks; i++) {
        const cc_report_clock_t *c = &r->clocks[i];
        for (size_t j = 0; j <= c->nteams; j++) {
            int total = j == c->nteams;
            const char *cells[] = {total ? "total" : "team", c->clock, c->title, total ? "" : c->teams[j].team,
                                   total ? "All teams" : c->teams[j].team_name, from, to};
            for (size_t k = 0; k < sizeof(cells) / sizeof(cells[0]); k++) {
                cc_csv_cell(out, cells[k]);
                cc_buf_puts(out, ",");
            }
            csv_counts(out, total ? &c->total : &c->teams[j].counts);
        }
    }
    return out->failed ? CC_ENOMEM : 0;
}

/* The counts into o (a new object when o is NULL); the percentage to one
 * decimal place, as the table and CSV show it. */
static json_t *counts_json(json_t *o, const cc_report_counts_t *c)
{
    double pct;
    if (o == NULL)
        o = json_object();
    json_object_set_new(o, "due", json_integer((json_int_t)cc_report_due(c)));
    for (int b = 0; b < CC_REPORT_NBUCKETS; b++)
        json_object_set_new(o, BUCKETS[b], json_integer((json_int_t)c->n[b]));
    json_object_set_new(o, "on_time_percent",
                        cc_report_percent(c, &pct) ? json_real((double)(long long)(pct * 10.0 + 0.5) / 10.0)
                                                   : json_null());
    return o;
}

int cc_report_json(const cc_report_t *r, cc_buf_t *out)
{
    char d[CC_DATE_STRLEN];
    json_t *root = json_object(), *clocks = json_array();
    json_object_set_new(root, "from", r->from == CC_DATE_NONE ? json_null() : json_string(cc_date_format(r->from, d)));
    json_object_set_new(root, "to", json_string(cc_date_format(r->to, d)));
    json_object_set_new(root, "as_of", json_string(cc_date_format(r->as_of, d)));
    json_object_set_new(root, "team", r->team ? json_string(r->team) : json_null());
    json_object_set_new(root, "clock", r->clock ? json_string(r->clock) : json_null());
    json_object_set_new(root, "on_time_percent_definition",
                        json_string("100 * on_time / (on_time + late + overdue); not_yet_due and cancelled are "
                                    "not in it"));
    json_object_set_new(root, "children_with_data_errors", json_integer((json_int_t)r->data_errors));
    for (size_t i = 0; i < r->nclocks; i++) {
        const cc_report_clock_t *c = &r->clocks[i];
        json_t *jc = json_object(), *teams = json_array();
        json_object_set_new(jc, "clock", json_string(c->clock));
        json_object_set_new(jc, "title", json_string(c->title));
        for (size_t j = 0; j < c->nteams; j++) {
            const cc_report_team_t *t = &c->teams[j];
            json_t *jt = json_object();
            json_object_set_new(jt, "team", t->team[0] ? json_string(t->team) : json_null());
            json_object_set_new(jt, "team_name", json_string(t->team_name));
            counts_json(jt, &t->counts);
            if (r->detail) {
                json_t *rows = json_array();
                for (size_t k = 0; k < t->nrows; k++) {
                    const cc_report_row_t *row = &t->rows[k];
                    json_t *jr = json_object();
                    json_object_set_new(jr, "child", json_string(row->child));
                    json_object_set_new(jr, "seq", json_integer(row->seq));
                    json_object_set_new(jr, "start", json_string(row->start));
                    json_object_set_new(jr, "due", json_string(row->due));
                    json_object_set_new(jr, "status", json_string(row->status));
                    json_object_set_new(jr, "met_on", row->met_on ? json_string(row->met_on) : json_null());
                    json_object_set_new(jr, "counted_as", json_string(cc_report_bucket_name(row->bucket)));
                    json_object_set_new(jr, "days_late", json_integer(row->days_late));
                    json_array_append_new(rows, jr);
                }
                json_object_set_new(jt, "rows", rows);
            }
            json_array_append_new(teams, jt);
        }
        json_object_set_new(jc, "teams", teams);
        json_object_set_new(jc, "total", counts_json(NULL, &c->total));
        json_array_append_new(clocks, jc);
    }
    json_object_set_new(root, "clocks", clocks);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (text == NULL)
        return CC_ENOMEM;
    cc_buf_puts(out, text);
    cc_buf_puts(out, "\n");
    free(text);
    return out->failed ? CC_ENOMEM : 0;
}
