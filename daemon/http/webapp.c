/* A dashboard request's work, off the loop. See daemon/http/web_internal.h
 * and docs/dashboard.md.
 *
 * Design notes:
 *  - Who is asking comes first, for every request but the sign-in pages
 *    and the static files (web.c): a session cookie (auth = email) or the
 *    proxy's identity header from a proxy address (auth = proxy). A request
 *    that carries the header from any other address is refused (403) and
 *    logged and audited, whether or not proxy sign-in is on.
 *  - What they may see is worked out from the database on each request,
 *    never from the session: a member of staff sees the children they are
 *    worker or IRO of and the children of the teams they manage or are
 *    service manager of (whatever their role says, as a staff feed does);
 *    a viewer sees everything, read-only. Every page and the CSV check it;
 *    anything else is 403 (a child that does not exist is 404 only for
 *    those who may see every child, so that 404 tells nobody else
 *    anything).
 *  - Forms: every POST carries a CSRF token, an HMAC of the session (or,
 *    before signing in, of a pre-session cookie) under a key made at
 *    start; and when the browser says where the form came from (Origin),
 *    it must be here. A POST without either is refused before anything.
 *  - Every POST is one transaction with its audit row (sessions.c).
 *  - Pages never cache (Cache-Control: no-store) and forbid framing and
 *    scripts (Content-Security-Policy); their addresses go to no other site
 *    (Referrer-Policy: same-origin).
 */
#include "careclock/clocks.h"
#include "careclock/email.h"
#include "careclock/engine.h"
#include "careclock/error.h"
#include "careclock/evaluate.h"
#include "careclock/events.h"
#include "careclock/html.h"
#include "careclock/log.h"
#include "careclock/netaddr.h"
#include "careclock/outbox.h"
#include "careclock/privacy.h"
#include "careclock/time.h"
#include "http/pages.h"
#include "http/web_internal.h"
#include "util/grow.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SESSION_COOKIE "cc_session"
#define PRE_COOKIE "cc_pre"
#define SIGNIN_PER_15_MINUTES 5
#define WORK_LIMIT 300
#define PAGE_GROUPS 2000
#define FIELD_MAX 512

/* ---- small pieces ----------------------------------------------------------- */

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

int cc__webapp_needs_figures(const char *path)
{
    return path != NULL && (strncmp(path, "/teams/", 7) == 0 || strcmp(path, "/service") == 0 ||
                            strncmp(path, "/timeliness", 11) == 0 || strcmp(path, "/my-work") == 0);
}

/* ---- answers ---------------------------------------------------------------- */

static const char *method(const cc__web_ctx_t *ctx)
{
    return cc_http_request_method(ctx->req);
}

static int is_get(const cc__web_ctx_t *ctx)
{
    return strcmp(method(ctx), "GET") == 0 || strcmp(method(ctx), "HEAD") == 0;
}

static int is_post(const cc__web_ctx_t *ctx)
{
    return strcmp(method(ctx), "POST") == 0;
}

static void header(cc__web_ctx_t *ctx, const char *name, const char *value)
{
    cc_buf_printf(&ctx->headers, "%s: %s\n", name, value);
}

/* The body buffer becomes the response's. */
static void answer(cc__web_ctx_t *ctx, unsigned status, const char *type, cc_buf_t *body)
{
    ctx->resp.status = body->failed ? 500 : status;
    ctx->resp.content_type = type;
    ctx->resp.len = body->len;
    ctx->resp.body = body->data; /* the buffer's bytes move to the response */
    body->data = NULL;
    body->len = body->cap = 0;
}

static void html(cc__web_ctx_t *ctx, unsigned status, cc_buf_t *body)
{
    header(ctx, "Cache-Control", "no-store");
    header(ctx, "Content-Security-Policy",
           "default-src 'none'; style-src 'self'; img-src 'self'; font-src 'self'; form-action 'self'; "
           "frame-ancestors 'none'; base-uri 'none'");
    header(ctx, "X-Frame-Options", "DENY");
    /* same-origin, not no-referrer: under no-referrer browsers send
     * "Origin: null" with a form, which same_origin() must refuse. Page
     * addresses (child references) never leave for another site either way. */
    header(ctx, "Referrer-Policy", "same-origin");
    answer(ctx, status, "text/html; charset=utf-8", body);
}

static void redirect(cc__web_ctx_t *ctx, const char *location)
{
    cc_buf_t body;
    cc_buf_init(&body);
    header(ctx, "Location", location);
    header(ctx, "Cache-Control", "no-store");
    cc_buf_puts(&body, "See ");
    cc_buf_puts(&body, location);
    cc_buf_puts(&body, "\n");
    answer(ctx, 303, "text/plain; charset=utf-8", &body);
}

static void logf_(cc__web_ctx_t *ctx, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void logf_(cc__web_ctx_t *ctx, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->log, sizeof(ctx->log), fmt, ap);
    va_end(ap);
    ctx->log_level = level;
}

static int https(const cc__web_ctx_t *ctx)
{
    return ctx->config->public_url != NULL && strncmp(ctx->config->public_url, "https://", 8) == 0;
}

static void set_cookie(cc__web_ctx_t *ctx, const char *name, const char *value, long max_age)
{
    char line[512];
    snprintf(line, sizeof(line), "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%ld%s", name, value, max_age,
             https(ctx) ? "; Secure" : "");
    header(ctx, "Set-Cookie", line);
}

/* ---- who is asking ---------------------------------------------------------- */

typedef struct {
    int known;
    cc_store_person_t p;
    const char *via;                 /* "email" or "proxy" */
    char session[CC_SESSION_TOKEN_LEN + 1];
    char csrf[65];
    char **teams;                    /* managed (team manager) */
    size_t nteams;
    char **steams;                   /* service manager of */
    size_t nsteams;
    int viewer;
} who_t;

static void who_free(who_t *w)
{
    cc_store_free_ids(w->teams, w->nteams);
    cc_store_free_ids(w->steams, w->nsteams);
    OPENSSL_cleanse(w->session, sizeof(w->session));
    memset(w, 0, sizeof(*w));
}

static int add_id(char ***ids, size_t *n, const char *id)
{
    char **grown = realloc(*ids, (*n + 1) * sizeof(char *));
    if (grown == NULL)
        return CC_ENOMEM;
    *ids = grown;
    if ((grown[*n] = strdup(id)) == NULL)
        return CC_ENOMEM;
    (*n)++;
    return 0;
}

static int team_of_row(void *data, const char *const *cols, int ncols)
{
    who_t *w = data;
    (void)ncols;
    int how = cols[2] ? atoi(cols[2]) : 0, rc = 0;
    if (how & 1)
        rc = add_id(&w->teams, &w->nteams, cols[0]);
    if (rc == 0 && (how & 2))
        rc = add_id(&w->steams, &w->nsteams, cols[0]);
    return rc;
}

static int who_load(cc__web_ctx_t *ctx, who_t *w, const char *staff_id, const char *via)
{
    int rc = cc_store_staff_get(ctx->store, staff_id, &w->p);
    if (rc != 1)
        return rc;
    w->known = 1;
    w->via = via;
    w->viewer = strcmp(w->p.role, "viewer") == 0;
    return cc_store_staff_teams(ctx->store, staff_id, team_of_row, w) == 0 ? 1 : CC_EDB;
}

static int in_list(char **ids, size_t n, const char *id)
{
    for (size_t i = 0; id != NULL && i < n; i++)
        if (strcmp(ids[i], id) == 0)
            return 1;
    return 0;
}

static int may_see_team(const who_t *w, const char *team)
{
    return w->viewer || in_list(w->teams, w->nteams, team) || in_list(w->steams, w->nsteams, team);
}

static const char *role_words(const who_t *w)
{
    static const struct {
        const char *role, *words;
    } r[] = {{"worker", "social worker"},         {"team_manager", "team manager"},
             {"service_manager", "service manager"}, {"iro", "Independent Reviewing Officer"},
             {"viewer", "viewer (read-only)"}};
    for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++)
        if (strcmp(w->p.role, r[i].role) == 0)
            return r[i].words;
    return w->p.role;
}

static void frame(const cc__web_ctx_t *ctx, const who_t *w, cc__page_t *p, const char *title, const char *nav)
{
    memset(p, 0, sizeof(*p));
    p->title = title;
    p->nav = nav;
    if (w == NULL || !w->known)
        return;
    p->user = w->p.name[0] ? w->p.name : w->p.id;
    p->user_role = role_words(w);
    p->csrf = w->csrf;
    p->email_signout = strcmp(w->via, "email") == 0;
    p->proxy_signout = ctx->config->web_proxy_signout;
    p->team_id = w->nteams > 0 ? w->teams[0] : NULL;
    p->nav_service = w->viewer || w->nsteams > 0;
    p->nav_timeliness = w->viewer || w->nteams > 0 || w->nsteams > 0;
}

