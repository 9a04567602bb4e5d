/* Compiling one rule's entries into a cc_rule_t: conditions (due_if,
 * applies, cancel_on, starts_when), intervals, stages, met_by, then and the
 * other keys, each error with its file and line. See rules.c's design notes
 * and docs/rules.md.
 */
#include "careclock/rules.h"
#include "careclock/error.h"
#include "util/grow.h"
#include "util/inifile.h"
#include "core/rules_load.h"
#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Why a condition or interval did not parse, for the error message. */
typedef enum { PARSE_OK = 0, PARSE_BAD = -1, PARSE_TOO_BIG = -2 } parse_rc_t;

/* A condition's value: one or more alternatives joined by |, each
 * non-empty, no spaces, = or !. */
static int valid_value(const char *v)
{
    if (*v == '\0' || strlen(v) >= CC_COND_VALUE_MAX || strpbrk(v, " \t=!") != NULL)
        return 0;
    for (const char *p = v; *p; p++)
        if (*p == '|' && (p == v || p[1] == '\0' || p[1] == '|'))
            return 0;
    return 1;
}

/* "age>=5", "age<16", "age=5-15" (two conditions), "emergency=yes",
 * "outcome!=no_plan", "legal_status!=V3|V4", "prev.place=A3|A4", and, when
 * allow_since, "since>=12m" and "after=review_held". Ages are read
 * with a width and checked, so that no number overflows (%d on
 * "age=0-2147483647" made b + 1 overflow). Event types (after=) and state
 * attributes are resolved later, by resolve_conds. */
static parse_rc_t parse_cond(const char *text, cc_cond_t *out, int max, int *used, int allow_since)
{
    int a, b;
    char tail;
    *used = 0;
    memset(out, 0, sizeof(*out) * (size_t)max);
    if (sscanf(text, "age>=%3d%c", &a, &tail) == 1) {
        if (a < 0 || a > CC_COND_AGE_MAX)
            return PARSE_BAD;
        out[0].kind = CC_COND_AGE_GE;
        out[0].age = a;
        *used = 1;
        return PARSE_OK;
    }
    if (sscanf(text, "age<%3d%c", &a, &tail) == 1) {
        if (a < 0 || a > CC_COND_AGE_MAX)
            return PARSE_BAD;
        out[0].kind = CC_COND_AGE_LT;
        out[0].age = a;
        *used = 1;
        return PARSE_OK;
    }
    if (sscanf(text, "age=%3d-%3d%c", &a, &b, &tail) == 2 && a >= 0 && a <= b && b <= CC_COND_AGE_MAX && max >= 2) {
        out[0].kind = CC_COND_AGE_GE;
        out[0].age = a;
        out[1].kind = CC_COND_AGE_LT;
        out[1].age = b + 1;
        *used = 2;
        return PARSE_OK;
    }
    if (strncmp(text, "since>=", 7) == 0) {
        char max_text[16];
        if (!allow_since || cc_offset_parse(text + 7, 0, &out[0].since) != 0 || out[0].since.n < 0)
            return PARSE_BAD;
        if (!cc__rules_bounded(out[0].since, max_text, sizeof(max_text)))
            return PARSE_TOO_BIG;
        out[0].kind = CC_COND_SINCE_GE;
        *used = 1;
        return PARSE_OK;
    }
    if (strncmp(text, "after=", 6) == 0) {
        if (!allow_since || text[6] == '\0' || strlen(text + 6) >= sizeof(out->key) || strchr(text + 6, '|'))
            return PARSE_BAD;
        out[0].kind = CC_COND_AFTER;
        snprintf(out[0].key, sizeof(out[0].key), "%s", text + 6);
        out[0].type = -1;
        *used = 1;
        return PARSE_OK;
    }
    if (strncmp(text, "prev.", 5) == 0) {
        out[0].prev = 1;
        text += 5;
    }
    const char *eq = strchr(text, '=');
    int negated = eq != NULL && eq > text && eq[-1] == '!';
    const char *key_end = negated ? eq - 1 : eq;
    if (eq == NULL || key_end == text || strncmp(text, "age", 3) == 0 ||
        (size_t)(key_end - text) >= sizeof(out->key) || !valid_value(eq + 1))
        return PARSE_BAD;
    /* An attribute name as event add accepts it: letters, digits, _ and -
     * (so that "since>=12m" where it is not allowed, or "age>>5", is never
     * read as an attribute called "since>" or "age>"). */
    for (const char *k = text; k < key_end; k++)
        if (!isalnum((unsigned char)*k) && *k != '_' && *k != '-')
            return PARSE_BAD;
    out[0].kind = negated ? CC_COND_ATTR_NE : CC_COND_ATTR;
    snprintf(out[0].key, sizeof(out[0].key), "%.*s", (int)(key_end - text), text);
    snprintf(out[0].value, sizeof(out[0].value), "%s", eq + 1);
    *used = 1;
    return PARSE_OK;
}

