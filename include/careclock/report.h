/* Timeliness report: for the clocks that fell due in a period, per clock
 * and team, how many were met on time, met late, are still overdue, are
 * not yet due, or were cancelled, with the on-time percentage.
 *
 *   on time % = met on time / (met on time + met late + overdue) * 100
 *
 * Clocks not yet due (due today or later, unmet) and cancelled ones (the
 * child left care before the due date) are counted in their own columns
 * and are not part of the percentage. A team's figures are the clocks of
 * the children it holds now (children.team_id). Totals per clock are the
 * sums over its teams, and the percentage of a total is computed from the
 * summed counts.
 *
 * cc_report_build reads the clocks table (the caller refreshes it first);
 * the renderers are pure: report in, text out.
 */
#ifndef CARECLOCK_REPORT_H
#define CARECLOCK_REPORT_H

#include "careclock/buf.h"
#include "careclock/date.h"
#include "careclock/rules.h"
#include "careclock/store.h"

#include <stddef.h>

typedef enum {
    CC_REPORT_ON_TIME,     /* status met */
    CC_REPORT_LATE,        /* status met_late */
    CC_REPORT_OVERDUE,     /* status overdue */
    CC_REPORT_NOT_YET_DUE, /* status open or due_soon */
    CC_REPORT_CANCELLED,   /* status cancelled */
    CC_REPORT_NBUCKETS
} cc_report_bucket_t;

/* The bucket a clock status is counted in, or -1 (data_error, unknown). */
int cc_report_bucket_of(const char *status);

/* "on_time", "late", "overdue", "not_yet_due", "cancelled". */
const char *cc_report_bucket_name(cc_report_bucket_t b);

typedef struct {
    size_t n[CC_REPORT_NBUCKETS];
} cc_report_counts_t;

/* Clocks that fell due and were not cancelled: on time + late + overdue +
 * not yet due. */
size_t cc_report_due(const cc_report_counts_t *c);

/* The on-time percentage into *pct; 0 (and *pct untouched) when nothing
 * was met or missed yet, 1 otherwise. */
int cc_report_percent(const cc_report_counts_t *c, double *pct);

/* One clock instance behind the figures (--detail). */
typedef struct {
    char *child, *start, *due, *status, *met_on; /* met_on NULL when unmet */
    int seq;
    cc_report_bucket_t bucket;
    long days_late;       /* met late: met_on - due; overdue: as_of - due; else 0 */
} cc_report_row_t;

typedef struct {
    char *team, *team_name; /* "" when the child has no team */
    cc_report_counts_t counts;
    cc_report_row_t *rows;
    size_t nrows, caprows;
} cc_report_team_t;

typedef struct {
    char *clock, *title;
    size_t order;            /* the rule's place in the rule set; (size_t)-1 if no longer loaded */
    cc_report_team_t *teams; /* by team id */
    size_t nteams, capteams;
    cc_report_counts_t total;
} cc_report_clock_t;

typedef struct {
    cc_date_t from;       /* CC_DATE_NONE: from the earliest */
    cc_date_t to;
    const char *team;     /* NULL: every team */
    const char *clock;    /* NULL: every clock */
    int detail;           /* keep the rows */
} cc_report_opts_t;

typedef struct {
    cc_date_t from, to, as_of;
    const char *team, *clock; /* borrowed from the options */
    int detail;
    cc_report_clock_t *clocks; /* in rule order */
    size_t nclocks, capclocks;
    size_t data_errors;   /* children in scope whose data cannot be evaluated: not in any figure */
} cc_report_t;

/* Build the report from the clocks table as of as_of (the day the table
 * was refreshed for). rs orders the clocks as the rule files do. Returns 0,
 * CC_EDB or CC_ENOMEM; free with cc_report_free (also after an error). */
int cc_report_build(cc_store_t *store, const cc_ruleset_t *rs, const cc_report_opts_t *opts, cc_date_t as_of,
                    cc_report_t *out);
void cc_report_free(cc_report_t *r);

/* Render: a table for people; CSV for spreadsheets (CRLF, a header row,
 * one row per clock and team plus a total row per clock; with detail, one
 * row per clock instance instead; cells starting = + - @ defused); JSON.
 * Append to out; return 0 or CC_ENOMEM. */
int cc_report_table(const cc_report_t *r, cc_buf_t *out);
int cc_report_csv(const cc_report_t *r, cc_buf_t *out);
int cc_report_json(const cc_report_t *r, cc_buf_t *out);

#endif
