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
#include "careclock/error.h"
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
}

void cc_clocks_reset(cc_clocks_t *clocks)
{
    clocks->len = 0;
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
    c->episode = -1;
    return c;
}

static const char *const status_names[CC_STATUS_COUNT] = {"open", "due_soon", "overdue", "met",
                                                           "met_late", "cancelled", "data_error"};

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

cc_status_t cc_engine_status(const cc_rule_t *rule, const cc_calendar_t *cal, cc_date_t today,
                             const cc_clock_t *clock)
{
    if (clock->status == CC_STATUS_CANCELLED || clock->status == CC_STATUS_DATA_ERROR)
        return clock->status;
    if (clock->met_on != CC_DATE_NONE)
        return clock->met_on <= clock->due ? CC_STATUS_MET : CC_STATUS_MET_LATE;
    if (clock->due < today)
        return CC_STATUS_OVERDUE;
    cc_date_t warn_from;
    int rc = cc_calendar_add_working_days(cal, clock->due, -(rule ? rule->warn_wd : 5), &warn_from);
    if ((rc == 0 || rc == CC_EUNCOVERED) && today >= warn_from)
        return CC_STATUS_DUE_SOON;
    return CC_STATUS_OPEN;
}

/* ---- per-run state ---- */

typedef struct {
    cc_date_t start, end; /* end CC_DATE_NONE while open */
    int64_t end_event;
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
} run_t;

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
        char why[96];
        if (cc_engine_attrs_check(e->attrs, why, sizeof(why)) != 0)
            return data_error(r, "event %lld (%s): attributes %.40s%s are not a JSON object of strings: %s",
                              (long long)e->id, cc_ruleset_type_name(r->rs, (size_t)e->type), e->attrs,
                              strlen(e->attrs) > 40 ? "..." : "", why);
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

/* Attribute value of an event: 1 if attrs has key equal to value. */
static int attr_equals(const cc_event_t *e, const char *key, const char *value)
{
    if (e == NULL || e->attrs == NULL || e->attrs[0] == '\0' || strstr(e->attrs, key) == NULL)
        return 0;
    json_t *root = json_loads(e->attrs, JSON_REJECT_DUPLICATES, NULL);
    int match = 0;
    if (root != NULL) {
        json_t *v = json_object_get(root, key);
        match = json_is_string(v) && strcmp(json_string_value(v), value) == 0;
        json_decref(root);
    }
    return match;
}