static void message(cc__web_ctx_t *ctx, const who_t *w, unsigned status, const char *heading, const char *text)
{
    cc__page_t p;
    cc_buf_t body;
    cc_buf_init(&body);
    frame(ctx, w, &p, heading, NULL);
    cc__page_message(&body, &p, heading, text, w && w->known ? "/my-work" : NULL, "Go to My work");
    html(ctx, status, &body);
}

static void forbidden(cc__web_ctx_t *ctx, const who_t *w, const char *what)
{
    logf_(ctx, CC_LOG_NOTICE, "dashboard: %s %s refused to %s (%s): not theirs to see", method(ctx),
          cc_http_request_path(ctx->req), w && w->known ? w->p.id : "nobody", what);
    message(ctx, w, 403, "You cannot see this page",
            "This page is not one of yours: careclock shows each person the children and teams they hold, "
            "review or manage. If you should see it, ask whoever looks after careclock at your council.");
}

static void not_found(cc__web_ctx_t *ctx, const who_t *w)
{
    message(ctx, w, 404, "Page not found", "There is no such page. Check the address.");
}

/* A proxy's identity header from an address that is not a proxy's. */
static int header_from_elsewhere(cc__web_ctx_t *ctx)
{
    const cc_config_t *c = ctx->config;
    if (cc_http_request_header(ctx->req, c->web_proxy_header) == NULL)
        return 0;
    const struct sockaddr *peer = cc_http_request_peer(ctx->req);
    for (size_t i = 0; i < c->nweb_proxies; i++)
        if (cc_netaddr_match(&c->web_proxies[i], peer))
            return 0;
    return 1;
}

/* Who is asking into *w: 1 known, 0 not signed in, < 0 an error. */
static int identify(cc__web_ctx_t *ctx, who_t *w)
{
    const cc_config_t *c = ctx->config;
    const char *client = cc_http_request_client(ctx->req);
    memset(w, 0, sizeof(*w));
    if (c->web_auth == CC_WEB_AUTH_PROXY) {
        const char *value = cc_http_request_header(ctx->req, c->web_proxy_header);
        if (value == NULL || value[0] == '\0')
            return 0;
        cc_store_person_t found;
        int rc = c->web_proxy_by_id ? cc_store_staff_get(ctx->store, value, &found)
                                    : cc_store_staff_by_email(ctx->store, value, &found);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            logf_(ctx, CC_LOG_WARNING, "dashboard: the proxy named someone careclock does not know (from %s)", client);
            return 0;
        }
        rc = who_load(ctx, w, found.id, "proxy");
        if (rc == 1) {
            char subject[128];
            snprintf(subject, sizeof(subject), "p:%s", w->p.id);
            cc__web_csrf(ctx->key, subject, w->csrf);
        }
        return rc;
    }
    char token[CC_SESSION_TOKEN_LEN + 1];
    cc_session_t s;
    if (!cc__web_cookie(cc_http_request_header(ctx->req, "Cookie"), SESSION_COOKIE, token, sizeof(token)))
        return 0;
    int rc = cc_session_get(ctx->store, token, ctx->now, c->web_idle_minutes, client, &s);
    if (rc != 1) {
        OPENSSL_cleanse(token, sizeof(token));
        return rc;
    }
    rc = who_load(ctx, w, s.staff_id, "email");
    if (rc == 1) {
        char subject[CC_SESSION_TOKEN_LEN + 3];
        snprintf(w->session, sizeof(w->session), "%s", token);
        snprintf(subject, sizeof(subject), "s:%s", token);
        cc__web_csrf(ctx->key, subject, w->csrf);
    }
    OPENSSL_cleanse(token, sizeof(token));
    return rc;
}

/* A POST's form field into out: 1, 0 absent, -1 malformed or the body too big. */
static int form_field(const cc__web_ctx_t *ctx, const char *name, char *out, size_t len)
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
static int csrf_ok(const cc__web_ctx_t *ctx, const char *expected)
{
    char got[80];
    if (expected == NULL || expected[0] == '\0' || !same_origin(ctx))
        return 0;
    if (form_field(ctx, "csrf", got, sizeof(got)) != 1 || strlen(got) != 64)
        return 0;
    return CRYPTO_memcmp(got, expected, 64) == 0;
}

static void csrf_refused(cc__web_ctx_t *ctx, const who_t *w)
{
    cc_web_audit_t a = {.staff_id = w && w->known ? w->p.id : NULL, .action = "post",
                        .target = cc_http_request_path(ctx->req), .outcome = "refused",
                        .detail = "no valid form token, or from another site", .client = cc_http_request_client(ctx->req),
                        .via = w && w->known ? w->via : NULL};
    cc_web_audit(ctx->store, &a, ctx->now);
    logf_(ctx, CC_LOG_WARNING, "dashboard: a POST to %s without a valid form token (or from another site) was refused",
          cc_http_request_path(ctx->req));
    message(ctx, w, 403, "This form has expired",
            "The form was out of date or did not come from careclock. Go back, reload the page and try again.");
}

/* The anonymous forms' token: the pre-session cookie (made when absent). */
static void pre_csrf(cc__web_ctx_t *ctx, char out[65], int make)
{
    char pre[80], subject[96];
    if (!cc__web_cookie(cc_http_request_header(ctx->req, "Cookie"), PRE_COOKIE, pre, sizeof(pre)) ||
        strlen(pre) != 64) {
        if (!make || cc_feeds_token_new(pre) != 0) {
            out[0] = '\0';
            return;
        }
        set_cookie(ctx, PRE_COOKIE, pre, 3600);
    }
    snprintf(subject, sizeof(subject), "a:%s", pre);
    cc__web_csrf(ctx->key, subject, out);
}

/* ---- signing in --------------------------------------------------------------- */

static void link_base(const cc__web_ctx_t *ctx, char *out, size_t len)
{
    const char *pub = ctx->config->public_url;
    if (pub != NULL) {
        size_t n = strlen(pub);
        while (n > 0 && pub[n - 1] == '/')
            n--;
        snprintf(out, len, "%.*s", (int)n, pub);
    } else {
        snprintf(out, len, "http://%s", ctx->snap->listen ? ctx->snap->listen : ctx->config->listen);
    }
}

/* The sign-in e-mail: plain ASCII text, so 7-bit, no encoding needed. */
static void signin_mail(cc__web_ctx_t *ctx, const char *to, const char *token)
{
    char base[512], date[64], id[40];
    unsigned char r[12];
    const char *from = ctx->config->smtp_from ? ctx->config->smtp_from : "careclock@localhost";
    const char *domain = strchr(from, '@') ? strchr(from, '@') + 1 : "localhost";
    struct tm tm;
    time_t now = ctx->now;
    link_base(ctx, base, sizeof(base));
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    if (RAND_bytes(r, sizeof(r)) != 1)
        memset(r, 0, sizeof(r));
    for (size_t i = 0; i < sizeof(r); i++)
        snprintf(id + 2 * i, 3, "%02x", r[i]);
    cc_buf_t *m = &ctx->mail;
    cc_buf_printf(m, "From: careclock <%s>\r\nTo: <%s>\r\nSubject: Sign in to careclock\r\nDate: %s\r\n"
                     "Message-ID: <signin.%s@%s>\r\nMIME-Version: 1.0\r\n"
                     "Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n"
                     "Auto-Submitted: auto-generated\r\n\r\n",
                  from, to, date, id, domain);
    cc_buf_printf(m,
                  "Someone (we hope you) asked to sign in to careclock with this address.\r\n\r\n"
                  "To sign in, open this link:\r\n\r\n%s/sign-in/%s\r\n\r\n"
                  "The link works once, for %d minutes. If you did not ask to sign in, you can ignore\r\n"
                  "this e-mail: nobody can sign in without the link.\r\n",
                  base, token, ctx->config->web_signin_minutes);
    ctx->mail_to = strdup(to);
}

static void signin_form(cc__web_ctx_t *ctx, unsigned status, const char *email, const char *error, const char *next,
                        int signed_out)
{
    cc__page_t p;
    cc_buf_t body;
    char csrf[65];
    cc_buf_init(&body);
    frame(ctx, NULL, &p, error ? "Error: Sign in" : "Sign in", NULL);
    if (ctx->config->web_auth == CC_WEB_AUTH_PROXY) {
        cc__page_proxy_signin(&body, &p,
                              "careclock signs you in through your council's sign-on. Open careclock through its "
                              "usual address; if this page comes back, ask whoever looks after careclock at your "
                              "council to add you.");
        html(ctx, 403, &body);
        return;
    }
    pre_csrf(ctx, csrf, 1);
    cc__signin_t s = {.csrf = csrf, .next = next, .email = email, .error = error,
                      .minutes = ctx->config->web_signin_minutes,
                      .unavailable = cc_config_email_unavailable(ctx->config), .signed_out = signed_out};
    cc__page_signin(&body, &p, &s);
    html(ctx, status, &body);
}

