/* Message renderers. See include/careclock/message.h.
 *
 * Design notes:
 *  - Every renderer works from one ordered view of the items (view_t):
 *    grouped by child, children ordered by their most urgent item, items
 *    by urgency (overdue, due today, due soon, open, then notices), then
 *    due date. Text, HTML and the three webhook formats walk the same view,
 *    so they always agree.
 *  - "How late" is counted in working days to ctx->today on the council's
 *    calendar, as the statuses are.
 *  - Header values are checked for CR and LF before anything is written;
 *    a failure leaves out as it was.
 *  - The MIME boundary starts with "=_", which quoted-printable output can
 *    never contain, so no body line can end the part early.
 */
#include "careclock/message.h"
#include "careclock/email.h"
#include "careclock/error.h"
#include "careclock/offset.h"
#include "careclock/utf8.h"

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the ordered view --------------------------------------------------- */

enum { RANK_OVERDUE, RANK_TODAY, RANK_SOON, RANK_OPEN, RANK_MET, RANK_CLOSED, RANK_OTHER };

typedef struct {
    const cc_message_item_t *item;
    int rank;
    cc_date_t due;
    int child_rank;     /* the child's most urgent item */
    cc_date_t child_due;
    int first_of_child; /* set on the first item of each child in order */
} entry_t;

typedef struct {
    entry_t *entries;
    size_t n;
    size_t children;
    size_t overdue, today, soon, open, met, closed;
} view_t;

static cc_date_t sort_due(cc_date_t d)
{
    return d == CC_DATE_NONE ? INT32_MAX : d;
}

static int item_rank(const cc_message_item_t *it, cc_date_t today)
{
    if (it->status == CC_STATUS_CANCELLED)
        return RANK_CLOSED;
    if (it->kind == CC_NOTICE_MET || it->status == CC_STATUS_MET || it->status == CC_STATUS_MET_LATE)
        return RANK_MET;
    if (it->status == CC_STATUS_DATA_ERROR || it->due == CC_DATE_NONE)
        return RANK_OTHER;
    if (today > it->due)
        return RANK_OVERDUE;
    if (today == it->due)
        return RANK_TODAY;
    if (it->status == CC_STATUS_DUE_SOON)
        return RANK_SOON;
    return RANK_OPEN;
}

