/* The child's record as the engine reads it: events in order (on one day,
 * episode starts first and ends last), episodes of care derived and checked,
 * event attributes and the child's state on a day, and the rules' conditions
 * held against them. Internal to the engine (engine_run.h).
 */
#include "careclock/engine.h"
#include "core/apply.h"
#include "careclock/error.h"
#include "core/engine_run.h"
#include "careclock/planner.h" /* cc_role_parse */
#include "util/grow.h"
#include <assert.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int phase(int type)
{
    return type == CC_TYPE_LOOKED_AFTER_START ? 0 : type == CC_TYPE_LOOKED_AFTER_END ? 2 : 1;
}

static int event_cmp(const void *a, const void *b)
{
    const cc_event_t *x = *(const cc_event_t *const *)a, *y = *(const cc_event_t *const *)b;
    if (x->date != y->date)
        return x->date < y->date ? -1 : 1;
    int px = phase(x->type), py = phase(y->type);
    if (px != py)
        return px - py;
    return (x->id > y->id) - (x->id < y->id);
}

/* Sort by event_cmp. Events usually arrive in date order already, where
 * an insertion sort is linear; it is stable, as glibc's merge sort is, so
 * the order is the same either way. Long lists go to qsort. */
void cc__engine_sort_events(const cc_event_t **v, size_t n)
{
    if (n > 256) {
        qsort(v, n, sizeof(*v), event_cmp);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        const cc_event_t *e = v[i];
        size_t j = i;
        while (j > 0 && event_cmp(&v[j - 1], &e) > 0) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = e;
    }
}

/* The episode containing date: the latest one starting on or before it
 * that had not ended before it. -1 when none. */
int cc__engine_episode_of(const run_t *r, cc_date_t date)
{
    for (size_t i = r->neps; i-- > 0;) {
        const episode_t *e = &r->eps[i];
        if (e->start <= date && (e->end == CC_DATE_NONE || date <= e->end))
            return (int)i;
    }
    return -1;
}

/* Replace whatever this child produced by one data_error instance. */
int cc__engine_data_error(run_t *r, const char *fmt, ...)
{
    r->out->len = r->base;
    cc_clock_t *c = cc__engine_clocks_push(r->out);
    if (c == NULL)
        return CC_ENOMEM;
    c->rule = -1;
    c->seq = 1;
    c->start = c->due = CC_DATE_NONE;
    c->status = CC_STATUS_DATA_ERROR;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
    va_end(ap);
    return 0;
}

/* "HH:MM" as minutes after midnight, or -1. */
int cc__engine_time_minutes(const char *s)
{
    int h, m;
    char tail;
    if (strlen(s) != 5 || s[2] != ':' || sscanf(s, "%2d:%2d%c", &h, &m, &tail) != 2 || h < 0 || h > 23 || m < 0 ||
        m > 59)
        return -1;
    return 60 * h + m;
}