/* Resolve what parse_cond left by name: a state attribute's flag, the
 * event type of after=. Returns 0, or -1 with what is wrong in why. */
static int resolve_conds(const loader_t *l, cc_cond_t *conds, int n, char *why, size_t len)
{
    for (int i = 0; i < n; i++) {
        cc_cond_t *c = &conds[i];
        if (c->kind == CC_COND_AFTER) {
            c->type = cc_ruleset_type_index(l->rs, c->key);
            if (c->type < 0) {
                snprintf(why, len, "after=%s: unknown event type", c->key);
                return -1;
            }
        } else if (c->kind == CC_COND_ATTR || c->kind == CC_COND_ATTR_NE) {
            c->state = 0;
            for (size_t k = 0; k < l->rs->nstates; k++)
                if (strcmp(l->rs->states[k], c->key) == 0)
                    c->state = 1;
            if (c->prev && !c->state) {
                snprintf(why, len, "prev.%s: \"%s\" is not a state attribute ([events] state = ...)", c->key,
                         c->key);
                return -1;
            }
        }
    }
    return 0;
}

/* Whitespace-separated conditions (all must hold) into out[0..max), as
 * parse_cond reads each. words[0..n) are the tokens. */
static parse_rc_t parse_conds(char *const *words, int n, cc_cond_t *out, int max, int *used, int allow_since)
{
    *used = 0;
    for (int i = 0; i < n; i++) {
        int one;
        if (*used >= max)
            return PARSE_BAD;
        parse_rc_t rc = parse_cond(words[i], out + *used, max - *used, &one, allow_since);
        if (rc != PARSE_OK)
            return rc;
        *used += one;
    }
    return PARSE_OK;
}

#define MAX_WORDS 8

/* Split text at spaces and tabs into words (pointers into buf, a copy).
 * Returns the number of words, or -1 when there are more than max. */
static int split_words(const char *text, char *buf, size_t len, char **words, int max)
{
    int n = 0;
    snprintf(buf, len, "%s", text);
    for (char *tok = strtok(buf, " \t"); tok != NULL; tok = strtok(NULL, " \t")) {
        if (n >= max)
            return -1;
        words[n++] = tok;
    }
    return n;
}

/* "COND [COND...] OFFSET", as in "emergency=yes +10wd", "age>=5 +12m" or
 * "long_term=yes since>=12m +3m". */
static parse_rc_t parse_interval(const char *text, cc_interval_t *out, int allow_since)
{
    char buf[256], *words[MAX_WORDS], max_text[16];
    int n = split_words(text, buf, sizeof(buf), words, MAX_WORDS);
    memset(out, 0, sizeof(*out));
    if (n < 2)
        return PARSE_BAD;
    parse_rc_t rc = parse_conds(words, n - 1, out->when, CC_INTERVAL_MAX_CONDS, &out->nwhen, allow_since);
    if (rc != PARSE_OK)
        return rc;
    if (cc_offset_parse(words[n - 1], 0, &out->offset) != 0)
        return PARSE_BAD;
    return cc__rules_bounded(out->offset, max_text, sizeof(max_text)) ? PARSE_OK : PARSE_TOO_BIG;
}

const char *cc_role_name(cc_role_t role)
{
    assert(role >= CC_ROLE_WORKER && role <= CC_ROLE_TEAM_WEBHOOK);
    switch (role) {
    case CC_ROLE_WORKER: return "worker";
    case CC_ROLE_IRO: return "iro";
    case CC_ROLE_TEAM_MANAGER: return "team_manager";
    case CC_ROLE_SERVICE_MANAGER: return "service_manager";
    default: return "team_webhook";
    }
}

typedef struct {
    loader_t *l;
    const entry_t *e;
    cc_rule_t *rule;
} item_ctx_t;

static int stage_item(void *ctx, const char *item)
{
    item_ctx_t *c = ctx;
    char off[32], role[32], flag[16] = "", tail[2];
    int n = sscanf(item, "%31s %31s %15s %1s", off, role, flag, tail);
    cc_stage_t st = {.immediate = 0};
    int ok = (n == 2 || n == 3) && cc_offset_parse(off, 0, &st.offset) == 0 && st.offset.unit == CC_UNIT_WORKING_DAYS;
    if (ok && n == 3)
        ok = strcmp(flag, "now") == 0 && (st.immediate = 1);
    int r;
    for (r = CC_ROLE_WORKER; ok && r <= CC_ROLE_TEAM_WEBHOOK; r++)
        if (strcmp(role, cc_role_name((cc_role_t)r)) == 0)
            break;
    if (!ok || r > CC_ROLE_TEAM_WEBHOOK) {
        cc__rules_error_at(c->l, c->e->file, c->e->line,
                 "%s: stage \"%s\" must be OFFSET ROLE [now], OFFSET in working days (-5wd, +0wd, +1wd), "
                 "ROLE worker, iro, team_manager, service_manager or team_webhook",
                 c->rule->id, item);
        return -1;
    }
    char max[16];
    if (!cc__rules_bounded(st.offset, max, sizeof(max))) {
        cc__rules_error_at(c->l, c->e->file, c->e->line, "%s: stage \"%s\": %s is more than any clock can mean (at most %s)",
                 c->rule->id, item, off, max);
        return -1;
    }
    st.role = (cc_role_t)r;
    if (c->rule->nstages >= CC_RULE_MAX_STAGES) {
        cc__rules_error_at(c->l, c->e->file, c->e->line, "%s: at most %d stages", c->rule->id, CC_RULE_MAX_STAGES);
        return -1;
    }
    c->rule->stages[c->rule->nstages++] = st;
    return 0;
}