static int cmp_str(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

static int cmp_entry(const void *pa, const void *pb)
{
    const entry_t *a = pa, *b = pb;
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

static int view_build(const cc_message_t *m, cc_date_t today, view_t *v)
{
    memset(v, 0, sizeof(*v));
    v->entries = calloc(m->nitems ? m->nitems : 1, sizeof(*v->entries));
    if (v->entries == NULL)
        return CC_ENOMEM;
    v->n = m->nitems;
    for (size_t i = 0; i < m->nitems; i++) {
        entry_t *e = &v->entries[i];
        e->item = &m->items[i];
        e->rank = item_rank(e->item, today);
        e->due = sort_due(e->item->due);
        switch (e->rank) {
        case RANK_OVERDUE: v->overdue++; break;
        case RANK_TODAY: v->today++; break;
        case RANK_SOON: v->soon++; break;
        case RANK_OPEN: v->open++; break;
        case RANK_MET: v->met++; break;
        default: v->closed++; break;
        }
    }
    for (size_t i = 0; i < v->n; i++) {
        entry_t *e = &v->entries[i];
        e->child_rank = e->rank;
        e->child_due = e->due;
        for (size_t j = 0; j < v->n; j++) {
            const entry_t *o = &v->entries[j];
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
    return 0;
}

static void view_free(view_t *v)
{
    free(v->entries);
    memset(v, 0, sizeof(*v));
}

/* ---- words -------------------------------------------------------------- */

static const char *plural(long n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static char *human(cc_date_t d, char *buf, size_t len)
{
    if (d == CC_DATE_NONE)
        snprintf(buf, len, "an unknown date");
    else
        cc_date_format_human(d, buf, len);
    return buf;
}

/* "C1 (A.B.)", "C1", or "C1 Alice Brown" per privacy; webhooks never get
 * the full name. */
static char *child_label(const cc_message_item_t *it, cc_privacy_t privacy, int webhook, char *buf, size_t len)
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

/* Working days late (> 0) for an overdue item; 0 otherwise. */
static int days_late(const cc_message_item_t *it, const cc_message_context_t *ctx)
{
    if (it->due == CC_DATE_NONE)
        return 0;
    if (it->status == CC_STATUS_MET_LATE && it->met_on != CC_DATE_NONE)
        return wd_between(ctx->cal, it->due, it->met_on);
    if (cc_planner_status_active(it->status) && ctx->today > it->due)
        return wd_between(ctx->cal, it->due, ctx->today);
    return 0;
}

/* Where the clock stands, in words: "OVERDUE by 3 working days". */
static char *status_phrase(const cc_message_item_t *it, const cc_message_context_t *ctx, char *buf, size_t len)
{
    char d[40];
    int n;
    switch (it->status) {
    case CC_STATUS_MET:
        snprintf(buf, len, "now met, on %s", human(it->met_on, d, sizeof(d)));
        return buf;
    case CC_STATUS_MET_LATE:
        n = days_late(it, ctx);
        snprintf(buf, len, "now met, on %s (%d working %s after the due date)", human(it->met_on, d, sizeof(d)),
                 n, plural(n, "day", "days"));
        return buf;
    case CC_STATUS_CANCELLED:
        snprintf(buf, len, "no longer needed (cancelled%s%s)", it->reason && it->reason[0] ? ": " : "",
                 it->reason ? it->reason : "");
        return buf;
    case CC_STATUS_DATA_ERROR:
        snprintf(buf, len, "cannot be evaluated: the child's data needs correcting");
        return buf;
    default:
        break;
    }
    if (it->due == CC_DATE_NONE) {
        snprintf(buf, len, "due date not known yet");
    } else if (ctx->today > it->due) {
        n = wd_between(ctx->cal, it->due, ctx->today);
        if (n > 0)
            snprintf(buf, len, "OVERDUE by %d working %s", n, plural(n, "day", "days"));
        else
            snprintf(buf, len, "OVERDUE (the due date has passed)");
    } else if (ctx->today == it->due) {
        snprintf(buf, len, "DUE TODAY");
    } else {
        n = wd_between(ctx->cal, ctx->today, it->due);
        if (n > 0)
            snprintf(buf, len, "due in %d working %s", n, plural(n, "day", "days"));
        else
            snprintf(buf, len, "due on %s", human(it->due, d, sizeof(d)));
    }
    return buf;
}

static void capitalise(char *s)
{
    if (s[0] >= 'a' && s[0] <= 'z')
        s[0] = (char)(s[0] - 'a' + 'A');
}

/* "Escalation: 1 working day after the due date" and the like. */
static char *stage_phrase(const cc_message_item_t *it, char *buf, size_t len)
{
    cc_offset_t off;
    char words[48];
    const char *kind = it->kind == CC_NOTICE_ESCALATION ? "escalation" : "reminder";
    if (it->kind == CC_NOTICE_MET) {
        snprintf(buf, len, "you were sent an escalation for this clock");
        return buf;
    }
    if (it->stage == NULL || cc_offset_parse(it->stage, 0, &off) != 0) {
        snprintf(buf, len, "%s", kind);
        return buf;
    }
    if (off.n == 0)
        snprintf(buf, len, "%s on the due date", kind);
    else
        snprintf(buf, len, "%s %s %s the due date", kind, cc_offset_words(off, words, sizeof(words)),
                 off.n < 0 ? "before" : "after");
    return buf;
}

static char *title_label(const cc_message_item_t *it, char *buf, size_t len)
{
    if (it->seq > 1)
        snprintf(buf, len, "%s (no. %d)", it->title ? it->title : it->rule_id, it->seq);
    else
        snprintf(buf, len, "%s", it->title ? it->title : (it->rule_id ? it->rule_id : "clock"));
    return buf;
}

static char *holder_line(const cc_message_item_t *it, char *buf, size_t len)
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

/* "2 overdue, 1 due today, 3 due soon, 1 now met" (the non-zero parts). */
static void counts_phrase(const view_t *v, cc_buf_t *out)
{
    const char *sep = "";
    struct {
        size_t n;
        const char *what;
    } parts[] = {{v->overdue, "overdue"}, {v->today, "due today"}, {v->soon, "due soon"}, {v->open, "coming up"},
                 {v->met, "now met"},     {v->closed, "closed"}};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        if (parts[i].n == 0)
            continue;
        cc_buf_printf(out, "%s%zu %s", sep, parts[i].n, parts[i].what);
        sep = ", ";
    }
}

static int subject_from_view(const cc_message_t *m, const view_t *v, const cc_message_context_t *ctx,
                             cc_buf_t *out)
{
    char child[160], title[200], d[40];
    if (v->n == 1) {
        const cc_message_item_t *it = v->entries[0].item;
        int webhook = m->channel == CC_CHANNEL_WEBHOOK;
        child_label(it, ctx->privacy, webhook, child, sizeof(child));
        title_label(it, title, sizeof(title));
        switch (v->entries[0].rank) {
        case RANK_OVERDUE:
            return cc_buf_printf(out, "Overdue: %s for %s, due %s", title, child, human(it->due, d, sizeof(d)));
        case RANK_TODAY: return cc_buf_printf(out, "Due today: %s for %s", title, child);
        case RANK_MET: return cc_buf_printf(out, "Now met: %s for %s", title, child);
        case RANK_CLOSED: return cc_buf_printf(out, "No longer needed: %s for %s", title, child);
        default:
            return cc_buf_printf(out, "%s: %s for %s, due %s",
                                 it->kind == CC_NOTICE_ESCALATION ? "Escalation" : "Reminder", title, child,
                                 human(it->due, d, sizeof(d)));
        }
    }
    cc_buf_puts(out, "careclock: ");
    counts_phrase(v, out);
    return cc_buf_printf(out, " (%zu %s)", v->children, plural((long)v->children, "child", "children"));
}

int cc_message_subject(const cc_message_t *m, const cc_message_context_t *ctx, cc_buf_t *out)
{
    view_t v;
    int rc = view_build(m, ctx->today, &v);
    if (rc == 0)
        rc = subject_from_view(m, &v, ctx, out);
    view_free(&v);
    return rc;
}

static void greeting(const cc_message_t *m, const view_t *v, const cc_message_context_t *ctx, cc_buf_t *out)
{
    char d[40];
    size_t n = v->n;
    cc_buf_printf(out, "%s %zu statutory %s for %zu %s, as of %s: ", n == 1 ? "This is about" : "These are",
                  n, plural((long)n, "deadline", "deadlines"), v->children,
                  plural((long)v->children, "child", "children"), human(ctx->today, d, sizeof(d)));
    counts_phrase(v, out);
    cc_buf_puts(out, ".");
    (void)m;
}

static void footer_text(const cc_message_t *m, const cc_message_context_t *ctx, cc_buf_t *out)
{
    if (ctx->public_url)
        cc_buf_printf(out, "\nTeam calendars and the clocks: %s\n", ctx->public_url);
    cc_buf_printf(out,
                  "\n-- \ncareclock keeps the statutory clocks of children's services. This message was sent "
                  "automatically; please do not reply to it.\nReference: %s\n",
                  m->message_id ? m->message_id : "");
}

static int text_from_view(const cc_message_t *m, const view_t *v, const cc_message_context_t *ctx, cc_buf_t *out)
{
    char child[160], holder[256], status[256], title[200], stage[128], d[40];
    cc_buf_printf(out, "Hello %s,\n\n", m->recipient_name && m->recipient_name[0] ? m->recipient_name : "there");
    greeting(m, v, ctx, out);
    cc_buf_puts(out, "\n");
    for (size_t i = 0; i < v->n; i++) {
        const cc_message_item_t *it = v->entries[i].item;
        if (v->entries[i].first_of_child)
            cc_buf_printf(out, "\n%s: %s\n", child_label(it, ctx->privacy, 0, child, sizeof(child)),
                          holder_line(it, holder, sizeof(holder)));
        status_phrase(it, ctx, status, sizeof(status));
        capitalise(status);
        stage_phrase(it, stage, sizeof(stage));
        capitalise(stage);
        cc_buf_printf(out, "  * %s: %s, due %s%s\n", status, title_label(it, title, sizeof(title)),
                      human(it->due, d, sizeof(d)), it->projected ? " (projected)" : "");
        cc_buf_printf(out, "    %s. Source: %s\n", stage, it->source && it->source[0] ? it->source : "(none given)");
    }
    footer_text(m, ctx, out);
    return out->failed ? CC_ENOMEM : 0;
}

int cc_message_text(const cc_message_t *m, const cc_message_context_t *ctx, cc_buf_t *out)
{
    view_t v;
    int rc = view_build(m, ctx->today, &v);
    if (rc == 0)
        rc = text_from_view(m, &v, ctx, out);
    view_free(&v);
    return rc;
}

/* ---- HTML ----------------------------------------------------------------- */

static void html_escape(cc_buf_t *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': cc_buf_puts(out, "&amp;"); break;
        case '<': cc_buf_puts(out, "&lt;"); break;
        case '>': cc_buf_puts(out, "&gt;"); break;
        case '"': cc_buf_puts(out, "&quot;"); break;
        case '\'': cc_buf_puts(out, "&#39;"); break;
        default: cc_buf_append(out, s, 1);
        }
    }
}

static int html_from_view(const cc_message_t *m, const view_t *v, const cc_message_context_t *ctx, cc_buf_t *out)
{
    char child[160], holder[256], status[256], title[200], stage[128], d[40];
    cc_buf_t intro;
    cc_buf_init(&intro);
    greeting(m, v, ctx, &intro);
    cc_buf_puts(out, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>careclock</title></head>\n"
                     "<body style=\"font-family: sans-serif\">\n<p>Hello ");
    html_escape(out, m->recipient_name && m->recipient_name[0] ? m->recipient_name : "there");
    cc_buf_puts(out, ",</p>\n<p>");
    html_escape(out, cc_buf_str(&intro));
    cc_buf_puts(out, "</p>\n");
    cc_buf_free(&intro);
    for (size_t i = 0; i < v->n; i++) {
        const cc_message_item_t *it = v->entries[i].item;
        if (v->entries[i].first_of_child) {
            if (i > 0)
                cc_buf_puts(out, "</ul>\n");
            cc_buf_puts(out, "<h3>");
            html_escape(out, child_label(it, ctx->privacy, 0, child, sizeof(child)));
            cc_buf_puts(out, "</h3>\n<p>");
            html_escape(out, holder_line(it, holder, sizeof(holder)));
            cc_buf_puts(out, "</p>\n<ul>\n");
        }
        status_phrase(it, ctx, status, sizeof(status));
        capitalise(status);
        stage_phrase(it, stage, sizeof(stage));
        capitalise(stage);
        cc_buf_puts(out, "<li><strong>");
        html_escape(out, status);
        cc_buf_puts(out, "</strong>: ");
        html_escape(out, title_label(it, title, sizeof(title)));
        cc_buf_puts(out, ", due ");
        html_escape(out, human(it->due, d, sizeof(d)));
        if (it->projected)
            cc_buf_puts(out, " (projected)");
        cc_buf_puts(out, "<br><small>");
        html_escape(out, stage);
        cc_buf_puts(out, ". Source: ");
        html_escape(out, it->source && it->source[0] ? it->source : "(none given)");
        cc_buf_puts(out, "</small></li>\n");
    }
    if (v->n > 0)
        cc_buf_puts(out, "</ul>\n");
    if (ctx->public_url) {
        cc_buf_puts(out, "<p><a href=\"");
        html_escape(out, ctx->public_url);
        cc_buf_puts(out, "\">Team calendars and the clocks in careclock</a></p>\n");
    }
    cc_buf_puts(out, "<hr><p><small>careclock keeps the statutory clocks of children's services. This message was "
                     "sent automatically; please do not reply to it. Reference: ");
    html_escape(out, m->message_id ? m->message_id : "");
    cc_buf_puts(out, "</small></p>\n</body></html>\n");
    return out->failed ? CC_ENOMEM : 0;
}

/* ---- email ---------------------------------------------------------------- */

char *cc_message_id(char *out, size_t len, cc_channel_t channel, const char *instance, int64_t batch,
                    const char *from)
{
    if (channel == CC_CHANNEL_WEBHOOK) {
        snprintf(out, len, "msg_cc-%s-%lld", instance ? instance : "0", (long long)batch);
        return out;
    }
    const char *at = from ? strrchr(from, '@') : NULL;
    const char *domain = at && at[1] ? at + 1 : "careclock.invalid";
    snprintf(out, len, "<cc-%s-%lld@%s>", instance ? instance : "0", (long long)batch, domain);
    return out;
}

static int has_crlf(const char *s)
{
    return s != NULL && strpbrk(s, "\r\n") != NULL;
}

/* 1 if s is NULL or holds only printable ASCII, no space. */
static int printable_ascii(const char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
            return 0;
    return 1;
}

static int is_ascii(const char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s >= 0x80)
            return 0;
    return 1;
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void base64(cc_buf_t *out, const unsigned char *in, size_t len)
{
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        char q[4] = {B64[(v >> 18) & 63], B64[(v >> 12) & 63], i + 1 < len ? B64[(v >> 6) & 63] : '=',
                     i + 2 < len ? B64[v & 63] : '='};
        cc_buf_append(out, q, 4);
    }
}

/* RFC 2047 encoded words for value, whatever it holds. */
static int encode_words(const char *value, cc_buf_t *out)
{
    /* Encoded words of at most 75 characters: "=?UTF-8?B?" + 60 base64
     * characters (45 bytes) + "?=", never splitting a UTF-8 sequence. */
    const unsigned char *p = (const unsigned char *)value;
    size_t left = strlen(value);
    int first = 1;
    while (left > 0) {
        size_t take = left < 45 ? left : 45;
        while (take < left && take > 0 && (p[take] & 0xC0) == 0x80)
            take--;
        if (take == 0)
            take = left < 45 ? left : 45;
        if (!first)
            cc_buf_puts(out, "\r\n ");
        cc_buf_puts(out, "=?UTF-8?B?");
        base64(out, p, take);
        cc_buf_puts(out, "?=");
        p += take;
        left -= take;
        first = 0;
    }
    return out->failed ? CC_ENOMEM : 0;
}

int cc_message_encode_header(const char *value, cc_buf_t *out)
{
    if (is_ascii(value))
        return cc_buf_puts(out, value);
    return encode_words(value, out);
}

int cc_message_qp(const char *text, size_t len, cc_buf_t *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t col = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\r' && i + 1 < len && text[i + 1] == '\n')
            continue;
        if (c == '\n') {
            cc_buf_puts(out, "\r\n");
            col = 0;
            continue;
        }
        char enc[3];
        size_t n;
        int at_eol = i + 1 == len || text[i + 1] == '\n' || text[i + 1] == '\r';
        if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_eol)) {
            enc[0] = (char)c;
            n = 1;
        } else {
            enc[0] = '=';
            enc[1] = hex[c >> 4];
            enc[2] = hex[c & 15];
            n = 3;
        }
        if (col + n > 75) {
            cc_buf_puts(out, "=\r\n");
            col = 0;
        }
        cc_buf_append(out, enc, n);
        col += n;
    }
    return out->failed ? CC_ENOMEM : 0;
}

