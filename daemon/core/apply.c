/* Decisions applied to clock instances: see core/apply.h. Moved out of
 * engine.c (issue 14: a module one job), which calls it once per instance
 * after its sweep and from explain. */
#include "core/apply.h"
#include "careclock/decision.h"
#include "careclock/planner.h" /* cc_role_parse */

#include <assert.h>
#include <stdio.h>
#include <string.h>

/* 1 for a status that is still owed (open, due_soon, overdue, at_risk). */
static int unmet_status(cc_status_t status)
{
    return status == CC_STATUS_OPEN || status == CC_STATUS_DUE_SOON || status == CC_STATUS_OVERDUE ||
           status == CC_STATUS_AT_RISK;
}

/* The event type's name in words ("review scheduled"). */
static void type_text(const cc_ruleset_t *rs, int type, char *buf, size_t len)
{
    snprintf(buf, len, "%s", type >= 0 ? cc_ruleset_type_name(rs, (size_t)type) : "event");
    for (char *p = buf; *p; p++)
        if (*p == '_')
            *p = ' ';
}

/* Scheduled too late (scheduled_by): an unmet instance not yet due whose
 * meeting is booked, and the first booking dated on or after its start
 * and today (a booking already passed is history) falls after the date it
 * is chased to, is at_risk from the day the booking is recorded. */
static void at_risk(const cc_ruleset_t *rs, cc_date_t today, const cc_event_t *const *sorted, size_t n,
                    const cc_rule_t *rule, cc_clock_t *c)
{
    if (rule->nscheduled_by == 0 || (c->status != CC_STATUS_OPEN && c->status != CC_STATUS_DUE_SOON))
        return;
    cc_date_t from = c->start > today ? c->start : today, due = cc_clock_chase_date(c);
    const cc_event_t *first = NULL;
    for (size_t k = 0; k < n; k++) {
        const cc_event_t *e = sorted[k];
        int booked = 0;
        for (int t = 0; t < rule->nscheduled_by && !booked; t++)
            booked = e->type == rule->scheduled_by[t];
        if (booked && e->date != CC_DATE_NONE && e->date >= from && (first == NULL || e->date < first->date))
            first = e;
    }
    if (first == NULL || first->date <= due)
        return;
    char what[64], a[CC_DATE_STRLEN], b[CC_DATE_STRLEN];
    type_text(rs, first->type, what, sizeof(what));
    c->status = CC_STATUS_AT_RISK;
    c->scheduled = first->date;
    c->scheduled_event = first->id;
    snprintf(c->reason, sizeof(c->reason), "%s for %s (event %lld), after the %s date %s", what,
             cc_date_format(first->date, a), (long long)first->id, c->agreed_decision ? "agreed" : "due",
             cc_date_format(due, b));
}

void cc__apply_decisions(const cc_ruleset_t *rs, const cc_calendar_t *cal, cc_date_t today, const cc_child_t *child,
                         const cc_event_t *const *sorted, size_t n, const cc_rule_t *rule, cc_clock_t *c)
{
    assert(rs != NULL && child != NULL && rule != NULL && c != NULL);
    char key[CC_CLOCK_KEY_MAX];
    const cc_decision_t *ext = NULL, *exc = NULL;
    if (child->ndecisions > 0) {
        cc_clock_key(c, key, sizeof(key));
        ext = cc_decision_in_force(child->decisions, child->ndecisions, rule->id, key, CC_DECISION_EXTEND);
        exc = cc_decision_in_force(child->decisions, child->ndecisions, rule->id, key, CC_DECISION_EXCEPT);
    }
    /* An agreed date only ever moves the chasing later: one on or before
     * the due date (the due date has moved since) agrees nothing. */
    if (ext != NULL && c->status != CC_STATUS_CANCELLED && ext->date != CC_DATE_NONE && ext->date > c->due) {
        c->agreed = ext->date;
        c->agreed_decision = ext->id;
    }
    c->status = cc_engine_status(rule, cal, today, c);
    at_risk(rs, today, sorted, n, rule, c);
    if (exc != NULL && unmet_status(c->status)) {
        c->status = CC_STATUS_EXCEPTED;
        c->excepted_decision = exc->id;
        snprintf(c->reason, sizeof(c->reason), "excepted: %s%s%.100s", exc->code ? exc->code : "",
                 exc->reason && exc->reason[0] ? ": " : "", exc->reason ? exc->reason : "");
    }
}