/* A role that may take a decision (extend_by, except_by): worker, iro,
 * team_manager or service_manager (not team_webhook: a channel decides
 * nothing). *mask gains its bit. */
typedef struct {
    item_ctx_t *c;
    const char *key;
    unsigned *mask;
} roles_ctx_t;

static int decision_role_item(void *ctx, const char *item)
{
    roles_ctx_t *rc = ctx;
    for (int r = CC_ROLE_WORKER; r <= CC_ROLE_SERVICE_MANAGER; r++)
        if (strcmp(item, cc_role_name((cc_role_t)r)) == 0) {
            *rc->mask |= CC_ROLE_BIT(r);
            return 0;
        }
    cc__rules_error_at(rc->c->l, rc->c->e->file, rc->c->e->line,
             "%s: %s: \"%s\" is not a role that can decide (worker, iro, team_manager, service_manager; or none)",
             rc->c->rule->id, rc->key, item);
    return -1;
}

/* extend_by, except_by = ROLE, ROLE... | none */
static void compile_roles(item_ctx_t *c, const char *key, const char *value, unsigned *mask)
{
    roles_ctx_t rc = {c, key, mask};
    *mask = 0;
    if (strcmp(value, "none") != 0)
        cc__rules_each_item(value, decision_role_item, &rc);
}

/* except_reasons = CODE, CODE...: lower-case words (declined, not_required). */
static int except_reason_item(void *ctx, const char *item)
{
    item_ctx_t *c = ctx;
    size_t len = strlen(item);
    int ok = len > 0 && len < CC_RULE_REASON_MAX;
    for (size_t i = 0; ok && i < len; i++)
        ok = (item[i] >= 'a' && item[i] <= 'z') || (item[i] >= '0' && item[i] <= '9') || item[i] == '_';
    if (!ok) {
        cc__rules_error_at(c->l, c->e->file, c->e->line,
                 "%s: except_reasons: \"%s\" is not a reason code (lower-case letters, digits and _, at most %d)",
                 c->rule->id, item, CC_RULE_REASON_MAX - 1);
        return -1;
    }
    if (c->rule->nexcept_reasons >= CC_RULE_MAX_REASONS) {
        cc__rules_error_at(c->l, c->e->file, c->e->line, "%s: except_reasons: at most %d", c->rule->id, CC_RULE_MAX_REASONS);
        return -1;
    }
    snprintf(c->rule->except_reasons[c->rule->nexcept_reasons++], CC_RULE_REASON_MAX, "%s", item);
    return 0;
}

static int scheduled_by_item(void *ctx, const char *item)
{
    item_ctx_t *c = ctx;
    int t = cc_ruleset_type_index(c->l->rs, item);
    if (t < 0) {
        cc__rules_error_at(c->l, c->e->file, c->e->line, "%s: scheduled_by: unknown event type \"%s\"", c->rule->id, item);
        return -1;
    }
    if (!cc_ruleset_type_future_ok(c->l->rs, t)) {
        cc__rules_error_at(c->l, c->e->file, c->e->line,
                 "%s: scheduled_by: \"%s\" records something done, not booked ([events] future lists the types "
                 "that may be dated ahead)",
                 c->rule->id, item);
        return -1;
    }
    if (c->rule->nscheduled_by >= CC_RULE_MAX_TYPES) {
        cc__rules_error_at(c->l, c->e->file, c->e->line, "%s: scheduled_by: at most %d types", c->rule->id, CC_RULE_MAX_TYPES);
        return -1;
    }
    c->rule->scheduled_by[c->rule->nscheduled_by++] = t;
    return 0;
}

static int met_by_item(void *ctx, const char *item)
{
    item_ctx_t *c = ctx;
    int t = cc_ruleset_type_index(c->l->rs, item);
    if (t < 0) {
        cc__rules_error_at(c->l, c->e->file, c->e->line, "%s: met_by: unknown event type \"%s\"", c->rule->id, item);
        return -1;
    }
    if (c->rule->nmet_by >= CC_RULE_MAX_TYPES) {
        cc__rules_error_at(c->l, c->e->file, c->e->line, "%s: met_by: at most %d types", c->rule->id, CC_RULE_MAX_TYPES);
        return -1;
    }
    c->rule->met_by[c->rule->nmet_by++] = t;
    return 0;
}