/* A display name as a quoted-string, or encoded words when not ASCII or
 * long: a quoted-string cannot be folded, and a staff name another system
 * wrote may be any length (found by tests/fuzz/fuzz_email.c: a To line
 * past RFC 5322's 998 octets). Encoded words fold with CRLF SP. */
static void display_name(cc_buf_t *out, const char *name)
{
    if (!is_ascii(name) || strlen(name) > 60) {
        encode_words(name, out);
        return;
    }
    cc_buf_puts(out, "\"");
    for (; *name; name++) {
        if (*name == '"' || *name == '\\')
            cc_buf_puts(out, "\\");
        cc_buf_append(out, name, 1);
    }
    cc_buf_puts(out, "\"");
}

/* Fold an ASCII header at spaces so that lines stay within 78 characters
 * where the words allow. */
static void folded(cc_buf_t *out, const char *name, const char *value)
{
    size_t col = strlen(name) + 2;
    cc_buf_printf(out, "%s: ", name);
    const char *p = value;
    while (*p) {
        const char *sp = strchr(p + 1, ' ');
        size_t word = sp ? (size_t)(sp - p) : strlen(p);
        if (col + word > 78 && col > strlen(name) + 2 && *p == ' ') {
            cc_buf_puts(out, "\r\n");
            col = 0;
        }
        cc_buf_append(out, p, word);
        col += word;
        p += word;
    }
    cc_buf_puts(out, "\r\n");
}

