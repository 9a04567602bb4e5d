/* The dashboard's figures: the team and service pages, the timeliness
 * page and its CSV, from the figures (webcache.c). See
 * daemon/http/webapp.h.
 */
#include "careclock/error.h"
#include "careclock/html.h"
#include "careclock/time.h"
#include "http/webapp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_GROUPS 2000

static void figures_asof(const cc__web_ctx_t *ctx, char *out, size_t len, cc__figures_t *f)
{
    cc_local_time_t t = cc_time_local(cc__webcache_built_at(ctx->cache));
    char day[40];
    snprintf(out, len, "Figures as of %02d:%02d on %s", t.minute / 60, t.minute % 60,
             cc_date_format_human(t.date, day, sizeof(day)));
    f->asof = out;
    f->stale = ctx->cache_stale;
}

static void count_row(cc__count_row_t *out, const cc__now_row_t *r, int children)
{
    out->id = r->id;
    out->name = r->name;
    out->children = children ? r->children : (size_t)-1;
    out->overdue = r->n[CC_STATUS_OVERDUE];
    out->due_soon = r->n[CC_STATUS_DUE_SOON];
    out->open = r->n[CC_STATUS_OPEN];
    out->met = r->n[CC_STATUS_MET];
    out->met_late = r->n[CC_STATUS_MET_LATE];
    out->cancelled = r->n[CC_STATUS_CANCELLED];
    out->data_errors = r->n[CC_STATUS_DATA_ERROR];
}

/* The first day of the month eleven months before today's: the last 12 months. */
static cc_date_t year_back(cc_date_t today)
{
    int y, m, d;
    cc_date_to_ymd(today, &y, &m, &d);
    m -= 11;
    while (m < 1) {
        m += 12;
        y--;
    }
    return cc_date_from_ymd(y, m, 1);
}

void cc__web_team_page(cc__web_ctx_t *ctx, const cc__who_t *w, const char *team)
{
    cc__now_t by_clock = {0}, by_worker = {0};
    cc_report_t trend;
    cc__count_row_t *crows = NULL, *wrows = NULL;
    char asof[120];
    cc_buf_t *hrefs = NULL;
    memset(&trend, 0, sizeof(trend));
    if (!cc__who_may_see_team(w, team)) {
        cc__web_forbidden(ctx, w, "team");
        return;
    }
    const char *name = cc__webcache_team_name(ctx->cache, team);
    const char *const one[1] = {team};
    int known = 0;
    const char *const *ids;
    size_t nids = cc__webcache_teams(ctx->cache, &ids);
    for (size_t i = 0; i < nids; i++)
        known |= strcmp(ids[i], team) == 0;
    if (!known) {
        cc__web_not_found(ctx, w);
        return;
    }
    cc__cache_query_t q = {.from = year_back(ctx->today), .to = ctx->today, .teams = one, .nteams = 1,
                           .mode = CC__TEAMS_EACH, .by = CC_REPORT_BY_MONTH};
    int rc = cc__webcache_now_by_clock(ctx->cache, ctx->snap->env.rules, one, 1, &by_clock);
    if (rc == 0)
        rc = cc__webcache_now(ctx->cache, one, 1, 1, &by_worker);
    if (rc == 0)
        rc = cc__webcache_report(ctx->cache, ctx->snap->env.rules, &q, ctx->today, &trend, NULL);
    if (rc == 0 && ((by_clock.nrows && (crows = calloc(by_clock.nrows, sizeof(*crows))) == NULL) ||
                    (by_worker.nrows && (wrows = calloc(by_worker.nrows, sizeof(*wrows))) == NULL)))
        rc = CC_ENOMEM;
    if (rc != 0) {
        cc__web_message(ctx, w, 500, "Something went wrong", "careclock could not make the figures. Try again later.");
        goto out;
    }
    for (size_t i = 0; i < by_clock.nrows; i++)
        count_row(&crows[i], &by_clock.rows[i], 0);
    for (size_t i = 0; i < by_worker.nrows; i++)
        count_row(&wrows[i], &by_worker.rows[i], 1);
    cc__team_page_t t = {.team_id = team, .team_name = name, .trend = &trend};
    figures_asof(ctx, asof, sizeof(asof), &t.figures);
    t.by_clock = (cc__count_table_t){.caption = "The team's clocks by status now", .first_column = "Clock",
                                     .show_done = 1, .rows = crows, .nrows = by_clock.nrows};
    count_row(&t.by_clock.total, &by_clock.total, 0);
    t.by_worker = (cc__count_table_t){.caption = "Children and clocks each worker holds now", .first_column = "Worker",
                                      .show_children = 1, .rows = wrows, .nrows = by_worker.nrows};
    count_row(&t.by_worker.total, &by_worker.total, 1);
    char thref[300];
    cc_buf_t tq;
    cc_buf_init(&tq);
    cc_html_query_value(&tq, team);
    snprintf(thref, sizeof(thref), "/timeliness?team=%s&by=month&worker=1", cc_buf_str(&tq));
    cc_buf_free(&tq);
    t.timeliness_href = thref;
    cc__page_t p;
    cc_buf_t body;
    char title[200];
    cc_buf_init(&body);
    snprintf(title, sizeof(title), "Team %s", name[0] ? name : team);
    cc__web_frame(ctx, w, &p, title, w->nteams > 0 && strcmp(w->teams[0], team) == 0 ? "team" : NULL);
    cc__page_team(&body, &p, &t);
    cc__web_html(ctx, 200, &body);
out:
    free(hrefs);
    free(crows);
    free(wrows);
    cc__now_free(&by_clock);
    cc__now_free(&by_worker);
    cc_report_free(&trend);
}

