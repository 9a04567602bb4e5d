/* Fuzz target: building an email (cc_message_email: headers, RFC 2047
 * encoded words, quoted-printable parts) from hostile names, ids, titles
 * and addresses, and the header encoder and quoted-printable encoder alone.
 * Invariants, for a message that is built: 7-bit, CRLF line ends only, no
 * line over 998 octets (RFC 5322), and a header block holding exactly the
 * headers careclock writes, each once: nothing in the data can add a
 * header (Bcc:, a second To:) or end the header block early. A message
 * refused says why. Encoded words decode back to the value, and
 * quoted-printable decodes back to the text. */
#include "fuzz_message.h"

#include "careclock/error.h"
#include "careclock/holidays.h"

static cc_calendar_t *cal;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[512];
    (void)argc;
    (void)argv;
    if (cc_holidays_open(FZ_HOLIDAYS, "england-and-wales", NULL, 0, &cal, err, sizeof(err)) != 0)
        abort();
    return 0;
}

static const char *const HEADERS[] = {"Date", "From", "To", "Subject", "Message-ID", "MIME-Version",
                                      "Auto-Submitted", "X-Auto-Response-Suppress", "Content-Type"};
#define NHEADERS (sizeof(HEADERS) / sizeof(HEADERS[0]))

static void check_email(const char *msg, size_t len)
{
    int seen[NHEADERS] = {0};
    int in_headers = 1;
    size_t i = 0;
    while (i < len) {
        const char *line = msg + i;
        const char *cr = memchr(line, '\r', len - i);
        FZ_CHECK(cr != NULL && (size_t)(cr - msg) + 1 < len && cr[1] == '\n', "a line without CRLF at %zu", i);
        size_t n = (size_t)(cr - line);
        FZ_CHECK(n <= 998, "a line of %zu octets", n);
        for (size_t k = 0; k < n; k++) {
            unsigned char c = (unsigned char)line[k];
            FZ_CHECK(c < 0x80 && c != '\n' && c != '\0', "octet 0x%02x in a line", c);
        }
        if (in_headers) {
            if (n == 0) {
                in_headers = 0;
            } else if (line[0] != ' ' && line[0] != '\t') {
                const char *colon = memchr(line, ':', n);
                FZ_CHECK(colon != NULL, "a header line without a name: %.*s", (int)n, line);
                size_t h;
                for (h = 0; h < NHEADERS; h++)
                    if ((size_t)(colon - line) == strlen(HEADERS[h]) && memcmp(line, HEADERS[h], strlen(HEADERS[h])) == 0)
                        break;
                FZ_CHECK(h < NHEADERS, "an unexpected header: %.*s", (int)(colon - line), line);
                FZ_CHECK(seen[h]++ == 0, "header %s twice", HEADERS[h]);
            }
        }
        i += n + 2;
    }
    for (size_t h = 0; h < NHEADERS; h++)
        FZ_CHECK(seen[h] == 1, "header %s missing", HEADERS[h]);
}

static int b64(int c)
{
    const char *s = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = c ? strchr(s, c) : NULL;
    return p ? (int)(p - s) : -1;
}