static int then_item(void *ctx, const char *item)
{
    item_ctx_t *c = ctx;
    cc_offset_t off;
    char max[16];
    if (c->rule->nthen >= CC_RULE_MAX_IFS || cc_offset_parse(item, 0, &off) != 0 || off.n <= 0) {
        cc__rules_error_at(c->l, c->e->file, c->e->line, "%s: then: \"%s\" is not a positive offset (at most %d)",
                 c->rule->id, item, CC_RULE_MAX_IFS);
        return -1;
    }
    if (!cc__rules_bounded(off, max, sizeof(max))) {
        cc__rules_error_at(c->l, c->e->file, c->e->line, "%s: then: \"%s\" is more than any clock can mean (at most %s)",
                 c->rule->id, item, max);
        return -1;
    }
    c->rule->then[c->rule->nthen++] = off;
    return 0;
}

static int applies_item(void *ctx, const char *item)
{
    item_ctx_t *c = ctx;
    int used;
    char why[128];
    if (c->rule->napplies + 2 > CC_RULE_MAX_APPLIES ||
        parse_cond(item, &c->rule->applies[c->rule->napplies], 2, &used, 0) != PARSE_OK) {
        cc__rules_error_at(c->l, c->e->file, c->e->line,
                 "%s: applies: \"%s\" is not a condition (age>=N, age<N, age=A-B, key=value, key!=value, "
                 "key=A|B, prev.key=value)",
                 c->rule->id, item);
        return -1;
    }
    if (resolve_conds(c->l, &c->rule->applies[c->rule->napplies], used, why, sizeof(why)) != 0) {
        cc__rules_error_at(c->l, c->e->file, c->e->line, "%s: applies: %s", c->rule->id, why);
        return -1;
    }
    c->rule->napplies += used;
    return 0;
}

static int start_type_item(void *ctx, const char *item)
{
    item_ctx_t *c = ctx;
    int t = cc_ruleset_type_index(c->l->rs, item);
    if (t < 0) {
        cc__rules_error_at(c->l, c->e->file, c->e->line, "%s: starts_on: unknown event type \"%s\"", c->rule->id, item);
        return -1;
    }
    if (c->rule->nstart_types >= CC_RULE_MAX_TYPES) {
        cc__rules_error_at(c->l, c->e->file, c->e->line, "%s: starts_on: at most %d types", c->rule->id, CC_RULE_MAX_TYPES);
        return -1;
    }
    c->rule->start_types[c->rule->nstart_types++] = t;
    return 0;
}

/* "cancel_on = none", "= TYPE", "= TYPE COND [COND...]", each optionally
 * followed by ": REASON": the event type that cancels, conditions on that
 * event (attributes, state, or the child's age on its date), all of which
 * must hold, and the reason in words. The key may be given several times
 * in one file (up to CC_RULE_MAX_CANCELS); the first fills cancel_type,
 * cancel_when and (with a reason) cancel_reason, the others more_cancels. */
static void compile_cancel_on(loader_t *l, const entry_t *e, cc_rule_t *rule)
{
    char buf[256], *words[MAX_WORDS], why[128];
    if (strcmp(e->value, "none") == 0) {
        rule->cancel_type = -1;
        rule->ncancel_when = 0;
        for (int i = 0; i < rule->nmore_cancels; i++)
            free(rule->more_cancels[i].reason);
        rule->nmore_cancels = 0;
        return;
    }
    int first = rule->cancel_type < 0;
    if (!first && rule->nmore_cancels >= CC_RULE_MAX_CANCELS - 1) {
        cc__rules_error_at(l, e->file, e->line, "%s: cancel_on: at most %d", rule->id, CC_RULE_MAX_CANCELS);
        return;
    }
    /* "TYPE COND... : reason" (no type or condition holds a colon) */
    const char *colon = strchr(e->value, ':');
    size_t head = colon ? (size_t)(colon - e->value) : strlen(e->value);
    char text[256];
    snprintf(text, sizeof(text), "%.*s", (int)head, e->value);
    const char *reason = colon ? colon + 1 : NULL;
    while (reason && (*reason == ' ' || *reason == '\t'))
        reason++;
    if (reason && *reason == '\0') {
        cc__rules_error_at(l, e->file, e->line, "%s: cancel_on: \"%s\": nothing after the colon (: REASON)", rule->id,
                 e->value);
        return;
    }
    int n = split_words(text, buf, sizeof(buf), words, MAX_WORDS);
    if (n < 1) {
        cc__rules_error_at(l, e->file, e->line, "%s: cancel_on: give an event type (or none)", rule->id);
        return;
    }
    int type = cc_ruleset_type_index(l->rs, words[0]);
    cc_cond_t when[CC_RULE_MAX_IFS];
    int nwhen = 0;
    if (type < 0) {
        cc__rules_error_at(l, e->file, e->line, "%s: cancel_on: unknown event type \"%s\"", rule->id, words[0]);
        return;
    }
    if (parse_conds(words + 1, n - 1, when, CC_RULE_MAX_IFS, &nwhen, 0) != PARSE_OK) {
        cc__rules_error_at(l, e->file, e->line,
                 "%s: cancel_on: \"%s\" must be EVENT_TYPE [CONDITION...] [: REASON] (referral_decision "
                 "outcome=nfa), conditions key=value, key!=value, key=A|B, age>=N, age<N or age=A-B",
                 rule->id, e->value);
        return;
    }
    if (resolve_conds(l, when, nwhen, why, sizeof(why)) != 0) {
        cc__rules_error_at(l, e->file, e->line, "%s: cancel_on: %s", rule->id, why);
        return;
    }
    if (first) {
        rule->cancel_type = type;
        memcpy(rule->cancel_when, when, sizeof(when));
        rule->ncancel_when = nwhen;
        if (reason != NULL) {
            free(rule->cancel_reason);
            rule->cancel_reason = strdup(reason);
        }
        return;
    }
    cc_cancel_t *c = &rule->more_cancels[rule->nmore_cancels++];
    c->type = type;
    memcpy(c->when, when, sizeof(when));
    c->nwhen = nwhen;
    c->reason = reason ? strdup(reason) : NULL;
}

