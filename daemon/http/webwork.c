/* The dashboard's My work page: the signed-in person's clocks that need
 * action, grouped by child; a manager's team by worker; the escalations
 * they own; a service manager's teams now. See daemon/http/webapp.h.
 */
#include "careclock/clocks.h"
#include "careclock/error.h"
#include "http/webapp.h"
#include "util/grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORK_LIMIT 300

typedef struct {
    cc__work_item_t *items;
    size_t n, cap;
    cc_buf_t strings;   /* not used: items own their strings */
    const cc__web_ctx_t *ctx;
    const char *worker; /* only these (NULL any) */
    int failed;
} items_t;

static int status_rank(const char *s)
{
    return strcmp(s, "data_error") == 0 ? 0 : strcmp(s, "overdue") == 0 ? 1 : strcmp(s, "due_soon") == 0 ? 2 : 3;
}

static long working_days(const cc__web_ctx_t *ctx, const char *status, const char *due_iso)
{
    cc_date_t due;
    int wd = 0;
    if (due_iso == NULL || cc_date_parse(due_iso, &due) != 0)
        return -1;
    const cc_calendar_t *cal = ctx->snap->env.cal;
    if (strcmp(status, "overdue") == 0)
        cc_calendar_working_days_between(cal, due, ctx->today, &wd);
    else if (strcmp(status, "due_soon") == 0)
        cc_calendar_working_days_between(cal, ctx->today, due, &wd);
    else
        return -1;
    return wd;
}

static int item_row(void *arg, const cc_clock_row_t *r)
{
    items_t *it = arg;
    if (cc__grow(&it->items, &it->cap, it->n + 1, sizeof(*it->items), 32) != 0)
        return CC_ENOMEM;
    cc__work_item_t *i = &it->items[it->n++];
    memset(i, 0, sizeof(*i));
    i->child_id = cc__web_dup(r->child_id, &it->failed);
    i->child_label = cc__web_dup(cc__web_label(it->ctx->config, r->initials, r->full_name), &it->failed);
    i->rule_id = cc__web_dup(r->rule_id, &it->failed);
    i->title = cc__web_dup(r->title, &it->failed);
    i->status = cc__web_dup(r->status, &it->failed);
    i->due_date = cc__web_dup(r->due_date, &it->failed);
    i->reason = cc__web_dup(r->reason, &it->failed);
    i->note = cc__web_dup(r->worker_id, &it->failed); /* the worker, for grouping */
    i->seq = r->seq;
    i->agreed = cc__web_dup(r->agreed_due, &it->failed);
    /* Overdue and due soon count to the agreed date when an extension is in force (engine.h). */
    i->working_days = working_days(it->ctx, r->status ? r->status : "", r->agreed_due ? r->agreed_due : r->due_date);
    return it->failed ? CC_ENOMEM : 0;
}

static void items_free(items_t *it)
{
    for (size_t k = 0; k < it->n; k++) {
        cc__work_item_t *i = &it->items[k];
        free((char *)i->child_id);
        free((char *)i->child_label);
        free((char *)i->rule_id);
        free((char *)i->title);
        free((char *)i->status);
        free((char *)i->due_date);
        free((char *)i->reason);
        free((char *)i->note);
        free((char *)i->agreed);
    }
    free(it->items);
    memset(it, 0, sizeof(*it));
}

/* Most urgent first, a child's items together: children in order of their
 * most urgent item (data errors, then overdue, then due soon; earlier due
 * first), each child's items in the same order. */
static int item_cmp(const cc__work_item_t *a, const cc__work_item_t *b)
{
    int ra = status_rank(a->status ? a->status : ""), rb = status_rank(b->status ? b->status : "");
    if (ra != rb)
        return ra - rb;
    int c = strcmp(a->due_date ? a->due_date : "", b->due_date ? b->due_date : "");
    return c != 0 ? c : strcmp(a->rule_id ? a->rule_id : "", b->rule_id ? b->rule_id : "");
}

static int by_child_cmp(const void *x, const void *y)
{
    const cc__work_item_t *a = x, *b = y;
    int c = strcmp(a->child_id, b->child_id);
    return c != 0 ? c : item_cmp(a, b);
}

typedef struct {
    cc__work_item_t item;
    const cc__work_item_t *best; /* the child's most urgent item (in the by-child copy) */
} keyed_t;

static int keyed_cmp(const void *x, const void *y)
{
    const keyed_t *a = x, *b = y;
    int c = item_cmp(a->best, b->best);
    if (c == 0)
        c = strcmp(a->item.child_id, b->item.child_id);
    return c != 0 ? c : item_cmp(&a->item, &b->item);
}

