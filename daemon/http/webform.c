/* A dashboard request's forms: the cookie and form parsers, the CSRF
 * tokens, the origin check. See daemon/http/webapp.h.
 *
 * Design notes:
 *  - Forms: every POST carries a CSRF token, an HMAC of the session (or,
 *    before signing in, of a pre-session cookie) under a key made at
 *    start; and when the browser says where the form came from (Origin),
 *    it must be here. A POST without either is refused before anything,
 *    and the refusal is audited.
 */
#include "careclock/feeds.h"
#include "careclock/log.h"
#include "http/webapp.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int cc__web_cookie(const char *header, const char *name, char *out, size_t len)
{
    size_t nlen = strlen(name);
    const char *p = header;
    if (header == NULL || len == 0)
        return 0;
    while (*p != '\0') {
        while (*p == ' ' || *p == '\t' || *p == ';')
            p++;
        const char *eq = strchr(p, '='), *end = strchr(p, ';');
        if (end == NULL)
            end = p + strlen(p);
        if (eq != NULL && eq < end && (size_t)(eq - p) == nlen && strncmp(p, name, nlen) == 0) {
            size_t vlen = (size_t)(end - eq - 1);
            if (vlen >= len)
                return 0;
            memcpy(out, eq + 1, vlen);
            out[vlen] = '\0';
            return 1;
        }
        p = end;
    }
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int cc__web_form(const char *body, size_t len, const char *name, char *out, size_t outlen)
{
    size_t nlen = strlen(name), i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && body[end] != '&')
            end++;
        const char *eq = memchr(body + i, '=', end - i);
        size_t klen = eq ? (size_t)(eq - (body + i)) : end - i;
        if (klen == nlen && memcmp(body + i, name, nlen) == 0) {
            size_t o = 0;
            for (size_t k = eq ? (size_t)(eq - body) + 1 : end; k < end; k++) {
                char c = body[k];
                if (c == '+') {
                    c = ' ';
                } else if (c == '%') {
                    if (k + 2 >= end)
                        return -1;
                    int hi = hexval(body[k + 1]), lo = hexval(body[k + 2]);
                    if (hi < 0 || lo < 0)
                        return -1;
                    c = (char)(hi * 16 + lo);
                    k += 2;
                }
                if (c == '\0' || o + 1 >= outlen)
                    return -1;
                out[o++] = c;
            }
            out[o] = '\0';
            return 1;
        }
        i = end + 1;
    }
    return 0;
}

void cc__web_csrf(const unsigned char key[32], const char *subject, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (HMAC(EVP_sha256(), key, 32, (const unsigned char *)subject, strlen(subject), md, &mdlen) == NULL ||
        mdlen != 32) {
        memset(md, 0, sizeof(md));
        mdlen = 32;
    }
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

int cc__web_safe_next(const char *path)
{
    if (path == NULL || path[0] != '/' || path[1] == '/' || strlen(path) > 400)
        return 0;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++)
        if (*p < 0x21 || *p == 0x7f || *p == '\\' || *p == '"' || *p == '<' || *p == '>')
            return 0;
    return strstr(path, "//") == NULL;
}

/* A POST's form field into out: 1, 0 absent, -1 malformed or the body too big. */
int cc__web_form_field(const cc__web_ctx_t *ctx, const char *name, char *out, size_t len)
{
    size_t blen;
    int too_big;
    const char *body = cc_http_request_body(ctx->req, &blen, &too_big);
    if (too_big)
        return -1;
    return cc__web_form(body, blen, name, out, len);
}

/* The origin the browser says a POST came from is ours (or it said none):
 * Sec-Fetch-Site, when sent, must be same-origin; Origin, when sent, must
 * be the public URL's or this host's. */
static int same_origin(const cc__web_ctx_t *ctx)
{
    const char *origin = cc_http_request_header(ctx->req, "Origin");
    const char *host = cc_http_request_header(ctx->req, "Host");
    const char *site = cc_http_request_header(ctx->req, "Sec-Fetch-Site");
    char here[512];
    if (site != NULL && strcmp(site, "same-origin") != 0)
        return 0;
    if (origin == NULL)
        return 1;
    if (strcmp(origin, "null") == 0)
        return 0;
    if (ctx->config->public_url != NULL) {
        /* The public URL's scheme and host (and port), without a path. */
        const char *p = strstr(ctx->config->public_url, "://");
        size_t n = p ? (size_t)(strchr(p + 3, '/') ? strchr(p + 3, '/') - ctx->config->public_url
                                                   : (ptrdiff_t)strlen(ctx->config->public_url))
                     : 0;
        if (n > 0 && strlen(origin) == n && strncasecmp(origin, ctx->config->public_url, n) == 0)
            return 1;
    }
    if (host != NULL) {
        snprintf(here, sizeof(here), "http://%s", host);
        if (strcasecmp(origin, here) == 0)
            return 1;
        snprintf(here, sizeof(here), "https://%s", host);
        if (strcasecmp(origin, here) == 0)
            return 1;
    }
    return 0;
}

/* A POST's CSRF token matches expected, and its origin is ours. */
int cc__web_csrf_ok(const cc__web_ctx_t *ctx, const char *expected)
{
    char got[80];
    if (expected == NULL || expected[0] == '\0' || !same_origin(ctx))
        return 0;
    if (cc__web_form_field(ctx, "csrf", got, sizeof(got)) != 1 || strlen(got) != 64)
        return 0;
    return CRYPTO_memcmp(got, expected, 64) == 0;
}

void cc__web_csrf_refused(cc__web_ctx_t *ctx, const cc__who_t *w)
{
    cc_web_audit_t a = {.staff_id = w && w->known ? w->p.id : NULL, .action = "post",
                        .target = cc_http_request_path(ctx->req), .outcome = "refused",
                        .detail = "no valid form token, or from another site", .client = cc_http_request_client(ctx->req),
                        .via = w && w->known ? w->via : NULL};
    cc_web_audit(ctx->store, &a, ctx->now);
    cc__web_logf(ctx, CC_LOG_WARNING, "dashboard: a POST to %s without a valid form token (or from another site) was refused",
          cc_http_request_path(ctx->req));
    cc__web_message(ctx, w, 403, "This form has expired",
            "The form was out of date or did not come from careclock. Go back, reload the page and try again.");
}

/* The anonymous forms' token: the pre-session cookie (made when absent). */
void cc__web_pre_csrf(cc__web_ctx_t *ctx, char out[65], int make)
{
    char pre[80], subject[96];
    if (!cc__web_cookie(cc_http_request_header(ctx->req, "Cookie"), PRE_COOKIE, pre, sizeof(pre)) ||
        strlen(pre) != 64) {
        if (!make || cc_feeds_token_new(pre) != 0) {
            out[0] = '\0';
            return;
        }
        cc__web_set_cookie(ctx, PRE_COOKIE, pre, 3600);
    }
    snprintf(subject, sizeof(subject), "a:%s", pre);
    cc__web_csrf(ctx->key, subject, out);
}
