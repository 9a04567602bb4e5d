/* The clock engine. See include/careclock/engine.h for the contract and
 * docs/engine.md for the semantics in words.
 *
 * One child at a time: sort the events (by date; on one day, episode starts
 * first and episode ends last), derive the episodes of care, then for each
 * rule in evaluation order sweep the events once: on each date, origins
 * first (new instances), then meeting events, then cancelling events. Rules
 * anchored on another rule read that rule's finished instances, which come
 * earlier in the output because the ruleset orders anchors first.
 */
#include "careclock/engine.h"
#include "core/apply.h"
#include "careclock/error.h"
#include "careclock/planner.h" /* cc_role_parse */
#include "util/grow.h"

#include <assert.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cc_clocks_init(cc_clocks_t *clocks)
{
    clocks->items = NULL;
    clocks->len = clocks->cap = 0;
    clocks->next_change = CC_DATE_NEVER;
}

void cc_clocks_reset(cc_clocks_t *clocks)
{
    clocks->len = 0;
    clocks->next_change = CC_DATE_NEVER;
}

void cc_clocks_free(cc_clocks_t *clocks)
{
    free(clocks->items);
    cc_clocks_init(clocks);
}

static cc_clock_t *clocks_push(cc_clocks_t *clocks)
{
    if (cc__grow(&clocks->items, &clocks->cap, clocks->len + 1, sizeof(cc_clock_t), 32) != 0)
        return NULL;
    cc_clock_t *c = &clocks->items[clocks->len++];
    memset(c, 0, sizeof(*c));
    c->met_on = CC_DATE_NONE;
    c->left_care = CC_DATE_NONE;
    c->agreed = CC_DATE_NONE;
    c->scheduled = CC_DATE_NONE;
    c->episode = -1;
    return c;
}

static const char *const status_names[CC_STATUS_COUNT] = {"open",      "due_soon",   "overdue",
                                                           "met",       "met_late",   "cancelled",
                                                           "data_error", "at_risk",   "excepted"};

const char *cc_status_name(cc_status_t status)
{
    return (unsigned)status < CC_STATUS_COUNT ? status_names[status] : "unknown";
}

int cc_status_parse(const char *name)
{
    for (int i = 0; i < CC_STATUS_COUNT; i++)
        if (strcmp(name, status_names[i]) == 0)
            return i;
    return -1;
}

int cc_clock_key(const cc_clock_t *clock, char *buf, size_t len)
{
    assert(clock != NULL && (buf != NULL || len == 0));
    if (clock->rule < 0)
        return snprintf(buf, len, "%s", CC_CLOCK_KEY_DATA_ERROR);
    /* Every instance of a rule has a starting event (a chain's later ones
     * inherit the first's), whose id no other event has. */
    assert(clock->chain_index >= 0);
    return snprintf(buf, len, "%lld.%d", (long long)clock->key_event, clock->chain_index + 1);
}

cc_date_t cc_clock_chase_date(const cc_clock_t *clock)
{
    if (clock->agreed != CC_DATE_NONE && clock->due != CC_DATE_NONE && clock->agreed > clock->due)
        return clock->agreed;
    return clock->due;
}

cc_status_t cc_engine_status(const cc_rule_t *rule, const cc_calendar_t *cal, cc_date_t today,
                             const cc_clock_t *clock)
{
    if (clock->status == CC_STATUS_CANCELLED || clock->status == CC_STATUS_DATA_ERROR ||
        clock->status == CC_STATUS_AT_RISK || clock->status == CC_STATUS_EXCEPTED)
        return clock->status;
    /* Met or met late against the statutory date, whatever was agreed: the
     * agreement moves the chasing, not the law. */
    if (clock->met_on != CC_DATE_NONE)
        return clock->met_on <= clock->due ? CC_STATUS_MET : CC_STATUS_MET_LATE;
    cc_date_t due = cc_clock_chase_date(clock);
    if (due < today)
        return CC_STATUS_OVERDUE;
    cc_date_t warn_from;
    int rc = cc_calendar_add_working_days(cal, due, -(rule ? rule->warn_wd : 5), &warn_from);
    if ((rc == 0 || rc == CC_EUNCOVERED) && today >= warn_from)
        return CC_STATUS_DUE_SOON;
    return CC_STATUS_OPEN;
}

/* The first day after today on which the clock's status (cc_engine_status,
 * then the decisions: apply.c) is another (open to due soon, due soon or
 * at risk to overdue), counted from the date it is chased to (an agreed
 * extension's, else the due date); CC_DATE_NEVER when none is (met,
 * cancelled, excepted, data errors, overdue). */
static cc_date_t status_moves_on(const cc_rule_t *rule, const cc_calendar_t *cal, cc_date_t today,
                                 const cc_clock_t *clock)
{
    cc_date_t due = cc_clock_chase_date(clock);
    if (clock->status == CC_STATUS_CANCELLED || clock->status == CC_STATUS_DATA_ERROR ||
        clock->status == CC_STATUS_EXCEPTED || clock->met_on != CC_DATE_NONE || due == CC_DATE_NONE || due < today)
        return CC_DATE_NEVER;
    cc_date_t next = due + 1, warn_from;
    if (clock->status == CC_STATUS_AT_RISK)
        return next; /* at risk until it is overdue */
    int rc = cc_calendar_add_working_days(cal, due, -(rule ? rule->warn_wd : 5), &warn_from);
    if ((rc == 0 || rc == CC_EUNCOVERED) && warn_from > today && warn_from < next)
        next = warn_from;
    return next;
}

/* ---- per-run state ---- */

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

/* The output may differ from day d on, by the passing of days alone (d
 * after today; an earlier day than the real one is safe: the child is
 * evaluated once more for nothing). */
static void changes_on(run_t *r, cc_date_t d)
{
    if (d > r->today && d < r->next_change)
        r->next_change = d;
}

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
static void sort_events(const cc_event_t **v, size_t n)
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
static int episode_of(const run_t *r, cc_date_t date)
{
    for (size_t i = r->neps; i-- > 0;) {
        const episode_t *e = &r->eps[i];
        if (e->start <= date && (e->end == CC_DATE_NONE || date <= e->end))
            return (int)i;
    }
    return -1;
}