static void sort_items(cc__work_item_t *items, size_t n)
{
    if (n < 2)
        return;
    keyed_t *k = malloc(n * sizeof(*k));
    cc__work_item_t *copy = malloc(n * sizeof(*copy));
    if (k == NULL || copy == NULL) {
        free(k);
        free(copy);
        qsort(items, n, sizeof(*items), by_child_cmp); /* at least a child's items together */
        return;
    }
    qsort(items, n, sizeof(*items), by_child_cmp);
    memcpy(copy, items, n * sizeof(*copy));
    for (size_t i = 0, first = 0; i < n; i++) {
        if (strcmp(copy[i].child_id, copy[first].child_id) != 0)
            first = i;
        k[i].item = copy[i];
        k[i].best = &copy[first];
    }
    qsort(k, n, sizeof(*k), keyed_cmp);
    for (size_t i = 0; i < n; i++)
        items[i] = k[i].item;
    free(k);
    free(copy);
}

static void group_counts(cc__work_group_t *g)
{
    const char *last = NULL;
    for (size_t i = 0; i < g->nitems; i++) {
        const char *s = g->items[i].status ? g->items[i].status : "";
        if (strcmp(s, "overdue") == 0)
            g->overdue++;
        else if (strcmp(s, "due_soon") == 0)
            g->due_soon++;
        else if (strcmp(s, "data_error") == 0)
            g->data_errors++;
        if (last == NULL || strcmp(last, g->items[i].child_id) != 0)
            g->children++;
        last = g->items[i].child_id;
    }
}

typedef struct {
    cc__work_item_t *items;
    size_t n, cap;
    const cc__web_ctx_t *ctx;
    int failed;
} escalations_t;

static int escalation_row(void *arg, const cc_clocks_escalation_t *e)
{
    escalations_t *es = arg;
    if (cc__grow(&es->items, &es->cap, es->n + 1, sizeof(*es->items), 16) != 0)
        return CC_ENOMEM;
    /* One line per clock: the latest stage sent. */
    for (size_t k = 0; k < es->n; k++)
        if (strcmp(es->items[k].child_id, e->child_id) == 0 && strcmp(es->items[k].rule_id, e->rule_id) == 0 &&
            es->items[k].seq == e->seq) {
            free((char *)es->items[k].note);
            char note[160];
            snprintf(note, sizeof(note), "%s, sent %s", e->stage, e->sent_at);
            es->items[k].note = cc__web_dup(note, &es->failed);
            return es->failed ? CC_ENOMEM : 0;
        }
    cc__work_item_t *i = &es->items[es->n++];
    char note[160];
    memset(i, 0, sizeof(*i));
    snprintf(note, sizeof(note), "%s, sent %s", e->stage, e->sent_at);
    i->child_id = cc__web_dup(e->child_id, &es->failed);
    i->child_label = cc__web_dup(cc__web_label(es->ctx->config, e->initials, e->full_name), &es->failed);
    i->rule_id = cc__web_dup(e->rule_id, &es->failed);
    i->title = cc__web_dup(e->title, &es->failed);
    i->status = cc__web_dup(e->status, &es->failed);
    i->due_date = cc__web_dup(e->due_date, &es->failed);
    i->note = cc__web_dup(note, &es->failed);
    i->seq = e->seq;
    i->working_days = working_days(es->ctx, e->status, e->due_date);
    return es->failed ? CC_ENOMEM : 0;
}

static const cc_status_t ACTION[] = {CC_STATUS_OVERDUE, CC_STATUS_DUE_SOON, CC_STATUS_DATA_ERROR};

/* The items of f into a new group (heading copied into names). */
static int load_group(cc__web_ctx_t *ctx, cc_clocks_filter_t *f, items_t *it)
{
    memcpy(f->statuses, ACTION, sizeof(ACTION));
    f->nstatuses = sizeof(ACTION) / sizeof(ACTION[0]);
    f->with_names = ctx->config->privacy == CC_PRIVACY_FULL;
    it->ctx = ctx;
    int rc = cc_clocks_list(ctx->store, f, item_row, it);
    if (rc == 0)
        sort_items(it->items, it->n);
    return rc;
}

