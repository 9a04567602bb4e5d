/* Explanations of the engine's clocks, in plain words (cc_engine_explain,
 * cc_engine_explain_none): the same run as the evaluation (engine_run.h),
 * read rather than evaluated. See include/careclock/engine.h and
 * docs/engine.md.
 */
#include "careclock/engine.h"
#include "careclock/error.h"
#include "core/apply.h"
#include "core/engine_run.h"
#include "util/grow.h"

#include <assert.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    cc__engine_sort_events(r->sorted, nevents);
    return cc__engine_validate_and_episodes(r);
}

static void run_close(run_t *r)
{
    free(r->sorted);
    free(r->eps);
    free(r->used);
}

static void explain_cond(cc_buf_t *t, const cc_cond_t *c);
static void explain_conds(cc_buf_t *t, const cc_cond_t *conds, int n);

/* "1 year 6 months in all[ since turning N][ (counting episodes of care
 * where ...)]": the time in care a starts_when threshold asks for. */
static void threshold_words(cc_buf_t *t, const cc_threshold_t *th)
{
    char words[32];
    cc_buf_printf(t, "%s in all", cc_offset_words(th->total, words, sizeof(words)));
    if (th->since_age > 0)
        cc_buf_printf(t, " since turning %d", th->since_age);
    if (th->nwhen > 0) {
        cc_buf_puts(t, " (counting episodes of care where ");
        explain_conds(t, th->when, th->nwhen);
        cc_buf_puts(t, ")");
    }
}

/* Why the clock's regime applies to this child: each applies condition,
 * with what the child's record said on the starting day. */
static void explain_regime(cc_buf_t *t, const run_t *r, const cc_rule_t *rule, const cc_event_t *start,
                           const cc_clock_t *c)
{
    char value[CC_COND_VALUE_MAX], h[32];
    if (rule->regime == NULL && rule->napplies == 0 && !rule->starts_when.active)
        return;
    cc_buf_printf(t, "Regime: %s", rule->regime ? rule->regime : "the clock's own conditions");
    if (c->flags & CC_CLOCK_DERIVED) {
        const cc_threshold_t *th = &rule->starts_when;
        cc_buf_printf(t, ". It applies because on %s the child had been looked after for ",
                      cc_date_format_human(c->start, h, sizeof(h)));
        threshold_words(t, th);
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
            if (cc__engine_cond_value(r, k, start, start->date, value, sizeof(value)))
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
    if (c->agreed_decision != 0 && cc__engine_unmet_status(c->status)) {
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
    int have = (c->kind == CC_COND_ATTR || c->kind == CC_COND_ATTR_NE) && cc__engine_cond_value(r, c, e, e->date, value,
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
    if (!c->state || c->kind != CC_COND_ATTR_NE || !cc__engine_cond_value(r, c, e, e->date, value, sizeof(value)))
        return;
    for (size_t i = 0; i < cc_ruleset_count(r->rs); i++) {
        const cc_rule_t *x = cc_ruleset_rule(r->rs, i);
        if (x == rule)
            continue;
        for (int k = 0; k < x->napplies; k++) {
            const cc_cond_t *xc = &x->applies[k];
            if (xc->kind == CC_COND_ATTR && xc->state && strcmp(xc->key, c->key) == 0 && cc__engine_value_in(xc->value, value)) {
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
        long total = 0;
        cc_date_t from = cc__engine_birthday(child->dob, th->since_age);
        cc_buf_puts(t, "Started when: the child has been looked after for ");
        threshold_words(t, th);
        if (th->min_age > 0)
            cc_buf_printf(t, ", and is %d or older", th->min_age);
        if (th->max_age > 0)
            cc_buf_printf(t, "%s under %d", th->min_age > 0 ? " and" : ", and is", th->max_age);
        cc_buf_puts(t, ", while looked after.\n");
        for (size_t i = 0; i < r.neps; i++) {
            const episode_t *ep = &r.eps[i];
            cc_date_t s0 = ep->start > from ? ep->start : from, e0 = ep->end != CC_DATE_NONE ? ep->end : last;
            int k = cc__engine_first_failing(&r, th->when, th->nwhen, ep->start_event, ep->start, ep->start_event);
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
        int ep = cc__engine_episode_of(&r, e->date);
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
        int k = cc__engine_first_failing(&r, rule->applies, rule->napplies, e, e->date, e);
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
