/* Decisions about a clock instance: names, who may take them, and the
 * check of one asked for. See include/careclock/decision.h and
 * docs/engine.md, "Decisions".
 *
 * Design note: the policy is here, pure, so that the CLI's refusal, the
 * store's (which re-checks inside the writing transaction) and the
 * dashboard's choice of which forms to offer are one and the same.
 */
#include "careclock/decision.h"
#include "careclock/engine.h"
#include "careclock/error.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

static const char *const KIND_NAMES[CC_DECISION_KINDS] = {"extend", "except", "ack", "inform", "withdraw"};

const char *cc_decision_kind_name(cc_decision_kind_t kind)
{
    return (unsigned)kind < CC_DECISION_KINDS ? KIND_NAMES[kind] : "unknown";
}

int cc_decision_kind_parse(const char *name)
{
    for (int i = 0; name != NULL && i < CC_DECISION_KINDS; i++)
        if (strcmp(name, KIND_NAMES[i]) == 0)
            return i;
    return -1;
}

const char *cc_role_words(cc_role_t role)
{
    switch (role) {
    case CC_ROLE_WORKER: return "social worker";
    case CC_ROLE_IRO: return "IRO";
    case CC_ROLE_TEAM_MANAGER: return "team manager";
    case CC_ROLE_SERVICE_MANAGER: return "service manager";
    default: return "team channel";
    }
}

#define PEOPLE                                                                                                   \
    (CC_ROLE_BIT(CC_ROLE_WORKER) | CC_ROLE_BIT(CC_ROLE_IRO) | CC_ROLE_BIT(CC_ROLE_TEAM_MANAGER) |                \
     CC_ROLE_BIT(CC_ROLE_SERVICE_MANAGER))

unsigned cc_decision_roles(const cc_rule_t *rule, cc_decision_kind_t kind)
{
    assert(rule != NULL);
    unsigned mask = 0;
    switch (kind) {
    case CC_DECISION_EXTEND: return rule->extend_roles & PEOPLE;
    case CC_DECISION_EXCEPT: return rule->nexcept_reasons > 0 ? rule->except_roles & PEOPLE : 0;
    case CC_DECISION_ACK:
        for (int i = 0; i < rule->nstages; i++)
            mask |= CC_ROLE_BIT(rule->stages[i].role);
        return mask & PEOPLE;
    case CC_DECISION_INFORM: return PEOPLE;
    default: return 0;
    }
}

int cc_decision_withdrawn(const cc_decision_t *list, size_t n, size_t i)
{
    assert(i < n);
    for (size_t k = 0; k < n; k++)
        if (list[k].kind == CC_DECISION_WITHDRAW && list[k].withdraws == list[i].id)
            return 1;
    return 0;
}

