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

static cc_message_rank_t item_rank(const cc_message_item_t *it, cc_date_t today)
{
    if (it->status == CC_STATUS_CANCELLED)
        return CC_MESSAGE_RANK_CLOSED;
    if (it->kind == CC_NOTICE_MET || it->status == CC_STATUS_MET || it->status == CC_STATUS_MET_LATE)
        return CC_MESSAGE_RANK_MET;
    if (it->status == CC_STATUS_DATA_ERROR || it->due == CC_DATE_NONE)
        return CC_MESSAGE_RANK_OTHER;
    if (today > it->due)
        return CC_MESSAGE_RANK_OVERDUE;
    if (today == it->due)
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

int cc_message_view_build(const cc_message_t *m, cc_date_t today, cc_message_view_t *v)
{
    assert(m != NULL && v != NULL);
    assert(m->items != NULL || m->nitems == 0);
    memset(v, 0, sizeof(*v));
    v->entries = calloc(m->nitems ? m->nitems : 1, sizeof(*v->entries));
    if (v->entries == NULL)
        return CC_ENOMEM;
    v->n = m->nitems;
    for (size_t i = 0; i < m->nitems; i++) {
        cc_message_entry_t *e = &v->entries[i];
        e->item = &m->items[i];
        e->rank = item_rank(e->item, today);
        e->due = sort_due(e->item->due);
        switch (e->rank) {
        case CC_MESSAGE_RANK_OVERDUE: v->overdue++; break;
        case CC_MESSAGE_RANK_TODAY: v->today++; break;
        case CC_MESSAGE_RANK_SOON: v->soon++; break;
        case CC_MESSAGE_RANK_OPEN: v->open++; break;
        case CC_MESSAGE_RANK_MET: v->met++; break;
        default: v->closed++; break;
        }
    }
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
    return 0;
}

void cc_message_view_free(cc_message_view_t *v)
{
    assert(v != NULL);
    free(v->entries);
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
int cc_message_days_late(const cc_message_item_t *it, const cc_message_context_t *ctx)
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
            snprintf(buf, len, "due on %s", cc_message_human_date(it->due, d, sizeof(d)));
    }
    return buf;
}

void cc_message_capitalise(char *s)
{
    if (s[0] >= 'a' && s[0] <= 'z')
        s[0] = (char)(s[0] - 'a' + 'A');
}

/* "Escalation: 1 working day after the due date" and the like. */
char *cc_message_stage_phrase(const cc_message_item_t *it, char *buf, size_t len)
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

/* "2 overdue, 1 due today, 3 due soon, 1 now met" (the non-zero parts). */
static void counts_phrase(const cc_message_view_t *v, cc_buf_t *out)
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

int cc_message_view_subject(const cc_message_t *m, const cc_message_view_t *v, const cc_message_context_t *ctx,
                            cc_buf_t *out)
{
    char child[160], title[200], d[40];
    assert(m != NULL && v != NULL && ctx != NULL && out != NULL);
    if (m->test)
        return cc_buf_puts(out, "careclock test message: no action needed");
    if (v->n == 1) {
        const cc_message_item_t *it = v->entries[0].item;
        int webhook = m->channel == CC_CHANNEL_WEBHOOK;
        cc_message_child_label(it, ctx->privacy, webhook, child, sizeof(child));
        cc_message_title_label(it, title, sizeof(title));
        switch (v->entries[0].rank) {
        case CC_MESSAGE_RANK_OVERDUE:
            return cc_buf_printf(out, "Overdue: %s for %s, due %s", title, child,
                                 cc_message_human_date(it->due, d, sizeof(d)));
        case CC_MESSAGE_RANK_TODAY: return cc_buf_printf(out, "Due today: %s for %s", title, child);
        case CC_MESSAGE_RANK_MET: return cc_buf_printf(out, "Now met: %s for %s", title, child);
        case CC_MESSAGE_RANK_CLOSED: return cc_buf_printf(out, "No longer needed: %s for %s", title, child);
        default:
            return cc_buf_printf(out, "%s: %s for %s, due %s",
                                 it->kind == CC_NOTICE_ESCALATION ? "Escalation" : "Reminder", title, child,
                                 cc_message_human_date(it->due, d, sizeof(d)));
        }
    }
    cc_buf_puts(out, "careclock: ");
    counts_phrase(v, out);
    return cc_buf_printf(out, " (%zu %s)", v->children, plural((long)v->children, "child", "children"));
}

int cc_message_subject(const cc_message_t *m, const cc_message_context_t *ctx, cc_buf_t *out)
{
    cc_message_view_t v;
    assert(m != NULL && ctx != NULL && out != NULL);
    int rc = cc_message_view_build(m, ctx->today, &v);
    if (rc == 0)
        rc = cc_message_view_subject(m, &v, ctx, out);
    cc_message_view_free(&v);
    return rc;
}