static void rfc5322_date(time_t now, int offset_minutes, char *buf, size_t len)
{
    static const char *days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t local = now + (time_t)offset_minutes * 60;
    struct tm tm;
    gmtime_r(&local, &tm);
    int off = offset_minutes < 0 ? -offset_minutes : offset_minutes;
    snprintf(buf, len, "%s, %d %s %04d %02d:%02d:%02d %c%02d%02d", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, offset_minutes < 0 ? '-' : '+',
             off / 60, off % 60);
}

static int refuse(char *err, size_t errlen, const char *header, const char *what)
{
    snprintf(err, errlen, "header injection refused: the %s header's %s holds a line break (CR or LF)", header, what);
    return CC_EINVAL;
}

int cc_message_email(const cc_message_t *m, const cc_message_context_t *ctx, cc_buf_t *out, char *err,
                     size_t errlen)
{
    cc_buf_t subject, text, html, msg;
    view_t v;
    char date[64], boundary[160];
    int rc;
    const char *from = ctx->from ? ctx->from : "careclock@localhost";
    /* Check every caller-supplied header value before writing anything. */
    if (has_crlf(m->address))
        return refuse(err, errlen, "To", "address");
    if (has_crlf(m->recipient_name))
        return refuse(err, errlen, "To", "display name");
    if (has_crlf(from))
        return refuse(err, errlen, "From", "address");
    if (has_crlf(m->message_id))
        return refuse(err, errlen, "Message-ID", "value");
    if (!cc_email_valid(m->address)) {
        snprintf(err, errlen, "the recipient address is not a valid email address");
        return CC_EINVAL;
    }
    /* The message is 7-bit (no SMTPUTF8): the sender and the Message-ID
     * go into headers as they are, so they must be plain ASCII. */
    if (!cc_email_valid(from)) {
        snprintf(err, errlen, "the sender address ([smtp] from) is not a valid ASCII email address");
        return CC_EINVAL;
    }
    if (!printable_ascii(m->message_id)) {
        snprintf(err, errlen, "the Message-ID is not printable ASCII");
        return CC_EINVAL;
    }
    if ((rc = view_build(m, ctx->today, &v)) != 0)
        return rc;
    cc_buf_init(&subject);
    cc_buf_init(&text);
    cc_buf_init(&html);
    cc_buf_init(&msg);
    subject_from_view(m, &v, ctx, &subject);
    if (has_crlf(cc_buf_str(&subject))) {
        rc = refuse(err, errlen, "Subject", "text (a child's reference or initials, or a clock's title)");
        goto out;
    }
    text_from_view(m, &v, ctx, &text);
    html_from_view(m, &v, ctx, &html);

    rfc5322_date(ctx->now, ctx->utc_offset_minutes, date, sizeof(date));
    snprintf(boundary, sizeof(boundary), "=_careclock_%lld_%zu", (long long)m->batch, m->nitems);
    cc_buf_printf(&msg, "Date: %s\r\n", date);
    cc_buf_printf(&msg, "From: careclock <%s>\r\n", from);
    cc_buf_puts(&msg, "To: ");
    if (m->recipient_name && m->recipient_name[0]) {
        display_name(&msg, m->recipient_name);
        cc_buf_puts(&msg, " ");
    }
    cc_buf_printf(&msg, "<%s>\r\n", m->address);
    if (is_ascii(cc_buf_str(&subject))) {
        folded(&msg, "Subject", cc_buf_str(&subject));
    } else {
        cc_buf_puts(&msg, "Subject: ");
        cc_message_encode_header(cc_buf_str(&subject), &msg);
        cc_buf_puts(&msg, "\r\n");
    }
    cc_buf_printf(&msg, "Message-ID: %s\r\n", m->message_id ? m->message_id : "");
    cc_buf_puts(&msg, "MIME-Version: 1.0\r\n"
                      "Auto-Submitted: auto-generated\r\n"
                      "X-Auto-Response-Suppress: All\r\n");
    cc_buf_printf(&msg, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n", boundary);
    cc_buf_puts(&msg, "This is a message in MIME format: plain text and HTML.\r\n");
    cc_buf_printf(&msg, "\r\n--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                        "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
                  boundary);
    cc_message_qp(text.data ? text.data : "", text.len, &msg);
    cc_buf_printf(&msg, "\r\n--%s\r\nContent-Type: text/html; charset=utf-8\r\n"
                        "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
                  boundary);
    cc_message_qp(html.data ? html.data : "", html.len, &msg);
    cc_buf_printf(&msg, "\r\n--%s--\r\n", boundary);
    if (subject.failed || text.failed || html.failed || msg.failed) {
        rc = CC_ENOMEM;
        goto out;
    }
    rc = cc_buf_append(out, msg.data, msg.len);
out:
    cc_buf_free(&subject);
    cc_buf_free(&text);
    cc_buf_free(&html);
    cc_buf_free(&msg);
    view_free(&v);
    return rc;
}

/* ---- webhooks ------------------------------------------------------------- */

/* A JSON string of text whatever bytes it holds: jansson refuses invalid
 * UTF-8 (json_string returns NULL, and the field would silently vanish or
 * the whole payload fail), and the text comes from the plan database,
 * which other systems write, or from a fixed buffer that may have cut a
 * character in two. Invalid bytes become U+FFFD. */
static json_t *jstr(const char *text)
{
    cc_buf_t clean;
    cc_buf_init(&clean);
    cc_utf8_put(&clean, text ? text : "");
    json_t *j = clean.failed ? NULL : json_stringn(cc_buf_str(&clean), clean.len);
    cc_buf_free(&clean);
    return j;
}

/* jstr of printf-style text. */
static json_t *jstrf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static json_t *jstrf(const char *fmt, ...)
{
    cc_buf_t text;
    va_list ap;
    cc_buf_init(&text);
    va_start(ap, fmt);
    cc_buf_vprintf(&text, fmt, ap);
    va_end(ap);
    json_t *j = text.failed ? NULL : jstr(cc_buf_str(&text));
    cc_buf_free(&text);
    return j;
}

static json_t *str_or_null(const char *s)
{
    return s ? jstr(s) : json_null();
}

static json_t *date_or_null(cc_date_t d)
{
    char buf[CC_DATE_STRLEN];
    return d == CC_DATE_NONE ? json_null() : json_string(cc_date_format(d, buf));
}

static const char *payload_type(const view_t *v)
{
    if (v->n == 0)
        return "careclock.digest";
    cc_notice_kind_t k = v->entries[0].item->kind;
    for (size_t i = 1; i < v->n; i++)
        if (v->entries[i].item->kind != k)
            return "careclock.digest";
    return k == CC_NOTICE_MET ? "careclock.met" : k == CC_NOTICE_ESCALATION ? "careclock.escalation"
                                                                            : "careclock.reminder";
}

static void utc_stamp(time_t t, char *buf, size_t len)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *generic_payload(const cc_message_t *m, const view_t *v, const cc_message_context_t *ctx)
{
    char stamp[32], status[256], title[200];
    cc_buf_t summary;
    json_t *items = json_array();
    for (size_t i = 0; i < v->n; i++) {
        const cc_message_item_t *it = v->entries[i].item;
        json_t *child = json_object();
        json_object_set_new(child, "reference", str_or_null(it->child_id));
        if (ctx->privacy != CC_PRIVACY_REFERENCE)
            json_object_set_new(child, "initials", str_or_null(it->initials));
        json_t *clock = json_pack("{s:o, s:i, s:o, s:o}", "id", str_or_null(it->rule_id), "seq", it->seq, "title",
                                  str_or_null(it->title), "source", str_or_null(it->source));
        json_t *team = json_pack("{s:o, s:o}", "id", str_or_null(it->team_id), "name", str_or_null(it->team_name));
        json_t *stage = json_pack("{s:o, s:s, s:s}", "offset", str_or_null(it->stage), "kind",
                                  cc_notice_kind_name(it->kind), "role", cc_role_name(it->role));
        status_phrase(it, ctx, status, sizeof(status));
        json_t *o = json_object();
        json_object_set_new(o, "child", child);
        json_object_set_new(o, "clock", clock);
        json_object_set_new(o, "due_date", date_or_null(it->due));
        json_object_set_new(o, "status", json_string(cc_status_name(it->status)));
        json_object_set_new(o, "working_days_late", json_integer(days_late(it, ctx)));
        json_object_set_new(o, "met_on", date_or_null(it->met_on));
        json_object_set_new(o, "projected", json_boolean(it->projected));
        json_object_set_new(o, "stage", stage);
        json_object_set_new(o, "worker", str_or_null(it->worker_name));
        json_object_set_new(o, "team", team);
        json_object_set_new(o, "summary", jstrf("%s: %s", title_label(it, title, sizeof(title)), status));
        json_array_append_new(items, o);
    }
    cc_buf_init(&summary);
    subject_from_view(m, v, ctx, &summary);
    utc_stamp(ctx->now, stamp, sizeof(stamp));
    json_t *root = json_object();
    json_object_set_new(root, "type", json_string(payload_type(v)));
    json_object_set_new(root, "timestamp", json_string(stamp));
    json_object_set_new(root, "id", str_or_null(m->message_id));
    json_object_set_new(root, "summary", jstr(cc_buf_str(&summary)));
    json_object_set_new(root, "items", items);
    json_object_set_new(root, "url", str_or_null(ctx->public_url));
    cc_buf_free(&summary);
    return root;
}

/* An Adaptive Card 1.4 in the message envelope that Microsoft Teams
 * Workflows ("post to a channel when a webhook request is received")
 * accept. */
static json_t *teams_payload(const cc_message_t *m, const view_t *v, const cc_message_context_t *ctx)
{
    char child[160], holder[256], status[256], title[200], stage[128], d[40];
    cc_buf_t summary;
    cc_buf_init(&summary);
    subject_from_view(m, v, ctx, &summary);
    json_t *body = json_array();
    json_array_append_new(body, json_pack("{s:s, s:o, s:s, s:s, s:b}", "type", "TextBlock", "text",
                                          jstr(cc_buf_str(&summary)), "size", "Medium", "weight", "Bolder", "wrap",
                                          1));
    json_t *container = NULL, *items = NULL;
    for (size_t i = 0; i < v->n; i++) {
        const cc_message_item_t *it = v->entries[i].item;
        if (v->entries[i].first_of_child) {
            items = json_array();
            child_label(it, ctx->privacy, 1, child, sizeof(child));
            holder_line(it, holder, sizeof(holder));
            json_array_append_new(items, json_pack("{s:s, s:o, s:s, s:b}", "type", "TextBlock", "text", jstr(child),
                                                   "weight", "Bolder", "wrap", 1));
            json_array_append_new(items, json_pack("{s:s, s:o, s:b, s:s, s:b}", "type", "TextBlock", "text",
                                                   jstr(holder), "isSubtle", 1, "spacing", "None", "wrap", 1));
            container = json_pack("{s:s, s:s, s:b, s:o}", "type", "Container", "spacing", "Medium", "separator", 1,
                                  "items", items);
            json_array_append_new(body, container);
        }
        status_phrase(it, ctx, status, sizeof(status));
        capitalise(status);
        stage_phrase(it, stage, sizeof(stage));
        capitalise(stage);
        json_t *line = jstrf("**%s**: %s, due %s%s", status, title_label(it, title, sizeof(title)),
                             human(it->due, d, sizeof(d)), it->projected ? " (projected)" : "");
        json_array_append_new(items, json_pack("{s:s, s:o, s:s, s:b}", "type", "TextBlock", "text", line, "color",
                                               v->entries[i].rank == RANK_OVERDUE ? "Attention" : "Default",
                                               "wrap", 1));
        json_array_append_new(items, json_pack("{s:s, s:o, s:b, s:s, s:s, s:b}", "type", "TextBlock", "text",
                                               jstrf("%s. Source: %s", stage,
                                                     it->source && it->source[0] ? it->source : "(none)"),
                                               "isSubtle", 1, "size", "Small", "spacing", "None", "wrap", 1));
    }
    json_t *card = json_pack("{s:s, s:s, s:s, s:o}", "$schema", "http://adaptivecards.io/schemas/adaptive-card.json",
                             "type", "AdaptiveCard", "version", "1.4", "body", body);
    if (ctx->public_url)
        json_object_set_new(card, "actions",
                            json_pack("[{s:s, s:s, s:o}]", "type", "Action.OpenUrl", "title", "Open careclock",
                                      "url", jstr(ctx->public_url)));
    json_object_set_new(card, "msteams", json_pack("{s:s}", "width", "Full"));
    json_t *root = json_pack("{s:s, s:[{s:s, s:n, s:o}]}", "type", "message", "attachments", "contentType",
                             "application/vnd.microsoft.card.adaptive", "contentUrl", "content", card);
    cc_buf_free(&summary);
    return root;
}

/* Slack's mrkdwn escapes only &, < and >. */
static void slack_escape(cc_buf_t *out, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '&')
            cc_buf_puts(out, "&amp;");
        else if (*s == '<')
            cc_buf_puts(out, "&lt;");
        else if (*s == '>')
            cc_buf_puts(out, "&gt;");
        else
            cc_buf_append(out, s, 1);
    }
}