void cc__web_service_page(cc__web_ctx_t *ctx, const cc__who_t *w)
{
    cc__now_t teams = {0};
    cc_report_t trend, year;
    cc__count_row_t *rows = NULL;
    cc_buf_t *hrefs = NULL;
    char asof[120];
    memset(&trend, 0, sizeof(trend));
    memset(&year, 0, sizeof(year));
    if (!w->viewer && w->nsteams == 0) {
        cc__web_forbidden(ctx, w, "service");
        return;
    }
    const char *const *scope = w->viewer ? NULL : (const char *const *)w->steams;
    size_t nscope = w->viewer ? 0 : w->nsteams;
    cc__cache_query_t q = {.from = year_back(ctx->today), .to = ctx->today, .teams = scope, .nteams = nscope,
                           .mode = CC__TEAMS_TOGETHER, .by = CC_REPORT_BY_MONTH};
    cc__cache_query_t qy = q;
    qy.mode = CC__TEAMS_EACH;
    qy.by = CC_REPORT_BY_NONE;
    int rc = cc__webcache_now(ctx->cache, scope, nscope, 0, &teams);
    if (rc == 0)
        rc = cc__webcache_report(ctx->cache, ctx->snap->env.rules, &q, ctx->today, &trend, NULL);
    if (rc == 0)
        rc = cc__webcache_report(ctx->cache, ctx->snap->env.rules, &qy, ctx->today, &year, NULL);
    if (rc == 0 && teams.nrows && ((rows = calloc(teams.nrows, sizeof(*rows))) == NULL ||
                                   (hrefs = calloc(teams.nrows, sizeof(*hrefs))) == NULL))
        rc = CC_ENOMEM;
    if (rc != 0) {
        cc__web_message(ctx, w, 500, "Something went wrong", "careclock could not make the figures. Try again later.");
        goto out;
    }
    size_t n = 0;
    for (size_t i = 0; i < teams.nrows; i++) {
        cc_buf_init(&hrefs[i]);
        if (teams.rows[i].id[0] == '\0' && teams.rows[i].children == 0)
            continue;
        count_row(&rows[n], &teams.rows[i], 1);
        if (teams.rows[i].id[0] != '\0') {
            cc_buf_puts(&hrefs[i], "/teams/");
            cc_html_path_segment(&hrefs[i], teams.rows[i].id);
            rows[n].href = cc_buf_str(&hrefs[i]);
        } else {
            rows[n].name = "(no team)";
        }
        n++;
    }
    cc__service_page_t s = {.heading = w->viewer ? "Every team" : "Your service", .trend = &trend,
                            .by_team_year = &year};
    figures_asof(ctx, asof, sizeof(asof), &s.figures);
    s.by_team = (cc__count_table_t){.caption = "Children and clocks by team now", .first_column = "Team",
                                    .show_children = 1, .rows = rows, .nrows = n};
    count_row(&s.by_team.total, &teams.total, 1);
    cc__page_t p;
    cc_buf_t body;
    cc_buf_init(&body);
    cc__web_frame(ctx, w, &p, s.heading, "service");
    cc__page_service(&body, &p, &s);
    cc__web_html(ctx, 200, &body);
out:
    for (size_t i = 0; hrefs != NULL && i < teams.nrows; i++)
        cc_buf_free(&hrefs[i]);
    free(hrefs);
    free(rows);
    cc__now_free(&teams);
    cc_report_free(&trend);
    cc_report_free(&year);
}

/* The timeliness page's parameters, checked. */
typedef struct {
    char from[16], to[16], by[16], team[CC_ID_MAX + 2], clock[CC_ID_MAX + 1];
    int by_worker;
    cc_date_t dfrom, dto;
    const char *error_field, *error;
} tparams_t;

