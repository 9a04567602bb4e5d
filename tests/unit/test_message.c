/* Unit tests for daemon/core/message.c and payload.c: the email renderer
 * (headers, RFC 2047, quoted-printable, MIME, refusal of CR/LF in header
 * values), the webhook payloads (generic, Teams, Slack: parsed back with
 * jansson), the order of a digest, privacy, and the Standard Webhooks
 * signature against the specification's published test vector,
 * recomputed independently with Python's hmac module:
 *   python3 -c 'import hmac,hashlib,base64;
 *     k=base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
 *     m=b"msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{\"test\": 2432232314}";
 *     print(base64.b64encode(hmac.new(k,m,hashlib.sha256).digest()).decode())'
 *   -> g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "careclock/buf.h"
#include "careclock/calendar.h"
#include "careclock/holidays.h"
#include "careclock/error.h"
#include "careclock/message.h"
#include "careclock/payload.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOLIDAY_DIR CC_SOURCE_DIR "/config/holidays"

static cc_calendar_t *g_cal;

static cc_date_t iso(const char *s)
{
    cc_date_t d;
    assert_int_equal(cc_date_parse_iso(s, &d), 0);
    return d;
}

static int setup(void **state)
{
    char err[256];
    (void)state;
    return cc_holidays_open(HOLIDAY_DIR, "england-and-wales", NULL, 0, &g_cal, err, sizeof(err)) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    cc_calendar_free(g_cal);
    return 0;
}

/* 2026-12-29 09:00 UTC (GMT) as time_t. */
#define NOW 1798534800

static cc_message_context_t context(void)
{
    cc_message_context_t ctx = {.today = iso("2026-12-29"), .now = NOW, .utc_offset_minutes = 0,
                                .privacy = CC_PRIVACY_INITIALS, .from = "careclock@council.example",
                                .public_url = NULL, .cal = g_cal};
    return ctx;
}

static cc_message_item_t item(int64_t id, const char *child, const char *due, cc_status_t status,
                              cc_notice_kind_t kind, const char *stage)
{
    cc_message_item_t it = {.delivery_id = id, .kind = kind, .stage = stage, .role = CC_ROLE_TEAM_MANAGER,
                            .child_id = child, .initials = "A.B.", .full_name = "Alice Brown",
                            .rule_id = "sgo_report", .title = "Special guardianship report",
                            .source = "local guidance: SGO report within 12 weeks", .seq = 1, .due = iso(due),
                            .status = status, .met_on = CC_DATE_NONE, .stage_date = CC_DATE_NONE,
                            .worker_name = "Wendy Worker",
                            .team_id = "T1", .team_name = "East"};
    return it;
}

static cc_message_t message(const cc_message_item_t *items, size_t n, cc_channel_t channel)
{
    cc_message_t m = {.batch = 7, .message_id = channel == CC_CHANNEL_EMAIL ? "<cc-abc-7@council.example>"
                                                                          : "msg_cc-abc-7",
                      .channel = channel, .recipient = "TM1", .recipient_name = "Tom Manager",
                      .address = channel == CC_CHANNEL_EMAIL ? "tm1@council.example" : "east", .items = items,
                      .nitems = n};
    return m;
}

static char *render_email(const cc_message_t *m, const cc_message_context_t *ctx)
{
    cc_buf_t out;
    char err[256];
    cc_buf_init(&out);
    int rc = cc_message_email(m, ctx, &out, err, sizeof(err));
    if (rc != 0)
        fail_msg("cc_message_email: %d %s", rc, err);
    return out.data;
}

/* ---- signatures ------------------------------------------------------------ */

static void test_standard_webhooks_vector(void **state)
{
    unsigned char key[CC_PAYLOAD_KEY_MAX];
    size_t keylen = 0;
    char sig[128];
    const char *body = "{\"test\": 2432232314}";
    (void)state;
    assert_int_equal(cc_payload_secret_decode("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n", key, &keylen), 0);
    assert_int_equal(keylen, 24);
    assert_int_equal(cc_payload_sign(key, keylen, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body),
                                     sig, sizeof(sig)),
                     0);
    assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    /* Any change to the id, time or body changes it. */
    cc_payload_sign(key, keylen, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, body, strlen(body), sig, sizeof(sig));
    assert_string_not_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    assert_int_equal(cc_payload_sign(key, keylen, "x", 1, "", 0, sig, 10), CC_ERANGE);
}