int cc__engine_validate_and_episodes(run_t *r)
{
    char d[CC_DATE_STRLEN];
    if (r->child->dob == CC_DATE_NONE)
        return cc__engine_data_error(r, "date of birth \"%s\" is not a valid date", r->child->raw_dob ? r->child->raw_dob : "");
    for (size_t i = 0; i < r->n; i++) {
        const cc_event_t *e = r->sorted[i];
        if (e->type < 0)
            return cc__engine_data_error(r, "event %lld: unknown event type \"%s\"", (long long)e->id,
                              e->raw_type ? e->raw_type : "");
        if (e->date == CC_DATE_NONE)
            return cc__engine_data_error(r, "event %lld (%s): date \"%s\" is not a valid date", (long long)e->id,
                              cc_ruleset_type_name(r->rs, (size_t)e->type), e->raw_date ? e->raw_date : "");
        /* Bounded before any is parsed (the check below parses them, and a
         * condition reads them with jansson once per rule that asks). */
        size_t attrs = e->attrs != NULL ? strnlen(e->attrs, CC_ATTRS_MAX + 1) : 0;
        if (attrs > CC_ATTRS_MAX)
            return cc__engine_data_error(r, "event %lld (%s): attributes longer than %d bytes", (long long)e->id,
                              cc_ruleset_type_name(r->rs, (size_t)e->type), CC_ATTRS_MAX);
        char why[96], tm[16];
        if (cc_engine_attrs_check(e->attrs, why, sizeof(why)) != 0)
            return cc__engine_data_error(r, "event %lld (%s): attributes %.40s%s are not a JSON object of strings: %s",
                              (long long)e->id, cc_ruleset_type_name(r->rs, (size_t)e->type), e->attrs,
                              strlen(e->attrs) > 40 ? "..." : "", why);
        /* A time of day counts hours (the 72 hours of secure accommodation):
         * one that does not parse is bad data, not midnight. */
        if (cc__engine_attr_value(r, e, "time", tm, sizeof(tm)) && cc__engine_time_minutes(tm) < 0)
            return cc__engine_data_error(r, "event %lld (%s): time \"%s\" is not a time of day (HH:MM, 00:00 to 23:59)",
                              (long long)e->id, cc_ruleset_type_name(r->rs, (size_t)e->type), tm);
    }
    /* On one day starts sort before ends (so that clocks of a new episode
     * exist before the end's cancellations run); but an episode that ends
     * and a new one that begins on the same day are two episodes: a start
     * met while an episode is open takes that day's end first. */
    for (size_t i = 0; i < r->n; i++) {
        const cc_event_t *e = r->sorted[i];
        episode_t *open = r->neps && r->eps[r->neps - 1].end == CC_DATE_NONE ? &r->eps[r->neps - 1] : NULL;
        if (e->type == CC_TYPE_LOOKED_AFTER_START && open != NULL) {
            for (size_t j = i + 1; j < r->n && r->sorted[j]->date == e->date; j++) {
                if (r->sorted[j]->type == CC_TYPE_LOOKED_AFTER_END && !r->used[j]) {
                    open->end = e->date;
                    open->end_event = r->sorted[j]->id;
                    r->used[j] = 1;
                    open = NULL;
                    break;
                }
            }
        }
        if (e->type == CC_TYPE_LOOKED_AFTER_START && open == NULL) {
            r->eps[r->neps].start = e->date;
            r->eps[r->neps].end = CC_DATE_NONE;
            r->eps[r->neps].end_event = 0;
            r->eps[r->neps].start_event = e;
            r->neps++;
        } else if (e->type == CC_TYPE_LOOKED_AFTER_END && !r->used[i]) {
            if (open == NULL)
                return cc__engine_data_error(r, "event %lld: looked_after_end on %s with no episode of care open",
                                  (long long)e->id, cc_date_format(e->date, d));
            open->end = e->date;
            open->end_event = e->id;
        }
    }
    return 1;
}

/* The parsed attributes of e (cached for the run when r has a cache and e
 * is one of the caller's events), or NULL when it has none. The caller
 * json_decref()s the result only when *owned is set. */
static json_t *attrs_of(const run_t *r, const cc_event_t *e, int *owned)
{
    *owned = 0;
    if (e == NULL || e->attrs == NULL || e->attrs[0] == '\0')
        return NULL;
    if (r != NULL && r->parsed != NULL && r->events != NULL && e >= r->events && e < r->events + r->n) {
        size_t i = (size_t)(e - r->events);
        if (!r->parse_tried[i]) {
            r->parse_tried[i] = 1;
            r->parsed[i] = json_loads(e->attrs, JSON_REJECT_DUPLICATES, NULL);
        }
        return r->parsed[i];
    }
    *owned = 1;
    return json_loads(e->attrs, JSON_REJECT_DUPLICATES, NULL);
}

/* The string value of attribute key of event e into buf; 0 when absent. */
int cc__engine_attr_value(const run_t *r, const cc_event_t *e, const char *key, char *buf, size_t len)
{
    int found = 0, owned;
    if (e == NULL || e->attrs == NULL || strstr(e->attrs, key) == NULL)
        return 0;
    json_t *root = attrs_of(r, e, &owned);
    json_t *v = root ? json_object_get(root, key) : NULL;
    if (json_is_string(v)) {
        snprintf(buf, len, "%s", json_string_value(v));
        found = 1;
    }
    if (owned)
        json_decref(root);
    return found;
}

/* 1 when v is one of the alternatives of list ("V3|V4"). */
int cc__engine_value_in(const char *list, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = list;;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, v, n) == 0)
            return 1;
        if (bar == NULL)
            return 0;
        p = bar + 1;
    }
}

/* The first day of the span state is looked up in for date: the start of
 * the episode of care containing it, else the day after the last episode
 * that ended before it (state never crosses an end of care). */
static cc_date_t state_from(const run_t *r, cc_date_t date)
{
    int ep = cc__engine_episode_of(r, date);
    if (ep >= 0)
        return r->eps[ep].start;
    cc_date_t from = CC_DATE_NONE;
    for (size_t i = 0; i < r->neps; i++)
        if (r->eps[i].end != CC_DATE_NONE && r->eps[i].end < date && (from == CC_DATE_NONE || r->eps[i].end >= from))
            from = r->eps[i].end + 1;
    return from;
}

