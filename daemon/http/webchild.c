/* The dashboard's child page: every clock of a child with its status and
 * explanation, the decisions about them and the forms to take one, the
 * events, the deliveries. See daemon/http/webapp.h.
 *
 * Design notes:
 *  - The clocks are computed for the page from the events and decisions
 *    (the engine, as explain does), so a decision just recorded shows at
 *    once, before the daemon's refresh has rewritten the clocks table.
 *  - A clock offers a decision form only to someone whose roles to the
 *    child now (cc_decisions_roles) include one the rule allows for that
 *    kind (cc_decision_roles), and only while it is unmet and not excepted;
 *    a viewer holds no role. The POST checks again (webdecide.c).
 */
#include "careclock/decisions.h"
#include "careclock/engine.h"
#include "careclock/error.h"
#include "careclock/evaluate.h"
#include "careclock/events.h"
#include "careclock/log.h"
#include "careclock/outbox.h"
#include "http/webapp.h"
#include "util/grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    cc__child_delivery_t *items;
    size_t n, cap;
    int failed;
} deliveries_t;

static int delivery_row(void *arg, const cc_outbox_row_t *r)
{
    deliveries_t *d = arg;
    if (d->n >= 200)
        return 0;
    if (cc__grow(&d->items, &d->cap, d->n + 1, sizeof(*d->items), 16) != 0)
        return CC_ENOMEM;
    cc__child_delivery_t *x = &d->items[d->n++];
    memset(x, 0, sizeof(*x));
    x->when = cc__web_dup(r->sent_at ? r->sent_at : r->due_at, &d->failed);
    x->stage = cc__web_dup(r->stage, &d->failed);
    x->kind = cc__web_dup(r->kind, &d->failed);
    x->role = cc__web_dup(r->role, &d->failed);
    x->recipient = cc__web_dup(r->recipient, &d->failed);
    x->channel = cc__web_dup(r->channel, &d->failed);
    x->state = cc__web_dup(r->state, &d->failed);
    x->rule_id = cc__web_dup(r->rule_id, &d->failed);
    x->seq = r->seq;
    return d->failed ? CC_ENOMEM : 0;
}

static void deliveries_free(deliveries_t *d)
{
    for (size_t i = 0; i < d->n; i++) {
        cc__child_delivery_t *x = &d->items[i];
        free((char *)x->when);
        free((char *)x->stage);
        free((char *)x->kind);
        free((char *)x->role);
        free((char *)x->recipient);
        free((char *)x->channel);
        free((char *)x->state);
        free((char *)x->rule_id);
    }
    free(d->items);
}

/* The forms clock k offers to someone holding held (CC__FORM_*). */
static unsigned forms_of(const cc_rule_t *rule, const cc_clock_t *k, unsigned held)
{
    unsigned f = 0;
    if (rule == NULL || held == 0)
        return 0;
    switch (k->status) {
    case CC_STATUS_OPEN:
    case CC_STATUS_DUE_SOON:
    case CC_STATUS_OVERDUE:
    case CC_STATUS_AT_RISK:
        break;
    default:
        return 0;
    }
    if (held & cc_decision_roles(rule, CC_DECISION_EXTEND))
        f |= CC__FORM_EXTEND;
    if ((held & cc_decision_roles(rule, CC_DECISION_EXCEPT)) && rule->nexcept_reasons > 0)
        f |= CC__FORM_EXCEPT;
    if (held & cc_decision_roles(rule, CC_DECISION_ACK))
        f |= CC__FORM_ACK;
    return f;
}

/* May someone holding held (staff_id) withdraw list[i]? Its maker, or a
 * role that may take its kind; only an extension, exception or
 * acknowledgement still in force. */
static int may_withdraw(const cc_ruleset_t *rs, const cc_decisions_t *list, size_t i, const char *staff_id,
                        unsigned held)
{
    const cc_decision_t *d = &list->items[i];
    if (d->kind != CC_DECISION_EXTEND && d->kind != CC_DECISION_EXCEPT && d->kind != CC_DECISION_ACK)
        return 0;
    if (cc_decision_withdrawn(list->items, list->n, i))
        return 0;
    if (d->by != NULL && strcmp(d->by, staff_id) == 0)
        return 1;
    const cc_rule_t *rule = cc_ruleset_find(rs, d->rule_id);
    return rule != NULL && (held & cc_decision_roles(rule, d->kind)) != 0;
}

void cc__web_child_page(cc__web_ctx_t *ctx, const cc__who_t *w, const char *id)
{
    cc__web_child_render(ctx, w, id, NULL, NULL, 200);
}

