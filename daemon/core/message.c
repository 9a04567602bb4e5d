/* Message renderers: the ordered view every renderer shares, the words
 * they use, and the email (subject, plain text, HTML, RFC 5322). See
 * include/careclock/message.h; the webhook payloads are core/payload.c.
 *
 * Design notes:
 *  - The view and its phrases are shared with core/payload.c through
 *    core/message_view.h, whose notes say how the view is ordered.
 *  - Header values are checked for CR and LF before anything is written;
 *    a failure leaves out as it was.
 *  - The MIME boundary starts with "=_", which quoted-printable output can
 *    never contain, so no body line can end the part early.
 */
#include "careclock/message.h"
#include "careclock/html.h"
#include "careclock/email.h"
#include "careclock/error.h"
#include "careclock/offset.h"
#include "core/message_view.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the ordered view --------------------------------------------------- */

static cc_date_t sort_due(cc_date_t d)
{
    return d == CC_DATE_NONE ? INT32_MAX : d;
}

/* The date an item is chased to: the agreed date of an extension in
 * force, else the due date. */
static cc_date_t chase(const cc_message_item_t *it)
{
    if (it->agreed != CC_DATE_NONE && it->due != CC_DATE_NONE && it->agreed > it->due)
        return it->agreed;
    return it->due;
}

static cc_message_rank_t item_rank(const cc_message_item_t *it, cc_date_t today)
{
    if (it->status == CC_STATUS_CANCELLED || it->status == CC_STATUS_EXCEPTED)
        return CC_MESSAGE_RANK_CLOSED;
    if (it->kind == CC_NOTICE_MET || it->status == CC_STATUS_MET || it->status == CC_STATUS_MET_LATE)
        return CC_MESSAGE_RANK_MET;
    /* A child whose deadlines cannot be computed is as urgent as anything:
     * nothing of theirs is chased until it is mended. */
    if (it->status == CC_STATUS_DATA_ERROR)
        return CC_MESSAGE_RANK_OVERDUE;
    if (it->due == CC_DATE_NONE)
        return CC_MESSAGE_RANK_OTHER;
    if (today > chase(it))
        return CC_MESSAGE_RANK_OVERDUE;
    if (today == chase(it) || it->status == CC_STATUS_AT_RISK)
        return CC_MESSAGE_RANK_TODAY;
    if (it->status == CC_STATUS_DUE_SOON)
        return CC_MESSAGE_RANK_SOON;
    return CC_MESSAGE_RANK_OPEN;
}