static void copy_param(const cc__web_ctx_t *ctx, const char *name, char *out, size_t len)
{
    const char *v = cc_http_request_query(ctx->req, name);
    snprintf(out, len, "%s", v ? v : "");
}

static void read_tparams(const cc__web_ctx_t *ctx, const cc__who_t *w, tparams_t *t)
{
    memset(t, 0, sizeof(*t));
    copy_param(ctx, "from", t->from, sizeof(t->from));
    copy_param(ctx, "to", t->to, sizeof(t->to));
    copy_param(ctx, "by", t->by, sizeof(t->by));
    copy_param(ctx, "team", t->team, sizeof(t->team));
    copy_param(ctx, "clock", t->clock, sizeof(t->clock));
    const char *wk = cc_http_request_query(ctx->req, "worker");
    t->by_worker = wk != NULL && strcmp(wk, "1") == 0;
    /* Defaults: this reporting year (from 1 April) to today, by month; a
     * manager of one team, that team. */
    if (t->from[0] == '\0') {
        char label[32];
        cc_date_t first, last;
        cc_report_period_of(CC_REPORT_BY_YEAR, ctx->today, label, sizeof(label), &first, &last);
        cc_date_format(first, t->from);
    }
    if (t->to[0] == '\0')
        cc_date_format(ctx->today, t->to);
    if (t->by[0] == '\0')
        snprintf(t->by, sizeof(t->by), "month");
    if (cc_http_request_query(ctx->req, "team") == NULL && !w->viewer && w->nteams + w->nsteams == 1)
        snprintf(t->team, sizeof(t->team), "%s", w->nteams ? w->teams[0] : w->steams[0]);
    if (cc_date_parse(t->from, &t->dfrom) != 0) {
        t->error_field = "from";
        t->error = "Enter the first day as a date, like 2026-04-01";
    } else if (cc_date_parse(t->to, &t->dto) != 0) {
        t->error_field = "to";
        t->error = "Enter the last day as a date, like 2027-03-31";
    } else if (t->dfrom > t->dto) {
        t->error_field = "from";
        t->error = "The first day must be on or before the last day";
    } else if (strcmp(t->by, "none") != 0 && cc_report_by_parse(t->by) < 0) {
        t->error_field = "by";
        t->error = "Choose whole period, month, quarter or year";
    }
}