/* The string value of attribute key of event e into buf; 0 when absent. */
static int attr_value(const cc_event_t *e, const char *key, char *buf, size_t len)
{
    int found = 0;
    if (e == NULL || e->attrs == NULL || e->attrs[0] == '\0')
        return 0;
    json_t *root = json_loads(e->attrs, JSON_REJECT_DUPLICATES, NULL);
    json_t *v = root ? json_object_get(root, key) : NULL;
    if (json_is_string(v)) {
        snprintf(buf, len, "%s", json_string_value(v));
        found = 1;
    }
    json_decref(root);
    return found;
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

/* Whether condition c holds: attributes on event e, the child's age on
 * date at, the time from the chain's starting event (origin) to at. */
static int cond_holds(const run_t *r, const cc_cond_t *c, const cc_event_t *e, cc_date_t at,
                      const cc_event_t *origin)
{
    cc_date_t from;
    int rc;
    switch (c->kind) {
    case CC_COND_ATTR: return attr_equals(e, c->key, c->value);
    case CC_COND_ATTR_NE: return !attr_equals(e, c->key, c->value);
    case CC_COND_AGE_LT: return cc_date_age(r->child->dob, at) < c->age;
    case CC_COND_AGE_GE: return cc_date_age(r->child->dob, at) >= c->age;
    case CC_COND_SINCE_GE:
        if (origin == NULL)
            return 0;
        rc = cc_offset_apply(r->cal, origin->date, c->since, &from);
        return (rc == 0 || rc == CC_EUNCOVERED) && at >= from;
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
        if (!done) {
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
 * unmet (it was missed) but no longer meetable. */
static void close_inst(run_t *r, inst_t *in, cc_date_t date, const char *why)
{
    char d[CC_DATE_STRLEN];
    cc_clock_t *c = &r->out->items[in->out];
    in->closed = 1;
    if (c->due >= date) {
        c->status = CC_STATUS_CANCELLED;
        snprintf(c->reason, sizeof(c->reason), "%s on %s, before the due date", why, cc_date_format(date, d));
    }
}

/* Close every open instance that cancel applies to (close_inst). */
static void close_open(run_t *r, int chain_only, int episode_only, cc_date_t date, const char *why)
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
        close_inst(r, in, date, why);
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
        close_inst(r, latest, date, why);
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

static int sweep_rule(run_t *r, int rule_index)
{
    const cc_rule_t *rule = cc_ruleset_rule(r->rs, (size_t)rule_index);
    size_t first_out = r->out->len, first_open = 0;
    int chains = 0;
    r->ninst = 0;
    memset(r->used, 0, r->n);
    memset(r->ep_has_origin, 0, r->neps ? r->neps : 1);
    /* Only the events this rule starts on, is met by or is cancelled by
     * take part; the others would be skipped by every phase below. */
    size_t nrel = 0;
    for (size_t k = 0; k < r->n; k++) {
        int type = r->sorted[k]->type;
        if (type == rule->start_type || (rule->cancel_type >= 0 && type == rule->cancel_type) ||
            is_met_by(rule, type))
            r->rel[nrel++] = k;
    }
    for (size_t i = 0; i < nrel;) {
        size_t j = i;
        while (j < nrel && r->sorted[r->rel[j]]->date == r->sorted[r->rel[i]]->date)
            j++;
        /* 1: origins */
        for (size_t q = i; q < j; q++) {
            size_t k = r->rel[q];
            const cc_event_t *e = r->sorted[k];
            if (e->type != rule->start_type)
                continue;
            int ep = episode_of(r, e->date);
            if (!origin_applies(r, rule, e, ep))
                continue;
            if (rule->one_open && has_open(r))
                continue;
            if (rule->restart_cancels)
                close_open(r, -1, -2, e->date, "superseded by a new start");
            long made = create(r, rule, rule_index, e, chains++, 0, e->date, e->date, ep, NULL);
            if (made == CC_ENOMEM)
                return CC_ENOMEM;
            if (made >= 0 && rule->accept_early) {
                take_early(r, rule, (size_t)made);
                if (r->inst[made].closed && continue_chain(r, rule, rule_index, (size_t)made) != 0)
                    return CC_ENOMEM;
            }
            /* Dated after the child's last episode of care ended (a review
             * booked for after they left): that end has already passed the
             * sweep, so apply it now. */
            if (made >= 0 && ep < 0 && rule->cancel_type == CC_TYPE_LOOKED_AFTER_END) {
                int before = -1;
                for (size_t x = 0; x < r->neps; x++)
                    if (r->eps[x].start <= e->date)
                        before = (int)x;
                if (before >= 0)
                    close_open(r, (int)r->inst[made].chain, -2, r->eps[before].end, "the episode of care ended");
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
        /* 3: cancelling events */
        for (size_t q = i; q < j; q++) {
            size_t k = r->rel[q];
            const cc_event_t *e = r->sorted[k];
            if (rule->cancel_type < 0 || e->type != rule->cancel_type ||
                first_failing(r, rule->cancel_when, rule->ncancel_when, e, e->date, NULL) >= 0)
                continue;
            const char *why = rule->cancel_reason ? rule->cancel_reason : "cancelled by a later event";
            if (e->type == CC_TYPE_LOOKED_AFTER_END) {
                for (size_t ep = 0; ep < r->neps; ep++)
                    if (r->eps[ep].end_event == e->id)
                        close_open(r, -1, (int)ep, e->date,
                                   rule->cancel_reason ? rule->cancel_reason : "the episode of care ended");
            } else if (rule->cancel_latest) {
                close_latest(r, e->date, why);
            } else {
                close_open(r, -1, -2, e->date, why);
            }
        }
        i = j;
    }
    /* Sequence numbers by start date. */
    size_t count = r->out->len - first_out;
    if (count > 1)
        sort_clocks(r->out->items + first_out, count);
    for (size_t i = 0; i < count; i++)
        r->out->items[first_out + i].seq = (int)i + 1;
    return 0;
}

int cc_engine_run(const cc_ruleset_t *rs, const cc_calendar_t *cal, cc_date_t today, const cc_child_t *child,
                  const cc_event_t *events, size_t nevents, cc_clocks_t *out)
{
    run_t r = {.rs = rs, .cal = cal, .child = child, .n = nevents, .out = out, .base = out->len};
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
    if (!r.sorted || !r.eps || !r.used || !r.ep_has_origin || !r.rel || !has_type) {
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
        int start_type = cc_ruleset_rule(rs, i)->start_type;
        if (start_type >= 0 && (size_t)start_type < ntypes && !has_type[start_type])
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
        c->status = cc_engine_status(cc_ruleset_rule(rs, (size_t)c->rule), cal, today, c);
    }
out:
    if (rc != 0)
        out->len = r.base;
    free(r.sorted);
    free(r.eps);
    free(r.used);
    free(r.ep_has_origin);
    free(r.inst);
    free(r.rel);
    free(has_type);
    return rc;
}

/* ---- explanations ---- */

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

static void explain_cond(cc_buf_t *t, const cc_cond_t *c)
{
    char words[48];
    switch (c->kind) {
    case CC_COND_ATTR: cc_buf_printf(t, "%s is %s", c->key, c->value); break;
    case CC_COND_ATTR_NE: cc_buf_printf(t, "%s is not %s", c->key, c->value); break;
    case CC_COND_AGE_LT: cc_buf_printf(t, "the child is under %d", c->age); break;
    case CC_COND_AGE_GE: cc_buf_printf(t, "the child is %d or older", c->age); break;
    case CC_COND_SINCE_GE:
        cc_buf_printf(t, "it is at least %s since the series began", cc_offset_words(c->since, words, sizeof(words)));
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
    cc_buf_printf(t, "%s (%s) number %d for child %s\n", rule->title, rule->id, c->seq, child->id);
    cc_buf_printf(t, "Rule: %s\n", rule->source);
    cc_buf_printf(t, "Defined in: %s\n", rule->file);
    const cc_event_t *start = find_event(events, nevents, c->start_event);
    if (c->chain_index > 0)
        cc_buf_printf(t, "Started: %s, when the previous %s was met (event %lld).\n",
                      cc_date_format_human(c->start, h, sizeof(h)), rule->title, (long long)c->start_event);
    else if (start != NULL)
        cc_buf_printf(t, "Started: %s on %s (event %lld)%s.\n", type_words(rs, start->type, tw, sizeof(tw)),
                      cc_date_format_human(c->start, h, sizeof(h)), (long long)start->id,
                      rule->per == CC_PER_EPISODE ? ", the first in this episode of care" : "");
    explain_due(rs, cal, clocks, c, rule, t);
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
    cc_date_format_human(today, h2, sizeof(h2));
    int wd = 0;
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
        cc_buf_printf(t, "Status on %s: met late. Met on %s (event %lld), %d working day%s after the due date.\n", h2,
                      cc_date_format_human(c->met_on, h, sizeof(h)), (long long)c->met_event, wd, wd == 1 ? "" : "s");
        break;
    case CC_STATUS_OVERDUE:
        cc_calendar_working_days_between(cal, c->due, today, &wd);
        cc_buf_printf(t, "Status on %s: OVERDUE. Not met, and the due date passed %d working day%s ago.\n", h2, wd,
                      wd == 1 ? "" : "s");
        break;
    case CC_STATUS_DUE_SOON:
        cc_calendar_working_days_between(cal, today, c->due, &wd);
        cc_buf_printf(t, "Status on %s: due soon. Not met yet; %d working day%s left, inside the %d-working-day "
                         "warning window.\n",
                      h2, wd, wd == 1 ? "" : "s", rule->warn_wd);
        break;
    case CC_STATUS_OPEN:
        cc_calendar_working_days_between(cal, today, c->due, &wd);
        cc_buf_printf(t, "Status on %s: open. Not met yet; %d working days left.\n", h2, wd);
        break;
    case CC_STATUS_CANCELLED:
        cc_buf_printf(t, "Status on %s: cancelled. Not met, and no longer needed: %s.\n", h2, c->reason);
        break;
    default:
        break;
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
    char value[64], words[64];
    int age = cc_date_age(r->child->dob, e->date);
    switch (c->kind) {
    case CC_COND_ATTR:
        if (attr_value(e, c->key, value, sizeof(value)))
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

int cc_engine_explain_none(const cc_ruleset_t *rs, const cc_calendar_t *cal, const cc_child_t *child,
                           const cc_event_t *events, size_t nevents, const cc_rule_t *rule, cc_buf_t *t)
{
    assert(rs != NULL && child != NULL && rule != NULL && t != NULL && (events != NULL || nevents == 0));
    cc_clocks_t scratch;
    cc_clocks_init(&scratch);
    run_t r = {.rs = rs, .cal = cal, .child = child, .n = nevents, .out = &scratch};
    size_t n = nevents ? nevents : 1;
    unsigned char *seen = calloc(n, 1);
    char h[32], tw[64];
    int rc = 0, count = 0;
    r.sorted = malloc(n * sizeof(*r.sorted));
    r.eps = malloc(n * sizeof(*r.eps));
    r.used = calloc(n, 1);
    if (!r.sorted || !r.eps || !r.used || !seen) {
        rc = CC_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < nevents; i++)
        r.sorted[i] = &events[i];
    sort_events(r.sorted, nevents);
    rc = validate_and_episodes(&r);
    if (rc < 0)
        goto out;
    if (rc == 0) {
        cc_buf_printf(t, "Child %s: the data cannot be evaluated, so no clock can be trusted until it is mended.\n"
                         "Reason: %s\n",
                      child->id, scratch.len ? scratch.items[0].reason : "");
        goto out;
    }
    rc = 0;
    cc_buf_printf(t, "No %s (%s) clock for child %s.\nRule: %s\nStarted by: %s%s.\n", rule->title, rule->id, child->id,
                  rule->source, type_words(rs, rule->start_type, tw, sizeof(tw)),
                  rule->per == CC_PER_EPISODE ? ", the first in each episode of care" : "");
    for (size_t i = 0; i < nevents; i++) {
        const cc_event_t *e = r.sorted[i];
        if (e->type != rule->start_type)
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
        if (k >= 0)
            explain_refusal(t, &r, &rule->applies[k], e);
        else
            cc_buf_puts(t, "started no clock (another was still open).\n");
    }
    if (count == 0)
        rc = CC_ENOTFOUND;
out:
    free(r.sorted);
    free(r.eps);
    free(r.used);
    free(seen);
    cc_clocks_free(&scratch);
    if (rc == 0 && t->failed)
        rc = CC_ENOMEM;
    return rc;
}
