/* Timeliness report: for the clocks that fell due in a period, per clock
 * and team (and, when asked, per month, quarter or reporting year, and per
 * worker), how many were met on time, met late, are still overdue, are not
 * yet due, or were cancelled, with the on-time percentage.
 *
 *   on time % = met on time / (met on time + met late + overdue) * 100
 *
 * Clocks not yet due (due today or later, unmet) and cancelled ones (the
 * child left care before the due date) are counted in their own columns
 * and are not part of the percentage. A clock counts for the team and the
 * worker who held the child on its due date (the allocation history,
 * docs/schema.md "assignments"), not those who hold it now. Totals per
 * period and per clock are sums over their groups, and the percentage of a
 * total is computed from the summed counts. Periods: months, quarters and
 * years of the April-March reporting year (quarter 1 is April to June;
 * "2026-27" is 1 April 2026 to 31 March 2027).
 *
 * cc_report_build reads the clocks table (the caller refreshes it first).
 * The dashboard builds the same report from its own copy of the rows with
 * cc_report_begin / cc_report_add / cc_report_end, so both count, group
 * and render alike; the renderers are pure: report in, text out.
 */
#ifndef CARECLOCK_REPORT_H
#define CARECLOCK_REPORT_H

#include "careclock/buf.h"
#include "careclock/calendar.h"
#include "careclock/date.h"
#include "careclock/rules.h"
#include "careclock/store.h"

#include <stddef.h>
#include <stdint.h>

typedef enum {
    CC_REPORT_ON_TIME,     /* status met */
    CC_REPORT_LATE,        /* status met_late */
    CC_REPORT_OVERDUE,     /* status overdue */
    CC_REPORT_NOT_YET_DUE, /* status open or due_soon */
    CC_REPORT_CANCELLED,   /* status cancelled */
    CC_REPORT_EXCEPTED,    /* status excepted (a decision: need not be met; issue 17), apart like cancelled */
    CC_REPORT_NBUCKETS
} cc_report_bucket_t;

/* The bucket a clock status is counted in, or -1 (data_error, unknown). */
int cc_report_bucket_of(const char *status);

/* "on_time", "late", "overdue", "not_yet_due", "cancelled", "excepted". */
const char *cc_report_bucket_name(cc_report_bucket_t b);

typedef struct {
    size_t n[CC_REPORT_NBUCKETS];
    size_t late_extended; /* of n[CC_REPORT_LATE]: met by the date an extension agreed (shown apart) */
} cc_report_counts_t;

/* Clocks that fell due and were not cancelled: on time + late + overdue +
 * not yet due. */
size_t cc_report_due(const cc_report_counts_t *c);

/* The on-time percentage into *pct; 0 (and *pct untouched) when nothing
 * was met or missed yet, 1 otherwise. */
int cc_report_percent(const cc_report_counts_t *c, double *pct);

/* The on-time percentage in tenths of a percent, as every output shows it
 * (to one decimal place), rounded half up in integers, so exactly: 791 of
 * 2,000 is 39.55% and gives 396 (39.6), where rounding the double 39.55
 * (39.54999...) would give 39.5. 0 (and *tenths untouched) when nothing
 * was met or missed yet, 1 otherwise. */
int cc_report_percent_tenths(const cc_report_counts_t *c, long *tenths);

/* How the period is divided. */
typedef enum { CC_REPORT_BY_NONE, CC_REPORT_BY_MONTH, CC_REPORT_BY_QUARTER, CC_REPORT_BY_YEAR } cc_report_by_t;

/* "month", "quarter", "year" ("" for none); and back: -1 when unknown. */
const char *cc_report_by_name(cc_report_by_t by);
int cc_report_by_parse(const char *name);

/* The period of by that day falls in: its label ("2026-04"; "2026-27 Q1";
 * "2026-27"; "" for CC_REPORT_BY_NONE) into label (at least 16 bytes), and
 * its first and last days (CC_REPORT_BY_NONE: day itself). */
void cc_report_period_of(cc_report_by_t by, cc_date_t day, char *label, size_t len, cc_date_t *first,
                         cc_date_t *last);

/* One clock instance behind the figures (detail). */
typedef struct {
    char *child, *start, *due, *status, *met_on; /* met_on NULL when unmet */
    int seq;
    cc_report_bucket_t bucket;
    long days_late;         /* calendar days: met late: met_on - due; overdue: as_of - due; else 0 */
    long working_days_late; /* the same in working days, as explain counts them; 0 when not late */
} cc_report_row_t;

/* The figures of one team (and worker) in one period of one clock. */
typedef struct {
    char *team, *team_name;     /* held the child on the due date; "" when nobody */
    char *worker, *worker_name; /* likewise, when by worker; "" otherwise */
    cc_report_counts_t counts;
    cc_report_row_t *rows;      /* detail, by due date, child, seq */
    size_t nrows, caprows;
} cc_report_group_t;

