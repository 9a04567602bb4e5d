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
        cc_message_status_phrase(it, ctx, status, sizeof(status));
        json_t *o = json_object();
        json_object_set_new(o, "child", child);
        json_object_set_new(o, "clock", clock);
        json_object_set_new(o, "due_date", date_or_null(it->due));
        json_object_set_new(o, "status", json_string(cc_status_name(it->status)));
        json_object_set_new(o, "working_days_late", json_integer(cc_message_days_late(it, ctx)));
        json_object_set_new(o, "met_on", date_or_null(it->met_on));
        json_object_set_new(o, "projected", json_boolean(it->projected));
        json_object_set_new(o, "stage", stage);
        json_object_set_new(o, "worker", str_or_null(it->worker_name));
        json_object_set_new(o, "team", team);
        json_object_set_new(o, "summary", jstrf("%s: %s", cc_message_title_label(it, title, sizeof(title)), status));
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
    return root;
}

/* An Adaptive Card 1.4 in the message envelope that Microsoft Teams
 * Workflows ("post to a channel when a webhook request is received")
 * accept. */
static json_t *teams_payload(const cc_message_t *m, const cc_message_view_t *v, const cc_message_context_t *ctx)
{
    char child[160], holder[256], status[256], title[200], stage[128], d[40];
    cc_buf_t summary;
    cc_buf_init(&summary);
    cc_message_view_subject(m, v, ctx, &summary);
    json_t *body = json_array();
    json_array_append_new(body, json_pack("{s:s, s:o, s:s, s:s, s:b}", "type", "TextBlock", "text",
                                          jstr(cc_buf_str(&summary)), "size", "Medium", "weight", "Bolder", "wrap",
                                          1));
    json_t *container = NULL, *items = NULL;
    for (size_t i = 0; i < v->n; i++) {
        const cc_message_item_t *it = v->entries[i].item;
        if (v->entries[i].first_of_child) {
            items = json_array();
            cc_message_child_label(it, ctx->privacy, 1, child, sizeof(child));
            cc_message_holder_line(it, holder, sizeof(holder));
            json_array_append_new(items, json_pack("{s:s, s:o, s:s, s:b}", "type", "TextBlock", "text", jstr(child),
                                                   "weight", "Bolder", "wrap", 1));
            json_array_append_new(items, json_pack("{s:s, s:o, s:b, s:s, s:b}", "type", "TextBlock", "text",
                                                   jstr(holder), "isSubtle", 1, "spacing", "None", "wrap", 1));
            container = json_pack("{s:s, s:s, s:b, s:o}", "type", "Container", "spacing", "Medium", "separator", 1,
                                  "items", items);
            json_array_append_new(body, container);
        }
        cc_message_status_phrase(it, ctx, status, sizeof(status));
        cc_message_capitalise(status);
        cc_message_stage_phrase(it, stage, sizeof(stage));
        cc_message_capitalise(stage);
        json_t *line = jstrf("**%s**: %s, due %s%s", status, cc_message_title_label(it, title, sizeof(title)),
                             cc_message_human_date(it->due, d, sizeof(d)), it->projected ? " (projected)" : "");
        json_array_append_new(items, json_pack("{s:s, s:o, s:s, s:b}", "type", "TextBlock", "text", line, "color",
                                               v->entries[i].rank == CC_MESSAGE_RANK_OVERDUE ? "Attention" : "Default",
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

static json_t *slack_payload(const cc_message_t *m, const cc_message_view_t *v, const cc_message_context_t *ctx)
{
    char child[160], holder[256], status[256], title[200], stage[128], d[40];
    cc_buf_t text, summary;
    cc_buf_init(&text);
    cc_buf_init(&summary);
    cc_message_view_subject(m, v, ctx, &summary);
    cc_buf_puts(&text, "*");
    slack_escape(&text, cc_buf_str(&summary));
    cc_buf_puts(&text, "*\n");
    for (size_t i = 0; i < v->n; i++) {
        const cc_message_item_t *it = v->entries[i].item;
        if (v->entries[i].first_of_child) {
            cc_buf_puts(&text, "\n*");
            slack_escape(&text, cc_message_child_label(it, ctx->privacy, 1, child, sizeof(child)));
            cc_buf_puts(&text, "*, ");
            slack_escape(&text, cc_message_holder_line(it, holder, sizeof(holder)));
            cc_buf_puts(&text, "\n");
        }
        cc_message_status_phrase(it, ctx, status, sizeof(status));
        cc_message_capitalise(status);
        cc_message_stage_phrase(it, stage, sizeof(stage));
        cc_message_capitalise(stage);
        cc_buf_puts(&text, "\u2022 *");
        slack_escape(&text, status);
        cc_buf_puts(&text, "*: ");
        slack_escape(&text, cc_message_title_label(it, title, sizeof(title)));
        cc_buf_puts(&text, ", due ");
        slack_escape(&text, cc_message_human_date(it->due, d, sizeof(d)));
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

int cc_payload_render(const cc_message_t *m, cc_webhook_format_t format, const cc_message_context_t *ctx,
                      cc_buf_t *out)
{
    cc_message_view_t v;
    assert(m != NULL && ctx != NULL && out != NULL);
    assert(m->channel == CC_CHANNEL_WEBHOOK); /* or the summary could carry a full name */
    int rc = cc_message_view_build(m, ctx->today, &v);
    if (rc != 0)
        return rc;
    json_t *root = format == CC_WEBHOOK_TEAMS   ? teams_payload(m, &v, ctx)
                   : format == CC_WEBHOOK_SLACK ? slack_payload(m, &v, ctx)
                                                : generic_payload(m, &v, ctx);
    char *text = root ? json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    rc = text ? cc_buf_puts(out, text) : CC_ENOMEM;
    free(text);
    json_decref(root);
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
