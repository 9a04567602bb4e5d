/* The dashboard's child page: every clock of a child with its status and
 * explanation, the events, the deliveries. See daemon/http/webapp.h.
 */
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

void cc__web_child_page(cc__web_ctx_t *ctx, const cc__who_t *w, const char *id)
{
    cc_store_child_row_t c;
    cc_eval_child_t ev = {0};
    cc_clocks_t clocks;
    cc_store_events_t events = {0};
    deliveries_t dl = {0};
    cc__child_clock_t *views = NULL;
    cc__child_event_t *evs = NULL;
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
    /* Every clock with the engine's own explanation, as `careclock explain` gives it. */
    char (*dates)[3][CC_DATE_STRLEN] = rc == 0 && clocks.len ? calloc(clocks.len, sizeof(*dates)) : NULL;
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
            .deliveries = dl.items, .ndeliveries = dl.n};
        cc__page_t p;
        cc_buf_t body;
        char title[200];
        cc_buf_init(&body);
        snprintf(title, sizeof(title), "Child %s", c.id);
        cc__web_frame(ctx, w, &p, title, NULL);
        cc__page_child(&body, &p, &page);
        cc__web_html(ctx, 200, &body);
    }
    for (size_t i = 0; texts != NULL && i < clocks.len; i++)
        cc_buf_free(&texts[i]);
    free(texts);
    free(views);
    free(evs);
    free(dates);
    deliveries_free(&dl);
    cc_store_events_free(&events);
    cc_clocks_free(&clocks);
    cc_evaluate_child_free(&ev);
    cc_store_child_row_free(&c);
}