void cc__web_child_render(cc__web_ctx_t *ctx, const cc__who_t *w, const char *id, const cc__decision_error_t *error,
                          const char *notice, unsigned status)
{
    cc_store_child_row_t c;
    cc_eval_child_t ev = {0};
    cc_clocks_t clocks;
    cc_store_events_t events = {0};
    deliveries_t dl = {0};
    cc__child_clock_t *views = NULL;
    cc__child_event_t *evs = NULL;
    cc__child_decision_t *dviews = NULL;
    char (*keys)[CC_CLOCK_KEY_MAX] = NULL;
    char (*ddates)[CC_DATE_STRLEN] = NULL;
    const char *(*codes)[CC_RULE_MAX_REASONS] = NULL;
    unsigned held = 0;
    cc_buf_t *texts = NULL;
    char err[256];
    cc_clocks_init(&clocks);
    int rc = cc_store_child_get(ctx->store, id, ctx->config->privacy == CC_PRIVACY_FULL, &c);
    if (rc < 0) {
        cc__web_message(ctx, w, 500, "Something went wrong", "careclock could not read its database. Try again later.");
        return;
    }
    if (rc == 0) {
        if (w->viewer)
            cc__web_not_found(ctx, w);
        else
            cc__web_forbidden(ctx, w, "child");
        return;
    }
    if (!cc__who_may_see_child(w, &c)) {
        cc__web_forbidden(ctx, w, "child");
        cc_store_child_row_free(&c);
        return;
    }
    const cc_ruleset_t *rs = ctx->snap->env.rules;
    const cc_calendar_t *cal = ctx->snap->env.cal;
    if ((rc = cc_evaluate_load_child(ctx->store, rs, id, &ev)) == 0)
        rc = cc_engine_run(rs, cal, ctx->today, &ev.child, ev.events, ev.nevents, &clocks);
    if (rc == 0)
        rc = cc_store_event_list(ctx->store, id, &events, err, sizeof(err));
    if (rc == 0)
        rc = cc_outbox_of_child(ctx->store, id, delivery_row, &dl);
    if (rc == 0 && clocks.len > 0 &&
        ((views = calloc(clocks.len, sizeof(*views))) == NULL || (texts = calloc(clocks.len, sizeof(*texts))) == NULL))
        rc = CC_ENOMEM;
    if (rc == 0 && events.len > 0 && (evs = calloc(events.len, sizeof(*evs))) == NULL)
        rc = CC_ENOMEM;
    /* The roles the person holds to the child now: which forms to offer.
     * A viewer holds none, whatever the teams say. */
    if (rc == 0 && !w->viewer) {
        int r = cc_decisions_roles(ctx->store, id, w->p.id, &held);
        if (r != 0 && r != CC_ENOTFOUND)
            rc = r;
    }
    if (rc == 0 && clocks.len > 0 && (keys = calloc(clocks.len, sizeof(*keys))) == NULL)
        rc = CC_ENOMEM;
    if (rc == 0 && ev.decisions.n > 0 && ((dviews = calloc(ev.decisions.n, sizeof(*dviews))) == NULL ||
                                          (ddates = calloc(ev.decisions.n, sizeof(*ddates))) == NULL))
        rc = CC_ENOMEM;
    if (rc == 0 && clocks.len > 0 && (codes = calloc(clocks.len, sizeof(*codes))) == NULL)
        rc = CC_ENOMEM;
    /* Every clock with the engine's own explanation, as `careclock explain` gives it. */
    char (*dates)[4][CC_DATE_STRLEN] = rc == 0 && clocks.len ? calloc(clocks.len, sizeof(*dates)) : NULL;
    if (rc == 0 && clocks.len > 0 && dates == NULL)
        rc = CC_ENOMEM;
    for (size_t i = 0; rc == 0 && i < clocks.len; i++) {
        const cc_clock_t *k = &clocks.items[i];
        const cc_rule_t *rule = k->rule >= 0 ? cc_ruleset_rule(rs, (size_t)k->rule) : NULL;
        cc_buf_init(&texts[i]);
        cc_engine_explain(rs, cal, ctx->today, &ev.child, ev.events, ev.nevents, &clocks, i, &texts[i]);
        cc__child_clock_t *v = &views[i];
        v->rule_id = rule ? rule->id : CC_DATA_ERROR_RULE;
        v->title = rule ? rule->title : "Child's data cannot be evaluated";
        v->source = rule ? rule->source : "";
        v->status = cc_status_name(k->status);
        v->seq = k->seq;
        v->start = k->start != CC_DATE_NONE ? cc_date_format(k->start, dates[i][0]) : NULL;
        v->due = k->due != CC_DATE_NONE ? cc_date_format(k->due, dates[i][1]) : NULL;
        v->met_on = k->met_on != CC_DATE_NONE ? cc_date_format(k->met_on, dates[i][2]) : NULL;
        v->reason = k->reason[0] ? k->reason : NULL;
        v->explanation = cc_buf_str(&texts[i]);
        cc_clock_key(k, keys[i], sizeof(keys[i]));
        v->instance = keys[i];
        v->agreed = k->agreed != CC_DATE_NONE ? cc_date_format(k->agreed, dates[i][3]) : NULL;
        v->forms = w->viewer ? 0 : forms_of(rule, k, held);
        for (int r = 0; rule != NULL && r < rule->nexcept_reasons && r < CC_RULE_MAX_REASONS; r++)
            codes[i][r] = rule->except_reasons[r];
        v->except_codes = codes[i];
        v->nexcept_codes = rule != NULL ? (size_t)rule->nexcept_reasons : 0;
    }
    /* The decisions, oldest first, each with its clock as the page shows it. */
    for (size_t i = 0; rc == 0 && i < ev.decisions.n; i++) {
        const cc_decision_t *d = &ev.decisions.items[i];
        const cc_rule_t *rule = cc_ruleset_find(rs, d->rule_id);
        cc__child_decision_t *x = &dviews[i];
        x->id = (long long)d->id;
        x->kind = cc_decision_kind_name(d->kind);
        x->rule_id = d->rule_id;
        x->title = rule ? rule->title : d->rule_id;
        for (size_t k = 0; k < clocks.len; k++)
            if (views[k].rule_id && strcmp(views[k].rule_id, d->rule_id) == 0 && d->instance &&
                strcmp(keys[k], d->instance) == 0)
                x->seq = views[k].seq;
        x->date = d->date != CC_DATE_NONE ? cc_date_format(d->date, ddates[i]) : NULL;
        x->code = d->code;
        x->reason = d->reason;
        x->by = d->by;
        x->by_name = ctx->cache && d->by ? cc__webcache_staff_name(ctx->cache, d->by) : NULL;
        x->by_role = d->by_role;
        x->at = d->at;
        x->via = d->via;
        x->withdraws = (long long)d->withdraws;
        x->withdrawn = cc_decision_withdrawn(ev.decisions.items, ev.decisions.n, i);
        x->may_withdraw = !w->viewer && may_withdraw(rs, &ev.decisions, i, w->p.id, held);
    }
    for (size_t i = 0; rc == 0 && i < events.len; i++)
        evs[i] = (cc__child_event_t){events.items[i].id, events.items[i].date, events.items[i].type,
                                     events.items[i].source};
    if (rc != 0) {
        cc__web_logf(ctx, CC_LOG_ERR, "dashboard: the page of child %s could not be made: %s", id, cc_strerror(rc));
        cc__web_message(ctx, w, 500, "Something went wrong", "careclock could not read this child's record. Try again later.");
    } else {
        cc__child_page_t page = {
            .id = c.id, .label = cc__web_label(ctx->config, c.initials, c.full_name), .dob = c.dob,
            .team_id = c.team_id, .team_name = c.team_name, .worker_id = c.worker_id, .worker_name = c.worker_name,
            .iro_id = c.iro_id, .iro_name = c.iro_name, .team_link = c.team_id && cc__who_may_see_team(w, c.team_id),
            .clocks = views, .nclocks = clocks.len, .events = evs, .nevents = events.len,
            .deliveries = dl.items, .ndeliveries = dl.n, .decisions = dviews, .ndecisions = ev.decisions.n,
            .csrf = w->csrf, .error = error};
        char today[CC_DATE_STRLEN];
        page.today = cc_date_format(ctx->today, today);
        cc__page_t p;
        cc_buf_t body;
        char title[200];
        cc_buf_init(&body);
        snprintf(title, sizeof(title), "%sChild %s", error ? "Error: " : "", c.id);
        cc__web_frame(ctx, w, &p, title, NULL);
        p.notice = notice;
        p.notice_success = notice != NULL;
        cc__page_child(&body, &p, &page);
        cc__web_html(ctx, status, &body);
    }
    for (size_t i = 0; texts != NULL && i < clocks.len; i++)
        cc_buf_free(&texts[i]);
    free(texts);
    free(views);
    free(keys);
    free(ddates);
    free(codes);
    free(dviews);
    free(evs);
    free(dates);
    deliveries_free(&dl);
    cc_store_events_free(&events);
    cc_clocks_free(&clocks);
    cc_evaluate_child_free(&ev);
    cc_store_child_row_free(&c);
}