static int cmp_str(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

static int cmp_entry(const void *pa, const void *pb)
{
    const cc_message_entry_t *a = pa, *b = pb;
    if (a->child_rank != b->child_rank)
        return a->child_rank < b->child_rank ? -1 : 1;
    if (a->child_due != b->child_due)
        return a->child_due < b->child_due ? -1 : 1;
    int c = cmp_str(a->item->child_id, b->item->child_id);
    if (c != 0)
        return c;
    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    if (a->due != b->due)
        return a->due < b->due ? -1 : 1;
    if ((c = cmp_str(a->item->title, b->item->title)) != 0)
        return c;
    if (a->item->seq != b->item->seq)
        return a->item->seq < b->item->seq ? -1 : 1;
    return a->item->delivery_id < b->item->delivery_id ? -1 : a->item->delivery_id > b->item->delivery_id;
}

static int same_clock(const cc_message_item_t *a, const cc_message_item_t *b)
{
    return cmp_str(a->child_id, b->child_id) == 0 && cmp_str(a->rule_id, b->rule_id) == 0 && a->seq == b->seq;
}

/* 1 if a says more than b about the same clock: a "now met" notice, then
 * an escalation, then the later stage day, then the later row. */
static int stronger(const cc_message_item_t *a, const cc_message_item_t *b)
{
    if (a->kind != b->kind)
        return a->kind > b->kind; /* reminder < escalation < met */
    if (a->stage_date != b->stage_date && a->stage_date != CC_DATE_NONE && b->stage_date != CC_DATE_NONE)
        return a->stage_date > b->stage_date;
    return a->delivery_id > b->delivery_id;
}

/* Working days after a up to and including b (0 when the calendar cannot
 * say). */
static int wd_between(const cc_calendar_t *cal, cc_date_t a, cc_date_t b)
{
    int n = 0;
    if (cal == NULL)
        return b - a;
    int rc = cc_calendar_working_days_between(cal, a, b, &n);
    return rc == 0 || rc == CC_EUNCOVERED ? n : b - a;
}

static int manager_role(cc_role_t r)
{
    return r == CC_ROLE_TEAM_MANAGER || r == CC_ROLE_SERVICE_MANAGER || r == CC_ROLE_TEAM_WEBHOOK;
}

/* Number the distinct sources of v's entries in view order. */
static int number_sources(cc_message_view_t *v)
{
    v->sources = calloc(v->n ? v->n : 1, sizeof(*v->sources));
    if (v->sources == NULL)
        return CC_ENOMEM;
    for (size_t i = 0; i < v->n; i++) {
        const cc_message_item_t *it = v->entries[i].item;
        if (it->source == NULL || it->source[0] == '\0')
            continue;
        const char *title = it->title ? it->title : it->rule_id;
        size_t k = 0;
        while (k < v->nsources && !(cmp_str(v->sources[k].source, it->source) == 0 &&
                                    cmp_str(v->sources[k].title, title) == 0))
            k++;
        if (k == v->nsources)
            v->sources[v->nsources++] = (cc_message_source_t){title, it->source};
        v->entries[i].source = (int)k + 1;
    }
    return 0;
}

int cc_message_view_build(const cc_message_t *m, const cc_message_context_t *ctx, cc_message_view_t *v)
{
    assert(m != NULL && ctx != NULL && v != NULL);
    assert(m->items != NULL || m->nitems == 0);
    cc_date_t today = ctx->today;
    memset(v, 0, sizeof(*v));
    v->entries = calloc(m->nitems ? m->nitems : 1, sizeof(*v->entries));
    if (v->entries == NULL)
        return CC_ENOMEM;
    v->rows = m->nitems;
    /* One entry per clock instance: the strongest of its rows. */
    for (size_t i = 0; i < m->nitems; i++) {
        const cc_message_item_t *it = &m->items[i];
        size_t k = 0;
        while (k < v->n && !same_clock(v->entries[k].item, it))
            k++;
        if (k == v->n)
            v->entries[v->n++].item = it;
        else if (stronger(it, v->entries[k].item))
            v->entries[k].item = it;
        if (it->kind != CC_NOTICE_REMINDER && manager_role(it->role))
            v->for_manager = 1;
    }
    if (m->channel == CC_CHANNEL_WEBHOOK)
        v->for_manager = 1;
    for (size_t i = 0; i < v->n; i++) {
        cc_message_entry_t *e = &v->entries[i];
        e->rank = item_rank(e->item, today);
        e->due = sort_due(chase(e->item));
        e->late = cc_message_days_late(e->item, ctx);
        switch (e->rank) {
        case CC_MESSAGE_RANK_OVERDUE: v->overdue++; break;
        case CC_MESSAGE_RANK_TODAY: v->today++; break;
        case CC_MESSAGE_RANK_SOON: v->soon++; break;
        case CC_MESSAGE_RANK_OPEN: v->open++; break;
        case CC_MESSAGE_RANK_MET: v->met++; break;
        default: v->closed++; break;
        }
        const char *team = e->item->team_name;
        if (team != NULL && team[0] != '\0') {
            int seen = 0;
            for (size_t j = 0; j < i && !seen; j++)
                seen = cmp_str(v->entries[j].item->team_name, team) == 0;
            if (!seen && v->teams++ == 0)
                v->team = team;
        }
    }
    if (v->teams != 1)
        v->team = NULL;
    for (size_t i = 0; i < v->n; i++) {
        cc_message_entry_t *e = &v->entries[i];
        e->child_rank = e->rank;
        e->child_due = e->due;
        for (size_t j = 0; j < v->n; j++) {
            const cc_message_entry_t *o = &v->entries[j];
            if (cmp_str(o->item->child_id, e->item->child_id) != 0)
                continue;
            if (o->rank < e->child_rank || (o->rank == e->child_rank && o->due < e->child_due)) {
                e->child_rank = o->rank;
                e->child_due = o->due;
            }
        }
    }
    qsort(v->entries, v->n, sizeof(*v->entries), cmp_entry);
    for (size_t i = 0; i < v->n; i++) {
        v->entries[i].first_of_child =
            i == 0 || cmp_str(v->entries[i - 1].item->child_id, v->entries[i].item->child_id) != 0;
        v->children += (size_t)v->entries[i].first_of_child;
    }
    if (number_sources(v) != 0) {
        cc_message_view_free(v);
        return CC_ENOMEM;
    }
    return 0;
}

void cc_message_view_free(cc_message_view_t *v)
{
    assert(v != NULL);
    free(v->entries);
    free(v->sources);
    memset(v, 0, sizeof(*v));
}

/* ---- words -------------------------------------------------------------- */

static const char *plural(long n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

char *cc_message_human_date(cc_date_t d, char *buf, size_t len)
{
    if (d == CC_DATE_NONE)
        snprintf(buf, len, "an unknown date");
    else
        cc_date_format_human(d, buf, len);
    return buf;
}

/* "C1 (A.B.)", "C1", or "C1 Alice Brown" per privacy; webhooks never get
 * the full name. */
char *cc_message_child_label(const cc_message_item_t *it, cc_privacy_t privacy, int webhook, char *buf,
                             size_t len)
{
    const char *id = it->child_id ? it->child_id : "?";
    const char *shown = cc_privacy_shown(privacy, it->initials, it->full_name, !webhook);
    if (shown == NULL)
        snprintf(buf, len, "%s", id);
    else if (shown == it->full_name)
        snprintf(buf, len, "%s %s", id, shown);
    else
        snprintf(buf, len, "%s (%s)", id, shown);
    return buf;
}

/* Working days late (> 0) for an overdue item; 0 otherwise. */
int cc_message_days_late(const cc_message_item_t *it, const cc_message_context_t *ctx)
{
    if (it->due == CC_DATE_NONE)
        return 0;
    if (it->status == CC_STATUS_MET_LATE && it->met_on != CC_DATE_NONE)
        return wd_between(ctx->cal, it->due, it->met_on);
    if (cc_planner_status_active(it->status) && ctx->today > chase(it))
        return wd_between(ctx->cal, chase(it), ctx->today);
    return 0;
}

/* Where the clock stands, in words: "OVERDUE by 3 working days". */
char *cc_message_status_phrase(const cc_message_item_t *it, const cc_message_context_t *ctx, char *buf,
                               size_t len)
{
    char d[40];
    int n;
    switch (it->status) {
    case CC_STATUS_MET:
        snprintf(buf, len, "now met, on %s", cc_message_human_date(it->met_on, d, sizeof(d)));
        return buf;
    case CC_STATUS_MET_LATE:
        n = cc_message_days_late(it, ctx);
        snprintf(buf, len, "now met, on %s (%d working %s after the due date)",
                 cc_message_human_date(it->met_on, d, sizeof(d)), n, plural(n, "day", "days"));
        return buf;
    case CC_STATUS_CANCELLED:
        snprintf(buf, len, "no longer needed (cancelled%s%s)", it->reason && it->reason[0] ? ": " : "",
                 it->reason ? it->reason : "");
        return buf;
    case CC_STATUS_DATA_ERROR:
        snprintf(buf, len, "this child's deadlines cannot be computed: %s",
                 it->reason && it->reason[0] ? it->reason : "the child's data needs correcting");
        return buf;
    case CC_STATUS_EXCEPTED:
        snprintf(buf, len, "no longer chased (%s)", it->reason && it->reason[0] ? it->reason : "excepted");
        return buf;
    default:
        break;
    }
    cc_date_t due = chase(it);
    size_t used = 0;
    if (it->status == CC_STATUS_AT_RISK) {
        int w = snprintf(buf, len, "AT RISK: %s; ", it->reason && it->reason[0] ? it->reason : "booked too late");
        used = w > 0 && (size_t)w < len ? (size_t)w : 0;
    }
    if (it->due == CC_DATE_NONE) {
        snprintf(buf + used, len - used, "due date not known yet");
    } else if (ctx->today > due) {
        n = wd_between(ctx->cal, due, ctx->today);
        if (n > 0)
            snprintf(buf + used, len - used, "OVERDUE by %d working %s", n, plural(n, "day", "days"));
        else
            snprintf(buf + used, len - used, "OVERDUE (the due date has passed)");
    } else if (ctx->today == due) {
        snprintf(buf + used, len - used, "DUE TODAY");
    } else {
        n = wd_between(ctx->cal, ctx->today, due);
        if (n > 0)
            snprintf(buf + used, len - used, "due in %d working %s", n, plural(n, "day", "days"));
        else
            snprintf(buf + used, len - used, "due on %s", cc_message_human_date(due, d, sizeof(d)));
    }
    if (due != it->due) {
        /* An agreed extension: the chasing follows it, the statutory date
         * stays what it was. */
        size_t at = strlen(buf);
        char s[40];
        snprintf(buf + at, len - at, " (extended by agreement to %s; statutory due date %s)",
                 cc_message_human_date(due, d, sizeof(d)), cc_message_human_date(it->due, s, sizeof(s)));
    }
    return buf;
}

char *cc_message_now_phrase(const cc_message_item_t *it, const cc_message_context_t *ctx, int to_team, char *buf,
                            size_t len)
{
    char status[256];
    cc_message_status_phrase(it, ctx, status, sizeof(status));
    const char *whom = to_team ? "the team" : "you";
    if (it->kind != CC_NOTICE_ESCALATION || !cc_planner_status_active(it->status) ||
        it->stage_date == CC_DATE_NONE || it->stage_date > ctx->today) {
        snprintf(buf, len, "%s", status);
        return buf;
    }
    int n = wd_between(ctx->cal, it->stage_date, ctx->today);
    if (n <= 0)
        snprintf(buf, len, "%s, escalated to %s today", status, whom);
    else
        snprintf(buf, len, "%s, escalated to %s %d working %s ago", status, whom, n, plural(n, "day", "days"));
    return buf;
}

void cc_message_capitalise(char *s)
{
    if (s[0] >= 'a' && s[0] <= 'z')
        s[0] = (char)(s[0] - 'a' + 'A');
}

char *cc_message_title_label(const cc_message_item_t *it, char *buf, size_t len)
{
    if (it->seq > 1)
        snprintf(buf, len, "%s (no. %d)", it->title ? it->title : it->rule_id, it->seq);
    else
        snprintf(buf, len, "%s", it->title ? it->title : (it->rule_id ? it->rule_id : "clock"));
    return buf;
}

char *cc_message_holder_line(const cc_message_item_t *it, char *buf, size_t len)
{
    if (it->worker_name && it->team_name)
        snprintf(buf, len, "held by %s, %s", it->worker_name, it->team_name);
    else if (it->worker_name)
        snprintf(buf, len, "held by %s", it->worker_name);
    else if (it->team_name)
        snprintf(buf, len, "no allocated worker, %s", it->team_name);
    else
        snprintf(buf, len, "no allocated worker");
    return buf;
}

typedef struct {
    size_t overdue, today, soon, open, met, closed;
} counts_t;

static void counts_of(counts_t *c, cc_message_rank_t rank)
{
    switch (rank) {
    case CC_MESSAGE_RANK_OVERDUE: c->overdue++; break;
    case CC_MESSAGE_RANK_TODAY: c->today++; break;
    case CC_MESSAGE_RANK_SOON: c->soon++; break;
    case CC_MESSAGE_RANK_OPEN: c->open++; break;
    case CC_MESSAGE_RANK_MET: c->met++; break;
    default: c->closed++; break;
    }
}

static void counts_text(const counts_t *c, cc_buf_t *out)
{
    const char *sep = "";
    struct {
        size_t n;
        const char *what;
    } parts[] = {{c->overdue, "overdue"}, {c->today, "due today"}, {c->soon, "due soon"}, {c->open, "coming up"},
                 {c->met, "now met"},     {c->closed, "closed"}};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        if (parts[i].n == 0)
            continue;
        cc_buf_printf(out, "%s%zu %s", sep, parts[i].n, parts[i].what);
        sep = ", ";
    }
}

/* "2 overdue, 1 due today, 3 due soon, 1 now met" (the non-zero parts). */
void cc_message_counts_phrase(const cc_message_view_t *v, cc_buf_t *out)
{
    counts_t c = {v->overdue, v->today, v->soon, v->open, v->met, v->closed};
    counts_text(&c, out);
}

size_t cc_message_by_worker(const cc_message_view_t *v, void (*line)(void *arg, const char *worker, const char *counts),
                            void *arg)
{
    typedef struct {
        const char *name;
        counts_t c;
    } worker_t;
    worker_t *w = calloc(v->n ? v->n : 1, sizeof(*w));
    size_t nw = 0;
    if (w == NULL)
        return 0;
    for (size_t i = 0; i < v->n; i++) {
        const char *name = v->entries[i].item->worker_name;
        size_t k = 0;
        while (k < nw && cmp_str(w[k].name, name) != 0)
            k++;
        if (k == nw)
            w[nw++].name = name;
        counts_of(&w[k].c, v->entries[i].rank);
    }
    /* Most overdue first, then most due today, then by name. */
    for (size_t i = 1; i < nw; i++)
        for (size_t j = i; j > 0; j--) {
            worker_t *a = &w[j - 1], *b = &w[j];
            int swap = b->c.overdue != a->c.overdue ? b->c.overdue > a->c.overdue
                       : b->c.today != a->c.today   ? b->c.today > a->c.today
                                                    : cmp_str(b->name, a->name) < 0;
            if (!swap)
                break;
            worker_t t = *a;
            *a = *b;
            *b = t;
        }
    cc_buf_t counts;
    cc_buf_init(&counts);
    for (size_t i = 0; i < nw; i++) {
        cc_buf_reset(&counts);
        counts_text(&w[i].c, &counts);
        line(arg, w[i].name && w[i].name[0] ? w[i].name : "(no allocated worker)", cc_buf_str(&counts));
    }
    cc_buf_free(&counts);
    free(w);
    return nw;
}

char *cc_message_what_to_do(const cc_message_view_t *v, char *buf, size_t len)
{
    if (v->overdue + v->today + v->soon + v->open == 0)
        snprintf(buf, len, "Nothing: %s for your information.", v->n == 1 ? "this is" : "these are");
    else if (v->for_manager)
        snprintf(buf, len, "Ask the worker named against each overdue item when it will be done and whether it "
                           "is recorded; give a worker to any child without one. An item leaves these messages "
                           "once its completion is recorded in careclock.");
    else
        snprintf(buf, len, "Do the overdue items first; when one is done, record it in careclock (the event that "
                           "meets it) and it leaves these messages. If a date cannot be met, tell your manager "
                           "now.");
    return buf;
}

int cc_message_view_subject(const cc_message_t *m, const cc_message_view_t *v, const cc_message_context_t *ctx,
                            cc_buf_t *out)
{
    char child[160], title[200], status[256], d[40];
    assert(m != NULL && v != NULL && ctx != NULL && out != NULL);
    if (m->test)
        return cc_buf_puts(out, "careclock test message: no action needed");
    int webhook = m->channel == CC_CHANNEL_WEBHOOK;
    if (v->team != NULL)
        cc_buf_printf(out, "%s: ", v->team);
    else if (v->teams > 1)
        cc_buf_printf(out, "%zu teams: ", v->teams);
    else
        cc_buf_puts(out, "careclock: ");
    if (v->n == 0)
        return cc_buf_puts(out, "nothing to report");
    const cc_message_entry_t *worst = &v->entries[0];
    const cc_message_item_t *it = worst->item;
    cc_message_child_label(it, ctx->privacy, webhook, child, sizeof(child));
    cc_message_title_label(it, title, sizeof(title));
    cc_message_status_phrase(it, ctx, status, sizeof(status));
    if (v->n == 1) {
        switch (worst->rank) {
        case CC_MESSAGE_RANK_OVERDUE:
        case CC_MESSAGE_RANK_TODAY: return cc_buf_printf(out, "%s for %s is %s", title, child, status);
        case CC_MESSAGE_RANK_MET: return cc_buf_printf(out, "%s for %s is now met", title, child);
        case CC_MESSAGE_RANK_CLOSED: return cc_buf_printf(out, "%s for %s is no longer needed", title, child);
        default:
            return cc_buf_printf(out, "%s for %s is %s (%s)", title, child, status,
                                 cc_message_human_date(it->due, d, sizeof(d)));
        }
    }
    cc_message_counts_phrase(v, out);
    cc_buf_printf(out, " for %zu %s", v->children, plural((long)v->children, "child", "children"));
    if (worst->rank <= CC_MESSAGE_RANK_SOON)
        cc_buf_printf(out, "; most urgent: %s for %s, %s", title, child, status);
    return out->failed ? CC_ENOMEM : 0;
}

int cc_message_subject(const cc_message_t *m, const cc_message_context_t *ctx, cc_buf_t *out)
{
    cc_message_view_t v;
    assert(m != NULL && ctx != NULL && out != NULL);
    int rc = cc_message_view_build(m, ctx, &v);
    if (rc == 0)
        rc = cc_message_view_subject(m, &v, ctx, out);
    cc_message_view_free(&v);
    return rc;
}

int cc_message_child_url(const char *public_url, const char *child_id, cc_buf_t *out)
{
    static const char hex[] = "0123456789ABCDEF";
    assert(out != NULL);
    if (public_url == NULL || public_url[0] == '\0')
        return 0;
    size_t n = strlen(public_url);
    while (n > 0 && public_url[n - 1] == '/')
        n--;
    cc_buf_append(out, public_url, n);
    cc_buf_puts(out, "/children/");
    for (const unsigned char *p = (const unsigned char *)(child_id ? child_id : ""); *p; p++) {
        int plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' ||
                    *p == '_' || *p == '~' || *p == '-';
        char enc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
        cc_buf_append(out, plain ? (const char *)p : enc, plain ? 1 : 3);
    }
    return out->failed ? CC_ENOMEM : 0;
}

/* ---- plain text ------------------------------------------------------------- */

#define MOST_URGENT 5

static void intro_line(const cc_message_t *m, const cc_message_view_t *v, const cc_message_context_t *ctx,
                       cc_buf_t *out)
{
    char d[40];
    if (m->test) {
        cc_buf_puts(out, "This is a test message from careclock, sent with careclock deliveries test to check that "
                         "its reminders and escalations reach you through this channel. It carries no child's "
                         "data and needs no action.");
        return;
    }
    if (v->team != NULL)
        cc_buf_printf(out, "%s, as of %s: ", v->team, cc_message_human_date(ctx->today, d, sizeof(d)));
    else
        cc_buf_printf(out, "As of %s: ", cc_message_human_date(ctx->today, d, sizeof(d)));
    cc_message_counts_phrase(v, out);
    cc_buf_printf(out, ", for %zu %s.", v->children, plural((long)v->children, "child", "children"));
}

static void text_worker_line(void *arg, const char *worker, const char *counts)
{
    cc_buf_printf(arg, "  %s: %s\n", worker, counts);
}

/* The entries worth a place in "most urgent": overdue, due today or soon. */
static size_t urgent_count(const cc_message_view_t *v)
{
    return v->overdue + v->today + v->soon;
}

/* The view's entries by urgency alone (most late first), for "most
 * urgent": indexes into v->entries, the first MOST_URGENT of them. */
static size_t most_urgent(const cc_message_view_t *v, size_t idx[MOST_URGENT])
{
    size_t n = 0;
    for (size_t i = 0; i < v->n; i++) {
        const cc_message_entry_t *e = &v->entries[i];
        if (e->rank > CC_MESSAGE_RANK_SOON)
            continue;
        /* insertion into the top list: rank, then days late, then due */
        size_t at = n;
        while (at > 0) {
            const cc_message_entry_t *o = &v->entries[idx[at - 1]];
            int before = e->rank != o->rank ? e->rank < o->rank : e->late != o->late ? e->late > o->late : e->due < o->due;
            if (!before)
                break;
            at--;
        }
        if (at >= MOST_URGENT)
            continue;
        size_t last = n < MOST_URGENT ? n : MOST_URGENT - 1;
        for (size_t k = last; k > at; k--)
            idx[k] = idx[k - 1];
        idx[at] = i;
        if (n < MOST_URGENT)
            n++;
    }
    return n;
}

int cc__message_text_from_view(const cc_message_t *m, const cc_message_view_t *v, const cc_message_context_t *ctx,
                          cc_buf_t *out)
{
    char child[160], holder[256], now[384], title[200], d[40], what_to_do[400];
    size_t top[MOST_URGENT];
    cc_buf_t url;
    cc_buf_init(&url);
    cc_buf_printf(out, "Hello %s,\n\n", m->recipient_name && m->recipient_name[0] ? m->recipient_name : "there");
    intro_line(m, v, ctx, out);
    cc_buf_puts(out, "\n");
    if (v->for_manager && v->n > 1) {
        cc_buf_puts(out, "\nBy worker:\n");
        cc_message_by_worker(v, text_worker_line, out);
    }
    if (v->n > MOST_URGENT && urgent_count(v) > 0) {
        size_t k = most_urgent(v, top);
        cc_buf_printf(out, "\nMost urgent:\n");
        for (size_t i = 0; i < k; i++) {
            const cc_message_item_t *it = v->entries[top[i]].item;
            cc_buf_printf(out, "  %zu. %s, %s: %s (%s)\n", i + 1,
                          cc_message_child_label(it, ctx->privacy, 0, child, sizeof(child)),
                          cc_message_title_label(it, title, sizeof(title)),
                          cc_message_status_phrase(it, ctx, now, sizeof(now)),
                          it->worker_name && it->worker_name[0] ? it->worker_name : "no allocated worker");
        }
    }
    cc_buf_printf(out, "\nWhat to do: %s\n", cc_message_what_to_do(v, what_to_do, sizeof(what_to_do)));
    for (size_t i = 0; i < v->n; i++) {
        const cc_message_entry_t *e = &v->entries[i];
        const cc_message_item_t *it = e->item;
        if (e->first_of_child) {
            cc_buf_printf(out, "\n%s: %s\n", cc_message_child_label(it, ctx->privacy, 0, child, sizeof(child)),
                          cc_message_holder_line(it, holder, sizeof(holder)));
            cc_buf_reset(&url);
            cc_message_child_url(ctx->public_url, it->child_id, &url);
            if (url.len > 0)
                cc_buf_printf(out, "  %s\n", cc_buf_str(&url));
        }
        cc_message_now_phrase(it, ctx, m->channel == CC_CHANNEL_WEBHOOK, now, sizeof(now));
        cc_message_capitalise(now);
        if (it->status == CC_STATUS_DATA_ERROR) /* the phrase says it all: no clock, no due date */
            cc_buf_printf(out, "  * %s", now);
        else
            cc_buf_printf(out, "  * %s: %s, due %s%s", now, cc_message_title_label(it, title, sizeof(title)),
                          cc_message_human_date(it->due, d, sizeof(d)), it->projected ? " (projected)" : "");
        if (e->source > 0)
            cc_buf_printf(out, " [%d]", e->source);
        cc_buf_puts(out, "\n");
    }
    if (v->nsources > 0) {
        cc_buf_puts(out, "\nWhere the dates come from:\n");
        for (size_t i = 0; i < v->nsources; i++)
            cc_buf_printf(out, "  [%zu] %s: %s\n", i + 1, v->sources[i].title ? v->sources[i].title : "",
                          v->sources[i].source);
    }
    if (ctx->public_url && ctx->public_url[0])
        cc_buf_printf(out, "\nTeam calendars and the clocks: %s\n", ctx->public_url);
    cc_buf_printf(out,
                  "\n-- \ncareclock keeps the statutory clocks of children's services. This message was sent "
                  "automatically; please do not reply to it.\nReference: %s\n",
                  m->message_id ? m->message_id : "");
    cc_buf_free(&url);
    return out->failed ? CC_ENOMEM : 0;
}

int cc_message_text(const cc_message_t *m, const cc_message_context_t *ctx, cc_buf_t *out)
{
    cc_message_view_t v;
    assert(m != NULL && ctx != NULL && out != NULL);
    int rc = cc_message_view_build(m, ctx, &v);
    if (rc == 0)
        rc = cc__message_text_from_view(m, &v, ctx, out);
    cc_message_view_free(&v);
    return rc;
}

/* ---- HTML ----------------------------------------------------------------- */

/* Colours of the statuses: text on white at WCAG AA contrast or better. */
static const char *rank_colour(cc_message_rank_t r)
{
    switch (r) {
    case CC_MESSAGE_RANK_OVERDUE: return "#b3261e";
    case CC_MESSAGE_RANK_TODAY: return "#a34a00";
    case CC_MESSAGE_RANK_SOON: return "#7a5c00";
    case CC_MESSAGE_RANK_MET: return "#1e6b30";
    default: return "#444444";
    }
}

static void html_chip(cc_buf_t *out, size_t n, const char *what, const char *colour)
{
    if (n == 0)
        return;
    cc_buf_printf(out,
                  "<span style=\"display:inline-block;margin:0 6px 6px 0;padding:3px 10px;border-radius:12px;"
                  "background:%s;color:#ffffff;font-weight:bold\">%zu %s</span>",
                  colour, n, what);
}

#define H2 "<h2 style=\"font-size:16px;margin:18px 0 6px\">"

static void html_worker_row(void *arg, const char *worker, const char *counts)
{
    cc_buf_t *out = arg;
    cc_buf_puts(out, "<tr><td style=\"padding:2px 16px 2px 0\">");
    cc_html_text(out, worker);
    cc_buf_puts(out, "</td><td style=\"padding:2px 0\">");
    cc_html_text(out, counts);
    cc_buf_puts(out, "</td></tr>\n");
}

int cc__message_html_from_view(const cc_message_t *m, const cc_message_view_t *v, const cc_message_context_t *ctx,
                          cc_buf_t *out)
{
    char child[160], holder[256], now[384], title[200], d[40], what_to_do[400];
    size_t top[MOST_URGENT];
    cc_buf_t text, url;
    cc_buf_init(&text);
    cc_buf_init(&url);
    cc_message_view_subject(m, v, ctx, &text);
    cc_buf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<meta name=\"viewport\" content=\"width=device-width\"><title>");
    cc_html_text(out, cc_buf_str(&text));
    cc_buf_puts(out, "</title></head>\n<body style=\"margin:0;padding:16px;background:#f3f3f3;font-family:Arial,"
                     "Helvetica,sans-serif;font-size:15px;line-height:1.45;color:#1a1a1a\">\n"
                     "<div style=\"max-width:680px;margin:0 auto;background:#ffffff;border:1px solid #d8d8d8;"
                     "padding:20px 24px\">\n<p style=\"margin:0 0 12px\">Hello ");
    cc_html_text(out, m->recipient_name && m->recipient_name[0] ? m->recipient_name : "there");
    cc_buf_puts(out, ",</p>\n<h1 style=\"font-size:20px;margin:0 0 4px\">");
    cc_buf_reset(&text);
    intro_line(m, v, ctx, &text);
    cc_html_text(out, cc_buf_str(&text));
    cc_buf_puts(out, "</h1>\n<p style=\"margin:8px 0\">");
    html_chip(out, v->overdue, "overdue", rank_colour(CC_MESSAGE_RANK_OVERDUE));
    html_chip(out, v->today, "due today", rank_colour(CC_MESSAGE_RANK_TODAY));
    html_chip(out, v->soon, "due soon", rank_colour(CC_MESSAGE_RANK_SOON));
    html_chip(out, v->open, "coming up", rank_colour(CC_MESSAGE_RANK_OPEN));
    html_chip(out, v->met, "now met", rank_colour(CC_MESSAGE_RANK_MET));
    html_chip(out, v->closed, "closed", rank_colour(CC_MESSAGE_RANK_CLOSED));
    cc_buf_puts(out, "</p>\n");
    if (v->for_manager && v->n > 1) {
        cc_buf_puts(out, H2 "By worker</h2>\n<table style=\"border-collapse:collapse\">\n");
        cc_message_by_worker(v, html_worker_row, out);
        cc_buf_puts(out, "</table>\n");
    }
    if (v->n > MOST_URGENT && urgent_count(v) > 0) {
        size_t k = most_urgent(v, top);
        cc_buf_puts(out, H2 "Most urgent</h2>\n<ol style=\"margin:0;padding-left:22px\">\n");
        for (size_t i = 0; i < k; i++) {
            const cc_message_entry_t *e = &v->entries[top[i]];
            const cc_message_item_t *it = e->item;
            cc_buf_puts(out, "<li><strong>");
            cc_html_text(out, cc_message_child_label(it, ctx->privacy, 0, child, sizeof(child)));
            cc_buf_puts(out, "</strong>, ");
            cc_html_text(out, cc_message_title_label(it, title, sizeof(title)));
            cc_buf_printf(out, ": <span style=\"color:%s;font-weight:bold\">", rank_colour(e->rank));
            cc_html_text(out, cc_message_status_phrase(it, ctx, now, sizeof(now)));
            cc_buf_puts(out, "</span> (");
            cc_html_text(out, it->worker_name && it->worker_name[0] ? it->worker_name : "no allocated worker");
            cc_buf_puts(out, ")</li>\n");
        }
        cc_buf_puts(out, "</ol>\n");
    }
    cc_buf_puts(out, "<p style=\"margin:16px 0;padding:10px 14px;background:#fff7e0;border-left:4px solid #c99400\">"
                     "<strong>What to do:</strong> ");
    cc_html_text(out, cc_message_what_to_do(v, what_to_do, sizeof(what_to_do)));
    cc_buf_puts(out, "</p>\n");
    if (v->n > 0)
        cc_buf_puts(out, H2 "By child</h2>\n");
    for (size_t i = 0; i < v->n; i++) {
        const cc_message_entry_t *e = &v->entries[i];
        const cc_message_item_t *it = e->item;
        if (e->first_of_child) {
            if (i > 0)
                cc_buf_puts(out, "</ul></div>\n");
            cc_buf_puts(out, "<div style=\"border-top:1px solid #d8d8d8;margin-top:12px;padding-top:8px\">\n"
                             "<h3 style=\"font-size:16px;margin:0\">");
            cc_html_text(out, cc_message_child_label(it, ctx->privacy, 0, child, sizeof(child)));
            cc_buf_puts(out, "</h3>\n<p style=\"margin:2px 0 4px;color:#555555\">");
            cc_html_text(out, cc_message_holder_line(it, holder, sizeof(holder)));
            cc_buf_reset(&url);
            cc_message_child_url(ctx->public_url, it->child_id, &url);
            if (url.len > 0) {
                cc_buf_puts(out, " &middot; <a href=\"");
                cc_html_text(out, cc_buf_str(&url));
                cc_buf_puts(out, "\" style=\"color:#0b57d0\">Open ");
                cc_html_text(out, it->child_id ? it->child_id : "");
                cc_buf_puts(out, "&#39;s page</a>");
            }
            cc_buf_puts(out, "</p>\n<ul style=\"margin:0;padding-left:22px\">\n");
        }
        cc_message_now_phrase(it, ctx, m->channel == CC_CHANNEL_WEBHOOK, now, sizeof(now));
        cc_message_capitalise(now);
        cc_buf_printf(out, "<li style=\"margin:2px 0\"><span style=\"color:%s;font-weight:bold\">", rank_colour(e->rank));
        cc_html_text(out, now);
        cc_buf_puts(out, "</span>");
        if (it->status != CC_STATUS_DATA_ERROR) {
            cc_buf_puts(out, ": ");
            cc_html_text(out, cc_message_title_label(it, title, sizeof(title)));
            cc_buf_puts(out, ", due ");
            cc_html_text(out, cc_message_human_date(it->due, d, sizeof(d)));
        }
        if (it->projected)
            cc_buf_puts(out, " (projected)");
        if (e->source > 0)
            cc_buf_printf(out, " <sup><a href=\"#source-%d\" style=\"color:#555555\">[%d]</a></sup>", e->source,
                          e->source);
        cc_buf_puts(out, "</li>\n");
    }
    if (v->n > 0)
        cc_buf_puts(out, "</ul></div>\n");
    if (v->nsources > 0) {
        cc_buf_puts(out, H2 "Where the dates come from</h2>\n<ol style=\"margin:0;padding-left:22px;color:#444444;"
                         "font-size:13px\">\n");
        for (size_t i = 0; i < v->nsources; i++) {
            cc_buf_printf(out, "<li id=\"source-%zu\"><strong>", i + 1);
            cc_html_text(out, v->sources[i].title ? v->sources[i].title : "");
            cc_buf_puts(out, "</strong>: ");
            cc_html_text(out, v->sources[i].source);
            cc_buf_puts(out, "</li>\n");
        }
        cc_buf_puts(out, "</ol>\n");
    }
    if (ctx->public_url && ctx->public_url[0]) {
        cc_buf_puts(out, "<p style=\"margin:16px 0 0\"><a href=\"");
        cc_html_text(out, ctx->public_url);
        cc_buf_puts(out, "\" style=\"color:#0b57d0\">Team calendars and the clocks in careclock</a></p>\n");
    }
    cc_buf_puts(out, "<hr style=\"border:0;border-top:1px solid #d8d8d8;margin:18px 0 8px\">"
                     "<p style=\"margin:0;color:#666666;font-size:12px\">careclock keeps the statutory clocks of "
                     "children's services. This message was sent automatically; please do not reply to it. "
                     "Reference: ");
    cc_html_text(out, m->message_id ? m->message_id : "");
    cc_buf_puts(out, "</p>\n</div>\n</body></html>\n");
    int failed = text.failed || url.failed;
    cc_buf_free(&text);
    cc_buf_free(&url);
    return out->failed || failed ? CC_ENOMEM : 0;
}

int cc_message_html(const cc_message_t *m, const cc_message_context_t *ctx, cc_buf_t *out)
{
    cc_message_view_t v;
    assert(m != NULL && ctx != NULL && out != NULL);
    int rc = cc_message_view_build(m, ctx, &v);
    if (rc == 0)
        rc = cc__message_html_from_view(m, &v, ctx, out);
    cc_message_view_free(&v);
    return rc;
}

