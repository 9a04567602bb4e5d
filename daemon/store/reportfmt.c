/* The timeliness report written out: the table people read, the CSV a
 * performance team opens in a spreadsheet, and JSON (cc_report_table,
 * cc_report_csv, cc_report_json), from a built report (report.c). See
 * include/careclock/report.h and docs/report.md.
 */
#include "careclock/report.h"
#include "careclock/clocks.h"
#include "careclock/csv.h"
#include "careclock/engine.h"
#include "careclock/error.h"
#include "store/reportfmt.h"
#include "careclock/events.h"
#include "careclock/people.h"
#include "store/internal.h"
#include "util/grow.h"
#include "util/strmap.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- rendering ----------------------------------------------------------- */

static const char DEFINITION[] =
    "on time % = met on time / (met on time + met late + overdue); not yet due, cancelled and excepted are not in it;\n"
    "late includes those met by a date an extension agreed (\"within ext.\"): late, within an agreed extension";

#define NO_DATA "no data recorded"

static void percent_text(const cc_report_counts_t *c, char *buf, size_t len)
{
    long tenths;
    if (cc_report_percent_tenths(c, &tenths))
        snprintf(buf, len, "%ld.%ld", tenths / 10, tenths % 10);
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

static const char *team_label(const cc_report_group_t *g)
{
    return g->team[0] ? g->team : "(no team)";
}

static const char *worker_label(const cc_report_group_t *g)
{
    return g->worker[0] ? g->worker : "(no worker)";
}

enum { T_CLOCK, T_PERIOD, T_TEAM, T_WORKER, T_DUE, T_ONTIME, T_LATE, T_LATE_EXT, T_OVERDUE, T_NOTYET, T_PCT,
       T_CANCELLED, T_EXCEPTED, T_NCOLS };
static const char *const TABLE_HEAD[T_NCOLS] = {"clock",   "period",      "team",      "worker",    "due",
                                                "on time", "late",        "within ext.", "overdue", "not yet due",
                                                "on time %", "cancelled", "excepted"};
#define CELL 80

static void table_cells(const char *clock, const char *period, const char *team, const char *worker,
                        const cc_report_counts_t *c, int no_data, char cells[T_NCOLS][CELL])
{
    snprintf(cells[T_CLOCK], CELL, "%s", clock);
    snprintf(cells[T_PERIOD], CELL, "%s", period);
    snprintf(cells[T_TEAM], CELL, "%s", team);
    snprintf(cells[T_WORKER], CELL, "%s", worker);
    snprintf(cells[T_DUE], CELL, "%zu", cc_report_due(c));
    snprintf(cells[T_ONTIME], CELL, "%zu", c->n[CC_REPORT_ON_TIME]);
    snprintf(cells[T_LATE], CELL, "%zu", c->n[CC_REPORT_LATE]);
    snprintf(cells[T_LATE_EXT], CELL, "%zu", c->late_extended);
    snprintf(cells[T_OVERDUE], CELL, "%zu", c->n[CC_REPORT_OVERDUE]);
    snprintf(cells[T_NOTYET], CELL, "%zu", c->n[CC_REPORT_NOT_YET_DUE]);
    percent_text(c, cells[T_PCT], CELL);
    if (no_data)
        snprintf(cells[T_PCT], CELL, "%s", NO_DATA);
    else if (cells[T_PCT][0] == '\0')
        snprintf(cells[T_PCT], CELL, "-");
    snprintf(cells[T_CANCELLED], CELL, "%zu", c->n[CC_REPORT_CANCELLED]);
    snprintf(cells[T_EXCEPTED], CELL, "%zu", c->n[CC_REPORT_EXCEPTED]);
}

/* Which columns the table has: the period and worker only when divided. */
static int table_shows(const cc_report_t *r, int col)
{
    return (col != T_PERIOD || r->by != CC_REPORT_BY_NONE) && (col != T_WORKER || r->by_worker);
}

static void table_line(const cc_report_t *r, cc_buf_t *out, char cells[T_NCOLS][CELL], const int *width)
{
    int last = T_NCOLS - 1;
    for (int i = 0; i < T_NCOLS; i++) {
        if (!table_shows(r, i))
            continue;
        /* Names left, numbers right. */
        if (i <= T_WORKER)
            cc_buf_printf(out, "%-*s", width[i], cells[i]);
        else
            cc_buf_printf(out, "%*s", width[i], cells[i]);
        cc_buf_puts(out, i < last ? "  " : "\n");
    }
}

/* Every line of the table, measured (measure) or printed. */
static void table_lines(const cc_report_t *r, cc_buf_t *out, int *width, int measure)
{
    char cells[T_NCOLS][CELL];
    for (size_t i = 0; i < r->nclocks; i++) {
        const cc_report_clock_t *c = &r->clocks[i];
        for (size_t j = 0; j < c->nperiods; j++) {
            const cc_report_period_t *p = &c->periods[j];
            for (size_t k = 0; k <= p->ngroups; k++) {
                const cc_report_group_t *g = k < p->ngroups ? &p->groups[k] : NULL;
                table_cells(c->clock, p->period, g ? team_label(g) : "all teams", g ? worker_label(g) : "",
                            g ? &g->counts : &p->total, c->no_data, cells);
                if (measure) {
                    for (int m = 0; m < T_NCOLS; m++)
                        if ((int)strlen(cells[m]) > width[m])
                            width[m] = (int)strlen(cells[m]);
                    continue;
                }
                table_line(r, out, cells, width);
                for (size_t n = 0; g && n < g->nrows; n++) {
                    const cc_report_row_t *row = &g->rows[n];
                    cc_buf_printf(out, "    %-12s #%-3d started %s  due %s  %-9s  met %-10s  %s", row->child,
                                  row->seq, row->start, row->due, row->status, row->met_on ? row->met_on : "-",
                                  cc_report_bucket_name(row->bucket));
                    if (row->days_late > 0)
                        cc_buf_printf(out, " (%ld day%s late, %ld working day%s)", row->days_late,
                                      row->days_late == 1 ? "" : "s", row->working_days_late,
                                      row->working_days_late == 1 ? "" : "s");
                    cc_buf_puts(out, "\n");
                }
            }
        }
        if (c->nperiods > 1) {
            table_cells(c->clock, "all", "all teams", "", &c->total, c->no_data, cells);
            if (measure)
                continue;
            table_line(r, out, cells, width);
        }
        if (!measure && c->coverage_known) {
            if (c->no_data)
                cc_buf_printf(out, "  %s: no source has recorded this clock's meeting events, so its figures are "
                                   "not a measure of timeliness (the SSDA903 return carries no such dates)\n",
                              NO_DATA);
            else
                cc_buf_printf(out, "  meeting events recorded: %lld (%s)\n", (long long)c->meeting_events,
                              c->sources ? c->sources : "");
        }
        if (!measure)
            cc_buf_puts(out, "\n");
    }
}

int cc_report_table(const cc_report_t *r, cc_buf_t *out)
{
    char period[64], asof[CC_DATE_STRLEN];
    int width[T_NCOLS];
    period_text(r, period, sizeof(period));
    cc_buf_printf(out, "Timeliness of statutory clocks due %s (statuses as of %s)%s%s%s%s%s%s%s%s\n", period,
                  cc_date_format(r->as_of, asof), r->team ? ", team " : "", r->team ? r->team : "",
                  r->worker ? ", worker " : "", r->worker ? r->worker : "", r->clock ? ", clock " : "",
                  r->clock ? r->clock : "", r->by != CC_REPORT_BY_NONE ? ", by " : "", cc_report_by_name(r->by));
    cc_buf_printf(out, "%s\n", DEFINITION);
    cc_buf_puts(out, "A clock counts for the team and worker who held the child on its due date.\n\n");
    if (r->nclocks == 0) {
        cc_buf_puts(out, "No clock fell due in the period.\n");
        goto footer;
    }
    for (int i = 0; i < T_NCOLS; i++)
        width[i] = (int)strlen(TABLE_HEAD[i]);
    table_lines(r, out, width, 1);
    char head[T_NCOLS][CELL];
    for (int i = 0; i < T_NCOLS; i++)
        snprintf(head[i], CELL, "%s", TABLE_HEAD[i]);
    table_line(r, out, head, width);
    table_lines(r, out, width, 0);
footer:
    if (r->data_errors > 0)
        cc_buf_printf(out,
                      "Not counted: %zu child%s whose data cannot be evaluated (careclock clocks --status "
                      "data_error)\n",
                      r->data_errors, r->data_errors == 1 ? "" : "ren");
    return out->failed ? CC_ENOMEM : 0;
}

static void csv_cells(cc_buf_t *out, const char *const *cells, size_t n, int last)
{
    for (size_t i = 0; i < n; i++) {
        cc_csv_cell(out, cells[i]);
        cc_buf_puts(out, last && i + 1 == n ? "\r\n" : ",");
    }
}

static void csv_counts(cc_buf_t *out, const cc_report_counts_t *c, const cc_report_clock_t *clock)
{
    char pct[32], events[32];
    percent_text(c, pct, sizeof(pct));
    if (clock->no_data)
        snprintf(pct, sizeof(pct), "%s", NO_DATA);
    if (clock->coverage_known)
        snprintf(events, sizeof(events), "%lld", (long long)clock->meeting_events);
    else
        events[0] = '\0';
    cc_buf_printf(out, "%zu,%zu,%zu,%zu,%zu,%s,%zu,%zu,%zu,%s,", cc_report_due(c), c->n[CC_REPORT_ON_TIME],
                  c->n[CC_REPORT_LATE], c->n[CC_REPORT_OVERDUE], c->n[CC_REPORT_NOT_YET_DUE], pct,
                  c->n[CC_REPORT_CANCELLED], c->late_extended, c->n[CC_REPORT_EXCEPTED], events);
    cc_csv_cell(out, clock->sources ? clock->sources : "");
    cc_buf_puts(out, "\r\n");
}

static void date_or_empty(cc_date_t d, char buf[CC_DATE_STRLEN])
{
    if (d == CC_DATE_NONE)
        buf[0] = '\0';
    else
        cc_date_format(d, buf);
}

static int csv_detail(const cc_report_t *r, cc_buf_t *out)
{
    int by = r->by != CC_REPORT_BY_NONE;
    const char *head[] = {"clock", "title", "period", "team", "team_name", "worker", "worker_name", "child", "seq",
                          "start", "due", "status", "met_on", "counted_as", "days_late", "working_days_late"};
    for (size_t i = 0; i < sizeof(head) / sizeof(head[0]); i++) {
        if (i == 2 && !by)
            continue;
        cc_csv_cell(out, head[i]);
        cc_buf_puts(out, i + 1 == sizeof(head) / sizeof(head[0]) ? "\r\n" : ",");
    }
    for (size_t i = 0; i < r->nclocks; i++) {
        const cc_report_clock_t *c = &r->clocks[i];
        for (size_t j = 0; j < c->nperiods; j++) {
            const cc_report_period_t *p = &c->periods[j];
            for (size_t k = 0; k < p->ngroups; k++) {
                const cc_report_group_t *g = &p->groups[k];
                for (size_t n = 0; n < g->nrows; n++) {
                    const cc_report_row_t *row = &g->rows[n];
                    char seq[16], late[24], wlate[24];
                    snprintf(seq, sizeof(seq), "%d", row->seq);
                    snprintf(late, sizeof(late), "%ld", row->days_late);
                    snprintf(wlate, sizeof(wlate), "%ld", row->working_days_late);
                    const char *lead[] = {c->clock, c->title};
                    csv_cells(out, lead, 2, 0);
                    if (by)
                        csv_cells(out, (const char *[]){p->period}, 1, 0);
                    const char *cells[] = {g->team, g->team_name, g->worker, g->worker_name, row->child, seq,
                                           row->start, row->due, row->status, row->met_on ? row->met_on : "",
                                           cc_report_bucket_name(row->bucket), late, wlate};
                    csv_cells(out, cells, sizeof(cells) / sizeof(cells[0]), 1);
                }
            }
        }
    }
    return out->failed ? CC_ENOMEM : 0;
}

int cc_report_csv(const cc_report_t *r, cc_buf_t *out)
{
    char from[CC_DATE_STRLEN], to[CC_DATE_STRLEN];
    int by = r->by != CC_REPORT_BY_NONE;
    if (r->detail)
        return csv_detail(r, out);
    /* The columns of an undivided report are those it always had. */
    cc_csv_cell(out, "scope");
    cc_buf_puts(out, ",clock,title,");
    if (by)
        cc_buf_puts(out, "period,");
    cc_buf_puts(out, "team,team_name,");
    if (r->by_worker)
        cc_buf_puts(out, "worker,worker_name,");
    cc_buf_puts(out, "from,to,due,on_time,late,overdue,not_yet_due,on_time_percent,cancelled,"
                     "late_within_extension,excepted,meeting_events,meeting_event_sources\r\n");
    for (size_t i = 0; i < r->nclocks; i++) {
        const cc_report_clock_t *c = &r->clocks[i];
        for (size_t j = 0; j < c->nperiods; j++) {
            const cc_report_period_t *p = &c->periods[j];
            date_or_empty(by ? p->first : r->from, from);
            date_or_empty(by ? p->last : r->to, to);
            for (size_t k = 0; k <= p->ngroups; k++) {
                const cc_report_group_t *g = k < p->ngroups ? &p->groups[k] : NULL;
                const char *lead[] = {g ? (r->by_worker ? "worker" : "team") : "total", c->clock, c->title};
                csv_cells(out, lead, 3, 0);
                if (by)
                    csv_cells(out, (const char *[]){p->period}, 1, 0);
                const char *team[] = {g ? g->team : "", g ? g->team_name : "All teams"};
                csv_cells(out, team, 2, 0);
                if (r->by_worker) {
                    const char *worker[] = {g ? g->worker : "", g ? g->worker_name : ""};
                    csv_cells(out, worker, 2, 0);
                }
                const char *span[] = {from, to};
                csv_cells(out, span, 2, 0);
                csv_counts(out, g ? &g->counts : &p->total, c);
            }
        }
    }
    return out->failed ? CC_ENOMEM : 0;
}

/* The counts into o (a new object when o is NULL); the percentage rounded
 * to one decimal place, as the table and CSV show it. */
static json_t *counts_json(json_t *o, const cc_report_counts_t *c, int no_data)
{
    long tenths;
    if (o == NULL)
        o = json_object();
    json_object_set_new(o, "due", json_integer((json_int_t)cc_report_due(c)));
    for (int b = 0; b < CC_REPORT_NBUCKETS; b++)
        json_object_set_new(o, cc_report_bucket_name((cc_report_bucket_t)b), json_integer((json_int_t)c->n[b]));
    json_object_set_new(o, "late_within_extension", json_integer((json_int_t)c->late_extended));
    json_object_set_new(o, "on_time_percent",
                        !no_data && cc_report_percent_tenths(c, &tenths) ? json_real((double)tenths / 10.0)
                                                                         : json_null());
    return o;
}

static json_t *date_json(cc_date_t d)
{
    char buf[CC_DATE_STRLEN];
    return d == CC_DATE_NONE ? json_null() : json_string(cc_date_format(d, buf));
}

static json_t *groups_json(const cc_report_t *r, const cc_report_period_t *p, int no_data)
{
    json_t *teams = json_array();
    for (size_t k = 0; k < p->ngroups; k++) {
        const cc_report_group_t *g = &p->groups[k];
        json_t *jt = json_object();
        json_object_set_new(jt, "team", g->team[0] ? json_string(g->team) : json_null());
        json_object_set_new(jt, "team_name", json_string(g->team_name));
        if (r->by_worker) {
            json_object_set_new(jt, "worker", g->worker[0] ? json_string(g->worker) : json_null());
            json_object_set_new(jt, "worker_name", json_string(g->worker_name));
        }
        counts_json(jt, &g->counts, no_data);
        if (r->detail) {
            json_t *rows = json_array();
            for (size_t n = 0; n < g->nrows; n++) {
                const cc_report_row_t *row = &g->rows[n];
                json_t *jr = json_object();
                json_object_set_new(jr, "child", json_string(row->child));
                json_object_set_new(jr, "seq", json_integer(row->seq));
                json_object_set_new(jr, "start", json_string(row->start));
                json_object_set_new(jr, "due", json_string(row->due));
                json_object_set_new(jr, "status", json_string(row->status));
                json_object_set_new(jr, "met_on", row->met_on ? json_string(row->met_on) : json_null());
                json_object_set_new(jr, "counted_as", json_string(cc_report_bucket_name(row->bucket)));
                json_object_set_new(jr, "days_late", json_integer(row->days_late));
                json_object_set_new(jr, "working_days_late", json_integer(row->working_days_late));
                json_array_append_new(rows, jr);
            }
            json_object_set_new(jt, "rows", rows);
        }
        json_array_append_new(teams, jt);
    }
    return teams;
}

int cc_report_json(const cc_report_t *r, cc_buf_t *out)
{
    json_t *root = json_object(), *clocks = json_array();
    json_object_set_new(root, "from", date_json(r->from));
    json_object_set_new(root, "to", date_json(r->to));
    json_object_set_new(root, "as_of", date_json(r->as_of));
    json_object_set_new(root, "team", r->team ? json_string(r->team) : json_null());
    if (r->worker)
        json_object_set_new(root, "worker", json_string(r->worker));
    json_object_set_new(root, "clock", r->clock ? json_string(r->clock) : json_null());
    if (r->by != CC_REPORT_BY_NONE)
        json_object_set_new(root, "by", json_string(cc_report_by_name(r->by)));
    json_object_set_new(root, "on_time_percent_definition",
                        json_string("100 * on_time / (on_time + late + overdue), rounded to one decimal place; "
                                    "not_yet_due, cancelled and excepted are not in it; late_within_extension is "
                                    "part of late; a clock with data \"no data recorded\" has no measure"));
    json_object_set_new(root, "credited_to",
                        json_string("the team and worker who held the child on the clock's due date"));
    json_object_set_new(root, "children_with_data_errors", json_integer((json_int_t)r->data_errors));
    for (size_t i = 0; i < r->nclocks; i++) {
        const cc_report_clock_t *c = &r->clocks[i];
        json_t *jc = json_object();
        json_object_set_new(jc, "clock", json_string(c->clock));
        json_object_set_new(jc, "title", json_string(c->title));
        if (c->coverage_known) {
            json_object_set_new(jc, "data", json_string(c->no_data ? NO_DATA : "recorded"));
            json_object_set_new(jc, "meeting_events", json_integer((json_int_t)c->meeting_events));
            json_object_set_new(jc, "meeting_event_sources", json_string(c->sources ? c->sources : ""));
        }
        if (r->by == CC_REPORT_BY_NONE) {
            json_object_set_new(jc, "teams", c->nperiods ? groups_json(r, &c->periods[0], c->no_data) : json_array());
        } else {
            json_t *periods = json_array();
            for (size_t j = 0; j < c->nperiods; j++) {
                const cc_report_period_t *p = &c->periods[j];
                json_t *jp = json_object();
                json_object_set_new(jp, "period", json_string(p->period));
                json_object_set_new(jp, "from", date_json(p->first));
                json_object_set_new(jp, "to", date_json(p->last));
                json_object_set_new(jp, "teams", groups_json(r, p, c->no_data));
                json_object_set_new(jp, "total", counts_json(NULL, &p->total, c->no_data));
                json_array_append_new(periods, jp);
            }
            json_object_set_new(jc, "periods", periods);
        }
        json_object_set_new(jc, "total", counts_json(NULL, &c->total, c->no_data));
        json_array_append_new(clocks, jc);
    }
    json_object_set_new(root, "clocks", clocks);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    json_decref(root);
    if (text == NULL)
        return CC_ENOMEM;
    cc_buf_puts(out, text);
    cc_buf_puts(out, "\n");
    free(text);
    return out->failed ? CC_ENOMEM : 0;
}
