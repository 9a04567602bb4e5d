/* The e-mail form of a message (RFC 5322): the Message-ID, headers folded
 * and encoded as RFC 2047 words, bodies in quoted-printable, and the
 * multipart/alternative message of the text and HTML renderings
 * (message.c). See include/careclock/message.h and docs/delivery.md.
 */
#include "careclock/message.h"
#include "careclock/email.h"
#include "careclock/error.h"
#include "core/message_form.h"
#include "careclock/offset.h"
#include "core/message_view.h"
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- email ---------------------------------------------------------------- */

char *cc_message_id(char *out, size_t len, cc_channel_t channel, const char *instance, int64_t batch,
                    const char *nonce, const char *from)
{
    assert(out != NULL);
    const char *dash = nonce && nonce[0] ? "-" : "";
    nonce = nonce ? nonce : "";
    if (channel == CC_CHANNEL_WEBHOOK) {
        snprintf(out, len, "msg_cc-%s-%lld%s%s", instance ? instance : "0", (long long)batch, dash, nonce);
        return out;
    }
    const char *at = from ? strrchr(from, '@') : NULL;
    const char *domain = at && at[1] ? at + 1 : "careclock.invalid";
    snprintf(out, len, "<cc-%s-%lld%s%s@%s>", instance ? instance : "0", (long long)batch, dash, nonce, domain);
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

/* The length of an encoded word of n bytes: "=?UTF-8?B?" + base64 + "?=". */
static size_t encoded_len(size_t n)
{
    return 12 + 4 * ((n + 2) / 3);
}

/* Most bytes of p (of left) that fit an encoded word of room characters,
 * never splitting a UTF-8 sequence; at least one character. */
static size_t fit_bytes(const unsigned char *p, size_t left, size_t room)
{
    size_t take = room > 12 ? (room - 12) / 4 * 3 : 0, fit;
    if (take > left)
        take = left;
    fit = take;
    /* Back to a character's start: at most 3 bytes (a longer run of
     * continuation bytes is not UTF-8, and is cut where it fits; found by
     * tests/fuzz/fuzz_email.c, a run of 200 made one word of 280). */
    for (int i = 0; i < 3 && take > 0 && take < left && (p[take] & 0xC0) == 0x80; i++)
        take--;
    if (take > 0 && take < left && (p[take] & 0xC0) == 0x80)
        take = fit;
    if (take == 0) { /* one character, whatever the room */
        take = 1;
        while (take < 4 && take < left && (p[take] & 0xC0) == 0x80)
            take++;
    }
    return take;
}

/* RFC 2047 encoded words for value, whatever it holds. Each encoded word
 * holds whole words with the space after them (whitespace between encoded
 * words is not part of the text, so the spaces must be inside them), as
 * many as fit on the line; lines are at most 76 characters, the first
 * counted from column start; a word longer than a line is split between
 * characters. */
static int encode_words(const char *value, size_t start, cc_buf_t *out)
{
    enum { LINE = 76 };
    const unsigned char *p = (const unsigned char *)value;
    size_t left = strlen(value), col = start;
    int first = 1;
    while (left > 0) {
        size_t room = col < LINE ? LINE - col : 0;
        if (!first || room < encoded_len(4)) {
            if (!first || col > 1) {
                cc_buf_puts(out, "\r\n ");
                col = 1;
                room = LINE - col;
            }
        }
        /* Whole words: up to and including the space after each. */
        size_t take = 0;
        while (take < left) {
            size_t next = take;
            while (next < left && p[next] != ' ')
                next++;
            while (next < left && p[next] == ' ')
                next++;
            if (encoded_len(next) > room)
                break;
            take = next;
        }
        if (take == 0)
            take = fit_bytes(p, left, room); /* one word longer than a line */
        cc_buf_puts(out, "=?UTF-8?B?");
        base64(out, p, take);
        cc_buf_puts(out, "?=");
        col += encoded_len(take);
        p += take;
        left -= take;
        first = 0;
    }
    return out->failed ? CC_ENOMEM : 0;
}

int cc_message_encode_header(const char *value, size_t start, cc_buf_t *out)
{
    assert(value != NULL && out != NULL);
    if (is_ascii(value))
        return cc_buf_puts(out, value);
    return encode_words(value, start, out);
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
static void display_name(cc_buf_t *out, size_t start, const char *name)
{
    if (!is_ascii(name) || strlen(name) > 60) {
        encode_words(name, start, out);
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
    if ((rc = cc_message_view_build(m, ctx, &v)) != 0)
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
    cc__message_text_from_view(m, &v, ctx, &text);
    cc__message_html_from_view(m, &v, ctx, &html);

    rfc5322_date(ctx->now, ctx->utc_offset_minutes, date, sizeof(date));
    snprintf(boundary, sizeof(boundary), "=_careclock_%lld_%zu", (long long)m->batch, m->nitems);
    cc_buf_printf(&msg, "Date: %s\r\n", date);
    cc_buf_printf(&msg, "From: careclock <%s>\r\n", from);
    cc_buf_puts(&msg, "To: ");
    if (m->recipient_name && m->recipient_name[0]) {
        size_t line = msg.len;
        display_name(&msg, strlen("To: "), m->recipient_name);
        /* The address on the same line when it fits in 78, else folded. */
        const char *nl = msg.data ? strrchr(msg.data + line, '\n') : NULL;
        size_t col = nl ? (size_t)(msg.data + msg.len - nl - 1) : msg.len - line + strlen("To: ");
        cc_buf_puts(&msg, col + 3 + strlen(m->address) > 78 ? "\r\n " : " ");
    }
    cc_buf_printf(&msg, "<%s>\r\n", m->address);
    if (is_ascii(cc_buf_str(&subject))) {
        folded(&msg, "Subject", cc_buf_str(&subject));
    } else {
        cc_buf_puts(&msg, "Subject: ");
        cc_message_encode_header(cc_buf_str(&subject), strlen("Subject: "), &msg);
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
