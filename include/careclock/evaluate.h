/* Evaluation: the shell around the engine. Loads children and their events
 * from the plan database, runs the engine, and writes the clocks back,
 * touching only rows that changed (so a clock's updated_at is the time it
 * last changed, which the calendar feeds rely on). daemon/store/evaluate.c
 * (the incremental evaluation), reader.c (the reader thread of a full
 * recompute) and first.c (cc_evaluate_all, the first computation); every
 * other read of the clocks table is clocks.h's.
 */
#ifndef CARECLOCK_EVALUATE_H
#define CARECLOCK_EVALUATE_H

#include "careclock/calendar.h"
#include "careclock/decisions.h"
#include "careclock/engine.h"
#include "careclock/rules.h"
#include "careclock/store.h"

typedef struct {
    size_t children;       /* children evaluated */
    size_t clocks;         /* clock instances computed */
    size_t written;        /* rows inserted or updated */
    size_t deleted;        /* rows removed */
    size_t data_errors;    /* children whose data could not be evaluated */
    size_t uncovered;      /* instances counted outside the holiday calendar's years */
    size_t commits;        /* transactions committed before the last (a first computation's) */
    int every;             /* cc_evaluate_all evaluated every child (new rules, engine or table), not only
                              those whose clocks may have moved */
} cc_eval_stats_t;

/* The id written in the clocks table for a child's data_error row. */
#define CC_DATA_ERROR_RULE "data"

/* Evaluate the children in ids (n of them) as of today and write their
 * clocks, in the caller's transaction if one is open, else in one of its
 * own. now_utc is the "YYYY-MM-DDTHH:MM:SSZ" stamp for updated_at. Adds to
 * *stats. Returns 0, CC_EDB or CC_ENOMEM (nothing written on error). */
int cc_evaluate_children(cc_store_t *store, const cc_ruleset_t *rs, const cc_calendar_t *cal, cc_date_t today,
                         const char *now_utc, char *const *ids, size_t n, cc_eval_stats_t *stats);

/* Drain the change queue: evaluate every child that changed and
 * acknowledge the queue, all in one transaction. */
int cc_evaluate_changes(cc_store_t *store, const cc_ruleset_t *rs, const cc_calendar_t *cal, cc_date_t today,
                        const char *now_utc, cc_eval_stats_t *stats);

/* Evaluate every child (and clear the change queue) and record today and
 * fingerprint (may be NULL) in the meta table as what the clocks table is
 * as of. In the caller's transaction if one is open, else in one of its
 * own; except that the first computation (an empty clocks table) in its
 * own transactions commits every so many rows (cc_evaluate_set_commit_rows)
 * and makes the table's secondary indexes in the last, so a failure part
 * way leaves the children done so far written and a note in meta that
 * makes the next cc_evaluate_refresh() a full recompute, which finishes
 * the job. Others may read and write between those transactions: what
 * they queue is evaluated in the last one. Returns 0, CC_EDB or
 * CC_ENOMEM. */
int cc_evaluate_all(cc_store_t *store, const cc_ruleset_t *rs, const cc_calendar_t *cal, cc_date_t today,
                    const char *fingerprint, const char *now_utc, cc_eval_stats_t *stats);

/* Bring the clocks table up to date for today: everything when the table
 * is as of another day (statuses move with the calendar), when the rule
 * set changed or when a first computation was cut short, else only the
 * children that changed. */
int cc_evaluate_refresh(cc_store_t *store, const cc_ruleset_t *rs, const cc_calendar_t *cal, cc_date_t today,
                        const char *fingerprint, const char *now_utc, cc_eval_stats_t *stats);

/* Rows the first computation writes per transaction; 0 restores the
 * default (250,000: about 50 MB of WAL). Process-wide, for tests and
 * benchmarks; set it before evaluating, not during. */
void cc_evaluate_set_commit_rows(size_t rows);

/* One child, its events and the decisions about its clocks as the engine
 * takes them; owns its memory. */
typedef struct {
    cc_child_t child;     /* child.decisions points into decisions */
    cc_event_t *events;
    size_t nevents;
    char *strings;        /* one block holding every string above */
    cc_decisions_t decisions;
} cc_eval_child_t;

/* Load one child, its events and its decisions into *out (free with
 * cc_evaluate_child_free). Returns 0, CC_ENOTFOUND, CC_EDB or CC_ENOMEM. */
int cc_evaluate_load_child(cc_store_t *store, const cc_ruleset_t *rs, const char *child_id, cc_eval_child_t *out);
void cc_evaluate_child_free(cc_eval_child_t *child);

#endif