static void signin_request(cc__web_ctx_t *ctx)
{
    char csrf[65], email[300], next[FIELD_MAX];
    const char *client = cc_http_request_client(ctx->req);
    pre_csrf(ctx, csrf, 0);
    if (!csrf_ok(ctx, csrf)) {
        csrf_refused(ctx, NULL);
        return;
    }
    if (form_field(ctx, "next", next, sizeof(next)) != 1 || !cc__web_safe_next(next))
        next[0] = '\0';
    int got = form_field(ctx, "email", email, sizeof(email));
    /* Spaces around a pasted address are not part of it. */
    char *e = email;
    if (got == 1) {
        while (*e == ' ')
            e++;
        size_t n = strlen(e);
        while (n > 0 && e[n - 1] == ' ')
            e[--n] = '\0';
    }
    if (got != 1 || e[0] == '\0') {
        signin_form(ctx, 400, "", "Enter your work e-mail address", next, 0);
        return;
    }
    if (!cc_email_valid(e)) {
        signin_form(ctx, 400, e, "Enter an e-mail address in the correct format, like name@council.example", next, 0);
        return;
    }
    if (cc_config_email_unavailable(ctx->config) != NULL) {
        signin_form(ctx, 503, e, NULL, next, 0);
        return;
    }
    cc_store_person_t who;
    size_t recent = 0;
    int rc = cc_store_staff_by_email(ctx->store, e, &who);
    cc_web_audit_t a = {.action = "signin_request", .client = client, .via = "email"};
    if (rc < 0) {
        message(ctx, NULL, 500, "Something went wrong", "careclock could not read its database. Try again later.");
        return;
    }
    if (rc == 0 || who.email[0] == '\0') {
        a.outcome = "unknown_address";
        a.detail = "no member of staff has this address: nothing sent";
        cc_web_audit(ctx->store, &a, ctx->now);
        logf_(ctx, CC_LOG_NOTICE, "dashboard: a sign-in link was asked for an address careclock does not know (from %s)",
              client);
    } else if (cc_signin_count_since(ctx->store, who.id, ctx->now - 15 * 60, &recent) != 0 ||
               recent >= SIGNIN_PER_15_MINUTES) {
        a.staff_id = who.id;
        a.outcome = "rate_limited";
        a.detail = "5 links in 15 minutes already: nothing sent";
        cc_web_audit(ctx->store, &a, ctx->now);
        logf_(ctx, CC_LOG_WARNING, "dashboard: sign-in links for %s are limited: %zu in 15 minutes (from %s)", who.id,
              recent, client);
    } else {
        char token[CC_SESSION_TOKEN_LEN + 1];
        a.staff_id = who.id;
        a.target = who.id;
        a.outcome = "sent";
        if (cc_signin_create(ctx->store, who.id, ctx->now, ctx->config->web_signin_minutes, next, &a, token) == 0) {
            signin_mail(ctx, who.email, token);
            logf_(ctx, CC_LOG_INFO, "dashboard: a sign-in link for %s is being sent (asked from %s)", who.id, client);
        } else {
            logf_(ctx, CC_LOG_ERR, "dashboard: a sign-in link for %s could not be made: %s", who.id,
                  cc_store_errmsg(ctx->store, NULL));
        }
        OPENSSL_cleanse(token, sizeof(token));
    }
    cc__page_t p;
    cc_buf_t body;
    cc_buf_init(&body);
    frame(ctx, NULL, &p, "Check your e-mail", NULL);
    cc__page_signin_sent(&body, &p, e, ctx->config->web_signin_minutes);
    html(ctx, 200, &body);
}

static void signin_link(cc__web_ctx_t *ctx, const char *token)
{
    char csrf[65];
    const char *client = cc_http_request_client(ctx->req);
    if (is_get(ctx)) {
        cc__page_t p;
        cc_buf_t body;
        cc_buf_init(&body);
        pre_csrf(ctx, csrf, 1);
        frame(ctx, NULL, &p, "Sign in", NULL);
        cc__page_signin_confirm(&body, &p, token, csrf);
        html(ctx, 200, &body);
        return;
    }
    pre_csrf(ctx, csrf, 0);
    if (!csrf_ok(ctx, csrf)) {
        csrf_refused(ctx, NULL);
        return;
    }
    cc_signin_result_t result;
    char session[CC_SESSION_TOKEN_LEN + 1], staff[CC_ID_MAX + 1], next[FIELD_MAX];
    int rc = cc_signin_redeem(ctx->store, token, ctx->now, ctx->config->web_session_hours, client, &result, session,
                              staff, next, sizeof(next));
    if (rc != 0) {
        message(ctx, NULL, 500, "Something went wrong", "careclock could not sign you in. Try again later.");
        return;
    }
    if (result != CC_SIGNIN_OK) {
        logf_(ctx, CC_LOG_NOTICE, "dashboard: a sign-in link was refused: %s (from %s)",
              result == CC_SIGNIN_USED ? "used already" : result == CC_SIGNIN_EXPIRED ? "expired" : "unknown", client);
        cc__page_t p;
        cc_buf_t body;
        cc_buf_init(&body);
        frame(ctx, NULL, &p, "This sign-in link does not work", NULL);
        char text[256];
        snprintf(text, sizeof(text),
                 "It may have been used already, or be more than %d minutes old. Ask for a new link.",
                 ctx->config->web_signin_minutes);
        cc__page_message(&body, &p, "This sign-in link does not work", text, "/sign-in", "Ask for a new link");
        html(ctx, 403, &body);
        return;
    }
    logf_(ctx, CC_LOG_INFO, "dashboard: %s signed in (from %s)", staff, client);
    set_cookie(ctx, SESSION_COOKIE, session, (long)ctx->config->web_session_hours * 3600);
    set_cookie(ctx, PRE_COOKIE, "", 0);
    OPENSSL_cleanse(session, sizeof(session));
    redirect(ctx, next[0] && cc__web_safe_next(next) ? next : "/my-work");
}

static void sign_out(cc__web_ctx_t *ctx, who_t *w)
{
    if (!w->known || strcmp(w->via, "email") != 0 || !csrf_ok(ctx, w->csrf)) {
        csrf_refused(ctx, w);
        return;
    }
    if (cc_session_end(ctx->store, w->session, ctx->now, cc_http_request_client(ctx->req)) != 0) {
        message(ctx, w, 500, "Something went wrong", "careclock could not sign you out. Try again.");
        return;
    }
    logf_(ctx, CC_LOG_INFO, "dashboard: %s signed out", w->p.id);
    set_cookie(ctx, SESSION_COOKIE, "", 0);
    redirect(ctx, "/sign-in?signed-out=1");
}

/* ---- my work --------------------------------------------------------------------- */

typedef struct {
    cc__work_item_t *items;
    size_t n, cap;
    cc_buf_t strings;   /* not used: items own their strings */
    const cc__web_ctx_t *ctx;
    const char *worker; /* only these (NULL any) */
    int failed;
} items_t;

static int status_rank(const char *s)
{
    return strcmp(s, "data_error") == 0 ? 0 : strcmp(s, "overdue") == 0 ? 1 : strcmp(s, "due_soon") == 0 ? 2 : 3;
}

static char *dup_or_null(const char *s, int *failed)
{
    char *c = s ? strdup(s) : NULL;
    if (s != NULL && c == NULL)
        *failed = 1;
    return c;
}

static const char *shown_label(const cc_config_t *c, const char *initials, const char *full_name)
{
    return cc_privacy_shown(c->privacy, initials, full_name, 1);
}

static long working_days(const cc__web_ctx_t *ctx, const char *status, const char *due_iso)
{
    cc_date_t due;
    int wd = 0;
    if (due_iso == NULL || cc_date_parse(due_iso, &due) != 0)
        return -1;
    const cc_calendar_t *cal = ctx->snap->env.cal;
    if (strcmp(status, "overdue") == 0)
        cc_calendar_working_days_between(cal, due, ctx->today, &wd);
    else if (strcmp(status, "due_soon") == 0)
        cc_calendar_working_days_between(cal, ctx->today, due, &wd);
    else
        return -1;
    return wd;
}

static int item_row(void *arg, const cc_clock_row_t *r)
{
    items_t *it = arg;
    if (cc__grow(&it->items, &it->cap, it->n + 1, sizeof(*it->items), 32) != 0)
        return CC_ENOMEM;
    cc__work_item_t *i = &it->items[it->n++];
    memset(i, 0, sizeof(*i));
    i->child_id = dup_or_null(r->child_id, &it->failed);
    i->child_label = dup_or_null(shown_label(it->ctx->config, r->initials, r->full_name), &it->failed);
    i->rule_id = dup_or_null(r->rule_id, &it->failed);
    i->title = dup_or_null(r->title, &it->failed);
    i->status = dup_or_null(r->status, &it->failed);
    i->due_date = dup_or_null(r->due_date, &it->failed);
    i->reason = dup_or_null(r->reason, &it->failed);
    i->note = dup_or_null(r->worker_id, &it->failed); /* the worker, for grouping */
    i->seq = r->seq;
    i->working_days = working_days(it->ctx, r->status ? r->status : "", r->due_date);
    return it->failed ? CC_ENOMEM : 0;
}