/* Decode "=?UTF-8?B?...?=" words separated by CRLF SP back to bytes. */
static void check_encoded(const char *value)
{
    cc_buf_t out, dec;
    cc_buf_init(&out);
    cc_buf_init(&dec);
    FZ_CHECK(cc_message_encode_header(value, strlen("Subject: "), &out) == 0, "encode failed");
    const char *p = cc_buf_str(&out);
    int ascii = 1;
    for (const unsigned char *v = (const unsigned char *)value; *v; v++)
        ascii &= *v < 0x80;
    if (ascii) {
        FZ_CHECK(strcmp(p, value) == 0, "ASCII value changed");
    } else {
        while (*p) {
            FZ_CHECK(strncmp(p, "=?UTF-8?B?", 10) == 0, "not an encoded word: %s", p);
            const char *end = strstr(p + 10, "?=");
            FZ_CHECK(end != NULL && end - p + 2 <= 75, "encoded word of %td characters", end ? end - p + 2 : -1);
            /* RFC 2047: a line with encoded words is at most 76 characters,
             * "Subject: " on the first, the folding space on the others */
            FZ_CHECK(end - p + 2 + (p == cc_buf_str(&out) ? 9 : 1) <= 76, "a line of more than 76 characters");
            const char *q = p + 10;
            while (q + 4 <= end) {
                int a = b64(q[0]), b = b64(q[1]), c = q[2] == '=' ? 0 : b64(q[2]), d = q[3] == '=' ? 0 : b64(q[3]);
                FZ_CHECK(a >= 0 && b >= 0 && c >= 0 && d >= 0, "bad base64");
                unsigned v = (unsigned)(a << 18 | b << 12 | c << 6 | d);
                char bytes[3] = {(char)(v >> 16), (char)(v >> 8 & 255), (char)(v & 255)};
                cc_buf_append(&dec, bytes, q[2] == '=' ? 1 : q[3] == '=' ? 2 : 3);
                q += 4;
            }
            FZ_CHECK(q == end, "base64 of odd length");
            p = end + 2;
            if (*p) {
                FZ_CHECK(strncmp(p, "\r\n ", 3) == 0, "encoded words not folded with CRLF SP");
                p += 3;
            }
        }
        FZ_CHECK(strcmp(cc_buf_str(&dec), value) == 0, "encoded words do not decode to the value");
    }
    cc_buf_free(&out);
    cc_buf_free(&dec);
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static void check_qp(const char *text, size_t len)
{
    cc_buf_t out, dec, want;
    cc_buf_init(&out);
    cc_buf_init(&dec);
    cc_buf_init(&want);
    FZ_CHECK(cc_message_qp(text, len, &out) == 0, "qp failed");
    /* What it should decode to: LF and CRLF both become CRLF. */
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')
            continue;
        if (text[i] == '\n')
            cc_buf_puts(&want, "\r\n");
        else
            cc_buf_append(&want, text + i, 1);
    }
    const char *p = out.data ? out.data : "";
    size_t n = out.len, col = 0;
    for (size_t i = 0; i < n;) {
        if (p[i] == '\r') {
            FZ_CHECK(i + 1 < n && p[i + 1] == '\n', "bare CR in quoted-printable");
            cc_buf_puts(&dec, "\r\n");
            i += 2;
            col = 0;
            continue;
        }
        FZ_CHECK((unsigned char)p[i] < 0x80 && p[i] != '\n', "octet 0x%02x in quoted-printable", (unsigned char)p[i]);
        if (p[i] == '=') {
            if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n') { /* soft break */
                FZ_CHECK(col + 1 <= 76, "a soft-broken line of %zu", col + 1);
                i += 3;
                col = 0;
                continue;
            }
            FZ_CHECK(i + 2 < n && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0, "bad escape");
            char c = (char)(hexval(p[i + 1]) << 4 | hexval(p[i + 2]));
            cc_buf_append(&dec, &c, 1);
            i += 3;
            col += 3;
        } else {
            cc_buf_append(&dec, p + i, 1);
            i++;
            col++;
        }
        FZ_CHECK(col <= 76, "a quoted-printable line of %zu", col);
    }
    FZ_CHECK(dec.len == want.len && (dec.len == 0 || memcmp(dec.data, want.data, dec.len) == 0),
             "quoted-printable does not decode to the text");
    cc_buf_free(&out);
    cc_buf_free(&dec);
    cc_buf_free(&want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t f;
    fz_init(&f, data, size);
    fz_message_t fm;
    fz_message(&f, cal, &fm);
    cc_buf_t out;
    char err[512];
    cc_buf_init(&out);
    err[0] = '\0';
    int rc = cc_message_email(&fm.m, &fm.ctx, &out, err, sizeof(err));
    FZ_CHECK(rc == 0 || rc == CC_EINVAL, "rc %d", rc);
    if (rc == 0)
        check_email(out.data, out.len);
    else
        FZ_CHECK(err[0] != '\0' && out.len == 0, "refused without a reason, or with output");
    cc_buf_free(&out);
    if (fm.m.recipient_name)
        check_encoded(fm.m.recipient_name);
    if (fm.m.nitems > 0 && fm.items[0].title)
        check_qp(fm.items[0].title, strlen(fm.items[0].title));
    fz_free(&f);
    return 0;
}
