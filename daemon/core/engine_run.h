/* The engine's run over one child, shared by engine.c (evaluation) and
 * explain.c (explanations): internal to daemon/core. See engine.c's
 * design notes.
 */
#ifndef CARECLOCK_CORE_ENGINE_RUN_H
#define CARECLOCK_CORE_ENGINE_RUN_H

#include "careclock/engine.h"

#include <jansson.h>
#include <stddef.h>

typedef struct {
    cc_date_t start, end; /* end CC_DATE_NONE while open */
    int64_t end_event;
    const cc_event_t *start_event; /* its looked_after_start: also the identity of its per-episode clocks */
} episode_t;

/* Bookkeeping for one instance of the rule being swept. */
typedef struct {
    size_t out;           /* index in the output */
    int chain;            /* chain number within the rule */
    int closed;           /* no longer meetable: met, cancelled, or left behind */
    const cc_event_t *origin;
    cc_date_t accept_from;
} inst_t;

typedef struct {
    const cc_ruleset_t *rs;
    const cc_calendar_t *cal;
    const cc_child_t *child;
    const cc_event_t **sorted;
    size_t n;
    episode_t *eps;
    size_t neps;
    cc_clocks_t *out;
    size_t base;          /* first output index of this child */
    inst_t *inst;         /* instances of the current rule */
    size_t ninst, capinst;
    unsigned char *used;  /* per sorted event: consumed by a meeting */
    size_t *rel;          /* indices of the sorted events the current rule looks at */
    unsigned char *ep_has_origin;
    /* A due date that could not be counted (outside 1900-2199): the run
     * ends as a data_error naming the event it was counted for. */
    const cc_event_t *range_event;
    cc_date_t range_from;
    cc_date_t today;      /* for derived starts and series that end by lapse of time */
    const cc_event_t *events; /* the caller's array: parsed[e - events] caches e's attributes */
    json_t **parsed;
    unsigned char *parse_tried;
    cc_event_t derived;   /* the start a starts_when rule derived (type -1; id its episode's start) */
    cc_date_t next_change; /* the first day after today the output could differ on (cc_clocks_t) */
} run_t;

/* The day a child reaches age (29 February birthdays fall on 1 March in
 * common years, as cc_date_age counts them). */
cc_date_t cc__engine_birthday(cc_date_t dob, int age);

/* The value a condition on key compares, for event e judged at date at. */
int cc__engine_cond_value(const run_t *r, const cc_cond_t *c, const cc_event_t *e, cc_date_t at, char *buf, size_t len);

/* The episode containing date: the latest one starting on or before it
 * that had not ended before it. -1 when none. */
int cc__engine_episode_of(const run_t *r, cc_date_t date);

/* Index of the first of conds[0..n) that does not hold, or -1 when all do. */
int cc__engine_first_failing(const run_t *r, const cc_cond_t *conds, int n, const cc_event_t *e, cc_date_t at, const cc_event_t *origin);

/* Sort by event_cmp. Events usually arrive in date order already, where
 * an insertion sort is linear; it is stable, as glibc's merge sort is, so
 * the order is the same either way. Long lists go to qsort. */
void cc__engine_sort_events(const cc_event_t **v, size_t n);

/* 1 for a status that is still owed (open, due_soon, overdue, at_risk). */
int cc__engine_unmet_status(cc_status_t status);
/* Check the child's record (date of birth, each event's date and attributes)
 * and derive its episodes of care into r->eps: 0, or the data_error clock's
 * result (cc__engine_data_error) naming what is wrong; CC_ENOMEM. */
int cc__engine_validate_and_episodes(run_t *r);

/* 1 when v is one of the alternatives of list ("V3|V4"). */
int cc__engine_value_in(const char *list, const char *v);

/* The string value of attribute key of event e into buf; 0 when absent. */
int cc__engine_attr_value(const run_t *r, const cc_event_t *e, const char *key, char *buf, size_t len);

/* Replace whatever this child produced by one data_error instance. */
int cc__engine_data_error(run_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "HH:MM" as minutes after midnight, or -1. */
int cc__engine_time_minutes(const char *s);
/* A new zeroed clock at the end of clocks; NULL when out of memory. */
cc_clock_t *cc__engine_clocks_push(cc_clocks_t *clocks);

#endif
