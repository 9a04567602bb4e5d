/* Fuzz target: what the dashboard reads from a request itself and writes
 * into its pages (issue 20): the form body parser (cc__web_form), the
 * cookie parser (cc__web_cookie), the check of where a sign-in may lead
 * (cc__web_safe_next), and the HTML escaping every value goes through
 * (cc_html_text, cc_html_path_segment, cc_html_id).
 * Input: NUL-separated fields: a form body, a field name, a Cookie header,
 * a cookie name, a path, a text.
 * Invariants: a field found is no longer than the buffer and holds no NUL;
 * a cookie found is its own bytes; a safe path starts with one '/' and
 * holds no "//", backslash or control character; escaped text holds no
 * '<', '>', '"' or '\'' and every '&' starts a reference; a path segment
 * is only unreserved characters and %XX; an id only [A-Za-z0-9_-]. */
#include "fuzz_common.h"

#include "careclock/buf.h"
#include "careclock/html.h"
#include "http/web_internal.h"

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t f;
    fz_init(&f, data, size);
    const char *body = fz_str(&f), *name = fz_str(&f), *cookie = fz_str(&f), *cname = fz_str(&f),
               *path = fz_str(&f), *text = fz_str(&f);
    char out[64];
    int r = cc__web_form(body, strlen(body), name, out, sizeof(out));
    FZ_CHECK(r >= -1 && r <= 1, "form %d", r);
    if (r == 1)
        FZ_CHECK(strlen(out) < sizeof(out), "a field of %zu bytes", strlen(out));
    if (cname[0] != '\0' && cc__web_cookie(cookie, cname, out, sizeof(out)) == 1)
        FZ_CHECK(strstr(cookie, out) != NULL, "cookie value \"%s\" is not the header's", out);
    if (cc__web_safe_next(path)) {
        FZ_CHECK(path[0] == '/' && path[1] != '/' && strstr(path, "//") == NULL && strchr(path, '\\') == NULL,
                 "unsafe path \"%s\" taken", path);
        for (const unsigned char *p = (const unsigned char *)path; *p; p++)
            FZ_CHECK(*p > 0x20 && *p != 0x7f, "a control character in \"%s\"", path);
    }
    cc_buf_t b;
    cc_buf_init(&b);
    cc_html_text(&b, text);
    const char *s = cc_buf_str(&b);
    FZ_CHECK(strpbrk(s, "<>\"'") == NULL, "markup survived: %s", s);
    for (const char *amp = strchr(s, '&'); amp != NULL; amp = strchr(amp + 1, '&'))
        FZ_CHECK(strncmp(amp, "&amp;", 5) == 0 || strncmp(amp, "&lt;", 4) == 0 || strncmp(amp, "&gt;", 4) == 0 ||
                     strncmp(amp, "&quot;", 6) == 0 || strncmp(amp, "&#39;", 5) == 0,
                 "a bare & in %s", s);
    cc_buf_reset(&b);
    cc_html_path_segment(&b, text);
    for (const char *p = cc_buf_str(&b); *p; p++) {
        if (*p == '%') {
            FZ_CHECK(is_hex(p[1]) && is_hex(p[2]), "a broken escape in %s", cc_buf_str(&b));
            p += 2;
        } else {
            FZ_CHECK(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~", *p) != NULL,
                     "'%c' in a path segment", *p);
        }
    }
    cc_buf_reset(&b);
    cc_html_id(&b, text);
    for (const char *p = cc_buf_str(&b); *p; p++)
        FZ_CHECK(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p) != NULL,
                 "'%c' in an id", *p);
    cc_buf_free(&b);
    fz_free(&f);
    return 0;
}