/* "starts_when = looked_after 13w since_age=14 age>=16 age<18 COND...": a
 * start derived from the episodes of care (cc_threshold_t). */
static void compile_starts_when(loader_t *l, const entry_t *e, cc_rule_t *rule)
{
    char buf[256], *words[MAX_WORDS], why[128], max[16];
    cc_threshold_t *t = &rule->starts_when;
    memset(t, 0, sizeof(*t));
    int n = split_words(e->value, buf, sizeof(buf), words, MAX_WORDS);
    int ok = n >= 2 && strcmp(words[0], "looked_after") == 0 && cc_offset_parse(words[1], 0, &t->total) == 0 &&
             t->total.n > 0 && (t->total.unit == CC_UNIT_DAYS || t->total.unit == CC_UNIT_WEEKS);
    if (ok && !cc__rules_bounded(t->total, max, sizeof(max))) {
        cc__rules_error_at(l, e->file, e->line, "%s: starts_when: %s is more than any clock can mean (at most %s)", rule->id,
                 words[1], max);
        return;
    }
    for (int i = 2; ok && i < n; i++) {
        int a;
        char tail;
        if (sscanf(words[i], "since_age=%3d%c", &a, &tail) == 1 && a >= 0 && a <= CC_COND_AGE_MAX) {
            t->since_age = a;
        } else if (sscanf(words[i], "age>=%3d%c", &a, &tail) == 1 && a >= 0 && a <= CC_COND_AGE_MAX) {
            t->min_age = a;
        } else if (sscanf(words[i], "age<%3d%c", &a, &tail) == 1 && a > 0 && a <= CC_COND_AGE_MAX) {
            t->max_age = a;
        } else {
            int used;
            ok = t->nwhen < CC_RULE_MAX_IFS &&
                 parse_cond(words[i], &t->when[t->nwhen], CC_RULE_MAX_IFS - t->nwhen, &used, 0) == PARSE_OK &&
                 (t->when[t->nwhen].kind == CC_COND_ATTR || t->when[t->nwhen].kind == CC_COND_ATTR_NE);
            if (ok && resolve_conds(l, &t->when[t->nwhen], used, why, sizeof(why)) != 0) {
                cc__rules_error_at(l, e->file, e->line, "%s: starts_when: %s", rule->id, why);
                return;
            }
            t->nwhen += ok ? used : 0;
        }
    }
    if (!ok) {
        cc__rules_error_at(l, e->file, e->line,
                 "%s: starts_when: \"%s\" must be looked_after DURATION [since_age=N] [age>=N] [age<N] "
                 "[key=value|key!=value...] (looked_after 13w since_age=14 age>=16 age<18 legal_status!=V3|V4), "
                 "DURATION in days or weeks",
                 rule->id, e->value);
        return;
    }
    t->days = t->total.unit == CC_UNIT_WEEKS ? 7 * t->total.n : t->total.n;
    t->active = 1;
}

/* "extend_on = TYPE OFFSET": an event of TYPE moves the open instance's due
 * date on by OFFSET, once (CPPCR reg 25(2)). */
static void compile_extend_on(loader_t *l, const entry_t *e, cc_rule_t *rule)
{
    char buf[256], *words[MAX_WORDS], max[16];
    rule->extend_type = -1;
    if (strcmp(e->value, "none") == 0)
        return;
    int n = split_words(e->value, buf, sizeof(buf), words, MAX_WORDS);
    if (n != 2 || cc_offset_parse(words[1], 0, &rule->extend_offset) != 0 || rule->extend_offset.n <= 0) {
        cc__rules_error_at(l, e->file, e->line, "%s: extend_on: \"%s\" must be EVENT_TYPE OFFSET (approval_extended +8w)",
                 rule->id, e->value);
        return;
    }
    if (!cc__rules_bounded(rule->extend_offset, max, sizeof(max))) {
        cc__rules_error_at(l, e->file, e->line, "%s: extend_on: %s is more than any clock can mean (at most %s)", rule->id,
                 words[1], max);
        return;
    }
    rule->extend_type = cc_ruleset_type_index(l->rs, words[0]);
    if (rule->extend_type < 0)
        cc__rules_error_at(l, e->file, e->line, "%s: extend_on: unknown event type \"%s\"", rule->id, words[0]);
}