static json_t *slack_payload(const cc_message_t *m, const view_t *v, const cc_message_context_t *ctx)
{
    char child[160], holder[256], status[256], title[200], stage[128], d[40];
    cc_buf_t text, summary;
    cc_buf_init(&text);
    cc_buf_init(&summary);
    subject_from_view(m, v, ctx, &summary);
    cc_buf_puts(&text, "*");
    slack_escape(&text, cc_buf_str(&summary));
    cc_buf_puts(&text, "*\n");
    for (size_t i = 0; i < v->n; i++) {
        const cc_message_item_t *it = v->entries[i].item;
        if (v->entries[i].first_of_child) {
            cc_buf_puts(&text, "\n*");
            slack_escape(&text, child_label(it, ctx->privacy, 1, child, sizeof(child)));
            cc_buf_puts(&text, "*, ");
            slack_escape(&text, holder_line(it, holder, sizeof(holder)));
            cc_buf_puts(&text, "\n");
        }
        status_phrase(it, ctx, status, sizeof(status));
        capitalise(status);
        stage_phrase(it, stage, sizeof(stage));
        capitalise(stage);
        cc_buf_puts(&text, "\u2022 *");
        slack_escape(&text, status);
        cc_buf_puts(&text, "*: ");
        slack_escape(&text, title_label(it, title, sizeof(title)));
        cc_buf_puts(&text, ", due ");
        slack_escape(&text, human(it->due, d, sizeof(d)));
        cc_buf_puts(&text, " _(");
        slack_escape(&text, stage);
        cc_buf_puts(&text, ". Source: ");
        slack_escape(&text, it->source && it->source[0] ? it->source : "(none)");
        cc_buf_puts(&text, ")_\n");
    }
    if (ctx->public_url) {
        cc_buf_puts(&text, "\n<");
        slack_escape(&text, ctx->public_url);
        cc_buf_puts(&text, "|Open careclock>\n");
    }
    json_t *root = json_pack("{s:o}", "text", jstr(cc_buf_str(&text)));
    cc_buf_free(&text);
    cc_buf_free(&summary);
    return root;
}