static void items_free(items_t *it)
{
    for (size_t k = 0; k < it->n; k++) {
        cc__work_item_t *i = &it->items[k];
        free((char *)i->child_id);
        free((char *)i->child_label);
        free((char *)i->rule_id);
        free((char *)i->title);
        free((char *)i->status);
        free((char *)i->due_date);
        free((char *)i->reason);
        free((char *)i->note);
    }
    free(it->items);
    memset(it, 0, sizeof(*it));
}

/* Most urgent first, a child's items together: children in order of their
 * most urgent item (data errors, then overdue, then due soon; earlier due
 * first), each child's items in the same order. */
static int item_cmp(const cc__work_item_t *a, const cc__work_item_t *b)
{
    int ra = status_rank(a->status ? a->status : ""), rb = status_rank(b->status ? b->status : "");
    if (ra != rb)
        return ra - rb;
    int c = strcmp(a->due_date ? a->due_date : "", b->due_date ? b->due_date : "");
    return c != 0 ? c : strcmp(a->rule_id ? a->rule_id : "", b->rule_id ? b->rule_id : "");
}

static int by_child_cmp(const void *x, const void *y)
{
    const cc__work_item_t *a = x, *b = y;
    int c = strcmp(a->child_id, b->child_id);
    return c != 0 ? c : item_cmp(a, b);
}

typedef struct {
    cc__work_item_t item;
    const cc__work_item_t *best; /* the child's most urgent item (in the by-child copy) */
} keyed_t;

static int keyed_cmp(const void *x, const void *y)
{
    const keyed_t *a = x, *b = y;
    int c = item_cmp(a->best, b->best);
    if (c == 0)
        c = strcmp(a->item.child_id, b->item.child_id);
    return c != 0 ? c : item_cmp(&a->item, &b->item);
}

static void sort_items(cc__work_item_t *items, size_t n)
{
    if (n < 2)
        return;
    keyed_t *k = malloc(n * sizeof(*k));
    cc__work_item_t *copy = malloc(n * sizeof(*copy));
    if (k == NULL || copy == NULL) {
        free(k);
        free(copy);
        qsort(items, n, sizeof(*items), by_child_cmp); /* at least a child's items together */
        return;
    }
    qsort(items, n, sizeof(*items), by_child_cmp);
    memcpy(copy, items, n * sizeof(*copy));
    for (size_t i = 0, first = 0; i < n; i++) {
        if (strcmp(copy[i].child_id, copy[first].child_id) != 0)
            first = i;
        k[i].item = copy[i];
        k[i].best = &copy[first];
    }
    qsort(k, n, sizeof(*k), keyed_cmp);
    for (size_t i = 0; i < n; i++)
        items[i] = k[i].item;
    free(k);
    free(copy);
}

static void group_counts(cc__work_group_t *g)
{
    const char *last = NULL;
    for (size_t i = 0; i < g->nitems; i++) {
        const char *s = g->items[i].status ? g->items[i].status : "";
        if (strcmp(s, "overdue") == 0)
            g->overdue++;
        else if (strcmp(s, "due_soon") == 0)
            g->due_soon++;
        else if (strcmp(s, "data_error") == 0)
            g->data_errors++;
        if (last == NULL || strcmp(last, g->items[i].child_id) != 0)
            g->children++;
        last = g->items[i].child_id;
    }
}

typedef struct {
    cc__work_item_t *items;
    size_t n, cap;
    const cc__web_ctx_t *ctx;
    int failed;
} escalations_t;

static int escalation_row(void *arg, const cc_clocks_escalation_t *e)
{
    escalations_t *es = arg;
    if (cc__grow(&es->items, &es->cap, es->n + 1, sizeof(*es->items), 16) != 0)
        return CC_ENOMEM;
    /* One line per clock: the latest stage sent. */
    for (size_t k = 0; k < es->n; k++)
        if (strcmp(es->items[k].child_id, e->child_id) == 0 && strcmp(es->items[k].rule_id, e->rule_id) == 0 &&
            es->items[k].seq == e->seq) {
            free((char *)es->items[k].note);
            char note[160];
            snprintf(note, sizeof(note), "%s, sent %s", e->stage, e->sent_at);
            es->items[k].note = dup_or_null(note, &es->failed);
            return es->failed ? CC_ENOMEM : 0;
        }
    cc__work_item_t *i = &es->items[es->n++];
    char note[160];
    memset(i, 0, sizeof(*i));
    snprintf(note, sizeof(note), "%s, sent %s", e->stage, e->sent_at);
    i->child_id = dup_or_null(e->child_id, &es->failed);
    i->child_label = dup_or_null(shown_label(es->ctx->config, e->initials, e->full_name), &es->failed);
    i->rule_id = dup_or_null(e->rule_id, &es->failed);
    i->title = dup_or_null(e->title, &es->failed);
    i->status = dup_or_null(e->status, &es->failed);
    i->due_date = dup_or_null(e->due_date, &es->failed);
    i->note = dup_or_null(note, &es->failed);
    i->seq = e->seq;
    i->working_days = working_days(es->ctx, e->status, e->due_date);
    return es->failed ? CC_ENOMEM : 0;
}

static const cc_status_t ACTION[] = {CC_STATUS_OVERDUE, CC_STATUS_DUE_SOON, CC_STATUS_DATA_ERROR};

/* The items of f into a new group (heading copied into names). */
static int load_group(cc__web_ctx_t *ctx, cc_clocks_filter_t *f, items_t *it)
{
    memcpy(f->statuses, ACTION, sizeof(ACTION));
    f->nstatuses = sizeof(ACTION) / sizeof(ACTION[0]);
    f->with_names = ctx->config->privacy == CC_PRIVACY_FULL;
    it->ctx = ctx;
    int rc = cc_clocks_list(ctx->store, f, item_row, it);
    if (rc == 0)
        sort_items(it->items, it->n);
    return rc;
}