void cc__web_timeliness(cc__web_ctx_t *ctx, const cc__who_t *w, int csv)
{
    tparams_t t;
    cc_report_t r;
    cc__option_t *teams = NULL, *clocks = NULL;
    size_t nteams = 0, nclocks = 0;
    cc_buf_t query, body;
    char asof[120];
    size_t too_many = 0;
    memset(&r, 0, sizeof(r));
    cc_buf_init(&query);
    cc_buf_init(&body);
    if (!w->viewer && w->nteams + w->nsteams == 0) {
        cc__web_forbidden(ctx, w, "timeliness");
        return;
    }
    read_tparams(ctx, w, &t);
    /* The scope: every team for a viewer, else the teams they manage. */
    char **scope = NULL;
    size_t nscope = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && !w->viewer && i < w->nteams; i++)
        rc = cc__web_add_id(&scope, &nscope, w->teams[i]);
    for (size_t i = 0; rc == 0 && !w->viewer && i < w->nsteams; i++)
        if (!cc__web_in_list(scope, nscope, w->steams[i]))
            rc = cc__web_add_id(&scope, &nscope, w->steams[i]);
    int one_team = t.team[0] != '\0' && strcmp(t.team, "*") != 0;
    if (rc == 0 && one_team && !cc__who_may_see_team(w, t.team)) {
        cc_store_free_ids(scope, nscope);
        cc__web_forbidden(ctx, w, "timeliness of another team");
        return;
    }
    /* The form's choices. */
    const char *const *all_ids;
    size_t nall = cc__webcache_teams(ctx->cache, &all_ids);
    size_t cap_opts = (w->viewer ? nall : nscope) + 2;
    if (rc == 0 && (teams = calloc(cap_opts, sizeof(*teams))) == NULL)
        rc = CC_ENOMEM;
    if (rc == 0) {
        teams[nteams++] = (cc__option_t){"", "All my teams together"};
        teams[nteams++] = (cc__option_t){"*", "Each of my teams"};
        for (size_t i = 0; i < (w->viewer ? nall : nscope); i++) {
            const char *id = w->viewer ? all_ids[i] : scope[i];
            const char *nm = cc__webcache_team_name(ctx->cache, id);
            teams[nteams++] = (cc__option_t){id, nm[0] ? nm : id};
        }
    }
    const cc_ruleset_t *rs = ctx->snap->env.rules;
    size_t nrules = cc_ruleset_count(rs);
    if (rc == 0 && (clocks = calloc(nrules + 1, sizeof(*clocks))) == NULL)
        rc = CC_ENOMEM;
    if (rc == 0) {
        clocks[nclocks++] = (cc__option_t){"", "Every clock"};
        for (size_t i = 0; i < nrules; i++) {
            const cc_rule_t *rule = cc_ruleset_rule(rs, i);
            clocks[nclocks++] = (cc__option_t){rule->id, rule->title};
        }
    }
    if (rc == 0 && t.error == NULL && t.clock[0] && cc_ruleset_find(rs, t.clock) == NULL) {
        t.error_field = "clock";
        t.error = "Choose a clock from the list";
    }
    if (rc == 0 && t.error == NULL) {
        const char *one[1] = {t.team};
        cc__cache_query_t q = {.from = t.dfrom, .to = t.dto, .clock = t.clock[0] ? t.clock : NULL,
                               .by_worker = t.by_worker,
                               .by = strcmp(t.by, "none") == 0 ? CC_REPORT_BY_NONE
                                                                : (cc_report_by_t)cc_report_by_parse(t.by)};
        if (one_team) {
            q.teams = one;
            q.nteams = 1;
            q.mode = CC__TEAMS_EACH;
        } else {
            q.teams = w->viewer ? NULL : (const char *const *)scope;
            q.nteams = w->viewer ? 0 : nscope;
            q.mode = strcmp(t.team, "*") == 0 ? CC__TEAMS_EACH : CC__TEAMS_TOGETHER;
        }
        /* A page shows at most PAGE_GROUPS groups; more (every worker of a
         * large council) and it shows the totals, and says so: the CSV has
         * every group. */
        if (!csv)
            q.max_groups = PAGE_GROUPS;
        rc = cc__webcache_report(ctx->cache, rs, &q, ctx->today, &r, &too_many);
        if (rc == CC_ERANGE) {
            cc_report_free(&r);
            q.mode = CC__TEAMS_TOGETHER;
            q.by_worker = 0;
            q.max_groups = 0;
            rc = cc__webcache_report(ctx->cache, rs, &q, ctx->today, &r, NULL);
        } else {
            too_many = 0;
        }
    }
    cc_buf_puts(&query, "from=");
    cc_html_query_value(&query, t.from);
    cc_buf_puts(&query, "&to=");
    cc_html_query_value(&query, t.to);
    cc_buf_puts(&query, "&by=");
    cc_html_query_value(&query, t.by);
    cc_buf_puts(&query, "&team=");
    cc_html_query_value(&query, t.team);
    cc_buf_puts(&query, "&clock=");
    cc_html_query_value(&query, t.clock);
    if (t.by_worker)
        cc_buf_puts(&query, "&worker=1");
    /* Which clocks have no data recorded at all: as the CLI's report says. */
    if (rc == 0 && rs != NULL)
        rc = cc_report_coverage(ctx->store, rs, &r);
    if (rc != 0) {
        cc__web_message(ctx, w, 500, "Something went wrong", "careclock could not make the figures. Try again later.");
        goto out;
    }
    if (csv) {
        if (t.error != NULL) {
            cc__web_message(ctx, w, 400, "These figures cannot be downloaded", t.error);
            goto out;
        }
        /* The CLI's CSV, with a byte order mark so that Excel reads it as UTF-8. */
        cc_buf_puts(&body, "\xEF\xBB\xBF");
        cc_report_csv(&r, &body);
        char disposition[128];
        snprintf(disposition, sizeof(disposition), "attachment; filename=\"careclock-timeliness-%s-to-%s.csv\"",
                 t.from, t.to);
        cc__web_header(ctx, "Content-Disposition", disposition);
        cc__web_header(ctx, "Cache-Control", "no-store");
        cc__web_answer(ctx, 200, "text/csv; charset=utf-8", &body);
        goto out;
    }
    cc__timeliness_page_t page = {.from = t.from, .to = t.to, .by = t.by, .team = t.team, .clock = t.clock,
                                  .by_worker = t.by_worker, .error_field = t.error_field, .error = t.error,
                                  .teams = teams, .nteams = nteams, .clocks = clocks, .nclocks = nclocks,
                                  .query = cc_buf_str(&query), .report = t.error ? NULL : &r,
                                  .too_many = too_many};
    figures_asof(ctx, asof, sizeof(asof), &page.figures);
    cc__page_t p;
    cc__web_frame(ctx, w, &p, t.error ? "Error: Timeliness" : "Timeliness", "timeliness");
    cc__page_timeliness(&body, &p, &page);
    cc__web_html(ctx, t.error ? 400 : 200, &body);
out:
    cc_store_free_ids(scope, nscope);
    free(teams);
    free(clocks);
    cc_buf_free(&query);
    cc_buf_free(&body);
    cc_report_free(&r);
}