int cc_message_webhook(const cc_message_t *m, cc_webhook_format_t format, const cc_message_context_t *ctx,
                       cc_buf_t *out)
{
    view_t v;
    int rc = view_build(m, ctx->today, &v);
    if (rc != 0)
        return rc;
    json_t *root = format == CC_WEBHOOK_TEAMS   ? teams_payload(m, &v, ctx)
                   : format == CC_WEBHOOK_SLACK ? slack_payload(m, &v, ctx)
                                                : generic_payload(m, &v, ctx);
    char *text = root ? json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    rc = text ? cc_buf_puts(out, text) : CC_ENOMEM;
    free(text);
    json_decref(root);
    view_free(&v);
    return rc;
}

/* ---- Standard Webhooks signatures ------------------------------------------ */

static int b64_value(int c)
{
    const char *p = c ? strchr(B64, c) : NULL;
    return p ? (int)(p - B64) : -1;
}

int cc_webhook_secret_decode(const char *text, unsigned char *key, size_t *keylen)
{
    const char *p = text;
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0, pad = 0;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    if (strncmp(p, "whsec_", 6) != 0)
        return CC_EINVAL;
    for (p += 6; *p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n'; p++) {
        if (*p == '=') {
            pad++;
            continue;
        }
        int v = b64_value(*p);
        if (v < 0 || pad > 0)
            return CC_EINVAL;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n >= CC_WEBHOOK_KEY_MAX)
                return CC_EINVAL;
            key[n++] = (unsigned char)(acc >> bits);
        }
    }
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    if (*p != '\0' || n == 0 || pad > 2)
        return CC_EINVAL;
    *keylen = n;
    return 0;
}