static void my_work(cc__web_ctx_t *ctx, const who_t *w)
{
    items_t mine = {0}, reviewed = {0}, teams[16];
    escalations_t esc = {.ctx = ctx};
    cc__work_group_t groups[64];
    char headings[64][300];
    size_t ngroups = 0, nteams = 0;
    cc__work_team_t *team_rows = NULL;
    size_t nteam_rows = 0;
    cc__now_t now = {0};
    int rc = 0;
    memset(teams, 0, sizeof(teams));
    cc__work_t work = {.limit = WORK_LIMIT};
    /* Their own children (as worker). */
    cc_clocks_filter_t f = {.worker_id = w->p.id};
    if ((rc = load_group(ctx, &f, &mine)) == 0 && mine.n > 0) {
        groups[ngroups] = (cc__work_group_t){.heading = w->nteams || w->nsteams ? "Your children" : NULL,
                                             .items = mine.items, .nitems = mine.n};
        group_counts(&groups[ngroups++]);
    }
    /* The children they review (IRO). */
    if (rc == 0) {
        cc_clocks_filter_t fi = {.iro_id = w->p.id};
        if ((rc = load_group(ctx, &fi, &reviewed)) == 0 && reviewed.n > 0) {
            groups[ngroups] = (cc__work_group_t){.heading = "Children you review", .items = reviewed.items,
                                                 .nitems = reviewed.n};
            group_counts(&groups[ngroups++]);
        }
    }
    /* Their teams, by worker. */
    for (size_t t = 0; rc == 0 && t < w->nteams && nteams < 16; t++) {
        cc_clocks_filter_t ft = {.team_id = w->teams[t]};
        items_t *it = &teams[nteams++];
        if ((rc = load_group(ctx, &ft, it)) != 0)
            break;
        /* By worker: stable order by worker id, each worker's items in urgency order. */
        for (size_t a = 1; a < it->n; a++)
            for (size_t b = a; b > 0 && strcmp(it->items[b - 1].note ? it->items[b - 1].note : "",
                                               it->items[b].note ? it->items[b].note : "") > 0;
                 b--) {
                cc__work_item_t tmp = it->items[b];
                it->items[b] = it->items[b - 1];
                it->items[b - 1] = tmp;
            }
        for (size_t s = 0; s < it->n && ngroups < 64;) {
            size_t e = s;
            const char *worker = it->items[s].note ? it->items[s].note : "";
            while (e < it->n && strcmp(it->items[e].note ? it->items[e].note : "", worker) == 0)
                e++;
            const char *name = ctx->cache ? cc__webcache_staff_name(ctx->cache, worker) : "";
            const char *tname = ctx->cache ? cc__webcache_team_name(ctx->cache, w->teams[t]) : "";
            snprintf(headings[ngroups], sizeof(headings[ngroups]), "%s%s%s (%s)", tname[0] ? tname : w->teams[t],
                     ": ", name[0] ? name : worker[0] ? worker : "no worker", worker[0] ? worker : "-");
            groups[ngroups] = (cc__work_group_t){.heading = headings[ngroups], .heading_id = worker,
                                                 .items = it->items + s, .nitems = e - s};
            group_counts(&groups[ngroups++]);
            s = e;
        }
    }
    if (rc == 0)
        rc = cc_clocks_escalated_to(ctx->store, w->p.id, ctx->config->privacy == CC_PRIVACY_FULL, escalation_row,
                                    &esc);
    /* Service managers and viewers: their teams now. */
    if (rc == 0 && (w->viewer || w->nsteams > 0) && ctx->cache != NULL) {
        rc = cc__webcache_now(ctx->cache, w->viewer ? NULL : (const char *const *)w->steams, w->nsteams, 0, &now);
        if (rc == 0 && now.nrows > 0 && (team_rows = calloc(now.nrows, sizeof(*team_rows))) == NULL)
            rc = CC_ENOMEM;
        for (size_t i = 0; rc == 0 && i < now.nrows; i++) {
            const cc__now_row_t *r = &now.rows[i];
            if (r->id[0] == '\0')
                continue;
            cc__work_team_t *t = &team_rows[nteam_rows++];
            snprintf(t->id, sizeof(t->id), "%s", r->id);
            snprintf(t->name, sizeof(t->name), "%s", r->name);
            t->children = r->children;
            t->overdue = r->n[CC_STATUS_OVERDUE];
            t->due_soon = r->n[CC_STATUS_DUE_SOON];
            t->open = r->n[CC_STATUS_OPEN];
            t->data_errors = r->n[CC_STATUS_DATA_ERROR];
        }
    }
    if (rc != 0) {
        message(ctx, w, 500, "Something went wrong", "careclock could not read its database. Try again later.");
        goto out;
    }
    work.groups = groups;
    work.ngroups = ngroups;
    for (size_t g = 0; g < ngroups; g++) {
        work.overdue += groups[g].overdue;
        work.due_soon += groups[g].due_soon;
        work.data_errors += groups[g].data_errors;
    }
    work.escalations = esc.items;
    work.nescalations = esc.n;
    work.teams = team_rows;
    work.nteams = nteam_rows;
    if (ngroups == 0 && esc.n == 0 && nteam_rows == 0)
        work.intro = w->viewer ? "careclock has no teams yet." : "Nothing needs action: none of your children's "
                                                                 "clocks is overdue or due soon.";
    else if (w->viewer)
        work.intro = "You can see every team read-only: open a team, or see the service and the timeliness figures.";
    else
        work.intro = "Clocks that need action: children whose data cannot be computed first, then overdue and due "
                     "soon, most urgent first, a child's clocks together.";
    cc__page_t p;
    cc_buf_t body;
    cc_buf_init(&body);
    frame(ctx, w, &p, "My work", "work");
    cc__page_work(&body, &p, &work);
    html(ctx, 200, &body);
out:
    items_free(&mine);
    items_free(&reviewed);
    for (size_t t = 0; t < nteams; t++)
        items_free(&teams[t]);
    items_t e = {.items = esc.items, .n = esc.n};
    items_free(&e);
    free(team_rows);
    cc__now_free(&now);
}

/* ---- a child ----------------------------------------------------------------------- */

typedef struct {
    cc__child_delivery_t *items;
    size_t n, cap;
    int failed;
} deliveries_t;

static int delivery_row(void *arg, const cc_outbox_row_t *r)
{
    deliveries_t *d = arg;
    if (d->n >= 200)
        return 0;
    if (cc__grow(&d->items, &d->cap, d->n + 1, sizeof(*d->items), 16) != 0)
        return CC_ENOMEM;
    cc__child_delivery_t *x = &d->items[d->n++];
    memset(x, 0, sizeof(*x));
    x->when = dup_or_null(r->sent_at ? r->sent_at : r->due_at, &d->failed);
    x->stage = dup_or_null(r->stage, &d->failed);
    x->kind = dup_or_null(r->kind, &d->failed);
    x->role = dup_or_null(r->role, &d->failed);
    x->recipient = dup_or_null(r->recipient, &d->failed);
    x->channel = dup_or_null(r->channel, &d->failed);
    x->state = dup_or_null(r->state, &d->failed);
    x->rule_id = dup_or_null(r->rule_id, &d->failed);
    x->seq = r->seq;
    return d->failed ? CC_ENOMEM : 0;
}

static void deliveries_free(deliveries_t *d)
{
    for (size_t i = 0; i < d->n; i++) {
        cc__child_delivery_t *x = &d->items[i];
        free((char *)x->when);
        free((char *)x->stage);
        free((char *)x->kind);
        free((char *)x->role);
        free((char *)x->recipient);
        free((char *)x->channel);
        free((char *)x->state);
        free((char *)x->rule_id);
    }
    free(d->items);
}

static int may_see_child(const who_t *w, const cc_store_child_row_t *c)
{
    if (w->viewer)
        return 1;
    if ((c->worker_id && strcmp(c->worker_id, w->p.id) == 0) || (c->iro_id && strcmp(c->iro_id, w->p.id) == 0))
        return 1;
    return c->team_id != NULL && (in_list(w->teams, w->nteams, c->team_id) || in_list(w->steams, w->nsteams, c->team_id));
}

static void child_page(cc__web_ctx_t *ctx, const who_t *w, const char *id)
{
    cc_store_child_row_t c;
    cc_eval_child_t ev = {0};
    cc_clocks_t clocks;
    cc_store_events_t events = {0};
    deliveries_t dl = {0};
    cc__child_clock_t *views = NULL;
    cc__child_event_t *evs = NULL;
    cc_buf_t *texts = NULL;
    char err[256];
    cc_clocks_init(&clocks);
    int rc = cc_store_child_get(ctx->store, id, ctx->config->privacy == CC_PRIVACY_FULL, &c);
    if (rc < 0) {
        message(ctx, w, 500, "Something went wrong", "careclock could not read its database. Try again later.");
        return;
    }
    if (rc == 0) {
        if (w->viewer)
            not_found(ctx, w);
        else
            forbidden(ctx, w, "child");
        return;
    }
    if (!may_see_child(w, &c)) {
        forbidden(ctx, w, "child");
        cc_store_child_row_free(&c);
        return;
    }
    const cc_ruleset_t *rs = ctx->snap->env.rules;
    const cc_calendar_t *cal = ctx->snap->env.cal;
    if ((rc = cc_evaluate_load_child(ctx->store, rs, id, &ev)) == 0)
        rc = cc_engine_run(rs, cal, ctx->today, &ev.child, ev.events, ev.nevents, &clocks);
    if (rc == 0)
        rc = cc_store_event_list(ctx->store, id, &events, err, sizeof(err));
    if (rc == 0)
        rc = cc_outbox_of_child(ctx->store, id, delivery_row, &dl);
    if (rc == 0 && clocks.len > 0 &&
        ((views = calloc(clocks.len, sizeof(*views))) == NULL || (texts = calloc(clocks.len, sizeof(*texts))) == NULL))
        rc = CC_ENOMEM;
    if (rc == 0 && events.len > 0 && (evs = calloc(events.len, sizeof(*evs))) == NULL)
        rc = CC_ENOMEM;
    /* Every clock with the engine's own explanation, as `careclock explain` gives it. */
    char (*dates)[3][CC_DATE_STRLEN] = rc == 0 && clocks.len ? calloc(clocks.len, sizeof(*dates)) : NULL;
    if (rc == 0 && clocks.len > 0 && dates == NULL)
        rc = CC_ENOMEM;
    for (size_t i = 0; rc == 0 && i < clocks.len; i++) {
        const cc_clock_t *k = &clocks.items[i];
        const cc_rule_t *rule = k->rule >= 0 ? cc_ruleset_rule(rs, (size_t)k->rule) : NULL;
        cc_buf_init(&texts[i]);
        cc_engine_explain(rs, cal, ctx->today, &ev.child, ev.events, ev.nevents, &clocks, i, &texts[i]);
        cc__child_clock_t *v = &views[i];
        v->rule_id = rule ? rule->id : CC_DATA_ERROR_RULE;
        v->title = rule ? rule->title : "Child's data cannot be evaluated";
        v->source = rule ? rule->source : "";
        v->status = cc_status_name(k->status);
        v->seq = k->seq;
        v->start = k->start != CC_DATE_NONE ? cc_date_format(k->start, dates[i][0]) : NULL;
        v->due = k->due != CC_DATE_NONE ? cc_date_format(k->due, dates[i][1]) : NULL;
        v->met_on = k->met_on != CC_DATE_NONE ? cc_date_format(k->met_on, dates[i][2]) : NULL;
        v->reason = k->reason[0] ? k->reason : NULL;
        v->explanation = cc_buf_str(&texts[i]);
    }
    for (size_t i = 0; rc == 0 && i < events.len; i++)
        evs[i] = (cc__child_event_t){events.items[i].id, events.items[i].date, events.items[i].type,
                                     events.items[i].source};
    if (rc != 0) {
        logf_(ctx, CC_LOG_ERR, "dashboard: the page of child %s could not be made: %s", id, cc_strerror(rc));
        message(ctx, w, 500, "Something went wrong", "careclock could not read this child's record. Try again later.");
    } else {
        cc__child_page_t page = {
            .id = c.id, .label = shown_label(ctx->config, c.initials, c.full_name), .dob = c.dob,
            .team_id = c.team_id, .team_name = c.team_name, .worker_id = c.worker_id, .worker_name = c.worker_name,
            .iro_id = c.iro_id, .iro_name = c.iro_name, .team_link = c.team_id && may_see_team(w, c.team_id),
            .clocks = views, .nclocks = clocks.len, .events = evs, .nevents = events.len,
            .deliveries = dl.items, .ndeliveries = dl.n};
        cc__page_t p;
        cc_buf_t body;
        char title[200];
        cc_buf_init(&body);
        snprintf(title, sizeof(title), "Child %s", c.id);
        frame(ctx, w, &p, title, NULL);
        cc__page_child(&body, &p, &page);
        html(ctx, 200, &body);
    }
    for (size_t i = 0; texts != NULL && i < clocks.len; i++)
        cc_buf_free(&texts[i]);
    free(texts);
    free(views);
    free(evs);
    free(dates);
    deliveries_free(&dl);
    cc_store_events_free(&events);
    cc_clocks_free(&clocks);
    cc_evaluate_child_free(&ev);
    cc_store_child_row_free(&c);
}