static int data_error(run_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Replace whatever this child produced by one data_error instance. */
static int data_error(run_t *r, const char *fmt, ...)
{
    r->out->len = r->base;
    cc_clock_t *c = clocks_push(r->out);
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

static int attr_value(const run_t *r, const cc_event_t *e, const char *key, char *buf, size_t len);

/* "HH:MM" as minutes after midnight, or -1. */
static int time_minutes(const char *s)
{
    int h, m;
    char tail;
    if (strlen(s) != 5 || s[2] != ':' || sscanf(s, "%2d:%2d%c", &h, &m, &tail) != 2 || h < 0 || h > 23 || m < 0 ||
        m > 59)
        return -1;
    return 60 * h + m;
}

static int validate_and_episodes(run_t *r)
{
    char d[CC_DATE_STRLEN];
    if (r->child->dob == CC_DATE_NONE)
        return data_error(r, "date of birth \"%s\" is not a valid date", r->child->raw_dob ? r->child->raw_dob : "");
    for (size_t i = 0; i < r->n; i++) {
        const cc_event_t *e = r->sorted[i];
        if (e->type < 0)
            return data_error(r, "event %lld: unknown event type \"%s\"", (long long)e->id,
                              e->raw_type ? e->raw_type : "");
        if (e->date == CC_DATE_NONE)
            return data_error(r, "event %lld (%s): date \"%s\" is not a valid date", (long long)e->id,
                              cc_ruleset_type_name(r->rs, (size_t)e->type), e->raw_date ? e->raw_date : "");
        /* Bounded before any is parsed (the check below parses them, and a
         * condition reads them with jansson once per rule that asks). */
        size_t attrs = e->attrs != NULL ? strnlen(e->attrs, CC_ATTRS_MAX + 1) : 0;
        if (attrs > CC_ATTRS_MAX)
            return data_error(r, "event %lld (%s): attributes longer than %d bytes", (long long)e->id,
                              cc_ruleset_type_name(r->rs, (size_t)e->type), CC_ATTRS_MAX);
        char why[96], tm[16];
        if (cc_engine_attrs_check(e->attrs, why, sizeof(why)) != 0)
            return data_error(r, "event %lld (%s): attributes %.40s%s are not a JSON object of strings: %s",
                              (long long)e->id, cc_ruleset_type_name(r->rs, (size_t)e->type), e->attrs,
                              strlen(e->attrs) > 40 ? "..." : "", why);
        /* A time of day counts hours (the 72 hours of secure accommodation):
         * one that does not parse is bad data, not midnight. */
        if (attr_value(r, e, "time", tm, sizeof(tm)) && time_minutes(tm) < 0)
            return data_error(r, "event %lld (%s): time \"%s\" is not a time of day (HH:MM, 00:00 to 23:59)",
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
                return data_error(r, "event %lld: looked_after_end on %s with no episode of care open",
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
static int attr_value(const run_t *r, const cc_event_t *e, const char *key, char *buf, size_t len)
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
static int value_in(const char *list, const char *v)
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
    int ep = episode_of(r, date);
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
    if (!prev && e != NULL && e->date == at && attr_value(r, e, key, buf, len))
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
        if (x != e && attr_value(r, x, key, buf, len))
            return 1;
    }
    return 0;
}

/* The value a condition on key compares, for event e judged at date at. */
static int cond_value(const run_t *r, const cc_cond_t *c, const cc_event_t *e, cc_date_t at, char *buf, size_t len)
{
    if (c->state)
        return state_value(r, c->key, e, at, c->prev, buf, len);
    return attr_value(r, e, c->key, buf, len);
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
    case CC_COND_ATTR: return cond_value(r, c, e, at, value, sizeof(value)) && value_in(c->value, value);
    case CC_COND_ATTR_NE: return !(cond_value(r, c, e, at, value, sizeof(value)) && value_in(c->value, value));
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
static int first_failing(const run_t *r, const cc_cond_t *conds, int n, const cc_event_t *e, cc_date_t at,
                         const cc_event_t *origin)
{
    for (int i = 0; i < n; i++)
        if (!cond_holds(r, &conds[i], e, at, origin))
            return i;
    return -1;
}

static int apply(const run_t *r, cc_date_t from, cc_offset_t off, cc_clock_t *c)
{
    int rc = cc_offset_apply(r->cal, from, off, &c->due);
    if (rc == CC_EUNCOVERED)
        c->flags |= CC_CLOCK_UNCOVERED;
    else if (rc != 0)
        return rc;
    c->from = from;
    return 0;
}

/* Interval for the instance after chain_index (0-based) of a chain: its
 * conditions are judged on date at (the new instance's start), the offset
 * counted from date from (the previous instance's met date). */
static int next_due(const run_t *r, const cc_rule_t *rule, const cc_event_t *origin, int chain_index, cc_date_t at,
                    cc_date_t from, cc_clock_t *c)
{
    for (int i = 0; i < rule->nthen_if; i++) {
        const cc_interval_t *iv = &rule->then_if[i];
        if (first_failing(r, iv->when, iv->nwhen, origin, at, origin) < 0) {
            c->basis = CC_BASIS_THEN_IF;
            c->basis_index = i;
            return apply(r, from, iv->offset, c);
        }
    }
    int k = chain_index < rule->nthen ? chain_index : rule->nthen - 1;
    c->basis = CC_BASIS_THEN;
    c->basis_index = k;
    return apply(r, from, rule->then[k], c);
}

/* Due date from an anchor rule's instances in the same episode. Returns 1
 * when found or projected, 0 when the anchor has no instance there. */
static int anchored_due(run_t *r, const cc_rule_t *rule, int episode, cc_clock_t *c)
{
    int anchor = rule->anchor_rule, count = 0;
    const cc_rule_t *arule = cc_ruleset_rule(r->rs, (size_t)anchor);
    const cc_clock_t *last = NULL;
    for (size_t i = r->base; i < r->out->len; i++) {
        const cc_clock_t *a = &r->out->items[i];
        if (a->rule != anchor || a->episode != episode)
            continue;
        last = a;
        if (++count == rule->anchor_seq)
            break;
    }
    if (last == NULL)
        return 0;
    cc_date_t d = last->met_on != CC_DATE_NONE ? last->met_on : last->due;
    c->basis = CC_BASIS_ANCHOR;
    c->flags |= last->flags & CC_CLOCK_UNCOVERED;
    if (count < rule->anchor_seq) {
        /* Not there yet: project as if each missing instance were held on
         * its due date. */
        int k = last->chain_index;
        cc_clock_t tmp;
        if (arule->nthen == 0)
            return 0;
        for (; count < rule->anchor_seq; count++, k++) {
            memset(&tmp, 0, sizeof(tmp));
            if (next_due(r, arule, NULL, k, d, d, &tmp) != 0)
                return 0;
            c->flags |= tmp.flags;
            d = tmp.due;
        }
        c->flags |= CC_CLOCK_PROJECTED;
    }
    c->due = d;
    c->from = d;
    return 1;
}

static inst_t *inst_push(run_t *r)
{
    if (cc__grow(&r->inst, &r->capinst, r->ninst + 1, sizeof(inst_t), 16) != 0)
        return NULL;
    inst_t *in = &r->inst[r->ninst++];
    memset(in, 0, sizeof(*in));
    return in;
}

static void meet(run_t *r, inst_t *in, const cc_event_t *e)
{
    cc_clock_t *c = &r->out->items[in->out];
    c->met_on = e->date;
    c->met_event = e->id;
    if (e->date < c->start)
        c->flags |= CC_CLOCK_EARLY;
    in->closed = 1;
}

/* The first day a meeting event dated before start may have, for an
 * instance of rule in episode (docs/engine.md, "accept_early"). */
static cc_date_t early_from(const run_t *r, const cc_rule_t *rule, cc_date_t start, int episode)
{
    assert(episode >= -1 && episode < (int)r->neps);
    cc_date_t from = start;
    switch (rule->accept_early) {
    case CC_EARLY_NO:
        return start;
    case CC_EARLY_EPISODE:
        from = episode >= 0 ? r->eps[episode].start : CC_DATE_NONE + 1;
        break;
    case CC_EARLY_WINDOW: {
        cc_offset_t back = {-rule->early_window.n, rule->early_window.unit};
        int rc = cc_offset_apply(r->cal, start, back, &from);
        if (rc != 0 && rc != CC_EUNCOVERED)
            from = start;
        /* Within the episode (today's meaning of yes) is never less. */
        if (episode >= 0 && r->eps[episode].start < from)
            from = r->eps[episode].start;
        /* Never the previous episode's: on or before the day it ended, an
         * event was that episode's (episodes are in date order). */
        if (episode > 0 && r->eps[episode - 1].end != CC_DATE_NONE && from <= r->eps[episode - 1].end)
            from = r->eps[episode - 1].end + 1;
        break;
    }
    }
    return from < start ? from : start;
}

/* Create an instance; for the first of a chain chain_index is 0 and prev
 * NULL; for a later one, from is the date its interval counts from (the
 * previous instance's met date). Returns the new inst_t index, -1 when the
 * rule gives no instance (or its due date cannot be counted: r->range_event
 * is set), or CC_ENOMEM. */
static long create(run_t *r, const cc_rule_t *rule, int rule_index, const cc_event_t *origin, int chain,
                   int chain_index, cc_date_t start, cc_date_t from, int episode, const cc_clock_t *prev)
{
    cc_clock_t *c = clocks_push(r->out);
    if (c == NULL)
        return CC_ENOMEM;
    c->rule = rule_index;
    c->episode = episode;
    c->start = start;
    c->start_event = origin ? origin->id : 0;
    c->chain_index = chain_index;
    c->status = CC_STATUS_OPEN;
    /* The identity (docs/engine.md, "Identity"): the chain's first event,
     * which history recorded later before it cannot change; for a rule of
     * one clock per episode, the episode's own start, so that a placement
     * recorded later inside the episode does not change it either. */
    c->key_event = prev != NULL                                    ? prev->key_event
                   : rule->per == CC_PER_EPISODE && episode >= 0 ? r->eps[episode].start_event->id
                                                                  : c->start_event;
    int rc = 0;
    if (prev != NULL) {
        c->start_event = prev->met_event;
        rc = next_due(r, rule, origin, chain_index - 1, start, from, c);
    } else if (rule->anchor_rule >= 0) {
        if (!anchored_due(r, rule, episode, c)) {
            r->out->len--;
            return -1;
        }
    } else {
        int done = 0;
        for (int i = 0; i < rule->ndue_if && !done; i++) {
            if (first_failing(r, rule->due_if[i].when, rule->due_if[i].nwhen, origin, start, origin) < 0) {
                c->basis = CC_BASIS_DUE_IF;
                c->basis_index = i;
                rc = apply(r, start, rule->due_if[i].offset, c);
                done = 1;
            }
        }
        if (!done && rule->due_hours > 0) {
            /* Hours from the starting event's time of day (else from the
             * start of its day); the due date is the day the last minute of
             * the period falls in: 72 hours from 18:30 on Monday end at
             * 18:30 on Thursday, from Monday unknown at 00:00 on Thursday,
             * so Wednesday is the last day. */
            char tm[16];
            int minute = origin && attr_value(r, origin, "time", tm, sizeof(tm)) ? time_minutes(tm) : -1;
            long end = (long)(minute < 0 ? 0 : minute) + 60L * rule->due_hours;
            c->basis = CC_BASIS_DUE;
            c->flags |= CC_CLOCK_HOURS | (minute < 0 ? CC_CLOCK_NO_TIME : 0);
            c->from_minute = minute < 0 ? 0 : minute;
            c->due_minute = (int)((end - 1) % 1440) + 1;
            rc = apply(r, start, (cc_offset_t){(int)((end - 1) / 1440), CC_UNIT_DAYS}, c);
        } else if (!done) {
            c->basis = CC_BASIS_DUE;
            rc = apply(r, start, rule->due, c);
        }
    }
    if (rc != 0) {
        r->out->len--;
        if (rc == CC_ERANGE && r->range_event == NULL) {
            r->range_event = origin;
            r->range_from = start;
        }
        return rc == CC_ENOMEM ? CC_ENOMEM : -1;
    }
    size_t out_index = r->out->len - 1;
    inst_t *in = inst_push(r);
    if (in == NULL)
        return CC_ENOMEM;
    in->out = out_index;
    in->chain = chain;
    in->origin = origin;
    /* Early meeting events: only for the first instance of a chain (a
     * chain's later ones start on the previous one's met date). */
    in->accept_from = prev == NULL ? early_from(r, rule, start, episode) : start;
    return (long)(r->ninst - 1);
}

/* After an instance of a chain is met, start the next one. */
static int continue_chain(run_t *r, const cc_rule_t *rule, int rule_index, size_t inst_index)
{
    inst_t in = r->inst[inst_index];
    cc_clock_t prev = r->out->items[in.out];
    if (rule->nthen == 0)
        return 0;
    /* An instance met early (before its start) starts the next on its own
     * start, so that sequence numbers follow the chain, but the interval
     * counts from the met date: reg 7(3)'s "every six months" runs from the
     * assessment actually done. */
    cc_date_t start = prev.met_on > prev.start ? prev.met_on : prev.start;
    long made = create(r, rule, rule_index, in.origin, in.chain, prev.chain_index + 1, start, prev.met_on,
                       prev.episode, &prev);
    return made == CC_ENOMEM ? CC_ENOMEM : 0;
}

/* An early meeting event, for a rule that accepts one: the earliest unused
 * meeting event in [accept_from, start). */
static void take_early(run_t *r, const cc_rule_t *rule, size_t inst_index)
{
    inst_t *in = &r->inst[inst_index];
    cc_date_t start = r->out->items[in->out].start;
    for (size_t i = 0; i < r->n; i++) {
        const cc_event_t *e = r->sorted[i];
        if (e->date >= start)
            break;
        if (r->used[i] || e->date < in->accept_from)
            continue;
        for (int t = 0; t < rule->nmet_by; t++) {
            if (e->type == rule->met_by[t]) {
                r->used[i] = 1;
                meet(r, in, e);
                return;
            }
        }
    }
}

static int is_met_by(const cc_rule_t *rule, int type)
{
    for (int t = 0; t < rule->nmet_by; t++)
        if (rule->met_by[t] == type)
            return 1;
    return 0;
}

/* Close one instance: cancelled when not yet due on date, otherwise left
 * unmet (it was missed) but no longer meetable. left: the day the child
 * left care when the end of the episode closes it (CC_DATE_NONE
 * otherwise): no reminder about it after that day. */
static void close_inst(run_t *r, inst_t *in, cc_date_t date, const char *why, cc_date_t left)
{
    char d[CC_DATE_STRLEN];
    cc_clock_t *c = &r->out->items[in->out];
    in->closed = 1;
    c->left_care = left;
    if (c->due >= date) {
        c->status = CC_STATUS_CANCELLED;
        snprintf(c->reason, sizeof(c->reason), "%s on %s, before the due date", why, cc_date_format(date, d));
    }
}

/* Close every open instance that cancel applies to (close_inst). */
static void close_open(run_t *r, int chain_only, int episode_only, cc_date_t date, const char *why, cc_date_t left)
{
    for (size_t i = 0; i < r->ninst; i++) {
        inst_t *in = &r->inst[i];
        cc_clock_t *c = &r->out->items[in->out];
        /* An instance dated after the episode it belongs to ended (a review
         * scheduled for after the child left care) has no episode of its
         * own; the end of the episode before it closes it too. */
        int in_episode = c->episode == episode_only ||
                         (episode_only >= 0 && c->episode == -1 && c->start >= r->eps[episode_only].start);
        if (in->closed || (chain_only >= 0 && in->chain != chain_only) || (episode_only >= -1 && !in_episode))
            continue;
        close_inst(r, in, date, why, left);
    }
}

/* Close the open instance started latest on or before date (the clock of
 * the referral a decision is about), if there is one. */
static void close_latest(run_t *r, cc_date_t date, const char *why)
{
    assert(why != NULL);
    inst_t *latest = NULL;
    for (size_t i = 0; i < r->ninst; i++) {
        inst_t *in = &r->inst[i];
        const cc_clock_t *c = &r->out->items[in->out];
        if (!in->closed && c->start <= date && (latest == NULL || c->start >= r->out->items[latest->out].start))
            latest = in;
    }
    if (latest != NULL)
        close_inst(r, latest, date, why, CC_DATE_NONE);
}

/* 1 when an instance of the rule being swept is still to be met. */
static int has_open(const run_t *r)
{
    for (size_t i = 0; i < r->ninst; i++)
        if (!r->inst[i].closed && r->out->items[r->inst[i].out].status != CC_STATUS_CANCELLED)
            return 1;
    return 0;
}

/* Whether starting event e starts an instance. For per-episode rules only
 * the first starting event of the episode can, and the conditions are
 * judged on it (the PEP's age is the age at the first placement). */
static int origin_applies(run_t *r, const cc_rule_t *rule, const cc_event_t *e, int episode)
{
    if (rule->in_care_only && episode < 0)
        return 0;
    if (rule->per == CC_PER_EPISODE) {
        if (episode < 0 || r->ep_has_origin[episode])
            return 0;
        r->ep_has_origin[episode] = 1;
    }
    return first_failing(r, rule->applies, rule->napplies, e, e->date, e) < 0;
}

static int clock_start_cmp(const void *a, const void *b)
{
    const cc_clock_t *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return (x->chain_index > y->chain_index) - (x->chain_index < y->chain_index);
}

/* Sort by clock_start_cmp, stably (instances of two chains can start on
 * one day with the same chain index: they keep their creation order, as
 * glibc's merge sort keeps it). Instances are created nearly in order, so
 * an insertion sort is close to linear; long runs go to qsort. */
static void sort_clocks(cc_clock_t *v, size_t n)
{
    if (n > 64) {
        qsort(v, n, sizeof(*v), clock_start_cmp);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        if (clock_start_cmp(&v[i - 1], &v[i]) <= 0)
            continue;
        cc_clock_t tmp = v[i];
        size_t j = i;
        while (j > 0 && clock_start_cmp(&v[j - 1], &tmp) > 0) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = tmp;
    }
}

/* A rule's cancel_on lines, as one list: the first (cancel_type, ...) and
 * the further ones (more_cancels). */
typedef struct {
    int type;
    const cc_cond_t *when;
    int nwhen;
    const char *reason; /* NULL: the default for the event */
} cancel_view_t;

static int cancels_of(const cc_rule_t *rule, cancel_view_t *out)
{
    int n = 0;
    if (rule->cancel_type >= 0)
        out[n++] = (cancel_view_t){rule->cancel_type, rule->cancel_when, rule->ncancel_when, rule->cancel_reason};
    for (int i = 0; i < rule->nmore_cancels; i++) {
        const cc_cancel_t *c = &rule->more_cancels[i];
        out[n++] = (cancel_view_t){c->type, c->when, c->nwhen, c->reason ? c->reason : rule->cancel_reason};
    }
    return n;
}

/* The day a child reaches age (29 February birthdays fall on 1 March in
 * common years, as cc_date_age counts them). */
static cc_date_t birthday(cc_date_t dob, int age)
{
    cc_date_t d = cc_date_add_months(dob, 12 * age);
    while (cc_date_age(dob, d) < age)
        d++;
    return d;
}

/* The day rule->starts_when is first met (cc_threshold_t): the child is
 * looked after that day (an episode that has ended must go on after it),
 * of age, and the days looked after since the since_age birthday, in
 * episodes whose start meets its conditions, amount to its total; never
 * after today. *ep the episode. CC_DATE_NONE when not (yet) met. */
static cc_date_t threshold_date(run_t *r, const cc_rule_t *rule, int *ep_out)
{
    const cc_threshold_t *t = &rule->starts_when;
    cc_date_t counted_from = birthday(r->child->dob, t->since_age);
    cc_date_t min_day = birthday(r->child->dob, t->min_age);
    cc_date_t max_day = t->max_age > 0 ? birthday(r->child->dob, t->max_age) : CC_DATE_NONE;
    long total = 0;
    assert(t->active && t->days > 0);
    for (size_t i = 0; i < r->neps; i++) {
        const episode_t *ep = &r->eps[i];
        if (first_failing(r, t->when, t->nwhen, ep->start_event, ep->start, ep->start_event) >= 0)
            continue;
        cc_date_t s = ep->start > counted_from ? ep->start : counted_from;
        cc_date_t e = ep->end != CC_DATE_NONE ? ep->end : r->today;
        /* An open episode counts to today: the total and so the answer
         * move with the days (changes_on). Episodes are in date order, so an
         * open one is the last; were it not, tomorrow. */
        if (ep->end == CC_DATE_NONE && i + 1 < r->neps)
            changes_on(r, r->today + 1);
        if (e < s) {
            if (ep->end == CC_DATE_NONE)
                changes_on(r, s);
            continue;
        }
        cc_date_t d = s + (total >= t->days ? 0 : (cc_date_t)(t->days - total));
        if (d < min_day)
            d = min_day;
        int inside = ep->end != CC_DATE_NONE ? d < e : d <= e;
        if (inside && d <= r->today && (max_day == CC_DATE_NONE || d < max_day)) {
            *ep_out = (int)i;
            return d;
        }
        /* Reached after today: from day d the rule starts (an open episode
         * is inside on that day, as its end is then that day or later). */
        if (d > r->today && (max_day == CC_DATE_NONE || d < max_day) && (ep->end == CC_DATE_NONE || d < e))
            changes_on(r, d);
        total += e - s;
    }
    return CC_DATE_NONE;
}

/* The day a series (CC_PER_SERIES) lapses: series_gap after the end of
 * its last episode; CC_DATE_NONE while that episode is open. */
static cc_date_t series_lapse(const run_t *r, const cc_rule_t *rule, int ep)
{
    cc_date_t d;
    if (ep < 0 || r->eps[ep].end == CC_DATE_NONE)
        return CC_DATE_NONE;
    int rc = cc_offset_apply(r->cal, r->eps[ep].end, rule->series_gap, &d);
    return rc == 0 || rc == CC_EUNCOVERED ? d : CC_DATE_NONE;
}

/* After an instance was created for a rule that accepts early events:
 * take one, and when that met it, go on along the chain. */
static int after_create(run_t *r, const cc_rule_t *rule, int rule_index, long made)
{
    if (made >= 0 && rule->accept_early) {
        take_early(r, rule, (size_t)made);
        if (r->inst[made].closed && continue_chain(r, rule, rule_index, (size_t)made) != 0)
            return CC_ENOMEM;
    }
    return made == CC_ENOMEM ? CC_ENOMEM : 0;
}

/* The start a starts_when rule derives, on day d in episode ep. */
static int derive_start(run_t *r, const cc_rule_t *rule, int rule_index, cc_date_t d, int ep, int *chains)
{
    assert(ep >= 0 && (size_t)ep < r->neps);
    memset(&r->derived, 0, sizeof(r->derived));
    r->derived.id = r->eps[ep].start_event->id;
    r->derived.type = -1;
    r->derived.date = d;
    long made = create(r, rule, rule_index, &r->derived, (*chains)++, 0, d, d, ep, NULL);
    if (made >= 0)
        r->out->items[r->inst[made].out].flags |= CC_CLOCK_DERIVED;
    return after_create(r, rule, rule_index, made);
}

/* Whether events of type take part in the rule's sweep. */
static int relevant(const cc_rule_t *rule, const cancel_view_t *cancels, int ncancels, int type)
{
    if (cc_rule_starts_on(rule, type) || is_met_by(rule, type) || type == rule->extend_type)
        return 1;
    if (rule->per == CC_PER_PLACEMENT && type == CC_TYPE_PLACEMENT_START)
        return 1;
    for (int k = 0; k < ncancels; k++)
        if (cancels[k].type == type)
            return 1;
    return 0;
}

/* extend_on: the latest open instance started on or before e, not yet
 * past due and not extended before, is due extend_offset later. */
static void extend(run_t *r, const cc_rule_t *rule, const cc_event_t *e)
{
    inst_t *latest = NULL;
    for (size_t i = 0; i < r->ninst; i++) {
        inst_t *in = &r->inst[i];
        const cc_clock_t *c = &r->out->items[in->out];
        if (!in->closed && c->status != CC_STATUS_CANCELLED && c->start <= e->date && c->due >= e->date &&
            !(c->flags & CC_CLOCK_EXTENDED) && (latest == NULL || c->start >= r->out->items[latest->out].start))
            latest = in;
    }
    if (latest == NULL)
        return;
    cc_clock_t *c = &r->out->items[latest->out];
    cc_date_t d;
    int rc = cc_offset_apply(r->cal, c->due, rule->extend_offset, &d);
    if (rc != 0 && rc != CC_EUNCOVERED)
        return;
    c->extended_from = c->due;
    c->due = d;
    c->extend_event = e->id;
    c->flags |= CC_CLOCK_EXTENDED | (rc == CC_EUNCOVERED ? CC_CLOCK_UNCOVERED : 0);
}

static int sweep_rule(run_t *r, int rule_index)
{
    const cc_rule_t *rule = cc_ruleset_rule(r->rs, (size_t)rule_index);
    size_t first_out = r->out->len, first_open = 0;
    int chains = 0, ncancels;
    cancel_view_t cancels[CC_RULE_MAX_CANCELS];
    char why[96], gap[32];
    /* A series (per = series): the chain it runs and its latest episode. */
    int series_chain = -1, series_ep = -1;
    /* A derived start (starts_when), placed among the days of the sweep. */
    int derived_ep = -1;
    cc_date_t derived = rule->starts_when.active ? threshold_date(r, rule, &derived_ep) : CC_DATE_NONE;
    r->ninst = 0;
    memset(r->used, 0, r->n);
    memset(r->ep_has_origin, 0, r->neps ? r->neps : 1);
    ncancels = cancels_of(rule, cancels);
    if (rule->per == CC_PER_SERIES)
        snprintf(why, sizeof(why), "the series ended: no other began within %s of the end of the last one",
                 cc_offset_words(rule->series_gap, gap, sizeof(gap)));
    /* Only the events this rule starts on, is met, extended or cancelled by
     * (and, per placement, the placements) take part; the others would be
     * skipped by every phase below. */
    size_t nrel = 0;
    for (size_t k = 0; k < r->n; k++)
        if (relevant(rule, cancels, ncancels, r->sorted[k]->type))
            r->rel[nrel++] = k;
    for (size_t i = 0; i < nrel;) {
        size_t j = i;
        cc_date_t day = r->sorted[r->rel[i]]->date;
        while (j < nrel && r->sorted[r->rel[j]]->date == day)
            j++;
        /* 0: a derived start on or before this day */
        if (derived != CC_DATE_NONE && derived <= day) {
            if (derive_start(r, rule, rule_index, derived, derived_ep, &chains) != 0)
                return CC_ENOMEM;
            derived = CC_DATE_NONE;
        }
        /* 1: origins (and, per placement, the ends of placements) */
        for (size_t q = i; q < j; q++) {
            size_t k = r->rel[q];
            const cc_event_t *e = r->sorted[k];
            if (rule->per == CC_PER_PLACEMENT && e->type == CC_TYPE_PLACEMENT_START)
                close_open(r, -1, -2, e->date, "the placement ended", CC_DATE_NONE);
            if (!cc_rule_starts_on(rule, e->type))
                continue;
            int ep = episode_of(r, e->date);
            if (!origin_applies(r, rule, e, ep)) {
                /* A start of care under another regime ends a series. */
                if (rule->per == CC_PER_SERIES && series_chain >= 0 && ep >= 0) {
                    close_open(r, series_chain, -2, e->date, "the series ended: care went on under another regime",
                               CC_DATE_NONE);
                    series_chain = -1;
                }
                continue;
            }
            if (rule->per == CC_PER_SERIES && series_chain >= 0) {
                cc_date_t lapse = series_lapse(r, rule, series_ep);
                if (lapse == CC_DATE_NONE || e->date <= lapse) {
                    series_ep = ep; /* one arrangement: this stay continues the series */
                    continue;
                }
                close_open(r, series_chain, -2, lapse, why, CC_DATE_NONE);
                series_chain = -1;
            }
            if (rule->one_open && has_open(r))
                continue;
            if (rule->restart_cancels)
                close_open(r, -1, -2, e->date, "superseded by a new start", CC_DATE_NONE);
            long made = create(r, rule, rule_index, e, chains++, 0, e->date, e->date, ep, NULL);
            if (made == CC_ENOMEM)
                return CC_ENOMEM;
            if (rule->per == CC_PER_SERIES && made >= 0) {
                series_chain = r->inst[made].chain;
                series_ep = ep;
            }
            if (after_create(r, rule, rule_index, made) != 0)
                return CC_ENOMEM;
            /* Dated after the child's last episode of care ended (a review
             * booked for after they left): that end has already passed the
             * sweep, so apply it now. */
            if (made >= 0 && ep < 0 && rule->cancel_type == CC_TYPE_LOOKED_AFTER_END) {
                int before = -1;
                for (size_t x = 0; x < r->neps; x++)
                    if (r->eps[x].start <= e->date)
                        before = (int)x;
                const cc_event_t *end = NULL;
                for (size_t x = 0; before >= 0 && x < r->n; x++)
                    if (r->sorted[x]->id == r->eps[before].end_event)
                        end = r->sorted[x];
                /* ... when the end is one that closes this rule's clocks
                 * (its cancel_on conditions hold on it). */
                if (before >= 0 &&
                    (end == NULL || first_failing(r, rule->cancel_when, rule->ncancel_when, end, end->date, NULL) < 0))
                    close_open(r, (int)r->inst[made].chain, -2, r->eps[before].end, "the episode of care ended",
                               r->eps[before].end);
            }
        }
        /* 2: meeting events */
        for (size_t q = i; q < j; q++) {
            size_t k = r->rel[q];
            const cc_event_t *e = r->sorted[k];
            if (!is_met_by(rule, e->type) || r->used[k])
                continue;
            long best = -1;
            /* Instances never reopen once closed, so the closed ones at the
             * front (a chain's met instances) need not be looked at again. */
            while (first_open < r->ninst && r->inst[first_open].closed)
                first_open++;
            for (size_t m = first_open; m < r->ninst; m++) {
                const inst_t *in = &r->inst[m];
                const cc_clock_t *c = &r->out->items[in->out];
                if (in->closed || c->status == CC_STATUS_CANCELLED)
                    continue;
                if (c->start > e->date && !(rule->accept_early && in->accept_from <= e->date))
                    continue;
                if (best < 0 || c->start < r->out->items[r->inst[best].out].start)
                    best = (long)m;
            }
            if (best < 0)
                continue;
            r->used[k] = 1;
            meet(r, &r->inst[best], e);
            if (continue_chain(r, rule, rule_index, (size_t)best) != 0)
                return CC_ENOMEM;
        }
        /* 3: extensions */
        for (size_t q = i; q < j && rule->extend_type >= 0; q++)
            if (r->sorted[r->rel[q]]->type == rule->extend_type)
                extend(r, rule, r->sorted[r->rel[q]]);
        /* 4: cancelling events */
        for (size_t q = i; q < j; q++) {
            size_t k = r->rel[q];
            const cc_event_t *e = r->sorted[k];
            for (int x = 0; x < ncancels; x++) {
                const cancel_view_t *cv = &cancels[x];
                if (e->type != cv->type || first_failing(r, cv->when, cv->nwhen, e, e->date, NULL) >= 0)
                    continue;
                if (e->type == CC_TYPE_LOOKED_AFTER_END) {
                    for (size_t ep = 0; ep < r->neps; ep++)
                        if (r->eps[ep].end_event == e->id)
                            close_open(r, -1, (int)ep, e->date, cv->reason ? cv->reason : "the episode of care ended",
                                       e->date);
                } else if (rule->cancel_latest) {
                    close_latest(r, e->date, cv->reason ? cv->reason : "cancelled by a later event");
                } else {
                    close_open(r, -1, -2, e->date, cv->reason ? cv->reason : "cancelled by a later event",
                               CC_DATE_NONE);
                }
                break; /* one event closes once */
            }
        }
        i = j;
    }
    /* A derived start after the last event (a child who turned 16 since). */
    if (derived != CC_DATE_NONE && derive_start(r, rule, rule_index, derived, derived_ep, &chains) != 0)
        return CC_ENOMEM;
    /* A series whose last stay ended series_gap ago, and nothing since. */
    if (series_chain >= 0) {
        cc_date_t lapse = series_lapse(r, rule, series_ep);
        if (lapse != CC_DATE_NONE && lapse <= r->today)
            close_open(r, series_chain, -2, lapse, why, CC_DATE_NONE);
        else if (lapse != CC_DATE_NONE)
            changes_on(r, lapse);
    }
    /* Sequence numbers by start date. */
    size_t count = r->out->len - first_out;
    if (count > 1)
        sort_clocks(r->out->items + first_out, count);
    for (size_t i = 0; i < count; i++)
        r->out->items[first_out + i].seq = (int)i + 1;
    return 0;
}

/* 1 for a status that is still owed (open, due_soon, overdue, at_risk). */
static int unmet_status(cc_status_t status)
{
    return status == CC_STATUS_OPEN || status == CC_STATUS_DUE_SOON || status == CC_STATUS_OVERDUE ||
           status == CC_STATUS_AT_RISK;
}

int cc_engine_run(const cc_ruleset_t *rs, const cc_calendar_t *cal, cc_date_t today, const cc_child_t *child,
                  const cc_event_t *events, size_t nevents, cc_clocks_t *out)
{
    run_t r = {.rs = rs, .cal = cal, .child = child, .n = nevents, .out = out, .base = out->len, .today = today,
               .events = events, .next_change = CC_DATE_NEVER};
    int rc = 0;
    size_t ntypes = cc_ruleset_type_count(rs);
    unsigned char *has_type = NULL;
    size_t n = nevents ? nevents : 1;
    r.sorted = malloc(n * sizeof(*r.sorted));
    r.eps = malloc(n * sizeof(*r.eps));
    r.used = calloc(n, 1);
    r.ep_has_origin = malloc(n);
    r.rel = malloc(n * sizeof(*r.rel));
    has_type = calloc(ntypes ? ntypes : 1, 1);
    r.parsed = calloc(n, sizeof(*r.parsed));
    r.parse_tried = calloc(n, 1);
    if (!r.sorted || !r.eps || !r.used || !r.ep_has_origin || !r.rel || !has_type || !r.parsed || !r.parse_tried) {
        rc = CC_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < nevents; i++) {
        r.sorted[i] = &events[i];
        if (events[i].type >= 0 && (size_t)events[i].type < ntypes)
            has_type[events[i].type] = 1;
    }
    sort_events(r.sorted, nevents);
    rc = validate_and_episodes(&r);
    if (rc <= 0)
        goto out; /* 0: a data_error instance was written; <0: no memory */
    rc = 0;
    for (size_t i = 0; i < cc_ruleset_count(rs); i++) {
        /* A rule whose starting event this child does not have makes no
         * instance: its sweep would find nothing to start, meet or cancel. */
        const cc_rule_t *rule = cc_ruleset_rule(rs, i);
        int any = rule->starts_when.active;
        for (int t = 0; t < rule->nstart_types && !any; t++)
            any = rule->start_types[t] < 0 || (size_t)rule->start_types[t] >= ntypes || has_type[rule->start_types[t]];
        if (!any)
            continue;
        rc = sweep_rule(&r, (int)i);
        if (rc != 0)
            goto out;
    }
    if (r.range_event != NULL) {
        char d[CC_DATE_STRLEN];
        rc = data_error(&r, "event %lld (%s): a due date counted from %s falls outside %d-%d, the years careclock "
                            "can count",
                        (long long)r.range_event->id, cc_ruleset_type_name(rs, (size_t)r.range_event->type),
                        cc_date_format(r.range_from, d), CC_CALENDAR_FIRST_YEAR, CC_CALENDAR_LAST_YEAR);
        goto out;
    }
    for (size_t i = r.base; i < out->len; i++) {
        cc_clock_t *c = &out->items[i];
        const cc_rule_t *rule = cc_ruleset_rule(rs, (size_t)c->rule);
        cc__apply_decisions(rs, cal, today, child, r.sorted, r.n, rule, c);
        changes_on(&r, status_moves_on(rule, cal, today, c));
    }
out:
    if (rc != 0)
        out->len = r.base;
    else if (r.next_change < out->next_change)
        out->next_change = r.next_change;
    free(r.sorted);
    free(r.eps);
    free(r.used);
    free(r.ep_has_origin);
    free(r.inst);
    free(r.rel);
    free(has_type);
    for (size_t i = 0; r.parsed && i < nevents; i++)
        json_decref(r.parsed[i]);
    free(r.parsed);
    free(r.parse_tried);
    return rc;
}

/* ---- explanations ---- */

/* r set up over one child's events as cc_engine_run sees them (sorted,
 * validated, episodes), evaluating nothing: explanations read the child's
 * state through it. Returns 1 when usable; 0 when the data is unusable
 * (scratch's first clock says why); CC_ENOMEM. Free with run_close. */
static int run_open(run_t *r, const cc_ruleset_t *rs, const cc_calendar_t *cal, cc_date_t today,
                    const cc_child_t *child, const cc_event_t *events, size_t nevents, cc_clocks_t *scratch)
{
    size_t n = nevents ? nevents : 1;
    memset(r, 0, sizeof(*r));
    *r = (run_t){.rs = rs, .cal = cal, .child = child, .n = nevents, .out = scratch, .today = today,
                 .events = events};
    r->sorted = malloc(n * sizeof(*r->sorted));
    r->eps = malloc(n * sizeof(*r->eps));
    r->used = calloc(n, 1);
    if (!r->sorted || !r->eps || !r->used)
        return CC_ENOMEM;
    for (size_t i = 0; i < nevents; i++)
        r->sorted[i] = &events[i];
    sort_events(r->sorted, nevents);
    return validate_and_episodes(r);
}

static void run_close(run_t *r)
{
    free(r->sorted);
    free(r->eps);
    free(r->used);
}

static void explain_cond(cc_buf_t *t, const cc_cond_t *c);
static void explain_conds(cc_buf_t *t, const cc_cond_t *conds, int n);

/* Why the clock's regime applies to this child: each applies condition,
 * with what the child's record said on the starting day. */
static void explain_regime(cc_buf_t *t, const run_t *r, const cc_rule_t *rule, const cc_event_t *start,
                           const cc_clock_t *c)
{
    char value[CC_COND_VALUE_MAX], h[32], words[32];
    if (rule->regime == NULL && rule->napplies == 0 && !rule->starts_when.active)
        return;
    cc_buf_printf(t, "Regime: %s", rule->regime ? rule->regime : "the clock's own conditions");
    if (c->flags & CC_CLOCK_DERIVED) {
        const cc_threshold_t *th = &rule->starts_when;
        cc_buf_printf(t, ". It applies because on %s the child had been looked after for %s in all",
                      cc_date_format_human(c->start, h, sizeof(h)), cc_offset_words(th->total, words, sizeof(words)));
        if (th->since_age > 0)
            cc_buf_printf(t, " since turning %d", th->since_age);
        if (th->nwhen > 0) {
            cc_buf_puts(t, " (counting episodes of care where ");
            explain_conds(t, th->when, th->nwhen);
            cc_buf_puts(t, ")");
        }
        cc_buf_printf(t, " and was %d", cc_date_age(r->child->dob, c->start));
        if (th->min_age > 0 || th->max_age > 0) {
            cc_buf_puts(t, " (");
            if (th->min_age > 0)
                cc_buf_printf(t, "%d or older", th->min_age);
            if (th->max_age > 0)
                cc_buf_printf(t, "%sunder %d", th->min_age > 0 ? " and " : "", th->max_age);
            cc_buf_puts(t, ")");
        }
        cc_buf_puts(t, ".\n");
        return;
    }
    if (rule->napplies == 0 || start == NULL) {
        cc_buf_puts(t, ".\n");
        return;
    }
    cc_buf_printf(t, ". It applies because on %s ", cc_date_format_human(start->date, h, sizeof(h)));
    for (int i = 0; i < rule->napplies; i++) {
        const cc_cond_t *k = &rule->applies[i];
        cc_buf_puts(t, i == 0 ? "" : i + 1 == rule->napplies ? " and " : ", ");
        explain_cond(t, k);
        if (k->kind == CC_COND_ATTR && strchr(k->value, '|') == NULL) {
            /* "place is K1": the value is the one named */
        } else if (k->kind == CC_COND_ATTR || k->kind == CC_COND_ATTR_NE) {
            if (cond_value(r, k, start, start->date, value, sizeof(value)))
                cc_buf_printf(t, " (%s)", value);
            else
                cc_buf_puts(t, " (none recorded)");
        } else if (k->kind == CC_COND_AGE_GE || k->kind == CC_COND_AGE_LT) {
            cc_buf_printf(t, " (%d)", cc_date_age(r->child->dob, start->date));
        }
    }
    cc_buf_puts(t, ".\n");
}

/* An event type in words: "placement_start" -> "placement start". */
static const char *type_words(const cc_ruleset_t *rs, int type, char *buf, size_t len)
{
    const char *name = type >= 0 ? cc_ruleset_type_name(rs, (size_t)type) : NULL;
    snprintf(buf, len, "%s", name ? name : "(none)");
    for (char *p = buf; *p; p++)
        if (*p == '_')
            *p = ' ';
    return buf;
}

static const cc_event_t *find_event(const cc_event_t *events, size_t n, int64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (events[i].id == id)
            return &events[i];
    return NULL;
}

/* The alternatives of a condition's value in words: "V3 or V4",
 * "A3, A4, A5 or A6". */
static void value_words(cc_buf_t *t, const char *list)
{
    for (const char *p = list; *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        cc_buf_printf(t, "%.*s", (int)len, p);
        if (bar == NULL)
            break;
        cc_buf_puts(t, strchr(bar + 1, '|') ? ", " : " or ");
        p = bar + 1;
    }
}

/* An attribute's name in words: "legal_status" -> "legal status"; a state
 * attribute judged before the event is "the previous ...". */
static void key_words(cc_buf_t *t, const cc_cond_t *c)
{
    if (c->prev)
        cc_buf_puts(t, "the previous ");
    for (const char *p = c->key; *p; p++)
        cc_buf_printf(t, "%c", *p == '_' && c->state ? ' ' : *p);
}

static void explain_cond(cc_buf_t *t, const cc_cond_t *c)
{
    char words[48];
    switch (c->kind) {
    case CC_COND_ATTR:
    case CC_COND_ATTR_NE:
        key_words(t, c);
        cc_buf_puts(t, c->kind == CC_COND_ATTR ? " is " : " is not ");
        value_words(t, c->value);
        break;
    case CC_COND_AGE_LT: cc_buf_printf(t, "the child is under %d", c->age); break;
    case CC_COND_AGE_GE: cc_buf_printf(t, "the child is %d or older", c->age); break;
    case CC_COND_SINCE_GE:
        cc_buf_printf(t, "it is at least %s since the series began", cc_offset_words(c->since, words, sizeof(words)));
        break;
    case CC_COND_AFTER:
        cc_buf_puts(t, "a ");
        for (const char *p = c->key; *p; p++)
            cc_buf_printf(t, "%c", *p == '_' ? ' ' : *p);
        cc_buf_puts(t, " has been recorded since the series began");
        break;
    default: break;
    }
}

static void explain_conds(cc_buf_t *t, const cc_cond_t *conds, int n)
{
    for (int i = 0; i < n; i++) {
        cc_buf_puts(t, i == 0 ? "" : i + 1 == n ? " and " : ", ");
        explain_cond(t, &conds[i]);
    }
}

/* What the starting event of a clock is, in words, for "prepared before
 * ...": "the placement", "the child became looked after", "the referral". */
static const char *start_words(const cc_ruleset_t *rs, int type, char *buf, size_t len)
{
    if (type == CC_TYPE_LOOKED_AFTER_START)
        return "the child became looked after";
    const char *name = type >= 0 ? cc_ruleset_type_name(rs, (size_t)type) : NULL;
    if (name != NULL && strcmp(name, "placement_start") == 0)
        return "the placement";
    char tw[64];
    snprintf(buf, len, "the %s", type_words(rs, type, tw, sizeof(tw)));
    return buf;
}

static void explain_due(const cc_ruleset_t *rs, const cc_calendar_t *cal, const cc_clocks_t *clocks,
                        const cc_clock_t *c, const cc_rule_t *rule, cc_buf_t *t)
{
    char h[32], words[48], iso[CC_DATE_STRLEN];
    cc_offset_t off = rule->due;
    cc_date_t ignored;
    if (c->flags & CC_CLOCK_HOURS) {
        char h2[32];
        cc_buf_printf(t, "Due: %d hours after the start, at %02d:%02d on %s", rule->due_hours, c->from_minute / 60,
                      c->from_minute % 60, cc_date_format_human(c->from, h, sizeof(h)));
        if (c->flags & CC_CLOCK_NO_TIME)
            cc_buf_puts(t, " (the starting event records no time=HH:MM, so the count starts at the beginning of the "
                           "day)");
        cc_buf_printf(t, ": the period ends at %02d:%02d on %s, so %s (%s) is the last day.\n", c->due_minute / 60 % 24,
                      c->due_minute % 60,
                      cc_date_format_human(c->due_minute == 1440 ? c->due + 1 : c->due, h2, sizeof(h2)),
                      cc_date_format_human(c->due, h, sizeof(h)), cc_date_format(c->due, iso));
        return;
    }
    switch (c->basis) {
    case CC_BASIS_DUE:
        cc_buf_printf(t, "Due date: %s %s the start (%s).\n", cc_offset_words(off, words, sizeof(words)),
                      off.n < 0 ? "before" : "after", cc_date_format_human(c->from, h, sizeof(h)));
        break;
    case CC_BASIS_DUE_IF:
        off = rule->due_if[c->basis_index].offset;
        cc_buf_puts(t, "Due date: because ");
        explain_conds(t, rule->due_if[c->basis_index].when, rule->due_if[c->basis_index].nwhen);
        cc_buf_printf(t, ", %s %s the start (%s).\n", cc_offset_words(off, words, sizeof(words)),
                      off.n < 0 ? "before" : "after", cc_date_format_human(c->from, h, sizeof(h)));
        break;
    case CC_BASIS_THEN:
    case CC_BASIS_THEN_IF:
        off = c->basis == CC_BASIS_THEN ? rule->then[c->basis_index] : rule->then_if[c->basis_index].offset;
        cc_buf_printf(t, "Due date: %s after the previous %s was met on %s", cc_offset_words(off, words, sizeof(words)),
                      rule->title, cc_date_format_human(c->from, h, sizeof(h)));
        if (c->basis == CC_BASIS_THEN_IF) {
            cc_buf_puts(t, ", because ");
            explain_conds(t, rule->then_if[c->basis_index].when, rule->then_if[c->basis_index].nwhen);
        }
        cc_buf_printf(t, " (number %d in this series).\n", c->chain_index + 1);
        break;
    case CC_BASIS_ANCHOR: {
        const cc_rule_t *a = cc_ruleset_rule(rs, (size_t)rule->anchor_rule);
        const cc_clock_t *anchor = NULL;
        int count = 0;
        for (size_t i = 0; i < clocks->len; i++) {
            const cc_clock_t *x = &clocks->items[i];
            if (x->rule == rule->anchor_rule && x->episode == c->episode && ++count == rule->anchor_seq) {
                anchor = x;
                break;
            }
        }
        cc_buf_printf(t, "Due date: the date of %s number %d of this episode of care", a->title, rule->anchor_seq);
        if (anchor && anchor->met_on != CC_DATE_NONE)
            cc_buf_printf(t, ", held on %s.\n", cc_date_format_human(anchor->met_on, h, sizeof(h)));
        else if (anchor)
            cc_buf_printf(t, ". It has not been held yet, so its due date counts: %s.\n",
                          cc_date_format_human(anchor->due, h, sizeof(h)));
        else
            cc_buf_printf(t, ". It is not scheduled yet, so its date is projected as if each earlier one were held "
                             "on its due date: %s.\n",
                          cc_date_format_human(c->due, h, sizeof(h)));
        cc_buf_printf(t, "  = %s (%s)\n", cc_date_format_human(c->due, h, sizeof(h)), cc_date_format(c->due, iso));
        return;
    }
    }
    cc_offset_explain(cal, c->from, off, "  ", t, &ignored);
}

int cc_engine_explain(const cc_ruleset_t *rs, const cc_calendar_t *cal, cc_date_t today, const cc_child_t *child,
                      const cc_event_t *events, size_t nevents, const cc_clocks_t *clocks, size_t index,
                      cc_buf_t *t)
{
    char h[32], h2[32], tw[64];
    const cc_clock_t *c = &clocks->items[index];
    if (c->status == CC_STATUS_DATA_ERROR) {
        cc_buf_printf(t, "Child %s: the data cannot be evaluated, so no clock can be trusted until it is mended.\n"
                         "Reason: %s\n",
                      child->id, c->reason);
        return 0;
    }
    const cc_rule_t *rule = cc_ruleset_rule(rs, (size_t)c->rule);
    char key[CC_CLOCK_KEY_MAX];
    cc_clock_key(c, key, sizeof(key));
    cc_buf_printf(t, "%s (%s) number %d for child %s\n", rule->title, rule->id, c->seq, child->id);
    cc_buf_printf(t, "Instance: %s (number %d of the series event %lld began; it keeps this name when earlier "
                     "history is recorded)\n",
                  key, c->chain_index + 1, (long long)c->key_event);
    cc_buf_printf(t, "Rule: %s\n", rule->source);
    cc_buf_printf(t, "Defined in: %s\n", rule->file);
    const cc_event_t *start = find_event(events, nevents, c->start_event);
    run_t r;
    cc_clocks_t scratch;
    cc_clocks_init(&scratch);
    int usable = run_open(&r, rs, cal, today, child, events, nevents, &scratch);
    if (usable == 1 && c->chain_index == 0)
        explain_regime(t, &r, rule, (c->flags & CC_CLOCK_DERIVED) ? NULL : start, c);
    else if (usable == 1 && rule->regime != NULL)
        cc_buf_printf(t, "Regime: %s (as when the series began).\n", rule->regime);
    run_close(&r);
    cc_clocks_free(&scratch);
    if (usable < 0)
        return usable;
    if (rule->local)
        cc_buf_puts(t, "Local standard: a council's own procedure, not a regulation; a council switches it off with "
                       "enabled = no (or every local standard with [options] local_standards = no).\n");
    if (c->chain_index > 0)
        cc_buf_printf(t, "Started: %s, when the previous %s was met (event %lld).\n",
                      cc_date_format_human(c->start, h, sizeof(h)), rule->title, (long long)c->start_event);
    else if (c->flags & CC_CLOCK_DERIVED)
        cc_buf_printf(t, "Started: %s, the day the child met the rule's threshold (in the episode of care that "
                         "began with event %lld).\n",
                      cc_date_format_human(c->start, h, sizeof(h)), (long long)c->start_event);
    else if (start != NULL)
        cc_buf_printf(t, "Started: %s on %s (event %lld)%s.\n", type_words(rs, start->type, tw, sizeof(tw)),
                      cc_date_format_human(c->start, h, sizeof(h)), (long long)start->id,
                      rule->per == CC_PER_EPISODE     ? ", the first in this episode of care"
                      : rule->per == CC_PER_SERIES    ? ", the first of a series: later stays continue the same "
                                                        "arrangement and start no new clock"
                      : rule->per == CC_PER_PLACEMENT ? "; it lasts as long as this placement"
                                                      : "");
    explain_due(rs, cal, clocks, c, rule, t);
    if (c->flags & CC_CLOCK_EXTENDED) {
        char h3[32], words[48];
        cc_buf_printf(t, "Extended: on %s (event %lld) by %s, from %s to %s.\n",
                      cc_date_format_human(find_event(events, nevents, c->extend_event)
                                               ? find_event(events, nevents, c->extend_event)->date
                                               : c->extended_from,
                                           h, sizeof(h)),
                      (long long)c->extend_event, cc_offset_words(rule->extend_offset, words, sizeof(words)),
                      cc_date_format_human(c->extended_from, h2, sizeof(h2)),
                      cc_date_format_human(c->due, h3, sizeof(h3)));
    }
    cc_buf_puts(t, "Met by: ");
    for (int i = 0; i < rule->nmet_by; i++)
        cc_buf_printf(t, "%s%s", i ? " or " : "", type_words(rs, rule->met_by[i], tw, sizeof(tw)));
    if (rule->accept_early == CC_EARLY_EPISODE)
        cc_buf_puts(t, " (one recorded before the start, within the episode, also counts)");
    else if (rule->accept_early == CC_EARLY_WINDOW)
        cc_buf_printf(t, " (one recorded up to %s before the start also counts, but not one from an earlier "
                         "episode of care)",
                      cc_offset_words(rule->early_window, h, sizeof(h)));
    cc_buf_puts(t, ".\n");
    cc__apply_explain(t, child, rule, c);
    cc_date_format_human(today, h2, sizeof(h2));
    int wd = 0;
    cc_date_t chase = cc_clock_chase_date(c);
    if (c->agreed_decision != 0 && unmet_status(c->status)) {
        /* The statutory figure first: the agreement moves the chasing only. */
        if (c->due < today) {
            cc_calendar_working_days_between(cal, c->due, today, &wd);
            cc_buf_printf(t, "Statutory: the due date passed %d working day%s ago; in statutory figures this clock "
                             "is overdue (and, met by the agreed date, met late).\n",
                          wd, wd == 1 ? "" : "s");
        }
        wd = 0;
    }
    switch (c->status) {
    case CC_STATUS_MET:
        cc_buf_printf(t, "Status on %s: met. Met on %s (event %lld), on or before the due date", h2,
                      cc_date_format_human(c->met_on, h, sizeof(h)), (long long)c->met_event);
        if (c->flags & CC_CLOCK_EARLY) {
            char sw[80];
            cc_buf_printf(t, ": prepared before %s (%s)",
                          start_words(rs, start ? start->type : rule->start_type, sw, sizeof(sw)),
                          cc_date_format_human(c->start, h, sizeof(h)));
        }
        cc_buf_puts(t, ".\n");
        break;
    case CC_STATUS_MET_LATE:
        cc_calendar_working_days_between(cal, c->due, c->met_on, &wd);
        cc_buf_printf(t, "Status on %s: met late. Met on %s (event %lld), %d working day%s after the due date", h2,
                      cc_date_format_human(c->met_on, h, sizeof(h)), (long long)c->met_event, wd, wd == 1 ? "" : "s");
        if (c->agreed_decision != 0 && c->met_on <= c->agreed)
            cc_buf_printf(t, ", within the extension agreed to %s: it counts as met late in statutory figures, and "
                             "apart as late within an agreed extension",
                          cc_date_format_human(c->agreed, h, sizeof(h)));
        cc_buf_puts(t, ".\n");
        break;
    case CC_STATUS_OVERDUE:
        cc_calendar_working_days_between(cal, chase, today, &wd);
        cc_buf_printf(t, "Status on %s: OVERDUE. Not met, and the %s date passed %d working day%s ago.\n", h2,
                      c->agreed_decision ? "agreed" : "due", wd, wd == 1 ? "" : "s");
        break;
    case CC_STATUS_DUE_SOON:
        cc_calendar_working_days_between(cal, today, chase, &wd);
        cc_buf_printf(t, "Status on %s: due soon%s%s. Not met yet; %d working day%s left, inside the "
                         "%d-working-day warning window.\n",
                      h2, c->agreed_decision ? ", extended to " : "",
                      c->agreed_decision ? cc_date_format_human(c->agreed, h, sizeof(h)) : "", wd, wd == 1 ? "" : "s",
                      rule->warn_wd);
        break;
    case CC_STATUS_OPEN:
        cc_calendar_working_days_between(cal, today, chase, &wd);
        cc_buf_printf(t, "Status on %s: open%s%s. Not met yet; %d working days left.\n", h2,
                      c->agreed_decision ? ", extended to " : "",
                      c->agreed_decision ? cc_date_format_human(c->agreed, h, sizeof(h)) : "", wd);
        break;
    case CC_STATUS_AT_RISK:
        cc_calendar_working_days_between(cal, today, chase, &wd);
        cc_buf_printf(t, "Status on %s: AT RISK. Not met yet, %d working day%s left, but the %s is booked for %s, "
                         "after the %s date: it will be late unless it is brought forward (the worker and the team "
                         "manager are told at once).\n",
                      h2, wd, wd == 1 ? "" : "s", "meeting", cc_date_format_human(c->scheduled, h, sizeof(h)),
                      c->agreed_decision ? "agreed" : "due");
        break;
    case CC_STATUS_EXCEPTED:
        cc_buf_printf(t, "Status on %s: excepted (decision %lld). Not met, and need not be: no reminders or "
                         "escalations; counted apart in reports, not as on time or late. Withdrawing the decision "
                         "makes it owed again.\n",
                      h2, (long long)c->excepted_decision);
        break;
    case CC_STATUS_CANCELLED:
        cc_buf_printf(t, "Status on %s: cancelled. Not met, and no longer needed: %s.\n", h2, c->reason);
        break;
    default:
        break;
    }
    if (c->left_care != CC_DATE_NONE) {
        char iso[CC_DATE_STRLEN];
        /* The looked-after duties end with the episode (Children Act 1989
         * s22): a missed one stays overdue, but nobody is chased for it. */
        cc_buf_printf(t, "Reminders: the child %s care on %s: no reminders or escalations after that day.\n",
                      c->left_care <= today ? "left" : "leaves", cc_date_format(c->left_care, iso));
    }
    if (c->flags & CC_CLOCK_PROJECTED)
        cc_buf_puts(t, "Note: this due date is an estimate and will move when the earlier clocks are met.\n");
    if (c->flags & CC_CLOCK_UNCOVERED) {
        int first, last;
        cc_calendar_coverage(cal, &first, &last);
        cc_buf_printf(t, "Warning: part of this count falls outside %d-%d, the years the holiday calendar covers; "
                         "only weekends were skipped there.\n",
                      first, last);
    }
    return t->failed ? CC_ENOMEM : 0;
}

/* Why condition c kept starting event e from starting a clock, in words,
 * ending the sentence. */
static void explain_refusal(cc_buf_t *t, const run_t *r, const cc_cond_t *c, const cc_event_t *e)
{
    char value[CC_COND_VALUE_MAX], words[CC_COND_VALUE_MAX];
    int age = cc_date_age(r->child->dob, e->date);
    int have = (c->kind == CC_COND_ATTR || c->kind == CC_COND_ATTR_NE) && cond_value(r, c, e, e->date, value,
                                                                                      sizeof(value));
    if ((c->kind == CC_COND_ATTR || c->kind == CC_COND_ATTR_NE) && (c->state || strchr(c->value, '|'))) {
        /* A state attribute or a list: "its legal status was "V4" on that
         * day, and this clock starts only when legal status is not V3 or V4." */
        if (have) {
            cc_buf_puts(t, "its ");
            key_words(t, c);
            cc_buf_printf(t, " %s \"%s\"%s", c->state ? "was" : "is", value, c->state ? " on that day" : "");
        } else {
            cc_buf_puts(t, "no ");
            key_words(t, c);
            cc_buf_puts(t, " was recorded");
        }
        cc_buf_puts(t, ", and this clock starts only when ");
        explain_cond(t, c);
        cc_buf_puts(t, ".\n");
        return;
    }
    switch (c->kind) {
    case CC_COND_ATTR:
        if (have)
            cc_buf_printf(t, "its %s is \"%s\", and this clock starts only when %s is \"%s\".\n", c->key, value,
                          c->key, c->value);
        else
            cc_buf_printf(t, "it records no %s, and this clock starts only when %s is \"%s\".\n", c->key, c->key,
                          c->value);
        break;
    case CC_COND_ATTR_NE:
        /* "no_plan" -> "no plan: its outcome is ..." */
        snprintf(words, sizeof(words), "%s", c->value);
        for (char *p = words; *p; p++)
            if (*p == '_')
                *p = ' ';
        cc_buf_printf(t, "%s: its %s is \"%s\", and this clock starts only when %s is not \"%s\".\n", words, c->key,
                      c->value, c->key, c->value);
        break;
    case CC_COND_AGE_GE:
        cc_buf_printf(t, "the child was %d on that day, and this clock starts only from age %d.\n", age, c->age);
        break;
    case CC_COND_AGE_LT:
        cc_buf_printf(t, "the child was %d on that day, and this clock starts only under %d.\n", age, c->age);
        break;
    default:
        cc_buf_puts(t, "a condition of the rule does not hold.\n");
        break;
    }
}

/* After a state condition kept e from starting rule: the rules of another
 * regime that do start on such a value ("  Instead: short_break_review,
 * short_break_care_plan (Short breaks (CPPCR 2010 reg 48 ...)).") */
static void explain_instead(cc_buf_t *t, const run_t *r, const cc_rule_t *rule, const cc_cond_t *c,
                            const cc_event_t *e)
{
    char value[CC_COND_VALUE_MAX];
    const char *regime = NULL;
    int n = 0;
    if (!c->state || c->kind != CC_COND_ATTR_NE || !cond_value(r, c, e, e->date, value, sizeof(value)))
        return;
    for (size_t i = 0; i < cc_ruleset_count(r->rs); i++) {
        const cc_rule_t *x = cc_ruleset_rule(r->rs, i);
        if (x == rule)
            continue;
        for (int k = 0; k < x->napplies; k++) {
            const cc_cond_t *xc = &x->applies[k];
            if (xc->kind == CC_COND_ATTR && xc->state && strcmp(xc->key, c->key) == 0 && value_in(xc->value, value)) {
                cc_buf_printf(t, "%s%s", n++ == 0 ? "  Instead: " : ", ", x->id);
                if (regime == NULL)
                    regime = x->regime;
                break;
            }
        }
    }
    if (n > 0)
        cc_buf_printf(t, "%s%s%s.\n", regime ? " (" : "", regime ? regime : "", regime ? ")" : "");
}

int cc_engine_explain_none(const cc_ruleset_t *rs, const cc_calendar_t *cal, const cc_child_t *child,
                           const cc_event_t *events, size_t nevents, const cc_rule_t *rule, cc_buf_t *t)
{
    return cc_engine_explain_none_on(rs, cal, CC_DATE_NONE, child, events, nevents, rule, t);
}

int cc_engine_explain_none_on(const cc_ruleset_t *rs, const cc_calendar_t *cal, cc_date_t today,
                              const cc_child_t *child, const cc_event_t *events, size_t nevents,
                              const cc_rule_t *rule, cc_buf_t *t)
{
    assert(rs != NULL && child != NULL && rule != NULL && t != NULL && (events != NULL || nevents == 0));
    cc_clocks_t scratch;
    cc_clocks_init(&scratch);
    run_t r;
    size_t n = nevents ? nevents : 1;
    unsigned char *seen = calloc(n, 1);
    char h[32], tw[64];
    int rc = 0, count = 0;
    /* Without a today, the latest date the record holds stands for it. */
    cc_date_t last = today;
    for (size_t i = 0; i < nevents && today == CC_DATE_NONE; i++)
        if (events[i].date != CC_DATE_NONE && (last == CC_DATE_NONE || events[i].date > last))
            last = events[i].date;
    rc = seen == NULL ? CC_ENOMEM : run_open(&r, rs, cal, last, child, events, nevents, &scratch);
    if (rc < 0)
        goto out;
    if (rc == 0) {
        cc_buf_printf(t, "Child %s: the data cannot be evaluated, so no clock can be trusted until it is mended.\n"
                         "Reason: %s\n",
                      child->id, scratch.len ? scratch.items[0].reason : "");
        rc = 0;
        goto out;
    }
    rc = 0;
    cc_buf_printf(t, "No %s (%s) clock for child %s.\nRule: %s\n", rule->title, rule->id, child->id, rule->source);
    if (rule->regime)
        cc_buf_printf(t, "Regime: %s.\n", rule->regime);
    if (rule->starts_when.active) {
        const cc_threshold_t *th = &rule->starts_when;
        char words[32];
        long total = 0;
        cc_date_t from = birthday(child->dob, th->since_age);
        cc_buf_printf(t, "Started when: the child has been looked after for %s in all",
                      cc_offset_words(th->total, words, sizeof(words)));
        if (th->since_age > 0)
            cc_buf_printf(t, " since turning %d", th->since_age);
        if (th->nwhen > 0) {
            cc_buf_puts(t, " (counting episodes of care where ");
            explain_conds(t, th->when, th->nwhen);
            cc_buf_puts(t, ")");
        }
        if (th->min_age > 0)
            cc_buf_printf(t, ", and is %d or older", th->min_age);
        if (th->max_age > 0)
            cc_buf_printf(t, "%s under %d", th->min_age > 0 ? " and" : ", and is", th->max_age);
        cc_buf_puts(t, ", while looked after.\n");
        for (size_t i = 0; i < r.neps; i++) {
            const episode_t *ep = &r.eps[i];
            cc_date_t s0 = ep->start > from ? ep->start : from, e0 = ep->end != CC_DATE_NONE ? ep->end : last;
            int k = first_failing(&r, th->when, th->nwhen, ep->start_event, ep->start, ep->start_event);
            cc_buf_printf(t, "- the episode of care from %s: ", cc_date_format_human(ep->start, h, sizeof(h)));
            if (k >= 0) {
                cc_buf_puts(t, "not counted, ");
                explain_refusal(t, &r, &th->when[k], ep->start_event);
            } else if (e0 < s0) {
                cc_buf_printf(t, "not counted: before the child turned %d.\n", th->since_age);
            } else {
                total += e0 - s0;
                cc_buf_printf(t, "%ld days counted%s.\n", (long)(e0 - s0),
                              ep->end != CC_DATE_NONE ? "" : today != CC_DATE_NONE ? " to today" : " to the latest "
                                                                                                   "date recorded");
            }
        }
        cc_buf_printf(t, "In all: %ld of the %d days needed", total, th->days);
        if (last != CC_DATE_NONE)
            cc_buf_printf(t, ", and the child was %d on %s%s", cc_date_age(child->dob, last),
                          cc_date_format_human(last, h, sizeof(h)),
                          today != CC_DATE_NONE ? " (today)" : ", the latest date recorded");
        cc_buf_puts(t, ".\n");
        goto out;
    }
    cc_buf_puts(t, "Started by: ");
    for (int i = 0; i < rule->nstart_types; i++)
        cc_buf_printf(t, "%s%s", i == 0 ? "" : " or ", type_words(rs, rule->start_types[i], tw, sizeof(tw)));
    cc_buf_printf(t, "%s.\n", rule->per == CC_PER_EPISODE ? ", the first in each episode of care" : "");
    for (size_t i = 0; i < nevents; i++) {
        const cc_event_t *e = r.sorted[i];
        if (!cc_rule_starts_on(rule, e->type))
            continue;
        count++;
        int ep = episode_of(&r, e->date);
        cc_buf_printf(t, "- %s on %s (event %lld): ", type_words(rs, e->type, tw, sizeof(tw)),
                      cc_date_format_human(e->date, h, sizeof(h)), (long long)e->id);
        if (rule->in_care_only && ep < 0) {
            cc_buf_puts(t, "the child was not looked after on that day, and this clock starts only in care.\n");
            continue;
        }
        if (rule->per == CC_PER_EPISODE) {
            if (ep < 0) {
                cc_buf_puts(t, "not inside an episode of care.\n");
                continue;
            }
            if (seen[ep]) {
                cc_buf_printf(t, "not the first %s of its episode of care, on which the clock is judged.\n", tw);
                continue;
            }
            seen[ep] = 1;
        }
        int k = first_failing(&r, rule->applies, rule->napplies, e, e->date, e);
        if (k >= 0) {
            explain_refusal(t, &r, &rule->applies[k], e);
            explain_instead(t, &r, rule, &rule->applies[k], e);
        } else {
            cc_buf_puts(t, "started no clock (another was still open).\n");
        }
    }
    if (count == 0)
        rc = CC_ENOTFOUND;
out:
    if (seen != NULL)
        run_close(&r);
    free(seen);
    cc_clocks_free(&scratch);
    if (rc == 0 && t->failed)
        rc = CC_ENOMEM;
    return rc;
}