int cc_webhook_sign(const unsigned char *key, size_t keylen, const char *id, long long timestamp,
                    const char *body, size_t bodylen, char *out, size_t outlen)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    char stamp[32];
    int n = snprintf(stamp, sizeof(stamp), "%lld", timestamp);
    if (outlen < 64)
        return CC_ERANGE;
    /* HMAC-SHA256 over id "." timestamp "." body, fed in pieces. */
    EVP_MAC *evp = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = evp ? EVP_MAC_CTX_new(evp) : NULL;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_END};
    size_t got = 0;
    int ok = ctx && EVP_MAC_init(ctx, key, keylen, params) &&
             EVP_MAC_update(ctx, (const unsigned char *)id, strlen(id)) &&
             EVP_MAC_update(ctx, (const unsigned char *)".", 1) &&
             EVP_MAC_update(ctx, (const unsigned char *)stamp, (size_t)n) &&
             EVP_MAC_update(ctx, (const unsigned char *)".", 1) &&
             EVP_MAC_update(ctx, (const unsigned char *)body, bodylen) && EVP_MAC_final(ctx, mac, &got, sizeof(mac));
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(evp);
    if (!ok)
        return CC_ENOMEM;
    memcpy(out, "v1,", 3);
    EVP_EncodeBlock((unsigned char *)out + 3, mac, (int)got);
    return 0;
}

const char *cc_webhook_format_name(cc_webhook_format_t format)
{
    switch (format) {
    case CC_WEBHOOK_TEAMS: return "teams";
    case CC_WEBHOOK_SLACK: return "slack";
    default: return "generic";
    }
}