static void test_secret_decoding(void **state)
{
    unsigned char key[CC_PAYLOAD_KEY_MAX];
    size_t keylen = 0;
    (void)state;
    assert_int_equal(cc_payload_secret_decode("  whsec_aGVsbG8=  \r\n", key, &keylen), 0);
    assert_int_equal(keylen, 5);
    assert_memory_equal(key, "hello", 5);
    assert_int_equal(cc_payload_secret_decode("aGVsbG8=", key, &keylen), CC_EINVAL);      /* no prefix */
    assert_int_equal(cc_payload_secret_decode("whsec_", key, &keylen), CC_EINVAL);        /* empty */
    assert_int_equal(cc_payload_secret_decode("whsec_aGV*bG8=", key, &keylen), CC_EINVAL); /* not base64 */
    assert_int_equal(cc_payload_secret_decode("whsec_aGVs bG8=", key, &keylen), CC_EINVAL); /* two words */
}

/* ---- email --------------------------------------------------------------- */

/* Base64 of len characters into out (a test's own decoder). */
static size_t b64_decode(const char *in, size_t len, unsigned char *out)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned acc = 0;
    int bits = 0;
    size_t n = 0;
    for (size_t i = 0; i < len && in[i] != '='; i++) {
        const char *p = strchr(alphabet, in[i]);
        assert_non_null(p);
        acc = acc << 6 | (unsigned)(p - alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    return n;
}

/* 1 if the n bytes end with a whole UTF-8 sequence. */
static int utf8_whole(const unsigned char *b, size_t n)
{
    size_t i = n;
    while (i > 0 && (b[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0)
        return 0;
    unsigned lead = b[i - 1];
    size_t want = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    return n - (i - 1) == want;
}

/* RFC 2047 (issue 18): a header line with encoded words is at most 76
 * characters ("Subject: " included), and words are not split between
 * encoded words: each encoded word decodes to whole words, the space
 * after each inside it. */
static void test_encoded_words_are_76_characters_and_split_between_words(void **state)
{
    (void)state;
    const char *subject = "East: Special guardianship report for C1 Zo\xc3\xab Bront\xc3\xab is OVERDUE by 12 "
                          "working days; most urgent: Care plan for C7 \xc5\x81ucja W\xc3\xb3jcik";
    cc_buf_t out;
    cc_buf_init(&out);
    cc_buf_puts(&out, "Subject: ");
    assert_int_equal(cc_message_encode_header(subject, out.len, &out), 0);
    char joined[400] = "";
    int words = 0;
    for (const char *line = cc_buf_str(&out); *line;) {
        const char *end = strstr(line, "\r\n");
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > 76)
            fail_msg("a line of %zu characters: %.*s", len, (int)len, line);
        line = end ? end + 2 : line + len;
    }
    for (const char *w = cc_buf_str(&out); (w = strstr(w, "=?UTF-8?B?")) != NULL; words++) {
        const char *end = strstr(w + 10, "?=");
        unsigned char bytes[128];
        size_t n = b64_decode(w + 10, (size_t)(end - (w + 10)), bytes);
        bytes[n] = '\0';
        /* every encoded word but the last ends with the space after a word */
        if (strstr(end + 2, "=?UTF-8?B?") != NULL)
            assert_int_equal(bytes[n - 1], ' ');
        strncat(joined, (const char *)bytes, sizeof(joined) - strlen(joined) - 1);
        w = end;
    }
    assert_true(words > 1);
    assert_string_equal(joined, subject);
    cc_buf_free(&out);
}

static void test_message_ids(void **state)
{
    char buf[128];
    (void)state;
    assert_string_equal(cc_message_id(buf, sizeof(buf), CC_CHANNEL_EMAIL, "0a1b2c3d4e5f", 42, NULL,
                                      "careclock@council.example"),
                        "<cc-0a1b2c3d4e5f-42@council.example>");
    assert_string_equal(cc_message_id(buf, sizeof(buf), CC_CHANNEL_EMAIL, "0a1b2c3d4e5f", 42, "", NULL),
                        "<cc-0a1b2c3d4e5f-42@careclock.invalid>");
    assert_string_equal(cc_message_id(buf, sizeof(buf), CC_CHANNEL_WEBHOOK, "0a1b2c3d4e5f", 42, NULL, NULL),
                        "msg_cc-0a1b2c3d4e5f-42");
    /* With the random part a message is given at its first claim. */
    assert_string_equal(cc_message_id(buf, sizeof(buf), CC_CHANNEL_EMAIL, "0a1b2c3d4e5f", 42, "9f8e7d6c5b4a",
                                      "careclock@council.example"),
                        "<cc-0a1b2c3d4e5f-42-9f8e7d6c5b4a@council.example>");
    assert_string_equal(cc_message_id(buf, sizeof(buf), CC_CHANNEL_WEBHOOK, "0a1b2c3d4e5f", 42, "9f8e7d6c5b4a", NULL),
                        "msg_cc-0a1b2c3d4e5f-42-9f8e7d6c5b4a");
}

static void test_email_headers_and_mime(void **state)
{
    (void)state;
    cc_message_item_t items[] = {item(7, "C1", "2026-12-28", CC_STATUS_OVERDUE, CC_NOTICE_ESCALATION, "+1wd")};
    cc_message_t m = message(items, 1, CC_CHANNEL_EMAIL);
    cc_message_context_t ctx = context();
    char *text = render_email(&m, &ctx);
    assert_non_null(strstr(text, "Date: Tue, 29 Dec 2026 09:00:00 +0000\r\n"));
    assert_non_null(strstr(text, "From: careclock <careclock@council.example>\r\n"));
    assert_non_null(strstr(text, "To: \"Tom Manager\" <tm1@council.example>\r\n"));
    assert_non_null(strstr(text, "Subject: East: Special guardianship report for C1 (A.B.) is OVERDUE by 1\r\n"
                                 " working day\r\n"));
    assert_non_null(strstr(text, "Message-ID: <cc-abc-7@council.example>\r\n"));
    assert_non_null(strstr(text, "MIME-Version: 1.0\r\n"));
    assert_non_null(strstr(text, "Content-Type: multipart/alternative; boundary=\"=_careclock_7_1\"\r\n"));
    assert_non_null(strstr(text, "\r\n--=_careclock_7_1\r\nContent-Type: text/plain; charset=utf-8\r\n"));
    assert_non_null(strstr(text, "\r\n--=_careclock_7_1\r\nContent-Type: text/html; charset=utf-8\r\n"));
    assert_non_null(strstr(text, "\r\n--=_careclock_7_1--\r\n"));
    assert_non_null(strstr(text, "OVERDUE by 1 working day"));
    assert_null(strstr(text, "Alice"));
    /* Every line ends CRLF, none is longer than 78 + CRLF, and all is 7-bit. */
    for (const char *p = text; *p; p++) {
        assert_true((unsigned char)*p < 0x80);
        if (*p == '\n')
            assert_true(p > text && p[-1] == '\r');
    }
    for (const char *line = text; *line;) {
        const char *end = strstr(line, "\r\n");
        assert_non_null(end);
        assert_true(end - line <= 78);
        line = end + 2;
    }
    /* Same message, same bytes. */
    char *again = render_email(&m, &ctx);
    assert_string_equal(text, again);
    free(again);
    free(text);
}

static void test_header_injection_is_refused(void **state)
{
    (void)state;
    cc_message_item_t items[] = {item(7, "C1", "2026-12-28", CC_STATUS_OVERDUE, CC_NOTICE_ESCALATION, "+1wd")};
    cc_message_t m = message(items, 1, CC_CHANNEL_EMAIL);
    cc_message_context_t ctx = context();
    cc_buf_t out;
    char err[256];
    cc_buf_init(&out);
    m.recipient_name = "Tom\r\nBcc: thief@example.org";
    assert_int_equal(cc_message_email(&m, &ctx, &out, err, sizeof(err)), CC_EINVAL);
    assert_non_null(strstr(err, "header injection refused"));
    assert_non_null(strstr(err, "To"));
    m.recipient_name = "Tom Manager";
    m.address = "tm1@council.example\nBcc: thief@example.org";
    assert_int_equal(cc_message_email(&m, &ctx, &out, err, sizeof(err)), CC_EINVAL);
    m.address = "tm1@council.example";
    items[0].initials = "A\rB";
    assert_int_equal(cc_message_email(&m, &ctx, &out, err, sizeof(err)), CC_EINVAL);
    assert_non_null(strstr(err, "Subject"));
    items[0].initials = "A.B.";
    ctx.from = "careclock@council.example\r\nX-Evil: 1";
    assert_int_equal(cc_message_email(&m, &ctx, &out, err, sizeof(err)), CC_EINVAL);
    assert_int_equal(out.len, 0); /* nothing written */
    cc_buf_free(&out);
}

static void test_rfc2047_and_quoted_printable(void **state)
{
    cc_buf_t out;
    (void)state;
    cc_buf_init(&out);
    cc_message_encode_header("plain ASCII", 9, &out);
    assert_string_equal(cc_buf_str(&out), "plain ASCII");
    cc_buf_reset(&out);
    cc_message_encode_header("Zo\xc3\xab", 9, &out);
    assert_string_equal(cc_buf_str(&out), "=?UTF-8?B?Wm/Dqw==?=");
    /* Long text: several encoded words of at most 75 characters, folded,
     * none splitting a UTF-8 sequence (each word decodes on its own). */
    cc_buf_reset(&out);
    char long_text[400] = "";
    for (int i = 0; i < 40; i++)
        strcat(long_text, "\xc3\xab\xe2\x82\xac");
    cc_message_encode_header(long_text, 9, &out);
    int words = 0;
    for (const char *w = cc_buf_str(&out); (w = strstr(w, "=?UTF-8?B?")) != NULL; words++) {
        const char *end = strstr(w + 10, "?=");
        assert_non_null(end);
        assert_true(end + 2 - w <= 75);
        /* decoded, a word starts at a character and ends with a whole one */
        unsigned char bytes[64];
        size_t n = b64_decode(w + 10, (size_t)(end - (w + 10)), bytes);
        assert_true(n > 0 && (bytes[0] & 0xC0) != 0x80);
        assert_true(utf8_whole(bytes, n));
        w = end;
    }
    assert_true(words > 1);
    assert_non_null(strstr(cc_buf_str(&out), "?=\r\n =?UTF-8?B?"));
    /* Quoted-printable. */
    cc_buf_reset(&out);
    const char *qp_in = "a=b caf\xc3\xa9 \nend\n";
    cc_message_qp(qp_in, strlen(qp_in), &out);
    assert_string_equal(cc_buf_str(&out), "a=3Db caf=C3=A9=20\r\nend\r\n");
    cc_buf_reset(&out);
    char longline[200];
    memset(longline, 'x', sizeof(longline) - 1);
    longline[sizeof(longline) - 1] = '\0';
    cc_message_qp(longline, strlen(longline), &out);
    for (const char *line = cc_buf_str(&out); *line;) {
        const char *end = strstr(line, "\r\n");
        size_t len = end ? (size_t)(end - line) : strlen(line);
        assert_true(len <= 76);
        line = end ? end + 2 : line + len;
    }
    cc_buf_free(&out);
}

static void test_digest_orders_overdue_first_grouped_by_child(void **state)
{
    (void)state;
    cc_message_item_t items[] = {
        item(10, "C3", "2027-01-12", CC_STATUS_OPEN, CC_NOTICE_REMINDER, "-10wd"),
        item(11, "C1", "2026-12-31", CC_STATUS_DUE_SOON, CC_NOTICE_REMINDER, "-1wd"),
        item(12, "C2", "2026-12-18", CC_STATUS_OVERDUE, CC_NOTICE_ESCALATION, "+5wd"),
        item(13, "C1", "2026-12-22", CC_STATUS_OVERDUE, CC_NOTICE_ESCALATION, "+1wd"),
        item(14, "C4", "2026-12-29", CC_STATUS_DUE_SOON, CC_NOTICE_REMINDER, "+0wd"),
    };
    items[3].title = "Care plan";
    items[3].rule_id = "care_plan";
    cc_message_t m = message(items, 5, CC_CHANNEL_EMAIL);
    cc_message_context_t ctx = context();
    cc_buf_t out;
    cc_buf_init(&out);
    assert_int_equal(cc_message_text(&m, &ctx, &out), 0);
    const char *t = cc_buf_str(&out);
    /* C2 overdue since 18 Dec, then C1 (overdue since 22 Dec), C4 due today, C3. */
    const char *c2 = strstr(t, "\nC2 (A.B.)"), *c1 = strstr(t, "\nC1 (A.B.)"), *c4 = strstr(t, "\nC4 (A.B.)"),
               *c3 = strstr(t, "\nC3 (A.B.)");
    assert_non_null(c1);
    assert_non_null(c2);
    assert_non_null(c3);
    assert_non_null(c4);
    assert_true(c2 < c1 && c1 < c4 && c4 < c3);
    /* Inside C1: the overdue care plan before the SGO report due soon. */
    const char *care = strstr(t, "OVERDUE by 3 working days: Care plan"), *sgo = strstr(t, "Due in 2 working days");
    assert_non_null(care);
    assert_non_null(sgo);
    assert_true(c1 < care && care < sgo && sgo < c4);
    assert_non_null(strstr(t, "DUE TODAY: Special guardianship report, due Tue 29 Dec 2026"));
    /* 18 Dec to 29 Dec: 21, 22, 23, 24, 29 (25 and 28 are holidays); 22 Dec: 23, 24, 29. */
    assert_non_null(strstr(t, "OVERDUE by 5 working days: Special guardianship report"));
    cc_buf_reset(&out);
    cc_message_subject(&m, &ctx, &out);
    assert_string_equal(cc_buf_str(&out), "East: 2 overdue, 1 due today, 1 due soon, 1 coming up for 4 children; most "
                                          "urgent: Special guardianship report for C2 (A.B.), OVERDUE by 5 working days");
    /* A closed clock's notice: met, or no longer needed. */
    cc_message_item_t met = item(20, "C5", "2026-12-28", CC_STATUS_MET, CC_NOTICE_MET, "met");
    met.met_on = iso("2026-12-24");
    m = message(&met, 1, CC_CHANNEL_EMAIL);
    cc_buf_reset(&out);
    cc_message_subject(&m, &ctx, &out);
    assert_string_equal(cc_buf_str(&out), "East: Special guardianship report for C5 (A.B.) is now met");
    met.status = CC_STATUS_CANCELLED;
    met.reason = "the child left care";
    cc_buf_reset(&out);
    cc_message_subject(&m, &ctx, &out);
    assert_string_equal(cc_buf_str(&out), "East: Special guardianship report for C5 (A.B.) is no longer needed");
    cc_buf_reset(&out);
    cc_message_text(&m, &ctx, &out);
    assert_non_null(strstr(cc_buf_str(&out), "No longer needed (cancelled: the child left care)"));
    cc_buf_free(&out);
}

static void test_privacy_levels(void **state)
{
    (void)state;
    cc_message_item_t items[] = {item(7, "C1", "2026-12-28", CC_STATUS_OVERDUE, CC_NOTICE_ESCALATION, "+1wd")};
    cc_message_t m = message(items, 1, CC_CHANNEL_EMAIL);
    cc_message_context_t ctx = context();
    cc_buf_t out;
    cc_buf_init(&out);
    ctx.privacy = CC_PRIVACY_REFERENCE;
    cc_message_text(&m, &ctx, &out);
    assert_null(strstr(cc_buf_str(&out), "A.B."));
    assert_non_null(strstr(cc_buf_str(&out), "\nC1: held by"));
    cc_buf_reset(&out);
    ctx.privacy = CC_PRIVACY_FULL;
    cc_message_text(&m, &ctx, &out);
    assert_non_null(strstr(cc_buf_str(&out), "C1 Alice Brown"));
    /* Webhooks never carry the full name, whatever the setting. */
    cc_buf_reset(&out);
    m = message(items, 1, CC_CHANNEL_WEBHOOK);
    for (int f = CC_WEBHOOK_GENERIC; f <= CC_WEBHOOK_SLACK; f++) {
        cc_buf_reset(&out);
        assert_int_equal(cc_payload_render(&m, (cc_webhook_format_t)f, &ctx, &out), 0);
        assert_null(strstr(cc_buf_str(&out), "Alice"));
    }
    cc_buf_free(&out);
}

/* ---- webhooks ------------------------------------------------------------ */

static json_t *render_webhook(const cc_message_t *m, cc_webhook_format_t f, const cc_message_context_t *ctx)
{
    cc_buf_t out;
    json_error_t jerr;
    cc_buf_init(&out);
    assert_int_equal(cc_payload_render(m, f, ctx, &out), 0);
    json_t *root = json_loads(cc_buf_str(&out), 0, &jerr);
    if (root == NULL)
        fail_msg("not JSON: %s: %s", jerr.text, cc_buf_str(&out));
    cc_buf_free(&out);
    return root;
}

static void test_generic_payload(void **state)
{
    (void)state;
    cc_message_item_t items[] = {item(7, "C1", "2026-12-28", CC_STATUS_OVERDUE, CC_NOTICE_ESCALATION, "+1wd"),
                                 item(8, "C2", "2026-12-28", CC_STATUS_MET_LATE, CC_NOTICE_MET, "met")};
    items[1].met_on = iso("2026-12-29");
    cc_message_t m = message(items, 2, CC_CHANNEL_WEBHOOK);
    cc_message_context_t ctx = context();
    ctx.public_url = "https://careclock.council.example";
    json_t *root = render_webhook(&m, CC_WEBHOOK_GENERIC, &ctx);
    assert_string_equal(json_string_value(json_object_get(root, "type")), "careclock.digest");
    assert_string_equal(json_string_value(json_object_get(root, "timestamp")), "2026-12-29T09:00:00Z");
    assert_string_equal(json_string_value(json_object_get(root, "id")), "msg_cc-abc-7");
    assert_string_equal(json_string_value(json_object_get(root, "url")), "https://careclock.council.example");
    json_t *list = json_object_get(root, "items");
    assert_int_equal(json_array_size(list), 2);
    json_t *first = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(first, "child"), "reference")), "C1");
    assert_string_equal(json_string_value(json_object_get(json_object_get(first, "child"), "initials")), "A.B.");
    assert_string_equal(json_string_value(json_object_get(json_object_get(first, "clock"), "id")), "sgo_report");
    assert_string_equal(json_string_value(json_object_get(json_object_get(first, "clock"), "source")),
                        "local guidance: SGO report within 12 weeks");
    assert_string_equal(json_string_value(json_object_get(first, "due_date")), "2026-12-28");
    assert_string_equal(json_string_value(json_object_get(first, "status")), "overdue");
    assert_int_equal(json_integer_value(json_object_get(first, "working_days_late")), 1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(first, "stage"), "offset")), "+1wd");
    assert_string_equal(json_string_value(json_object_get(first, "worker")), "Wendy Worker");
    json_t *second = json_array_get(list, 1);
    assert_string_equal(json_string_value(json_object_get(second, "status")), "met_late");
    assert_string_equal(json_string_value(json_object_get(second, "met_on")), "2026-12-29");
    assert_string_equal(json_string_value(json_object_get(json_object_get(second, "stage"), "kind")), "met");
    json_decref(root);
    /* One kind: its own type. */
    m.nitems = 1;
    root = render_webhook(&m, CC_WEBHOOK_GENERIC, &ctx);
    assert_string_equal(json_string_value(json_object_get(root, "type")), "careclock.escalation");
    json_decref(root);
}