/* "+72h": hours, 1..CC_RULE_MAX_HOURS. Returns the count, or 0 when text
 * is not an hours offset, -1 when it is one out of bounds. */
static int parse_hours(const char *text)
{
    const char *p = text + (*text == '+');
    long n = 0;
    if (*p < '0' || *p > '9')
        return 0;
    while (*p >= '0' && *p <= '9' && n <= CC_RULE_MAX_HOURS)
        n = n * 10 + (*p++ - '0');
    if (strcmp(p, "h") != 0)
        return 0;
    return n >= 1 && n <= CC_RULE_MAX_HOURS ? (int)n : -1;
}

int cc__rules_compile_rule(loader_t *l, const raw_rule_t *raw, cc_rule_t *rule, anchor_ref_t *anchor)
{
    int before = l->nerrors;
    int have_title = 0, have_source = 0, have_start = 0, have_due = 0, have_met = 0, have_except_by = 0;
    char max[16], why[128];
    memset(rule, 0, sizeof(*rule));
    memset(anchor, 0, sizeof(*anchor));
    snprintf(rule->id, sizeof(rule->id), "%s", raw->id);
    rule->anchor_rule = -1;
    rule->cancel_type = -1;
    rule->extend_type = -1;
    rule->series_gap = (cc_offset_t){6, CC_UNIT_MONTHS};
    rule->warn_wd = 5;
    rule->enabled = 1;
    rule->line = raw->line;
    for (size_t i = 0; i < raw->n; i++) {
        const entry_t *e = &raw->entries[i];
        const char *k = e->key, *v = e->value;
        item_ctx_t ctx = {l, e, rule};
        if (strcmp(k, "title") == 0) {
            free(rule->title);
            rule->title = strdup(v);
            have_title = 1;
        } else if (strcmp(k, "source") == 0) {
            free(rule->source);
            rule->source = strdup(v);
            have_source = 1;
        } else if (strcmp(k, "starts_on") == 0) {
            rule->nstart_types = 0;
            if (cc__rules_each_item(v, start_type_item, &ctx) == 0 && rule->nstart_types == 0)
                cc__rules_error_at(l, e->file, e->line, "%s: starts_on: give an event type", rule->id);
            rule->start_type = rule->nstart_types > 0 ? rule->start_types[0] : -1;
            have_start = 1;
        } else if (strcmp(k, "starts_when") == 0) {
            compile_starts_when(l, e, rule);
            have_start = 1;
        } else if (strcmp(k, "per") == 0) {
            if (strcmp(v, "event") == 0)
                rule->per = CC_PER_EVENT;
            else if (strcmp(v, "episode") == 0)
                rule->per = CC_PER_EPISODE;
            else if (strcmp(v, "placement") == 0)
                rule->per = CC_PER_PLACEMENT;
            else if (strcmp(v, "series") == 0)
                rule->per = CC_PER_SERIES;
            else
                cc__rules_error_at(l, e->file, e->line, "%s: per: \"%s\" is not event, episode, placement or series", rule->id,
                         v);
        } else if (strcmp(k, "series_gap") == 0) {
            if (cc_offset_parse(v, 0, &rule->series_gap) != 0 || rule->series_gap.n <= 0)
                cc__rules_error_at(l, e->file, e->line, "%s: series_gap: \"%s\" is not a positive offset (6m, 26w)", rule->id,
                         v);
            else if (!cc__rules_bounded(rule->series_gap, max, sizeof(max)))
                cc__rules_error_at(l, e->file, e->line, "%s: series_gap: \"%s\" is more than any clock can mean (at most %s)",
                         rule->id, v, max);
        } else if (strcmp(k, "regime") == 0) {
            free(rule->regime);
            rule->regime = strdup(v);
        } else if (strcmp(k, "local") == 0) {
            if (cc__rules_parse_yes_no(v, &rule->local) != 0)
                cc__rules_error_at(l, e->file, e->line, "%s: local: \"%s\" is not yes or no", rule->id, v);
        } else if (strcmp(k, "extend_on") == 0) {
            compile_extend_on(l, e, rule);
        } else if (strcmp(k, "due") == 0) {
            const char *hash = strchr(v, '#');
            int hours = parse_hours(v);
            have_due = 1;
            rule->anchor_rule = -1;
            rule->due_hours = 0;
            if (hours != 0) {
                if (hours < 0)
                    cc__rules_error_at(l, e->file, e->line, "%s: due: \"%s\" is more than any clock can mean (at most %dh)",
                             rule->id, v, CC_RULE_MAX_HOURS);
                rule->due_hours = hours > 0 ? hours : 0;
                rule->due = (cc_offset_t){0, CC_UNIT_DAYS};
                anchor->e = NULL;
            } else if (hash != NULL) {
                int seq = 0;
                char tail;
                if (hash == v || (size_t)(hash - v) >= CC_RULE_ID_MAX || sscanf(hash + 1, "%d%c", &seq, &tail) != 1 ||
                    seq < 1)
                    cc__rules_error_at(l, e->file, e->line, "%s: due: \"%s\" is not an offset or RULE#N", rule->id, v);
                snprintf(anchor->rule, sizeof(anchor->rule), "%.*s", (int)(hash - v), v);
                anchor->e = e;
                rule->anchor_seq = seq;
            } else if (cc_offset_parse(v, 0, &rule->due) != 0) {
                cc__rules_error_at(l, e->file, e->line,
                         "%s: due: \"%s\" is not an offset (+10wd, -3wd, +12w, +3m, +84d, +72h) or RULE#N", rule->id,
                         v);
            } else if (!cc__rules_bounded(rule->due, max, sizeof(max))) {
                cc__rules_error_at(l, e->file, e->line, "%s: due: \"%s\" is more than any clock can mean (at most %s)",
                         rule->id, v, max);
            } else {
                anchor->e = NULL;
            }
        } else if (strcmp(k, "due_if") == 0 || strcmp(k, "then_if") == 0) {
            int is_due = k[0] == 'd';
            int *n = is_due ? &rule->ndue_if : &rule->nthen_if;
            cc_interval_t *arr = is_due ? rule->due_if : rule->then_if;
            parse_rc_t prc = *n < CC_RULE_MAX_IFS ? parse_interval(v, &arr[*n], !is_due) : PARSE_OK;
            if (*n >= CC_RULE_MAX_IFS)
                cc__rules_error_at(l, e->file, e->line, "%s: %s: at most %d", rule->id, k, CC_RULE_MAX_IFS);
            else if (prc == PARSE_TOO_BIG)
                cc__rules_error_at(l, e->file, e->line,
                         "%s: %s: \"%s\": an offset is more than any clock can mean (at most %dwd, %dd, %dw or "
                         "%dm)",
                         rule->id, k, v, CC_RULE_MAX_WD, CC_RULE_MAX_DAYS, CC_RULE_MAX_WEEKS, CC_RULE_MAX_MONTHS);
            else if (prc != PARSE_OK)
                cc__rules_error_at(l, e->file, e->line,
                         "%s: %s: \"%s\" must be CONDITION [CONDITION...] OFFSET (emergency=yes +10wd, age>=5 +12m%s)",
                         rule->id, k, v, is_due ? "" : ", long_term=yes since>=12m +3m, after=review_held +6w");
            else if (resolve_conds(l, arr[*n].when, arr[*n].nwhen, why, sizeof(why)) != 0)
                cc__rules_error_at(l, e->file, e->line, "%s: %s: %s", rule->id, k, why);
            else
                (*n)++;
        } else if (strcmp(k, "then") == 0) {
            rule->nthen = 0;
            cc__rules_each_item(v, then_item, &ctx);
        } else if (strcmp(k, "supersede") == 0) {
            if (cc__rules_parse_yes_no(v, &rule->restart_cancels) != 0)
                cc__rules_error_at(l, e->file, e->line, "%s: supersede: \"%s\" is not yes or no", rule->id, v);
        } else if (strcmp(k, "met_by") == 0) {
            rule->nmet_by = 0;
            if (cc__rules_each_item(v, met_by_item, &ctx) == 0 && rule->nmet_by == 0)
                cc__rules_error_at(l, e->file, e->line, "%s: met_by: at least one event type (else the clock can never be met)",
                         rule->id);
            have_met = 1;
        } else if (strcmp(k, "accept_early") == 0) {
            int yes;
            if (cc__rules_parse_yes_no(v, &yes) == 0) {
                rule->accept_early = yes ? CC_EARLY_EPISODE : CC_EARLY_NO;
            } else if (v[0] != '-' && cc_offset_parse(v, 0, &rule->early_window) == 0) {
                rule->accept_early = CC_EARLY_WINDOW;
                if (!cc__rules_bounded(rule->early_window, max, sizeof(max)))
                    cc__rules_error_at(l, e->file, e->line,
                             "%s: accept_early: \"%s\" is more than any clock can mean (at most %s)", rule->id, v,
                             max);
            } else {
                cc__rules_error_at(l, e->file, e->line,
                         "%s: accept_early: \"%s\" is not yes, no or how long before the start (3m, 10wd)",
                         rule->id, v);
            }
        } else if (strcmp(k, "applies") == 0) {
            rule->napplies = 0;
            cc__rules_each_item(v, applies_item, &ctx);
        } else if (strcmp(k, "one_open") == 0) {
            if (cc__rules_parse_yes_no(v, &rule->one_open) != 0)
                cc__rules_error_at(l, e->file, e->line, "%s: one_open: \"%s\" is not yes or no", rule->id, v);
        } else if (strcmp(k, "cancel_on") == 0) {
            compile_cancel_on(l, e, rule);
        } else if (strcmp(k, "cancels") == 0) {
            if (strcmp(v, "all") == 0 || strcmp(v, "latest") == 0)
                rule->cancel_latest = v[0] == 'l';
            else
                cc__rules_error_at(l, e->file, e->line, "%s: cancels: \"%s\" is not all or latest", rule->id, v);
        } else if (strcmp(k, "cancel_reason") == 0) {
            free(rule->cancel_reason);
            rule->cancel_reason = strdup(v);
        } else if (strcmp(k, "in_care") == 0) {
            if (cc__rules_parse_yes_no(v, &rule->in_care_only) != 0)
                cc__rules_error_at(l, e->file, e->line, "%s: in_care: \"%s\" is not yes or no", rule->id, v);
        } else if (strcmp(k, "warn") == 0) {
            cc_offset_t w;
            if (cc_offset_parse(v, 0, &w) != 0 || w.unit != CC_UNIT_WORKING_DAYS || w.n < 0)
                cc__rules_error_at(l, e->file, e->line, "%s: warn: \"%s\" is not a number of working days (5wd)", rule->id, v);
            else if (!cc__rules_bounded(w, max, sizeof(max)))
                cc__rules_error_at(l, e->file, e->line, "%s: warn: \"%s\" is more than any clock can mean (at most %s)",
                         rule->id, v, max);
            else
                rule->warn_wd = w.n;
        } else if (strcmp(k, "stages") == 0) {
            rule->nstages = 0;
            if (strcmp(v, "none") != 0)
                cc__rules_each_item(v, stage_item, &ctx);
        } else if (strcmp(k, "extend_by") == 0) {
            compile_roles(&ctx, k, v, &rule->extend_roles);
        } else if (strcmp(k, "except_by") == 0) {
            compile_roles(&ctx, k, v, &rule->except_roles);
            have_except_by = 1;
        } else if (strcmp(k, "except_reasons") == 0) {
            rule->nexcept_reasons = 0;
            if (strcmp(v, "none") != 0)
                cc__rules_each_item(v, except_reason_item, &ctx);
        } else if (strcmp(k, "scheduled_by") == 0) {
            rule->nscheduled_by = 0;
            if (strcmp(v, "none") != 0)
                cc__rules_each_item(v, scheduled_by_item, &ctx);
        } else if (strcmp(k, "enabled") == 0) {
            if (cc__rules_parse_yes_no(v, &rule->enabled) != 0)
                cc__rules_error_at(l, e->file, e->line, "%s: enabled: \"%s\" is not yes or no", rule->id, v);
        } else {
            cc__rules_error_at(l, e->file, e->line, "%s: unknown key \"%s\"", rule->id, k);
        }
    }
    const char *missing = !have_title ? "title" : !have_source ? "source" : !have_start ? "starts_on"
                        : !have_due ? "due" : !have_met ? "met_by" : NULL;
    if (missing != NULL && rule->enabled)
        cc__rules_error_at(l, raw->file, raw->line, "%s: missing required key \"%s\"", rule->id, missing);
    /* A rule starts either on events or when the episodes reach a
     * threshold, and a derived start happens once: no chain of starts. */
    if (rule->enabled && rule->starts_when.active && rule->nstart_types > 0)
        cc__rules_error_at(l, raw->file, raw->line, "%s: starts_on and starts_when both given (one or the other)", rule->id);
    if (rule->enabled && rule->starts_when.active && rule->per != CC_PER_EVENT)
        cc__rules_error_at(l, raw->file, raw->line, "%s: per: a starts_when clock starts once; per does not apply", rule->id);
    if (rule->enabled && rule->due_hours > 0 && (rule->ndue_if > 0 || rule->anchor_rule >= 0))
        cc__rules_error_at(l, raw->file, raw->line, "%s: due in hours cannot be combined with due_if", rule->id);
    if (rule->starts_when.active && rule->nstart_types == 0)
        rule->start_type = -1;
    /* Reasons without except_by: the team manager or the service manager
     * records them (docs/rules.md). */
    if (rule->nexcept_reasons > 0 && !have_except_by)
        rule->except_roles = CC_ROLE_BIT(CC_ROLE_TEAM_MANAGER) | CC_ROLE_BIT(CC_ROLE_SERVICE_MANAGER);
    if (rule->enabled && rule->except_roles != 0 && rule->nexcept_reasons == 0)
        cc__rules_error_at(l, raw->file, raw->line, "%s: except_by without except_reasons (the reasons an exception may give)",
                 rule->id);
    rule->file = strdup(raw->file ? raw->file : "");
    return l->nerrors == before ? 0 : -1;
}
