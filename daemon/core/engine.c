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
#include "core/engine_run.h"
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

cc_clock_t *cc__engine_clocks_push(cc_clocks_t *clocks)
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


/* The output may differ from day d on, by the passing of days alone (d
 * after today; an earlier day than the real one is safe: the child is
 * evaluated once more for nothing). */
static void changes_on(run_t *r, cc_date_t d)
{
    if (d > r->today && d < r->next_change)
        r->next_change = d;
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
        if (cc__engine_first_failing(r, iv->when, iv->nwhen, origin, at, origin) < 0) {
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
    cc_clock_t *c = cc__engine_clocks_push(r->out);
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
            if (cc__engine_first_failing(r, rule->due_if[i].when, rule->due_if[i].nwhen, origin, start, origin) < 0) {
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
            int minute = origin && cc__engine_attr_value(r, origin, "time", tm, sizeof(tm)) ? cc__engine_time_minutes(tm) : -1;
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
    return cc__engine_first_failing(r, rule->applies, rule->napplies, e, e->date, e) < 0;
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
cc_date_t cc__engine_birthday(cc_date_t dob, int age)
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
    cc_date_t counted_from = cc__engine_birthday(r->child->dob, t->since_age);
    cc_date_t min_day = cc__engine_birthday(r->child->dob, t->min_age);
    cc_date_t max_day = t->max_age > 0 ? cc__engine_birthday(r->child->dob, t->max_age) : CC_DATE_NONE;
    long total = 0;
    assert(t->active && t->days > 0);
    for (size_t i = 0; i < r->neps; i++) {
        const episode_t *ep = &r->eps[i];
        if (cc__engine_first_failing(r, t->when, t->nwhen, ep->start_event, ep->start, ep->start_event) >= 0)
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
            int ep = cc__engine_episode_of(r, e->date);
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
                    (end == NULL || cc__engine_first_failing(r, rule->cancel_when, rule->ncancel_when, end, end->date, NULL) < 0))
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
                if (e->type != cv->type || cc__engine_first_failing(r, cv->when, cv->nwhen, e, e->date, NULL) >= 0)
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
int cc__engine_unmet_status(cc_status_t status)
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
    cc__engine_sort_events(r.sorted, nevents);
    rc = cc__engine_validate_and_episodes(&r);
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
        rc = cc__engine_data_error(&r, "event %lld (%s): a due date counted from %s falls outside %d-%d, the years careclock "
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