/* The decisions about clock c, each in words: who took it, in which
 * capacity, when, why, from which interface; and whether it is in force,
 * withdrawn or superseded. */
void cc__apply_explain(cc_buf_t *t, const cc_child_t *child, const cc_rule_t *rule, const cc_clock_t *c)
{
    char key[CC_CLOCK_KEY_MAX], h[32], h2[32];
    if (child->ndecisions == 0)
        return;
    cc_clock_key(c, key, sizeof(key));
    for (size_t i = 0; i < child->ndecisions; i++) {
        const cc_decision_t *d = &child->decisions[i];
        if (d->kind == CC_DECISION_WITHDRAW || d->rule_id == NULL || d->instance == NULL ||
            strcmp(d->rule_id, rule->id) != 0 || strcmp(d->instance, key) != 0)
            continue;
        int role = cc_role_parse(d->by_role);
        cc_buf_printf(t, "Decision %lld: on %s %s (%s) ", (long long)d->id, cc_date_format_human(d->on, h, sizeof(h)),
                      d->by ? d->by : "(unknown)", role >= 0 ? cc_role_words((cc_role_t)role) : "staff");
        switch (d->kind) {
        case CC_DECISION_EXTEND:
            cc_buf_printf(t, "agreed an extension to %s", cc_date_format_human(d->date, h, sizeof(h)));
            if (d->party && d->party[0])
                cc_buf_printf(t, " with %s", d->party);
            break;
        case CC_DECISION_EXCEPT:
            cc_buf_printf(t, "recorded an exception: %s", d->code ? d->code : "");
            break;
        case CC_DECISION_ACK:
            cc_buf_printf(t, "acknowledged it: their own next reminders and escalations of this clock are held "
                             "until %s (everyone else still gets theirs)",
                          cc_date_format_human(d->date, h, sizeof(h)));
            break;
        case CC_DECISION_INFORM:
            cc_buf_printf(t, "informed %s", d->party ? d->party : "(nobody)");
            break;
        default:
            break;
        }
        if (d->reason && d->reason[0])
            cc_buf_printf(t, ": %s", d->reason);
        cc_buf_printf(t, ". Recorded %s from %s%s%s%s.", d->at ? d->at : "(unknown)",
                      d->via && strcmp(d->via, "web") == 0   ? "the dashboard"
                      : d->via && strcmp(d->via, "cli") == 0 ? "the command line"
                      : d->via                               ? d->via
                                                             : "(unknown)",
                      d->actor ? " (" : "", d->actor ? d->actor : "", d->actor ? ")" : "");
        for (size_t k = 0; k < child->ndecisions; k++) {
            const cc_decision_t *w = &child->decisions[k];
            if (w->kind != CC_DECISION_WITHDRAW || w->withdraws != d->id)
                continue;
            cc_buf_printf(t, " Withdrawn on %s by %s (decision %lld)%s%s.", cc_date_format_human(w->on, h2, sizeof(h2)),
                          w->by ? w->by : "(unknown)", (long long)w->id, w->reason && w->reason[0] ? ": " : "",
                          w->reason ? w->reason : "");
        }
        if (d->kind == CC_DECISION_EXTEND && d->id == c->agreed_decision)
            cc_buf_printf(t, " In force: reminders and escalations follow the agreed date; the statutory due date "
                             "stays %s.",
                          cc_date_format_human(c->due, h, sizeof(h)));
        else if (d->kind == CC_DECISION_EXCEPT && d->id == c->excepted_decision)
            cc_buf_puts(t, " In force: no reminders or escalations.");
        else if ((d->kind == CC_DECISION_EXTEND || d->kind == CC_DECISION_EXCEPT) &&
                 !cc_decision_withdrawn(child->decisions, child->ndecisions, i)) {
            const cc_decision_t *now =
                cc_decision_in_force(child->decisions, child->ndecisions, rule->id, key, d->kind);
            if (now != NULL && now->id != d->id)
                cc_buf_printf(t, " Superseded by decision %lld.", (long long)now->id);
            else if (d->kind == CC_DECISION_EXTEND)
                cc_buf_puts(t, " Not in force: the due date is now on or after the agreed date.");
            else
                cc_buf_puts(t, " Not in force: the clock is no longer owed.");
        }
        cc_buf_puts(t, "\n");
    }
}

