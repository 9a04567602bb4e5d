/* The decision forms' POST: /children/ID/decisions records an extension,
 * an exception, an acknowledgement or a withdrawal (issue 17, through the
 * dashboard of issue 20). See daemon/http/webapp.h and docs/dashboard.md.
 *
 * Design notes:
 *  - In this order, each refusal final: the CSRF token and origin (403,
 *    audited: webform.c); the child exists and the person may see it (403,
 *    as the page); the person's roles to the child now include one the
 *    rule allows for the kind (cc_decisions_roles, cc_decision_roles), or
 *    for a withdrawal they took the decision or may take its kind (403,
 *    audited and logged). A viewer holds no role.
 *  - Then the fields: a date that is not one, an empty reason or code, a
 *    text too long, come back on the page with the GOV.UK error summary
 *    naming the field (400). cc_decisions_add checks the rest as the CLI's
 *    command does (an agreed date after the due date, a reason the rule
 *    lists, a hold of at most 92 days) and its words come back the same way.
 *  - One transaction: the decision's row (via "web", actor "web:STAFF",
 *    by the signed-in person, taken today) and the dashboard's audit row;
 *    then 303 to the child's page (POST/redirect/GET), whose success
 *    banner says what was recorded.
 */
#include "careclock/decisions.h"
#include "careclock/error.h"
#include "careclock/html.h"
#include "careclock/log.h"
#include "careclock/time.h"
#include "http/webapp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The form, as sent. */
typedef struct {
    char kind[16], clock[CC_ID_MAX + 1], instance[CC_CLOCK_KEY_MAX], seq[12], decision[24];
    char to[32], until[32], code[CC_RULE_REASON_MAX + 1];
    char reason[CC_DECISION_TEXT_MAX + 1], note[CC_DECISION_TEXT_MAX + 1];
    int too_long;                /* reason or note: more than CC_DECISION_TEXT_MAX bytes */
} form_t;

static void get(const cc__web_ctx_t *ctx, const char *name, char *out, size_t len, int *too_long)
{
    int r = cc__web_form_field(ctx, name, out, len);
    if (r != 1)
        out[0] = '\0';
    if (r < 0 && too_long != NULL)
        *too_long = 1;
}

/* Spaces at either end are not part of a value. */
static void trim(char *s)
{
    size_t n = strlen(s), b = 0;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\r' || s[n - 1] == '\n' || s[n - 1] == '\t'))
        s[--n] = '\0';
    while (s[b] == ' ' || s[b] == '\t')
        b++;
    if (b > 0)
        memmove(s, s + b, n - b + 1);
}

static void audit(cc__web_ctx_t *ctx, const cc__who_t *w, const char *target, const char *outcome, const char *detail)
{
    cc_web_audit_t a = {.staff_id = w->p.id, .action = "decision", .target = target, .outcome = outcome,
                        .detail = detail, .client = cc_http_request_client(ctx->req), .via = w->via};
    cc_web_audit(ctx->store, &a, ctx->now);
}

/* 403 for a decision the person may not take: audited and logged. */
static void refuse(cc__web_ctx_t *ctx, const cc__who_t *w, const char *target, const char *kind)
{
    char detail[160];
    snprintf(detail, sizeof(detail), "%s: not a role the rule allows", kind);
    audit(ctx, w, target, "refused", detail);
    cc__web_logf(ctx, CC_LOG_NOTICE, "dashboard: %s may not %s %s: refused (not a role the rule allows)", w->p.id,
                 kind, target);
    cc__web_message(ctx, w, 403, "You cannot take this decision",
                    "The rule for this clock says who may agree an extension or record an exception, and you do "
                    "not hold that role for this child. Ask the child's team manager, service manager or IRO.");
}

/* The form back on the page with the error on field. */
static void sent_back(cc__web_ctx_t *ctx, const cc__who_t *w, const char *id, const form_t *f, const char *field,
                      const char *message)
{
    cc__decision_error_t e = {.kind = f->kind, .rule_id = f->clock[0] ? f->clock : NULL, .seq = atoi(f->seq),
                              .decision = atoll(f->decision), .field = field, .message = message, .to = f->to,
                              .reason = f->reason, .code = f->code, .note = f->note, .until = f->until};
    cc__web_child_render(ctx, w, id, &e, NULL, 400);
}

/* Which field cc_decisions_add's refusal is about. */
static const char *field_of(const form_t *f, const char *err)
{
    if (strcmp(f->kind, "extend") == 0)
        return strstr(err, "reason") != NULL && strstr(err, "date") == NULL ? "reason" : "to";
    if (strcmp(f->kind, "except") == 0)
        return strstr(err, "note") != NULL ? "note" : "code";
    if (strcmp(f->kind, "ack") == 0)
        return strstr(err, "note") != NULL ? "note" : "until";
    return "reason";
}