static void test_teams_payload(void **state)
{
    (void)state;
    cc_message_item_t items[] = {item(7, "C1", "2026-12-28", CC_STATUS_OVERDUE, CC_NOTICE_ESCALATION, "+1wd")};
    cc_message_t m = message(items, 1, CC_CHANNEL_WEBHOOK);
    cc_message_context_t ctx = context();
    json_t *root = render_webhook(&m, CC_WEBHOOK_TEAMS, &ctx);
    assert_string_equal(json_string_value(json_object_get(root, "type")), "message");
    json_t *att = json_array_get(json_object_get(root, "attachments"), 0);
    assert_string_equal(json_string_value(json_object_get(att, "contentType")),
                        "application/vnd.microsoft.card.adaptive");
    assert_true(json_is_null(json_object_get(att, "contentUrl")));
    json_t *card = json_object_get(att, "content");
    assert_string_equal(json_string_value(json_object_get(card, "type")), "AdaptiveCard");
    assert_string_equal(json_string_value(json_object_get(card, "version")), "1.4");
    assert_string_equal(json_string_value(json_object_get(card, "$schema")),
                        "http://adaptivecards.io/schemas/adaptive-card.json");
    json_t *body = json_object_get(card, "body");
    assert_true(json_array_size(body) >= 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(body, 0), "type")), "TextBlock");
    json_t *container = NULL;
    for (size_t i = 0; i < json_array_size(body) && container == NULL; i++)
        if (strcmp(json_string_value(json_object_get(json_array_get(body, i), "type")), "Container") == 0)
            container = json_array_get(body, i);
    assert_non_null(container);
    char *dump = json_dumps(card, 0);
    assert_non_null(strstr(dump, "C1 (A.B.)"));
    assert_non_null(strstr(dump, "**OVERDUE by 1 working day**"));
    assert_null(strstr(dump, "escalated")); /* no stage day known: nothing said about it */
    assert_null(json_object_get(card, "actions")); /* no public_url */
    free(dump);
    json_decref(root);
}