/* ---- figures -------------------------------------------------------------------------- */

static void figures_asof(const cc__web_ctx_t *ctx, char *out, size_t len, cc__figures_t *f)
{
    cc_local_time_t t = cc_time_local(cc__webcache_built_at(ctx->cache));
    char day[40];
    snprintf(out, len, "Figures as of %02d:%02d on %s", t.minute / 60, t.minute % 60,
             cc_date_format_human(t.date, day, sizeof(day)));
    f->asof = out;
    f->stale = ctx->cache_stale;
}

static void count_row(cc__count_row_t *out, const cc__now_row_t *r, int children)
{
    out->id = r->id;
    out->name = r->name;
    out->children = children ? r->children : (size_t)-1;
    out->overdue = r->n[CC_STATUS_OVERDUE];
    out->due_soon = r->n[CC_STATUS_DUE_SOON];
    out->open = r->n[CC_STATUS_OPEN];
    out->met = r->n[CC_STATUS_MET];
    out->met_late = r->n[CC_STATUS_MET_LATE];
    out->cancelled = r->n[CC_STATUS_CANCELLED];
    out->data_errors = r->n[CC_STATUS_DATA_ERROR];
}

/* The first day of the month eleven months before today's: the last 12 months. */
static cc_date_t year_back(cc_date_t today)
{
    int y, m, d;
    cc_date_to_ymd(today, &y, &m, &d);
    m -= 11;
    while (m < 1) {
        m += 12;
        y--;
    }
    return cc_date_from_ymd(y, m, 1);
}

static void team_page(cc__web_ctx_t *ctx, const who_t *w, const char *team)
{
    cc__now_t by_clock = {0}, by_worker = {0};
    cc_report_t trend;
    cc__count_row_t *crows = NULL, *wrows = NULL;
    char asof[120];
    cc_buf_t *hrefs = NULL;
    memset(&trend, 0, sizeof(trend));
    if (!may_see_team(w, team)) {
        forbidden(ctx, w, "team");
        return;
    }
    const char *name = cc__webcache_team_name(ctx->cache, team);
    const char *const one[1] = {team};
    int known = 0;
    const char *const *ids;
    size_t nids = cc__webcache_teams(ctx->cache, &ids);
    for (size_t i = 0; i < nids; i++)
        known |= strcmp(ids[i], team) == 0;
    if (!known) {
        not_found(ctx, w);
        return;
    }
    cc__cache_query_t q = {.from = year_back(ctx->today), .to = ctx->today, .teams = one, .nteams = 1,
                           .mode = CC__TEAMS_EACH, .by = CC_REPORT_BY_MONTH};
    int rc = cc__webcache_now_by_clock(ctx->cache, ctx->snap->env.rules, one, 1, &by_clock);
    if (rc == 0)
        rc = cc__webcache_now(ctx->cache, one, 1, 1, &by_worker);
    if (rc == 0)
        rc = cc__webcache_report(ctx->cache, ctx->snap->env.rules, &q, ctx->today, &trend, NULL);
    if (rc == 0 && ((by_clock.nrows && (crows = calloc(by_clock.nrows, sizeof(*crows))) == NULL) ||
                    (by_worker.nrows && (wrows = calloc(by_worker.nrows, sizeof(*wrows))) == NULL)))
        rc = CC_ENOMEM;
    if (rc != 0) {
        message(ctx, w, 500, "Something went wrong", "careclock could not make the figures. Try again later.");
        goto out;
    }
    for (size_t i = 0; i < by_clock.nrows; i++)
        count_row(&crows[i], &by_clock.rows[i], 0);
    for (size_t i = 0; i < by_worker.nrows; i++)
        count_row(&wrows[i], &by_worker.rows[i], 1);
    cc__team_page_t t = {.team_id = team, .team_name = name, .trend = &trend};
    figures_asof(ctx, asof, sizeof(asof), &t.figures);
    t.by_clock = (cc__count_table_t){.caption = "The team's clocks by status now", .first_column = "Clock",
                                     .show_done = 1, .rows = crows, .nrows = by_clock.nrows};
    count_row(&t.by_clock.total, &by_clock.total, 0);
    t.by_worker = (cc__count_table_t){.caption = "Children and clocks each worker holds now", .first_column = "Worker",
                                      .show_children = 1, .rows = wrows, .nrows = by_worker.nrows};
    count_row(&t.by_worker.total, &by_worker.total, 1);
    char thref[300];
    cc_buf_t tq;
    cc_buf_init(&tq);
    cc_html_query_value(&tq, team);
    snprintf(thref, sizeof(thref), "/timeliness?team=%s&by=month&worker=1", cc_buf_str(&tq));
    cc_buf_free(&tq);
    t.timeliness_href = thref;
    cc__page_t p;
    cc_buf_t body;
    char title[200];
    cc_buf_init(&body);
    snprintf(title, sizeof(title), "Team %s", name[0] ? name : team);
    frame(ctx, w, &p, title, w->nteams > 0 && strcmp(w->teams[0], team) == 0 ? "team" : NULL);
    cc__page_team(&body, &p, &t);
    html(ctx, 200, &body);
out:
    free(hrefs);
    free(crows);
    free(wrows);
    cc__now_free(&by_clock);
    cc__now_free(&by_worker);
    cc_report_free(&trend);
}

static void service_page(cc__web_ctx_t *ctx, const who_t *w)
{
    cc__now_t teams = {0};
    cc_report_t trend, year;
    cc__count_row_t *rows = NULL;
    cc_buf_t *hrefs = NULL;
    char asof[120];
    memset(&trend, 0, sizeof(trend));
    memset(&year, 0, sizeof(year));
    if (!w->viewer && w->nsteams == 0) {
        forbidden(ctx, w, "service");
        return;
    }
    const char *const *scope = w->viewer ? NULL : (const char *const *)w->steams;
    size_t nscope = w->viewer ? 0 : w->nsteams;
    cc__cache_query_t q = {.from = year_back(ctx->today), .to = ctx->today, .teams = scope, .nteams = nscope,
                           .mode = CC__TEAMS_TOGETHER, .by = CC_REPORT_BY_MONTH};
    cc__cache_query_t qy = q;
    qy.mode = CC__TEAMS_EACH;
    qy.by = CC_REPORT_BY_NONE;
    int rc = cc__webcache_now(ctx->cache, scope, nscope, 0, &teams);
    if (rc == 0)
        rc = cc__webcache_report(ctx->cache, ctx->snap->env.rules, &q, ctx->today, &trend, NULL);
    if (rc == 0)
        rc = cc__webcache_report(ctx->cache, ctx->snap->env.rules, &qy, ctx->today, &year, NULL);
    if (rc == 0 && teams.nrows && ((rows = calloc(teams.nrows, sizeof(*rows))) == NULL ||
                                   (hrefs = calloc(teams.nrows, sizeof(*hrefs))) == NULL))
        rc = CC_ENOMEM;
    if (rc != 0) {
        message(ctx, w, 500, "Something went wrong", "careclock could not make the figures. Try again later.");
        goto out;
    }
    size_t n = 0;
    for (size_t i = 0; i < teams.nrows; i++) {
        cc_buf_init(&hrefs[i]);
        if (teams.rows[i].id[0] == '\0' && teams.rows[i].children == 0)
            continue;
        count_row(&rows[n], &teams.rows[i], 1);
        if (teams.rows[i].id[0] != '\0') {
            cc_buf_puts(&hrefs[i], "/teams/");
            cc_html_path_segment(&hrefs[i], teams.rows[i].id);
            rows[n].href = cc_buf_str(&hrefs[i]);
        } else {
            rows[n].name = "(no team)";
        }
        n++;
    }
    cc__service_page_t s = {.heading = w->viewer ? "Every team" : "Your service", .trend = &trend,
                            .by_team_year = &year};
    figures_asof(ctx, asof, sizeof(asof), &s.figures);
    s.by_team = (cc__count_table_t){.caption = "Children and clocks by team now", .first_column = "Team",
                                    .show_children = 1, .rows = rows, .nrows = n};
    count_row(&s.by_team.total, &teams.total, 1);
    cc__page_t p;
    cc_buf_t body;
    cc_buf_init(&body);
    frame(ctx, w, &p, s.heading, "service");
    cc__page_service(&body, &p, &s);
    html(ctx, 200, &body);
out:
    for (size_t i = 0; hrefs != NULL && i < teams.nrows; i++)
        cc_buf_free(&hrefs[i]);
    free(hrefs);
    free(rows);
    cc__now_free(&teams);
    cc_report_free(&trend);
    cc_report_free(&year);
}