void cc__web_my_work(cc__web_ctx_t *ctx, const cc__who_t *w)
{
    items_t mine = {0}, reviewed = {0}, teams[16];
    escalations_t esc = {.ctx = ctx};
    cc__work_group_t groups[64];
    char headings[64][300];
    size_t ngroups = 0, nteams = 0;
    cc__work_team_t *team_rows = NULL;
    size_t nteam_rows = 0;
    cc__now_t now = {0};
    int rc = 0;
    memset(teams, 0, sizeof(teams));
    cc__work_t work = {.limit = WORK_LIMIT};
    /* Their own children (as worker). */
    cc_clocks_filter_t f = {.worker_id = w->p.id};
    if ((rc = load_group(ctx, &f, &mine)) == 0 && mine.n > 0) {
        groups[ngroups] = (cc__work_group_t){.heading = w->nteams || w->nsteams ? "Your children" : NULL,
                                             .items = mine.items, .nitems = mine.n};
        group_counts(&groups[ngroups++]);
    }
    /* The children they review (IRO). */
    if (rc == 0) {
        cc_clocks_filter_t fi = {.iro_id = w->p.id};
        if ((rc = load_group(ctx, &fi, &reviewed)) == 0 && reviewed.n > 0) {
            groups[ngroups] = (cc__work_group_t){.heading = "Children you review", .items = reviewed.items,
                                                 .nitems = reviewed.n};
            group_counts(&groups[ngroups++]);
        }
    }
    /* Their teams, by worker. */
    for (size_t t = 0; rc == 0 && t < w->nteams && nteams < 16; t++) {
        cc_clocks_filter_t ft = {.team_id = w->teams[t]};
        items_t *it = &teams[nteams++];
        if ((rc = load_group(ctx, &ft, it)) != 0)
            break;
        /* By worker: stable order by worker id, each worker's items in urgency order. */
        for (size_t a = 1; a < it->n; a++)
            for (size_t b = a; b > 0 && strcmp(it->items[b - 1].note ? it->items[b - 1].note : "",
                                               it->items[b].note ? it->items[b].note : "") > 0;
                 b--) {
                cc__work_item_t tmp = it->items[b];
                it->items[b] = it->items[b - 1];
                it->items[b - 1] = tmp;
            }
        for (size_t s = 0; s < it->n && ngroups < 64;) {
            size_t e = s;
            const char *worker = it->items[s].note ? it->items[s].note : "";
            while (e < it->n && strcmp(it->items[e].note ? it->items[e].note : "", worker) == 0)
                e++;
            const char *name = ctx->cache ? cc__webcache_staff_name(ctx->cache, worker) : "";
            const char *tname = ctx->cache ? cc__webcache_team_name(ctx->cache, w->teams[t]) : "";
            snprintf(headings[ngroups], sizeof(headings[ngroups]), "%s%s%s (%s)", tname[0] ? tname : w->teams[t],
                     ": ", name[0] ? name : worker[0] ? worker : "no worker", worker[0] ? worker : "-");
            groups[ngroups] = (cc__work_group_t){.heading = headings[ngroups], .heading_id = worker,
                                                 .items = it->items + s, .nitems = e - s};
            group_counts(&groups[ngroups++]);
            s = e;
        }
    }
    if (rc == 0)
        rc = cc_clocks_escalated_to(ctx->store, w->p.id, ctx->config->privacy == CC_PRIVACY_FULL, escalation_row,
                                    &esc);
    /* Service managers and viewers: their teams now. */
    if (rc == 0 && (w->viewer || w->nsteams > 0) && ctx->cache != NULL) {
        rc = cc__webcache_now(ctx->cache, w->viewer ? NULL : (const char *const *)w->steams, w->nsteams, 0, &now);
        if (rc == 0 && now.nrows > 0 && (team_rows = calloc(now.nrows, sizeof(*team_rows))) == NULL)
            rc = CC_ENOMEM;
        for (size_t i = 0; rc == 0 && i < now.nrows; i++) {
            const cc__now_row_t *r = &now.rows[i];
            if (r->id[0] == '\0')
                continue;
            cc__work_team_t *t = &team_rows[nteam_rows++];
            snprintf(t->id, sizeof(t->id), "%s", r->id);
            snprintf(t->name, sizeof(t->name), "%s", r->name);
            t->children = r->children;
            t->overdue = r->n[CC_STATUS_OVERDUE];
            t->due_soon = r->n[CC_STATUS_DUE_SOON];
            t->open = r->n[CC_STATUS_OPEN];
            t->data_errors = r->n[CC_STATUS_DATA_ERROR];
        }
    }
    if (rc != 0) {
        cc__web_message(ctx, w, 500, "Something went wrong", "careclock could not read its database. Try again later.");
        goto out;
    }
    work.groups = groups;
    work.ngroups = ngroups;
    for (size_t g = 0; g < ngroups; g++) {
        work.overdue += groups[g].overdue;
        work.due_soon += groups[g].due_soon;
        work.data_errors += groups[g].data_errors;
    }
    work.escalations = esc.items;
    work.nescalations = esc.n;
    work.teams = team_rows;
    work.nteams = nteam_rows;
    if (ngroups == 0 && esc.n == 0 && nteam_rows == 0)
        work.intro = w->viewer ? "careclock has no teams yet." : "Nothing needs action: none of your children's "
                                                                 "clocks is overdue or due soon.";
    else if (w->viewer)
        work.intro = "You can see every team read-only: open a team, or see the service and the timeliness figures.";
    else
        work.intro = "Clocks that need action: children whose data cannot be computed first, then overdue and due "
                     "soon, most urgent first, a child's clocks together.";
    cc__page_t p;
    cc_buf_t body;
    cc_buf_init(&body);
    cc__web_frame(ctx, w, &p, "My work", "work");
    cc__page_work(&body, &p, &work);
    cc__web_html(ctx, 200, &body);
out:
    items_free(&mine);
    items_free(&reviewed);
    for (size_t t = 0; t < nteams; t++)
        items_free(&teams[t]);
    items_t e = {.items = esc.items, .n = esc.n};
    items_free(&e);
    free(team_rows);
    cc__now_free(&now);
}