static void test_slack_payload(void **state)
{
    (void)state;
    cc_message_item_t items[] = {item(7, "C<1>&", "2026-12-28", CC_STATUS_OVERDUE, CC_NOTICE_ESCALATION, "+1wd")};
    cc_message_t m = message(items, 1, CC_CHANNEL_WEBHOOK);
    cc_message_context_t ctx = context();
    json_t *root = render_webhook(&m, CC_WEBHOOK_SLACK, &ctx);
    assert_int_equal(json_object_size(root), 1);
    const char *text = json_string_value(json_object_get(root, "text"));
    assert_non_null(strstr(text, "*C&lt;1&gt;&amp; (A.B.)*"));
    assert_non_null(strstr(text, "OVERDUE by 1 working day"));
    json_decref(root);
}

/* Found by tests/fuzz/fuzz_webhook.c: jansson refuses invalid UTF-8, so a
 * child id or title another system wrote with a stray byte made the Slack
 * payload fail ("out of memory", retried for ever) and silently dropped
 * fields from the generic one (the child's reference). Every format now
 * carries U+FFFD for the bad byte. */
static void test_webhook_payloads_survive_invalid_utf8(void **state)
{
    (void)state;
    cc_message_item_t items[] = {item(7, "C\xff" "1", "2026-12-28", CC_STATUS_OVERDUE, CC_NOTICE_ESCALATION, "+1wd")};
    items[0].title = "Care \xc3 plan";
    items[0].team_name = "East \xed\xa0\x80"; /* a surrogate, not UTF-8 */
    cc_message_t m = message(items, 1, CC_CHANNEL_WEBHOOK);
    cc_message_context_t ctx = context();
    for (int f = CC_WEBHOOK_GENERIC; f <= CC_WEBHOOK_SLACK; f++) {
        json_t *root = render_webhook(&m, (cc_webhook_format_t)f, &ctx);
        char *dump = json_dumps(root, 0);
        assert_non_null(strstr(dump, "C\xef\xbf\xbd" "1"));
        free(dump);
        if (f == CC_WEBHOOK_GENERIC) {
            json_t *first = json_array_get(json_object_get(root, "items"), 0);
            assert_string_equal(json_string_value(json_object_get(json_object_get(first, "child"), "reference")),
                                "C\xef\xbf\xbd" "1");
            assert_string_equal(json_string_value(json_object_get(json_object_get(first, "clock"), "title")),
                                "Care \xef\xbf\xbd plan");
            assert_non_null(json_object_get(first, "summary"));
        }
        json_decref(root);
    }
}