void cc__web_decide(cc__web_ctx_t *ctx, const cc__who_t *w, const char *id)
{
    form_t f;
    cc_store_child_row_t c;
    cc_decisions_t one;
    char target[200], err[1024], actor[CC_ID_MAX + 8], at[32], detail[200], location[400];
    const cc_ruleset_t *rs = ctx->snap->env.rules;
    cc_decisions_init(&one);
    memset(&f, 0, sizeof(f));
    if (!cc__web_csrf_ok(ctx, w->csrf)) {
        cc__web_csrf_refused(ctx, w);
        return;
    }
    get(ctx, "kind", f.kind, sizeof(f.kind), NULL);
    get(ctx, "clock", f.clock, sizeof(f.clock), NULL);
    get(ctx, "instance", f.instance, sizeof(f.instance), NULL);
    get(ctx, "seq", f.seq, sizeof(f.seq), NULL);
    get(ctx, "decision", f.decision, sizeof(f.decision), NULL);
    get(ctx, "to", f.to, sizeof(f.to), NULL);
    get(ctx, "until", f.until, sizeof(f.until), NULL);
    get(ctx, "code", f.code, sizeof(f.code), NULL);
    get(ctx, "reason", f.reason, sizeof(f.reason), &f.too_long);
    get(ctx, "note", f.note, sizeof(f.note), &f.too_long);
    trim(f.to);
    trim(f.until);
    trim(f.reason);
    trim(f.note);
    int kind = cc_decision_kind_parse(f.kind);
    if (kind != CC_DECISION_EXTEND && kind != CC_DECISION_EXCEPT && kind != CC_DECISION_ACK &&
        kind != CC_DECISION_WITHDRAW) {
        cc__web_message(ctx, w, 400, "This form cannot be used", "careclock did not recognise the form. Go back, "
                                                                 "reload the page and try again.");
        return;
    }
    int rc = cc_store_child_get(ctx->store, id, 0, &c);
    if (rc < 0) {
        cc__web_message(ctx, w, 500, "Something went wrong", "careclock could not read its database. Try again later.");
        return;
    }
    if (rc == 0) {
        cc__web_forbidden(ctx, w, "decision about a child that does not exist");
        return;
    }
    int visible = cc__who_may_see_child(w, &c);
    cc_store_child_row_free(&c);
    if (!visible) {
        cc__web_forbidden(ctx, w, "decision");
        return;
    }
    /* Who may: the roles held to the child now against the rule. */
    unsigned held = 0;
    if (!w->viewer && (rc = cc_decisions_roles(ctx->store, id, w->p.id, &held)) != 0 && rc != CC_ENOTFOUND) {
        cc__web_message(ctx, w, 500, "Something went wrong", "careclock could not read its database. Try again later.");
        return;
    }
    cc_decision_t d = {.kind = (cc_decision_kind_t)kind, .child_id = id, .rule_id = f.clock, .instance = f.instance,
                       .date = CC_DATE_NONE, .on = ctx->today, .by = w->p.id, .via = "web"};
    if (kind == CC_DECISION_WITHDRAW) {
        char *end = NULL;
        long long wid = strtoll(f.decision, &end, 10);
        if (f.decision[0] == '\0' || end == NULL || *end != '\0' || wid <= 0 ||
            cc_decisions_get(ctx->store, wid, &one) != 0 || one.n != 1 || strcmp(one.items[0].child_id, id) != 0) {
            cc__web_message(ctx, w, 400, "This decision cannot be withdrawn",
                            "There is no such decision about this child. Go back and reload the page.");
            goto out;
        }
        const cc_decision_t *o = &one.items[0];
        const cc_rule_t *rule = cc_ruleset_find(rs, o->rule_id);
        snprintf(target, sizeof(target), "%s/%s/%s#%lld", id, o->rule_id, o->instance ? o->instance : "",
                 (long long)o->id);
        int mine = o->by != NULL && strcmp(o->by, w->p.id) == 0;
        if (w->viewer || (!mine && (rule == NULL || (held & cc_decision_roles(rule, o->kind)) == 0))) {
            refuse(ctx, w, target, "withdraw");
            goto out;
        }
        d.withdraws = wid;
        d.rule_id = o->rule_id;
        d.instance = o->instance;
        if (f.too_long) {
            sent_back(ctx, w, id, &f, "reason", "The reason must be 1000 characters or fewer");
            goto out;
        }
        if (f.reason[0] == '\0') {
            sent_back(ctx, w, id, &f, "reason", "Enter why the decision is withdrawn");
            goto out;
        }
        d.reason = f.reason;
    } else {
        const cc_rule_t *rule = cc_ruleset_find(rs, f.clock);
        snprintf(target, sizeof(target), "%s/%s/%s", id, f.clock, f.instance);
        if (rule == NULL || f.instance[0] == '\0') {
            cc__web_message(ctx, w, 400, "This form cannot be used",
                            "careclock does not know this clock. Go back, reload the page and try again.");
            goto out;
        }
        if (w->viewer || (held & cc_decision_roles(rule, (cc_decision_kind_t)kind)) == 0) {
            refuse(ctx, w, target, f.kind);
            goto out;
        }
        if (f.too_long) {
            sent_back(ctx, w, id, &f, kind == CC_DECISION_EXTEND ? "reason" : "note",
                      "The text must be 1000 characters or fewer");
            goto out;
        }
        if (kind == CC_DECISION_EXTEND) {
            if (f.to[0] == '\0' || cc_date_parse(f.to, &d.date) != 0) {
                sent_back(ctx, w, id, &f, "to",
                          f.to[0] ? "Enter the agreed date as a real date, like 2027-01-31"
                                  : "Enter the agreed date");
                goto out;
            }
            if (f.reason[0] == '\0') {
                sent_back(ctx, w, id, &f, "reason", "Enter why the date is extended");
                goto out;
            }
            d.reason = f.reason;
        } else if (kind == CC_DECISION_EXCEPT) {
            if (f.code[0] == '\0') {
                sent_back(ctx, w, id, &f, "code", "Choose the reason for the exception");
                goto out;
            }
            d.code = f.code;
            d.reason = f.note[0] ? f.note : NULL;
        } else {
            if (f.until[0] == '\0' || cc_date_parse(f.until, &d.date) != 0) {
                sent_back(ctx, w, id, &f, "until",
                          f.until[0] ? "Enter the date to hold your reminders until as a real date, like 2027-01-15"
                                     : "Enter the date to hold your reminders until");
                goto out;
            }
            d.reason = f.note[0] ? f.note : NULL;
        }
    }
    /* One transaction: the decision and the dashboard's audit row. */
    snprintf(actor, sizeof(actor), "web:%s", w->p.id);
    d.actor = actor;
    d.at = cc_time_format_utc(ctx->now, at, sizeof(at));
    int64_t new_id = 0;
    err[0] = '\0';
    if ((rc = cc_store_begin(ctx->store)) == 0) {
        rc = cc_decisions_add(ctx->store, rs, &d, ctx->today, &new_id, err, sizeof(err));
        if (rc == 0) {
            snprintf(detail, sizeof(detail), "%s: decision %lld", f.kind, (long long)new_id);
            cc_web_audit_t a = {.staff_id = w->p.id, .action = "decision", .target = target, .outcome = "recorded",
                                .detail = detail, .client = cc_http_request_client(ctx->req), .via = w->via};
            rc = cc_web_audit(ctx->store, &a, ctx->now);
        }
        if (rc == 0)
            rc = cc_store_commit(ctx->store);
        if (rc != 0)
            cc_store_rollback(ctx->store);
    }
    if (rc == CC_EINVAL || rc == CC_ENOTFOUND) {
        cc__web_logf(ctx, CC_LOG_INFO, "dashboard: %s's %s of %s was refused: %s", w->p.id, f.kind, target, err);
        sent_back(ctx, w, id, &f, field_of(&f, err), err[0] ? err : "This decision cannot be taken");
        goto out;
    }
    if (rc != 0) {
        cc__web_logf(ctx, CC_LOG_ERR, "dashboard: %s's %s of %s could not be recorded: %s", w->p.id, f.kind, target,
                     err[0] ? err : cc_store_errmsg(ctx->store, NULL));
        cc__web_message(ctx, w, 500, "Something went wrong", "careclock could not record the decision. Try again.");
        goto out;
    }
    cc__web_logf(ctx, CC_LOG_INFO, "dashboard: %s recorded decision %lld (%s of %s)", w->p.id, (long long)new_id,
                 f.kind, target);
    /* POST/redirect/GET: the child's page, at the clock, with the banner. */
    cc_buf_t loc;
    cc_buf_init(&loc);
    cc_buf_puts(&loc, "/children/");
    cc_html_path_segment(&loc, id);
    cc_buf_puts(&loc, "?decided=");
    cc_buf_puts(&loc, f.kind);
    snprintf(location, sizeof(location), "%s", cc_buf_str(&loc));
    cc_buf_free(&loc);
    cc__web_redirect(ctx, location);
out:
    cc_decisions_free(&one);
}

const char *cc__web_decided_notice(const char *kind)
{
    if (kind == NULL)
        return NULL;
    if (strcmp(kind, "extend") == 0)
        return "The extension is recorded: reminders and escalations follow the agreed date; the statutory due date "
               "is kept.";
    if (strcmp(kind, "except") == 0)
        return "The exception is recorded: the clock needs no action and sends no reminders.";
    if (strcmp(kind, "ack") == 0)
        return "Your acknowledgement is recorded: your reminders and escalations of this clock are held until the "
               "date you gave.";
    if (strcmp(kind, "withdraw") == 0)
        return "The decision is withdrawn.";
    return NULL;
}