typedef struct {
    char *period;               /* the label; "" when the report is not divided */
    cc_date_t first, last;      /* the days it covers, within the report's from and to */
    cc_report_group_t *groups;  /* by team id, then worker id */
    size_t ngroups;
    cc_report_counts_t total;
} cc_report_period_t;

typedef struct {
    char *clock, *title;
    size_t order;               /* the rule's place in the rule set; (size_t)-1 if no longer loaded */
    cc_report_period_t *periods; /* in order of time; one when the report is not divided */
    size_t nperiods;
    cc_report_counts_t total;   /* over every period */
    /* Data coverage (issue 17 item 7): the meeting events (met_by types) any source has ever recorded for the
     * council, and by which sources ("ssda903 12, cli 3"). no_data: coverage known and none recorded: the
     * figures say "no data recorded", not 0.0% on time. Known only from cc_report_build. */
    int coverage_known, no_data;
    int64_t meeting_events;
    char *sources;
} cc_report_clock_t;

typedef struct {
    cc_date_t from;        /* CC_DATE_NONE: from the earliest */
    cc_date_t to;
    const char *team;      /* NULL: every team (held on the due date) */
    const char *worker;    /* NULL: every worker (held on the due date) */
    const char *clock;     /* NULL: every clock */
    int detail;            /* keep the rows */
    cc_report_by_t by;     /* divide the period */
    int by_worker;         /* one group per team and worker */
} cc_report_opts_t;

typedef struct cc_report_build cc_report_build_t; /* internal: the groups while building */

typedef struct {
    cc_date_t from, to, as_of;
    const char *team, *worker, *clock; /* borrowed from the options */
    int detail, by_worker;
    cc_report_by_t by;
    cc_date_t earliest_due, latest_due; /* of the instances counted; CC_DATE_NONE when none */
    cc_report_clock_t *clocks;  /* in rule order */
    size_t nclocks;
    size_t instances;           /* clock instances counted */
    size_t data_errors;         /* children in scope whose data cannot be evaluated: not in any figure */
    cc_report_build_t *build;
} cc_report_t;

/* Build the report from the clocks table as of as_of (the day the table
 * was refreshed for). rs orders the clocks as the rule files do; cal counts
 * working days late for detail rows (may be NULL without detail). Returns
 * 0, CC_EDB or CC_ENOMEM; free with cc_report_free (also after an error). */
int cc_report_build(cc_store_t *store, const cc_ruleset_t *rs, const cc_calendar_t *cal, const cc_report_opts_t *opts,
                    cc_date_t as_of, cc_report_t *out);
void cc_report_free(cc_report_t *r);

/* Each clock's data coverage (coverage_known, no_data, meeting_events,
 * sources) from the event counts (table event_counts): cc_report_build
 * does it; the dashboard, building from its own rows, after
 * cc_report_end. 0, CC_EDB or CC_ENOMEM. */
int cc_report_coverage(cc_store_t *store, const cc_ruleset_t *rs, cc_report_t *r);

/* Building from other rows (the dashboard's copy): begin, add each
 * instance or count of instances, end. add skips what the options leave
 * out (due outside [from, to], another clock, team or worker) and
 * statuses that are not counted (data_error). Strings are copied. */
typedef struct {
    const char *rule_id, *title;
    const char *team_id, *team_name;     /* held on the due date; NULL or "" nobody */
    const char *worker_id, *worker_name; /* likewise */
    cc_date_t due;
    const char *status;
    size_t count;                        /* instances alike (1 for detail rows) */
    int within_extension;                /* met late, by the date an extension agreed */
    /* detail only */
    const char *child_id, *start_date, *due_date, *met_on;
    int seq;
    long working_days_late;
} cc_report_item_t;

int cc_report_begin(cc_report_t *r, const cc_ruleset_t *rs, const cc_report_opts_t *opts, cc_date_t as_of);
int cc_report_add(cc_report_t *r, const cc_report_item_t *item);
int cc_report_end(cc_report_t *r);

/* Render: a table for people; CSV for spreadsheets (CRLF, a header row,
 * one row per clock, period and group plus a total row per clock and
 * period; with detail, one row per clock instance instead; cells starting
 * = + - @ defused); JSON (percentages to one decimal place). Append to out;
 * return 0 or CC_ENOMEM. The columns for periods and workers appear only
 * when the report is divided by them. */
int cc_report_table(const cc_report_t *r, cc_buf_t *out);
int cc_report_csv(const cc_report_t *r, cc_buf_t *out);
int cc_report_json(const cc_report_t *r, cc_buf_t *out);

#endif
