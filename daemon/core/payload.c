/* Webhook payloads and Standard Webhooks signatures. See
 * include/careclock/payload.h.
 *
 * Design notes:
 *  - The payloads walk the same ordered view and use the same phrases as
 *    the email (core/message_view.h), so a webhook and an email about the
 *    same items say the same things in the same order.
 *  - Every text from the message goes into JSON through jstr, which
 *    replaces invalid UTF-8 with U+FFFD (see jstr): no field vanishes and
 *    no payload fails because another system wrote odd bytes.
 *  - Teams cards and Slack texts stay within their platforms' limits
 *    (payload.h): a message too big shows its most urgent items and
 *    "... and N more", found by a binary search on how many fit.
 *  - Webhooks never carry a child's full name, whatever the privacy
 *    setting: every child label here is asked for with webhook set, and
 *    the summary (the subject, which chooses by m->channel) only for a
 *    message whose channel is the webhook, asserted.
 *  - The signature's HMAC is fed in pieces (id, ".", timestamp, ".",
 *    body): the body is signed as it is sent, never copied.
 */
#include "careclock/payload.h"
#include "careclock/error.h"
#include "careclock/utf8.h"
#include "core/message_view.h"

#include <assert.h>
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- JSON ----------------------------------------------------------------- */

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

static const char *payload_type(const cc_message_t *m, const cc_message_view_t *v)
{
    if (m->test)
        return "careclock.test";
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

static json_t *generic_payload(const cc_message_t *m, const cc_message_view_t *v, const cc_message_context_t *ctx)
{
    char stamp[32], now[384], title[200];
    cc_buf_t summary, url;
    cc_buf_init(&url);
    json_t *items = json_array();
    for (size_t i = 0; i < v->n; i++) {
        const cc_message_item_t *it = v->entries[i].item;
        json_t *child = json_object();
        json_object_set_new(child, "reference", str_or_null(it->child_id));
        if (ctx->privacy != CC_PRIVACY_REFERENCE)
            json_object_set_new(child, "initials", str_or_null(it->initials));
        cc_buf_reset(&url);
        cc_message_child_url(ctx->public_url, it->child_id, &url);
        json_object_set_new(child, "url", url.len > 0 ? jstr(cc_buf_str(&url)) : json_null());
        json_t *clock = json_pack("{s:o, s:i, s:o, s:o}", "id", str_or_null(it->rule_id), "seq", it->seq, "title",
                                  str_or_null(it->title), "source", str_or_null(it->source));
        json_t *team = json_pack("{s:o, s:o}", "id", str_or_null(it->team_id), "name", str_or_null(it->team_name));
        char offset[CC_NOTIFY_STAGE_MAX];
        json_t *stage = json_pack("{s:o, s:s, s:s, s:o}", "offset",
                                  it->stage ? jstr(cc_planner_stage_offset(it->stage, offset, sizeof(offset)))
                                            : json_null(),
                                  "kind", cc_notice_kind_name(it->kind), "role", cc_role_name(it->role), "date",
                                  date_or_null(it->stage_date));
        cc_message_now_phrase(it, ctx, 1, now, sizeof(now));
        json_t *o = json_object();
        json_object_set_new(o, "child", child);
        json_object_set_new(o, "clock", clock);
        json_object_set_new(o, "due_date", date_or_null(it->due));
        json_object_set_new(o, "agreed_date", date_or_null(it->agreed));
        json_object_set_new(o, "status", json_string(cc_status_name(it->status)));
        json_object_set_new(o, "working_days_late", json_integer(cc_message_days_late(it, ctx)));
        json_object_set_new(o, "met_on", date_or_null(it->met_on));
        json_object_set_new(o, "projected", json_boolean(it->projected));
        json_object_set_new(o, "stage", stage);
        json_object_set_new(o, "worker", str_or_null(it->worker_name));
        json_object_set_new(o, "team", team);
        json_object_set_new(o, "summary", jstrf("%s: %s", cc_message_title_label(it, title, sizeof(title)), now));
        json_array_append_new(items, o);
    }
    cc_buf_init(&summary);
    cc_message_view_subject(m, v, ctx, &summary);
    utc_stamp(ctx->now, stamp, sizeof(stamp));
    json_t *root = json_object();
    json_object_set_new(root, "type", json_string(payload_type(m, v)));
    json_object_set_new(root, "timestamp", json_string(stamp));
    json_object_set_new(root, "id", str_or_null(m->message_id));
    json_object_set_new(root, "summary", jstr(cc_buf_str(&summary)));
    json_object_set_new(root, "items", items);
    json_object_set_new(root, "url", str_or_null(ctx->public_url));
    cc_buf_free(&summary);
    cc_buf_free(&url);
    return root;
}

/* ---- chat formats, within their limits ------------------------------------ */

/* Adaptive Card TextBlocks read their text as markdown (bold, italic,
 * links, lists): text from the database is escaped so that a name such as
 * "[x](http://evil.example)" stays text. A backslash before ASCII
 * punctuation is CommonMark's escape, which the card renderers' markdown
 * follows; the characters that open emphasis, code, links and autolinks
 * are escaped wherever they are, and those that open a list or heading
 * only at the start of the text. */
static void md_escape(cc_buf_t *out, const char *s)
{
    const char *p = s ? s : "";
    if (*p == '#' || *p == '-' || *p == '+' || *p == '>')
        cc_buf_puts(out, "\\");
    const char *digits = p;
    while (*digits >= '0' && *digits <= '9')
        digits++;
    for (; *p; p++) {
        if (strchr("\\*_[]`~<>", *p) != NULL || (p == digits && digits != s && (*p == '.' || *p == ')')))
            cc_buf_puts(out, "\\");
        cc_buf_append(out, p, 1);
    }
}

/* jstr of text escaped for card markdown. */
static json_t *jmd(const char *text)
{
    cc_buf_t b;
    cc_buf_init(&b);
    md_escape(&b, text);
    json_t *j = b.failed ? NULL : jstr(cc_buf_str(&b));
    cc_buf_free(&b);
    return j;
}

static json_t *text_block(json_t *text, int subtle, const char *size, const char *weight, const char *colour)
{
    json_t *tb = json_pack("{s:s, s:o, s:b}", "type", "TextBlock", "text", text, "wrap", 1);
    if (subtle)
        json_object_set_new(tb, "isSubtle", json_true());
    if (size)
        json_object_set_new(tb, "size", json_string(size));
    if (weight)
        json_object_set_new(tb, "weight", json_string(weight));
    if (colour)
        json_object_set_new(tb, "color", json_string(colour));
    return tb;
}

static void fact_row(void *arg, const char *worker, const char *counts)
{
    json_array_append_new(arg, json_pack("{s:o, s:o}", "title", jmd(worker), "value", jstr(counts)));
}

/* Items and children left out of a capped payload, in words. */
static char *more_phrase(const cc_message_view_t *v, size_t shown, char *buf, size_t len)
{
    size_t children = 0;
    for (size_t i = shown; i < v->n; i++)
        children += (size_t)(v->entries[i].first_of_child || i == shown);
    snprintf(buf, len, "... and %zu more item%s for %zu %schild%s: open careclock for the whole list.",
             v->n - shown, v->n - shown == 1 ? "" : "s", children, shown > 0 ? "more " : "",
             children == 1 ? "" : "ren");
    return buf;
}

/* 1 if source number k (1-based) is cited by one of the first shown entries. */
static int source_cited(const cc_message_view_t *v, size_t shown, size_t k)
{
    for (size_t i = 0; i < shown; i++)
        if (v->entries[i].source == (int)k)
            return 1;
    return 0;
}

/* An Adaptive Card 1.4 in the message envelope that Microsoft Teams
 * Workflows ("post to a channel when a webhook request is received")
 * accept, showing the first shown entries of v (all: v->n). */
static json_t *teams_payload(const cc_message_t *m, const cc_message_view_t *v, const cc_message_context_t *ctx,
                             size_t shown)
{
    char child[160], holder[256], now[384], title[200], d[40], todo[400], more[160];
    cc_buf_t text, url;
    cc_buf_init(&text);
    cc_buf_init(&url);
    json_t *body = json_array();
    cc_message_view_subject(m, v, ctx, &text);
    json_array_append_new(body, text_block(jmd(cc_buf_str(&text)), 0, "Medium", "Bolder", NULL));
    cc_buf_reset(&text);
    cc_message_counts_phrase(v, &text);
    cc_buf_printf(&text, ", for %zu child%s, as of %s.", v->children, v->children == 1 ? "" : "ren",
                  cc_message_human_date(ctx->today, d, sizeof(d)));
    json_array_append_new(body, text_block(jstr(cc_buf_str(&text)), 0, NULL, NULL, NULL));
    if (v->for_manager && v->n > 1) {
        json_t *facts = json_array();
        cc_message_by_worker(v, fact_row, facts);
        json_array_append_new(body, json_pack("{s:s, s:o}", "type", "FactSet", "facts", facts));
    }
    json_array_append_new(body,
                          text_block(jstrf("**What to do:** %s", cc_message_what_to_do(v, todo, sizeof(todo))), 1,
                                     NULL, NULL, NULL));
    json_t *items = NULL;
    for (size_t i = 0; i < shown; i++) {
        const cc_message_entry_t *e = &v->entries[i];
        const cc_message_item_t *it = e->item;
        if (e->first_of_child || i == 0) {
            items = json_array();
            cc_message_child_label(it, ctx->privacy, 1, child, sizeof(child));
            cc_message_holder_line(it, holder, sizeof(holder));
            json_array_append_new(items, text_block(jmd(child), 0, NULL, "Bolder", NULL));
            json_t *h = text_block(jmd(holder), 1, NULL, NULL, NULL);
            json_object_set_new(h, "spacing", json_string("None"));
            json_array_append_new(items, h);
            json_t *container = json_pack("{s:s, s:s, s:b, s:o}", "type", "Container", "spacing", "Medium",
                                          "separator", 1, "items", items);
            cc_buf_reset(&url);
            cc_message_child_url(ctx->public_url, it->child_id, &url);
            if (url.len > 0)
                json_object_set_new(container, "selectAction",
                                    json_pack("{s:s, s:o, s:o}", "type", "Action.OpenUrl", "title",
                                              jstrf("Open %s", it->child_id ? it->child_id : ""), "url",
                                              jstr(cc_buf_str(&url))));
            json_array_append_new(body, container);
        }
        cc_message_now_phrase(it, ctx, 1, now, sizeof(now));
        cc_message_capitalise(now);
        cc_buf_reset(&text);
        cc_buf_printf(&text, "**%s**: ", now);
        md_escape(&text, cc_message_title_label(it, title, sizeof(title)));
        cc_buf_printf(&text, ", due %s%s", cc_message_human_date(it->due, d, sizeof(d)),
                      it->projected ? " (projected)" : "");
        if (e->source > 0)
            cc_buf_printf(&text, " \\[%d\\]", e->source);
        json_t *line = text_block(jstr(cc_buf_str(&text)), 0, NULL, NULL,
                                  e->rank == CC_MESSAGE_RANK_OVERDUE ? "Attention" : "Default");
        json_object_set_new(line, "spacing", json_string("Small"));
        json_array_append_new(items, line);
    }
    if (shown < v->n)
        json_array_append_new(body, text_block(jstr(more_phrase(v, shown, more, sizeof(more))), 0, NULL, "Bolder",
                                               "Warning"));
    int heading = 0;
    for (size_t k = 1; k <= v->nsources; k++) {
        if (!source_cited(v, shown, k))
            continue;
        if (!heading++)
            json_array_append_new(body, text_block(jstr("Where the dates come from"), 1, "Small", "Bolder", NULL));
        cc_buf_reset(&text);
        cc_buf_printf(&text, "\\[%zu\\] ", k);
        md_escape(&text, v->sources[k - 1].title);
        cc_buf_puts(&text, ": ");
        md_escape(&text, v->sources[k - 1].source);
        json_t *src = text_block(jstr(cc_buf_str(&text)), 1, "Small", NULL, NULL);
        json_object_set_new(src, "spacing", json_string("None"));
        json_array_append_new(body, src);
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
    cc_buf_free(&text);
    cc_buf_free(&url);
    return root;
}

/* Slack's mrkdwn escapes only &, < and > (Slack's "Formatting text for app
 * surfaces"); with them escaped no text from the database can make a link
 * or a mention. */
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

static void slack_worker_line(void *arg, const char *worker, const char *counts)
{
    cc_buf_puts(arg, "\u2022 ");
    slack_escape(arg, worker);
    cc_buf_puts(arg, ": ");
    slack_escape(arg, counts);
    cc_buf_puts(arg, "\n");
}

static json_t *slack_payload(const cc_message_t *m, const cc_message_view_t *v, const cc_message_context_t *ctx,
                             size_t shown)
{
    char child[160], holder[256], now[384], title[200], d[40], todo[400], more[160];
    cc_buf_t text, summary, url;
    cc_buf_init(&text);
    cc_buf_init(&summary);
    cc_buf_init(&url);
    cc_message_view_subject(m, v, ctx, &summary);
    cc_buf_puts(&text, "*");
    slack_escape(&text, cc_buf_str(&summary));
    cc_buf_puts(&text, "*\n");
    if (v->for_manager && v->n > 1)
        cc_message_by_worker(v, slack_worker_line, &text);
    cc_buf_puts(&text, "_What to do:_ ");
    slack_escape(&text, cc_message_what_to_do(v, todo, sizeof(todo)));
    cc_buf_puts(&text, "\n");
    for (size_t i = 0; i < shown; i++) {
        const cc_message_entry_t *e = &v->entries[i];
        const cc_message_item_t *it = e->item;
        if (e->first_of_child || i == 0) {
            cc_buf_puts(&text, "\n*");
            slack_escape(&text, cc_message_child_label(it, ctx->privacy, 1, child, sizeof(child)));
            cc_buf_puts(&text, "*, ");
            slack_escape(&text, cc_message_holder_line(it, holder, sizeof(holder)));
            cc_buf_reset(&url);
            cc_message_child_url(ctx->public_url, it->child_id, &url);
            if (url.len > 0) {
                cc_buf_puts(&text, " <");
                slack_escape(&text, cc_buf_str(&url));
                cc_buf_puts(&text, "|open>");
            }
            cc_buf_puts(&text, "\n");
        }
        cc_message_now_phrase(it, ctx, 1, now, sizeof(now));
        cc_message_capitalise(now);
        cc_buf_puts(&text, "\u2022 *");
        slack_escape(&text, now);
        cc_buf_puts(&text, "*: ");
        slack_escape(&text, cc_message_title_label(it, title, sizeof(title)));
        cc_buf_puts(&text, ", due ");
        slack_escape(&text, cc_message_human_date(it->due, d, sizeof(d)));
        if (e->source > 0)
            cc_buf_printf(&text, " [%d]", e->source);
        cc_buf_puts(&text, "\n");
    }
    if (shown < v->n) {
        cc_buf_puts(&text, "\n*");
        slack_escape(&text, more_phrase(v, shown, more, sizeof(more)));
        cc_buf_puts(&text, "*\n");
    }
    int heading = 0;
    for (size_t k = 1; k <= v->nsources; k++) {
        if (!source_cited(v, shown, k))
            continue;
        if (!heading++)
            cc_buf_puts(&text, "\n_Where the dates come from:_\n");
        cc_buf_printf(&text, "[%zu] ", k);
        slack_escape(&text, v->sources[k - 1].title);
        cc_buf_puts(&text, ": ");
        slack_escape(&text, v->sources[k - 1].source);
        cc_buf_puts(&text, "\n");
    }
    if (ctx->public_url) {
        cc_buf_puts(&text, "\n<");
        slack_escape(&text, ctx->public_url);
        cc_buf_puts(&text, "|Open careclock>\n");
    }
    json_t *root = json_pack("{s:o}", "text", jstr(cc_buf_str(&text)));
    cc_buf_free(&text);
    cc_buf_free(&summary);
    cc_buf_free(&url);
    return root;
}

/* Unicode characters (code points) of UTF-8 text. */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* The payload of m in format showing the first shown entries, as compact
 * JSON in a new string (free()), and its size against the format's limit:
 * *size is bytes of the JSON for Teams, characters of the text for Slack. */
static char *render_shown(const cc_message_t *m, cc_webhook_format_t format, const cc_message_view_t *v,
                          const cc_message_context_t *ctx, size_t shown, size_t *size)
{
    json_t *root = format == CC_WEBHOOK_TEAMS   ? teams_payload(m, v, ctx, shown)
                   : format == CC_WEBHOOK_SLACK ? slack_payload(m, v, ctx, shown)
                                                : generic_payload(m, v, ctx);
    char *text = root ? json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (text != NULL && format == CC_WEBHOOK_SLACK)
        *size = utf8_chars(json_string_value(json_object_get(root, "text")));
    else if (text != NULL)
        *size = strlen(text);
    json_decref(root);
    return text;
}

size_t cc_payload_limit(cc_webhook_format_t format)
{
    switch (format) {
    case CC_WEBHOOK_TEAMS: return CC_PAYLOAD_TEAMS_MAX_BYTES;
    case CC_WEBHOOK_SLACK: return CC_PAYLOAD_SLACK_MAX_CHARS;
    default: return 0;
    }
}

int cc_payload_render(const cc_message_t *m, cc_webhook_format_t format, const cc_message_context_t *ctx,
                      cc_buf_t *out)
{
    cc_message_view_t v;
    size_t size = 0;
    assert(m != NULL && ctx != NULL && out != NULL);
    assert(m->channel == CC_CHANNEL_WEBHOOK); /* or the summary could carry a full name */
    int rc = cc_message_view_build(m, ctx, &v);
    if (rc != 0)
        return rc;
    size_t limit = cc_payload_limit(format);
    char *text = render_shown(m, format, &v, ctx, v.n, &size);
    if (text != NULL && limit > 0 && size > limit) {
        /* Too big for the channel: the most items that fit, then "and N
         * more". Sizes grow with the items shown: a binary search. */
        size_t lo = 0, hi = v.n - 1;
        free(text);
        text = NULL;
        while (lo < hi) {
            size_t mid = lo + (hi - lo + 1) / 2;
            char *t = render_shown(m, format, &v, ctx, mid, &size);
            if (t == NULL)
                break;
            free(t);
            if (size <= limit)
                lo = mid;
            else
                hi = mid - 1;
        }
        text = render_shown(m, format, &v, ctx, lo, &size);
    }
    rc = text ? cc_buf_puts(out, text) : CC_ENOMEM;
    free(text);
    cc_message_view_free(&v);
    return rc;
}

/* ---- Standard Webhooks signatures ------------------------------------------ */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(int c)
{
    const char *p = c ? strchr(B64, c) : NULL;
    return p ? (int)(p - B64) : -1;
}

int cc_payload_secret_decode(const char *text, unsigned char *key, size_t *keylen)
{
    const char *p = text;
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0, pad = 0;
    assert(text != NULL && key != NULL && keylen != NULL);
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
            if (n >= CC_PAYLOAD_KEY_MAX)
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

int cc_payload_sign(const unsigned char *key, size_t keylen, const char *id, long long timestamp,
                    const char *body, size_t bodylen, char *out, size_t outlen)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    char stamp[32];
    assert(key != NULL && id != NULL && (body != NULL || bodylen == 0) && out != NULL);
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

const char *cc_payload_format_name(cc_webhook_format_t format)
{
    switch (format) {
    case CC_WEBHOOK_TEAMS: return "teams";
    case CC_WEBHOOK_SLACK: return "slack";
    default: return "generic";
    }
}