/* The timeliness page's parameters, checked. */
typedef struct {
    char from[16], to[16], by[16], team[CC_ID_MAX + 2], clock[CC_ID_MAX + 1];
    int by_worker;
    cc_date_t dfrom, dto;
    const char *error_field, *error;
} tparams_t;

static void copy_param(const cc__web_ctx_t *ctx, const char *name, char *out, size_t len)
{
    const char *v = cc_http_request_query(ctx->req, name);
    snprintf(out, len, "%s", v ? v : "");
}

static void read_tparams(const cc__web_ctx_t *ctx, const who_t *w, tparams_t *t)
{
    memset(t, 0, sizeof(*t));
    copy_param(ctx, "from", t->from, sizeof(t->from));
    copy_param(ctx, "to", t->to, sizeof(t->to));
    copy_param(ctx, "by", t->by, sizeof(t->by));
    copy_param(ctx, "team", t->team, sizeof(t->team));
    copy_param(ctx, "clock", t->clock, sizeof(t->clock));
    const char *wk = cc_http_request_query(ctx->req, "worker");
    t->by_worker = wk != NULL && strcmp(wk, "1") == 0;
    /* Defaults: this reporting year (from 1 April) to today, by month; a
     * manager of one team, that team. */
    if (t->from[0] == '\0') {
        char label[32];
        cc_date_t first, last;
        cc_report_period_of(CC_REPORT_BY_YEAR, ctx->today, label, sizeof(label), &first, &last);
        cc_date_format(first, t->from);
    }
    if (t->to[0] == '\0')
        cc_date_format(ctx->today, t->to);
    if (t->by[0] == '\0')
        snprintf(t->by, sizeof(t->by), "month");
    if (cc_http_request_query(ctx->req, "team") == NULL && !w->viewer && w->nteams + w->nsteams == 1)
        snprintf(t->team, sizeof(t->team), "%s", w->nteams ? w->teams[0] : w->steams[0]);
    if (cc_date_parse(t->from, &t->dfrom) != 0) {
        t->error_field = "from";
        t->error = "Enter the first day as a date, like 2026-04-01";
    } else if (cc_date_parse(t->to, &t->dto) != 0) {
        t->error_field = "to";
        t->error = "Enter the last day as a date, like 2027-03-31";
    } else if (t->dfrom > t->dto) {
        t->error_field = "from";
        t->error = "The first day must be on or before the last day";
    } else if (strcmp(t->by, "none") != 0 && cc_report_by_parse(t->by) < 0) {
        t->error_field = "by";
        t->error = "Choose whole period, month, quarter or year";
    }
}

static void timeliness(cc__web_ctx_t *ctx, const who_t *w, int csv)
{
    tparams_t t;
    cc_report_t r;
    cc__option_t *teams = NULL, *clocks = NULL;
    size_t nteams = 0, nclocks = 0;
    cc_buf_t query, body;
    char asof[120];
    size_t too_many = 0;
    memset(&r, 0, sizeof(r));
    cc_buf_init(&query);
    cc_buf_init(&body);
    if (!w->viewer && w->nteams + w->nsteams == 0) {
        forbidden(ctx, w, "timeliness");
        return;
    }
    read_tparams(ctx, w, &t);
    /* The scope: every team for a viewer, else the teams they manage. */
    char **scope = NULL;
    size_t nscope = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && !w->viewer && i < w->nteams; i++)
        rc = add_id(&scope, &nscope, w->teams[i]);
    for (size_t i = 0; rc == 0 && !w->viewer && i < w->nsteams; i++)
        if (!in_list(scope, nscope, w->steams[i]))
            rc = add_id(&scope, &nscope, w->steams[i]);
    int one_team = t.team[0] != '\0' && strcmp(t.team, "*") != 0;
    if (rc == 0 && one_team && !may_see_team(w, t.team)) {
        cc_store_free_ids(scope, nscope);
        forbidden(ctx, w, "timeliness of another team");
        return;
    }
    /* The form's choices. */
    const char *const *all_ids;
    size_t nall = cc__webcache_teams(ctx->cache, &all_ids);
    size_t cap_opts = (w->viewer ? nall : nscope) + 2;
    if (rc == 0 && (teams = calloc(cap_opts, sizeof(*teams))) == NULL)
        rc = CC_ENOMEM;
    if (rc == 0) {
        teams[nteams++] = (cc__option_t){"", "All my teams together"};
        teams[nteams++] = (cc__option_t){"*", "Each of my teams"};
        for (size_t i = 0; i < (w->viewer ? nall : nscope); i++) {
            const char *id = w->viewer ? all_ids[i] : scope[i];
            const char *nm = cc__webcache_team_name(ctx->cache, id);
            teams[nteams++] = (cc__option_t){id, nm[0] ? nm : id};
        }
    }
    const cc_ruleset_t *rs = ctx->snap->env.rules;
    size_t nrules = cc_ruleset_count(rs);
    if (rc == 0 && (clocks = calloc(nrules + 1, sizeof(*clocks))) == NULL)
        rc = CC_ENOMEM;
    if (rc == 0) {
        clocks[nclocks++] = (cc__option_t){"", "Every clock"};
        for (size_t i = 0; i < nrules; i++) {
            const cc_rule_t *rule = cc_ruleset_rule(rs, i);
            clocks[nclocks++] = (cc__option_t){rule->id, rule->title};
        }
    }
    if (rc == 0 && t.error == NULL && t.clock[0] && cc_ruleset_find(rs, t.clock) == NULL) {
        t.error_field = "clock";
        t.error = "Choose a clock from the list";
    }
    if (rc == 0 && t.error == NULL) {
        const char *one[1] = {t.team};
        cc__cache_query_t q = {.from = t.dfrom, .to = t.dto, .clock = t.clock[0] ? t.clock : NULL,
                               .by_worker = t.by_worker,
                               .by = strcmp(t.by, "none") == 0 ? CC_REPORT_BY_NONE
                                                                : (cc_report_by_t)cc_report_by_parse(t.by)};
        if (one_team) {
            q.teams = one;
            q.nteams = 1;
            q.mode = CC__TEAMS_EACH;
        } else {
            q.teams = w->viewer ? NULL : (const char *const *)scope;
            q.nteams = w->viewer ? 0 : nscope;
            q.mode = strcmp(t.team, "*") == 0 ? CC__TEAMS_EACH : CC__TEAMS_TOGETHER;
        }
        /* A page shows at most PAGE_GROUPS groups; more (every worker of a
         * large council) and it shows the totals, and says so: the CSV has
         * every group. */
        if (!csv)
            q.max_groups = PAGE_GROUPS;
        rc = cc__webcache_report(ctx->cache, rs, &q, ctx->today, &r, &too_many);
        if (rc == CC_ERANGE) {
            cc_report_free(&r);
            q.mode = CC__TEAMS_TOGETHER;
            q.by_worker = 0;
            q.max_groups = 0;
            rc = cc__webcache_report(ctx->cache, rs, &q, ctx->today, &r, NULL);
        } else {
            too_many = 0;
        }
    }
    cc_buf_puts(&query, "from=");
    cc_html_query_value(&query, t.from);
    cc_buf_puts(&query, "&to=");
    cc_html_query_value(&query, t.to);
    cc_buf_puts(&query, "&by=");
    cc_html_query_value(&query, t.by);
    cc_buf_puts(&query, "&team=");
    cc_html_query_value(&query, t.team);
    cc_buf_puts(&query, "&clock=");
    cc_html_query_value(&query, t.clock);
    if (t.by_worker)
        cc_buf_puts(&query, "&worker=1");
    /* Which clocks have no data recorded at all: as the CLI's report says. */
    if (rc == 0 && rs != NULL)
        rc = cc_report_coverage(ctx->store, rs, &r);
    if (rc != 0) {
        message(ctx, w, 500, "Something went wrong", "careclock could not make the figures. Try again later.");
        goto out;
    }
    if (csv) {
        if (t.error != NULL) {
            message(ctx, w, 400, "These figures cannot be downloaded", t.error);
            goto out;
        }
        /* The CLI's CSV, with a byte order mark so that Excel reads it as UTF-8. */
        cc_buf_puts(&body, "\xEF\xBB\xBF");
        cc_report_csv(&r, &body);
        char disposition[128];
        snprintf(disposition, sizeof(disposition), "attachment; filename=\"careclock-timeliness-%s-to-%s.csv\"",
                 t.from, t.to);
        header(ctx, "Content-Disposition", disposition);
        header(ctx, "Cache-Control", "no-store");
        answer(ctx, 200, "text/csv; charset=utf-8", &body);
        goto out;
    }
    cc__timeliness_page_t page = {.from = t.from, .to = t.to, .by = t.by, .team = t.team, .clock = t.clock,
                                  .by_worker = t.by_worker, .error_field = t.error_field, .error = t.error,
                                  .teams = teams, .nteams = nteams, .clocks = clocks, .nclocks = nclocks,
                                  .query = cc_buf_str(&query), .report = t.error ? NULL : &r,
                                  .too_many = too_many};
    figures_asof(ctx, asof, sizeof(asof), &page.figures);
    cc__page_t p;
    frame(ctx, w, &p, t.error ? "Error: Timeliness" : "Timeliness", "timeliness");
    cc__page_timeliness(&body, &p, &page);
    html(ctx, t.error ? 400 : 200, &body);