static int same(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

const cc_decision_t *cc_decision_in_force(const cc_decision_t *list, size_t n, const char *rule_id,
                                          const char *instance, cc_decision_kind_t kind)
{
    const cc_decision_t *best = NULL;
    for (size_t i = 0; i < n; i++) {
        const cc_decision_t *d = &list[i];
        if (d->kind != kind || !same(d->rule_id, rule_id) || !same(d->instance, instance) ||
            (best != NULL && best->id > d->id) || cc_decision_withdrawn(list, n, i))
            continue;
        best = d;
    }
    return best;
}

/* The roles of mask in words: "the IRO or the service manager". */
static void roles_words(unsigned mask, char *buf, size_t len)
{
    size_t used = 0;
    int count = 0, total = 0;
    for (int r = CC_ROLE_WORKER; r <= CC_ROLE_SERVICE_MANAGER; r++)
        total += (mask & CC_ROLE_BIT(r)) != 0;
    buf[0] = '\0';
    for (int r = CC_ROLE_WORKER; r <= CC_ROLE_SERVICE_MANAGER && used < len; r++) {
        if (!(mask & CC_ROLE_BIT(r)))
            continue;
        count++;
        int w = snprintf(buf + used, len - used, "%s%s%s", count == 1 ? "" : count == total ? " or " : ", ",
                         r == CC_ROLE_IRO ? "the " : "the child's ", cc_role_words((cc_role_t)r));
        used += w > 0 ? (size_t)w : 0;
    }
}

static int active(int status)
{
    return status == CC_STATUS_OPEN || status == CC_STATUS_DUE_SOON || status == CC_STATUS_OVERDUE ||
           status == CC_STATUS_AT_RISK;
}

int cc_decision_check(const cc_rule_t *rule, const cc_decision_t *d, unsigned held, int status, cc_date_t due,
                      cc_date_t today, cc_role_t *role, char *why, size_t len)
{
    assert(rule != NULL && d != NULL && role != NULL && d->kind != CC_DECISION_WITHDRAW);
    char words[160], a[32], b[32];
    unsigned allowed = cc_decision_roles(rule, d->kind);
    const char *what = d->kind == CC_DECISION_EXTEND   ? "agree an extension of"
                       : d->kind == CC_DECISION_EXCEPT ? "record an exception for"
                       : d->kind == CC_DECISION_ACK    ? "acknowledge"
                                                       : "record who was informed about";
    if (allowed == 0) {
        snprintf(why, len, "nobody may %s the %s clock under the rules (%s)", what, rule->title,
                 d->kind == CC_DECISION_EXTEND ? "the rule has no extend_by" : "the rule lists no except_reasons");
        return CC_EINVAL;
    }
    if ((held & allowed) == 0) {
        roles_words(allowed, words, sizeof(words));
        snprintf(why, len, "%s is not %s, who %s %s the %s clock", d->by ? d->by : "(nobody)", words,
                 __builtin_popcount(allowed) == 1 ? "alone may" : "may", what, rule->title);
        return CC_EINVAL;
    }
    for (int r = CC_ROLE_WORKER; r <= CC_ROLE_SERVICE_MANAGER; r++)
        if (held & allowed & CC_ROLE_BIT(r)) {
            *role = (cc_role_t)r;
            break;
        }
    if (d->on == CC_DATE_NONE || d->on > today) {
        snprintf(why, len, "a decision cannot be dated after today (%s)", cc_date_format(today, a));
        return CC_EINVAL;
    }
    if (!active(status)) {
        snprintf(why, len, "the clock is %s: there is nothing to %s", cc_status_name((cc_status_t)status),
                 d->kind == CC_DECISION_EXTEND   ? "extend"
                 : d->kind == CC_DECISION_EXCEPT ? "except"
                 : d->kind == CC_DECISION_ACK    ? "acknowledge"
                                                 : "inform anyone about");
        return CC_EINVAL;
    }
    switch (d->kind) {
    case CC_DECISION_EXTEND:
        if (d->date == CC_DATE_NONE || d->date <= due) {
            snprintf(why, len, "the agreed date must be after the due date, %s", cc_date_format(due, a));
            return CC_EINVAL;
        }
        if (d->date < today) {
            snprintf(why, len, "the agreed date %s has already passed (today is %s)", cc_date_format(d->date, a),
                     cc_date_format(today, b));
            return CC_EINVAL;
        }
        if (d->reason == NULL || d->reason[0] == '\0') {
            snprintf(why, len, "an extension needs its reason (--reason)");
            return CC_EINVAL;
        }
        return 0;
    case CC_DECISION_EXCEPT:
        for (int i = 0; i < rule->nexcept_reasons; i++)
            if (same(d->code, rule->except_reasons[i]))
                return 0;
        {
            size_t used = 0;
            words[0] = '\0';
            for (int i = 0; i < rule->nexcept_reasons && used < sizeof(words); i++) {
                int w = snprintf(words + used, sizeof(words) - used, "%s%s", i ? ", " : "", rule->except_reasons[i]);
                used += w > 0 ? (size_t)w : 0;
            }
        }
        snprintf(why, len, "\"%s\" is not a reason the %s clock may be excepted for (%s)", d->code ? d->code : "",
                 rule->title, words);
        return CC_EINVAL;
    case CC_DECISION_ACK:
        if (d->date == CC_DATE_NONE || d->date < today) {
            snprintf(why, len, "an acknowledgement holds until a day from today (%s) on", cc_date_format(today, a));
            return CC_EINVAL;
        }
        if (d->date > today + CC_DECISION_ACK_MAX_DAYS) {
            snprintf(why, len,
                     "an acknowledgement holds for at most %d days (until %s); for longer, agree an extension",
                     CC_DECISION_ACK_MAX_DAYS, cc_date_format(today + CC_DECISION_ACK_MAX_DAYS, a));
            return CC_EINVAL;
        }
        return 0;
    case CC_DECISION_INFORM:
        if (d->party == NULL || d->party[0] == '\0') {
            snprintf(why, len, "say whom you informed (--to STAFF_ID)");
            return CC_EINVAL;
        }
        if (d->by != NULL && strcmp(d->by, d->party) == 0) {
            snprintf(why, len, "%s cannot inform themselves", d->by);
            return CC_EINVAL;
        }
        return 0;
    default:
        break;
    }
    snprintf(why, len, "not a decision that can be checked");
    return CC_EINVAL;
}