static void greeting(const cc_message_t *m, const cc_message_view_t *v, const cc_message_context_t *ctx, cc_buf_t *out)
{
    char d[40];
    size_t n = v->n;
    if (m->test) {
        cc_buf_puts(out, "This is a test message from careclock, sent with careclock deliveries test to check that "
                         "its reminders and escalations reach you through this channel. It carries no child's "
                         "data and needs no action.");
        return;
    }
    cc_buf_printf(out, "%s %zu statutory %s for %zu %s, as of %s: ", n == 1 ? "This is about" : "These are",
                  n, plural((long)n, "deadline", "deadlines"), v->children,
                  plural((long)v->children, "child", "children"), cc_message_human_date(ctx->today, d, sizeof(d)));
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

static int text_from_view(const cc_message_t *m, const cc_message_view_t *v, const cc_message_context_t *ctx,
                          cc_buf_t *out)
{
    char child[160], holder[256], status[256], title[200], stage[128], d[40];
    cc_buf_printf(out, "Hello %s,\n\n", m->recipient_name && m->recipient_name[0] ? m->recipient_name : "there");
    greeting(m, v, ctx, out);
    cc_buf_puts(out, "\n");
    for (size_t i = 0; i < v->n; i++) {
        const cc_message_item_t *it = v->entries[i].item;
        if (v->entries[i].first_of_child)
            cc_buf_printf(out, "\n%s: %s\n", cc_message_child_label(it, ctx->privacy, 0, child, sizeof(child)),
                          cc_message_holder_line(it, holder, sizeof(holder)));
        cc_message_status_phrase(it, ctx, status, sizeof(status));
        cc_message_capitalise(status);
        cc_message_stage_phrase(it, stage, sizeof(stage));
        cc_message_capitalise(stage);
        cc_buf_printf(out, "  * %s: %s, due %s%s\n", status, cc_message_title_label(it, title, sizeof(title)),
                      cc_message_human_date(it->due, d, sizeof(d)), it->projected ? " (projected)" : "");
        cc_buf_printf(out, "    %s. Source: %s\n", stage, it->source && it->source[0] ? it->source : "(none given)");
    }
    footer_text(m, ctx, out);
    return out->failed ? CC_ENOMEM : 0;
}

int cc_message_text(const cc_message_t *m, const cc_message_context_t *ctx, cc_buf_t *out)
{
    cc_message_view_t v;
    assert(m != NULL && ctx != NULL && out != NULL);
    int rc = cc_message_view_build(m, ctx->today, &v);
    if (rc == 0)
        rc = text_from_view(m, &v, ctx, out);
    cc_message_view_free(&v);
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

static int html_from_view(const cc_message_t *m, const cc_message_view_t *v, const cc_message_context_t *ctx,
                          cc_buf_t *out)
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
            html_escape(out, cc_message_child_label(it, ctx->privacy, 0, child, sizeof(child)));
            cc_buf_puts(out, "</h3>\n<p>");
            html_escape(out, cc_message_holder_line(it, holder, sizeof(holder)));
            cc_buf_puts(out, "</p>\n<ul>\n");
        }
        cc_message_status_phrase(it, ctx, status, sizeof(status));
        cc_message_capitalise(status);
        cc_message_stage_phrase(it, stage, sizeof(stage));
        cc_message_capitalise(stage);
        cc_buf_puts(out, "<li><strong>");
        html_escape(out, status);
        cc_buf_puts(out, "</strong>: ");
        html_escape(out, cc_message_title_label(it, title, sizeof(title)));
        cc_buf_puts(out, ", due ");
        html_escape(out, cc_message_human_date(it->due, d, sizeof(d)));
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
    assert(out != NULL);
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
    assert(value != NULL && out != NULL);
    if (is_ascii(value))
        return cc_buf_puts(out, value);
    return encode_words(value, out);
}

int cc_message_qp(const char *text, size_t len, cc_buf_t *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t col = 0;
    assert((text != NULL || len == 0) && out != NULL);
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
    cc_message_view_t v;
    char date[64], boundary[160];
    int rc;
    assert(m != NULL && ctx != NULL && out != NULL);
    assert(err != NULL);
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
    if ((rc = cc_message_view_build(m, ctx->today, &v)) != 0)
        return rc;
    cc_buf_init(&subject);
    cc_buf_init(&text);
    cc_buf_init(&html);
    cc_buf_init(&msg);
    cc_message_view_subject(m, &v, ctx, &subject);
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
    cc_message_view_free(&v);
    return rc;
}