out:
    cc_store_free_ids(scope, nscope);
    free(teams);
    free(clocks);
    cc_buf_free(&query);
    cc_buf_free(&body);
    cc_report_free(&r);
}

/* ---- the routes ----------------------------------------------------------------------- */

/* The rest of path after prefix when it is one non-empty segment, else NULL. */
static const char *segment(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(path, prefix, n) != 0 || path[n] == '\0' || strchr(path + n, '/') != NULL)
        return NULL;
    return path + n;
}

/* Not signed in: to the sign-in page (and back here afterwards). A link
 * followed from another site (an e-mail opened in webmail) comes without
 * the SameSite=Strict cookie: such a request is sent on to the same
 * address once from here, which carries the cookie. */
static void not_signed_in(cc__web_ctx_t *ctx)
{
    const char *path = cc_http_request_path(ctx->req);
    const char *site = cc_http_request_header(ctx->req, "Sec-Fetch-Site");
    if (ctx->config->web_auth == CC_WEB_AUTH_PROXY) {
        if (cc_http_request_header(ctx->req, ctx->config->web_proxy_header) != NULL)
            message(ctx, NULL, 403, "careclock does not know you",
                    "You are signed in to your council's sign-on, but careclock has no member of staff with your "
                    "name or address. Ask whoever looks after careclock at your council to add you.");
        else
            signin_form(ctx, 403, NULL, NULL, NULL, 0);
        return;
    }
    cc_buf_t next, body;
    cc_buf_init(&next);
    cc_buf_init(&body);
    cc_buf_puts(&next, "/sign-in?next=");
    cc_html_query_value(&next, path);
    if (site != NULL && strcmp(site, "cross-site") == 0 && is_get(ctx) &&
        !cc__web_cookie(cc_http_request_header(ctx->req, "Cookie"), SESSION_COOKIE, (char[80]){0}, 80)) {
        cc__page_t p;
        cc_buf_t self;
        cc_buf_init(&self);
        for (const char *c = path; *c; c++) {
            if (*c == '/')
                cc_buf_puts(&self, "/");
            else {
                char one[2] = {*c, 0};
                cc_html_path_segment(&self, one);
            }
        }
        frame(ctx, NULL, &p, "Opening careclock", NULL);
        cc__page_begin(&body, &p);
        cc_buf_puts(&body, "<h1 class=\"govuk-heading-l\">Opening careclock</h1><p class=\"govuk-body\">"
                           "<a class=\"govuk-link\" href=\"");
        cc_buf_puts(&body, cc_buf_str(&self));
        cc_buf_puts(&body, "\">Continue to the page</a></p>");
        cc__page_end(&body, &p);
        /* Refresh (same site) at once, so the cookie comes with it. */
        char refresh[600];
        snprintf(refresh, sizeof(refresh), "0; url=%s", cc_buf_str(&self));
        header(ctx, "Refresh", refresh);
        cc_buf_free(&self);
        html(ctx, 200, &body);
    } else {
        redirect(ctx, cc_buf_str(&next));
    }
    cc_buf_free(&next);
    cc_buf_free(&body);
}

void cc__webapp_handle(cc__web_ctx_t *ctx)
{
    const char *path = cc_http_request_path(ctx->req);
    const char *client = cc_http_request_client(ctx->req);
    who_t w;
    memset(&w, 0, sizeof(w));
    int get = is_get(ctx), post = is_post(ctx);
    if (!get && !post) {
        header(ctx, "Allow", "GET, HEAD, POST");
        message(ctx, NULL, 405, "Not allowed", "careclock's pages are read with GET and forms sent with POST.");
        return;
    }
    /* The identity header from anywhere but the proxy: refused, logged. */
    if (header_from_elsewhere(ctx)) {
        cc_web_audit_t a = {.action = "proxy_header", .target = path, .outcome = "refused",
                            .detail = "an identity header from an address that is not a configured proxy",
                            .client = client, .via = "proxy"};
        cc_web_audit(ctx->store, &a, ctx->now);
        logf_(ctx, CC_LOG_WARNING,
              "dashboard: a request from %s carried the identity header %s but is not from a configured proxy "
              "([web] proxy_addresses): refused",
              client, ctx->config->web_proxy_header);
        message(ctx, NULL, 403, "Refused", "This request named someone but did not come through the council's "
                                           "sign-on. It has been refused and recorded.");
        return;
    }
    const char *token = segment(path, "/sign-in/");
    if (strcmp(path, "/sign-in") == 0 && ctx->config->web_auth == CC_WEB_AUTH_EMAIL) {
        if (post) {
            signin_request(ctx);
        } else {
            const char *next = cc_http_request_query(ctx->req, "next");
            signin_form(ctx, 200, NULL, NULL, next && cc__web_safe_next(next) ? next : NULL,
                        cc_http_request_query(ctx->req, "signed-out") != NULL);
        }
        return;
    }
    if (token != NULL && ctx->config->web_auth == CC_WEB_AUTH_EMAIL) {
        signin_link(ctx, token);
        return;
    }
    int rc = identify(ctx, &w);
    if (rc < 0) {
        logf_(ctx, CC_LOG_ERR, "dashboard: who is asking could not be read: %s", cc_store_errmsg(ctx->store, NULL));
        message(ctx, NULL, 503, "Something went wrong", "careclock could not read its database. Try again later.");
        who_free(&w);
        return;
    }
    /* A page that does not exist is 404 to anyone, signed in or not. */
    int known = strcmp(path, "/") == 0 || strcmp(path, "/sign-in") == 0 || strcmp(path, "/sign-out") == 0 ||
                strcmp(path, "/my-work") == 0 || segment(path, "/children/") != NULL ||
                segment(path, "/teams/") != NULL || strcmp(path, "/service") == 0 ||
                strcmp(path, "/timeliness") == 0 || strcmp(path, "/timeliness.csv") == 0;
    if (!known) {
        not_found(ctx, rc == 1 ? &w : NULL);
        who_free(&w);
        return;
    }
    if (strcmp(path, "/") == 0 || strcmp(path, "/sign-in") == 0) {
        if (rc == 1)
            redirect(ctx, "/my-work");
        else if (ctx->config->web_auth == CC_WEB_AUTH_EMAIL)
            redirect(ctx, "/sign-in");
        else
            not_signed_in(ctx);
        who_free(&w);
        return;
    }
    if (rc == 0) {
        if (post)
            csrf_refused(ctx, NULL);
        else
            not_signed_in(ctx);
        who_free(&w);
        return;
    }
    const char *id;
    if (strcmp(path, "/sign-out") == 0) {
        if (post)
            sign_out(ctx, &w);
        else
            redirect(ctx, "/my-work");
    } else if (post) {
        /* No other form yet: refused as any unknown POST is, token or not. */
        if (!csrf_ok(ctx, w.csrf))
            csrf_refused(ctx, &w);
        else
            not_found(ctx, &w);
    } else if (strcmp(path, "/my-work") == 0) {
        my_work(ctx, &w);
    } else if ((id = segment(path, "/children/")) != NULL) {
        child_page(ctx, &w, id);
    } else if ((id = segment(path, "/teams/")) != NULL) {
        team_page(ctx, &w, id);
    } else if (strcmp(path, "/service") == 0) {
        service_page(ctx, &w);
    } else if (strcmp(path, "/timeliness") == 0) {
        timeliness(ctx, &w, 0);
    } else if (strcmp(path, "/timeliness.csv") == 0) {
        timeliness(ctx, &w, 1);
    } else {
        not_found(ctx, &w);
    }
    who_free(&w);
}