/* Found by tests/fuzz/fuzz_email.c: a sender address with a non-ASCII byte
 * went into the From header as it was, and its domain into the Message-ID:
 * 8-bit headers in a message that claims to be 7-bit. */
static void test_sender_and_message_id_must_be_ascii(void **state)
{
    (void)state;
    cc_message_item_t items[] = {item(7, "C1", "2026-12-28", CC_STATUS_OVERDUE, CC_NOTICE_ESCALATION, "+1wd")};
    cc_message_t m = message(items, 1, CC_CHANNEL_EMAIL);
    cc_message_context_t ctx = context();
    cc_buf_t out;
    char err[256];
    cc_buf_init(&out);
    ctx.from = "c\xc3\xa9@council.example";
    assert_int_equal(cc_message_email(&m, &ctx, &out, err, sizeof(err)), CC_EINVAL);
    assert_non_null(strstr(err, "[smtp] from"));
    ctx.from = "careclock@council.example";
    m.message_id = "<cc-abc-7@\xc3\xa9.example>";
    assert_int_equal(cc_message_email(&m, &ctx, &out, err, sizeof(err)), CC_EINVAL);
    assert_non_null(strstr(err, "Message-ID"));
    assert_int_equal(out.len, 0);
    cc_buf_free(&out);
}