/* The value of state attribute key (docs/rules.md, "state"): with prev,
 * the value just before event e (recorded by an event sorted before it);
 * otherwise e's own value when e is dated at and records one, else the
 * value recorded by the latest event dated on or before at. Either way
 * within the episode of care (or the time out of care) containing the
 * date. 1 with the value in buf, 0 when nothing records it. */
static int state_value(const run_t *r, const char *key, const cc_event_t *e, cc_date_t at, int prev, char *buf,
                       size_t len)
{
    if (!prev && e != NULL && e->date == at && cc__engine_attr_value(r, e, key, buf, len))
        return 1;
    cc_date_t date = prev && e != NULL ? e->date : at;
    cc_date_t from = state_from(r, date);
    size_t hi = r->n;
    if (prev && e != NULL) {
        for (hi = 0; hi < r->n && r->sorted[hi] != e; hi++)
            ;
    } else {
        while (hi > 0 && r->sorted[hi - 1]->date > date)
            hi--;
    }
    for (size_t i = hi; i-- > 0;) {
        const cc_event_t *x = r->sorted[i];
        if (from != CC_DATE_NONE && x->date < from)
            break;
        if (x != e && cc__engine_attr_value(r, x, key, buf, len))
            return 1;
    }
    return 0;
}

/* The value a condition on key compares, for event e judged at date at. */
int cc__engine_cond_value(const run_t *r, const cc_cond_t *c, const cc_event_t *e, cc_date_t at, char *buf, size_t len)
{
    if (c->state)
        return state_value(r, c->key, e, at, c->prev, buf, len);
    return cc__engine_attr_value(r, e, c->key, buf, len);
}

int cc_engine_attrs_check(const char *attrs, char *why, size_t len)
{
    assert(why != NULL && len > 0);
    if (attrs == NULL || attrs[strspn(attrs, " \t\r\n")] == '\0' || strcmp(attrs, "{}") == 0)
        return 0;
    json_error_t jerr;
    json_t *root = json_loads(attrs, JSON_REJECT_DUPLICATES, &jerr);
    int rc = CC_EINVAL;
    if (root == NULL) {
        snprintf(why, len, "%s (column %d)", jerr.text, jerr.column);
        return rc;
    }
    if (!json_is_object(root)) {
        snprintf(why, len, "not an object");
        goto out;
    }
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value) {
        if (!json_is_string(value)) {
            snprintf(why, len, "the value of \"%.32s\" is not a string", key);
            goto out;
        }
    }
    rc = 0;
out:
    json_decref(root);
    return rc;
}

/* Whether condition c holds: attributes on event e (or the child's state,
 * for a state attribute), the child's age on date at, the time from the
 * chain's starting event (origin) to at, an event of a type since origin. */
static int cond_holds(const run_t *r, const cc_cond_t *c, const cc_event_t *e, cc_date_t at,
                      const cc_event_t *origin)
{
    cc_date_t from;
    char value[CC_COND_VALUE_MAX];
    int rc;
    switch (c->kind) {
    case CC_COND_ATTR: return cc__engine_cond_value(r, c, e, at, value, sizeof(value)) && cc__engine_value_in(c->value, value);
    case CC_COND_ATTR_NE: return !(cc__engine_cond_value(r, c, e, at, value, sizeof(value)) && cc__engine_value_in(c->value, value));
    case CC_COND_AGE_LT: return cc_date_age(r->child->dob, at) < c->age;
    case CC_COND_AGE_GE: return cc_date_age(r->child->dob, at) >= c->age;
    case CC_COND_SINCE_GE:
        if (origin == NULL)
            return 0;
        rc = cc_offset_apply(r->cal, origin->date, c->since, &from);
        return (rc == 0 || rc == CC_EUNCOVERED) && at >= from;
    case CC_COND_AFTER:
        for (size_t i = 0; i < r->n && r->sorted[i]->date <= at; i++)
            if (r->sorted[i]->type == c->type && (origin == NULL || r->sorted[i]->date >= origin->date))
                return 1;
        return 0;
    default: return 1;
    }
}

/* Index of the first of conds[0..n) that does not hold, or -1 when all do. */
int cc__engine_first_failing(const run_t *r, const cc_cond_t *conds, int n, const cc_event_t *e, cc_date_t at,
                         const cc_event_t *origin)
{
    for (int i = 0; i < n; i++)
        if (!cond_holds(r, &conds[i], e, at, origin))
            return i;
    return -1;
}