/* Found by tests/fuzz/fuzz_email.c: a staff name or address another system
 * wrote, of any length, went into the To header unfolded (a quoted-string
 * cannot be folded): a line of 1,291 octets, past RFC 5322's 998, which
 * relays refuse. An address longer than RFC 5321's 254 octets is not
 * valid; a long name goes as encoded words, folded. */
static void test_long_names_and_addresses_stay_within_line_limits(void **state)
{
    (void)state;
    cc_message_item_t items[] = {item(7, "C1", "2026-12-28", CC_STATUS_OVERDUE, CC_NOTICE_ESCALATION, "+1wd")};
    cc_message_t m = message(items, 1, CC_CHANNEL_EMAIL);
    cc_message_context_t ctx = context();
    char name[3000], address[400];
    cc_buf_t out;
    char err[256];
    memset(address, 'a', 300);
    strcpy(address + 300, "@council.example");
    m.address = address;
    cc_buf_init(&out);
    assert_int_equal(cc_message_email(&m, &ctx, &out, err, sizeof(err)), CC_EINVAL);
    cc_buf_free(&out);
    m.address = "tm1@council.example";
    for (int spaced = 0; spaced < 2; spaced++) {
        for (size_t i = 0; i < sizeof(name) - 1; i++)
            name[i] = spaced && i % 9 == 8 ? ' ' : 'N';
        name[sizeof(name) - 1] = '\0';
        m.recipient_name = name;
        char *text = render_email(&m, &ctx);
        for (const char *line = text; *line;) {
            const char *end = strstr(line, "\r\n");
            assert_non_null(end);
            if (end - line > 78)
                fail_msg("a line of %td octets: %.60s...", end - line, line);
            line = end + 2;
        }
        assert_non_null(strstr(text, "To: =?UTF-8?B?"));
        free(text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_standard_webhooks_vector),
        cmocka_unit_test(test_secret_decoding),
        cmocka_unit_test(test_message_ids),
        cmocka_unit_test(test_email_headers_and_mime),
        cmocka_unit_test(test_header_injection_is_refused),
        cmocka_unit_test(test_rfc2047_and_quoted_printable),
        cmocka_unit_test(test_encoded_words_are_76_characters_and_split_between_words),
        cmocka_unit_test(test_digest_orders_overdue_first_grouped_by_child),
        cmocka_unit_test(test_privacy_levels),
        cmocka_unit_test(test_generic_payload),
        cmocka_unit_test(test_teams_payload),
        cmocka_unit_test(test_slack_payload),
        cmocka_unit_test(test_webhook_payloads_survive_invalid_utf8),
        cmocka_unit_test(test_sender_and_message_id_must_be_ascii),
        cmocka_unit_test(test_long_names_and_addresses_stay_within_line_limits),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
